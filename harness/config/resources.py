"""Resource guard: a suite whose largest problem cannot fit is refused with one line before
anything is allocated (the allocator would otherwise stop it after gigabytes, or the machine
would swap).

The estimate for one point [M, K, N] in a dtype of s bytes is

    s · (2·M·K + K·N + 2·M·N)      dense pruned weight and its sparse operand (at most a dense
                                   copy of values), activations, the output of the dense
                                   baseline and of the variant
  + 4 · M·K                        sparse indices (int32), at worst one per weight
  + 8 · (M·K + K·N + M·N)          the float64 reference: pruned weight, activations, output

It is refused when it exceeds the smallest of: `HARNESS_MAX_PROBLEM_BYTES` (bytes, optional),
the memory the operating system reports available (MemAvailable), and, for a CUDA device, the
device's free memory (checked by the commands that run on it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from harness.core.dtypes import itemsize

ENV_LIMIT = "HARNESS_MAX_PROBLEM_BYTES"


def problem_bytes(m: int, k: int, n: int, dtype: str) -> int:
    """Estimated peak bytes of measuring one point (see the module docstring)."""
    s = itemsize(dtype)
    return s * (2 * m * k + k * n + 2 * m * n) + 4 * m * k + 8 * (m * k + k * n + m * n)


def largest(shapes: Iterable[tuple[int, int, int]], dtypes: Iterable[str]
            ) -> tuple[int, tuple[int, int, int], str]:
    """(bytes, shape, dtype) of the largest problem of a space."""
    return max((problem_bytes(*shape, d), shape, d) for shape in shapes for d in dtypes)


def host_available() -> int | None:
    """Bytes the OS reports available (Linux MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def configured_limit() -> tuple[int | None, str]:
    """(bytes, what it is) of the user's limit from HARNESS_MAX_PROBLEM_BYTES, else (None, '').
    A value that is not a positive number raises ValueError (the caller names the variable)."""
    raw = os.environ.get(ENV_LIMIT)
    if not raw:
        return None, ""
    value = float(raw)
    if not value > 0:
        raise ValueError(raw)
    return int(value), f"{ENV_LIMIT}={raw}"


def host_limit() -> tuple[int | None, str]:
    """The smallest of the configured limit and the host's available memory, and its name."""
    limits = [configured_limit()]
    avail = host_available()
    if avail is not None:
        limits.append((avail, "the memory available on this machine"))
    known = [x for x in limits if x[0] is not None]
    return min(known) if known else (None, "")


def gib(n: float) -> str:
    """A byte count in GiB, or MiB below one GiB."""
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def device_problem(device: str, shapes: Iterable[tuple[int, int, int]],
                   dtypes: Iterable[str]) -> str | None:
    """Why the largest problem does not fit in a CUDA device's free memory (None: it fits, or
    the device is not CUDA). Imports torch: call it only for a CUDA device."""
    if not device.startswith("cuda"):
        return None
    import torch

    index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
    free, _total = torch.cuda.mem_get_info(index)
    need, shape, dtype = largest(shapes, dtypes)
    if need <= free:
        return None
    return (f"problem {list(shape)} in {dtype} needs about {gib(need)}; expected at most the "
            f"{gib(free)} free on {device}")
