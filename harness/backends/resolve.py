"""Backend "auto": pick the preferred backend that can run a point.

`PREFERENCES` maps (format, device type) to backend names, best first (vendor libraries first on
CUDA, multi-threaded MKL before single-threaded SciPy on CPU). Registered backends missing from a
row are tried after it, by name, so a newly registered backend is still found.

CPU rule for the bundled formats: the Numba kernels (`numba`) first for row_group, csr and bsr in
float32/float64 (they refuse 16-bit, so MKL / SciPy take those), except csr with 2 ≤ N < 16, where
MKL CSR comes first (`DEMOTE`). Measured on the shared 2-core CPU machine, W 4096² at 90 %, g = 32,
one thread, interleaved, CPU time per call: Numba CSR over MKL CSR 1.1× at N = 1, 0.67× at N = 8,
1.6× at N = 50, 1.4× at N = 256; the row-group kernel 1.8×, 0.97×, 1.9×, 1.4×. With 2 threads at
N = 50, 1.8–3.0× (row group) and 2.4–2.9× (CSR) on a loaded machine. benchmarks/cpu_kernels.py
measures the whole grid. Tuners that search `backend` still compare every backend by measurement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.backends import base
from harness.backends.base import device_type

if TYPE_CHECKING:
    from harness.core.point import Point

PREFERENCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("dense", "cpu"): ("torch",),
    ("dense", "cuda"): ("torch", "cupy"),
    ("csr", "cpu"): ("numba", "torch_sparse", "scipy"),
    ("csr", "cuda"): ("torch_sparse", "cupy"),
    ("csc", "cpu"): ("torch_sparse", "scipy"),
    ("csc", "cuda"): ("torch_sparse",),
    ("coo", "cpu"): ("torch_sparse", "scipy"),
    ("coo", "cuda"): ("torch_sparse", "cupy"),
    ("bsr", "cpu"): ("numba", "torch_sparse", "scipy"),
    ("bsr", "cuda"): ("torch_sparse", "triton"),
    ("blocked_ell", "cuda"): ("triton",),
    ("row_group", "cuda"): ("triton",),
    ("row_group", "cpu"): ("numba", "triton"),
    ("semi_structured", "cuda"): ("semi_structured",),
    ("semi_structured", "cpu"): ("semi_structured",),
}


# backend → when it moves behind the rest of its preference row (measured losses, see above)
DEMOTE: dict[str, Callable[[Point], bool]] = {
    "numba": lambda p: p.format == "csr" and 2 <= p.n < 16,
}


def candidates(point: Point) -> list[str]:
    """Registered backends in preference order for the point's format and device type."""
    registered = base.all_backends().names()  # looked up at call time (tests swap it)
    preferred = PREFERENCES.get((point.format, device_type(point.device)), ())
    first = [name for name in preferred if name in registered]
    demoted = [name for name in first if name in DEMOTE and DEMOTE[name](point)]
    first = [name for name in first if name not in demoted] + demoted
    return first + [name for name in registered if name not in first]


def _reason(name: str, point: Point) -> str | None:
    backend = base.all_backends().get(name)
    try:
        return backend.supports(replace(point, backend=name))
    except Exception as err:  # a backend whose check crashes cannot be chosen
        return f"{name}.supports raised {type(err).__name__}: {err}"


def backends_for(point: Point) -> list[str]:
    """Every registered backend that supports the point, in preference order."""
    return [name for name in candidates(point) if _reason(name, point) is None]


def resolve_backend(point: Point) -> str:
    """The backend to run `point`: its own backend unless "auto"; for "auto" the first supporting
    candidate, else the first candidate that at least runs the point's format (its `supports`
    then says why it cannot run here), else the first candidate."""
    if point.backend != "auto":
        return point.backend
    names = candidates(point)
    for name in names:
        if _reason(name, point) is None:
            return name
    runs_format = [n for n in names if point.format in base.all_backends().get(n).formats]
    return (runs_format or names or ["torch"])[0]


def unsupported_reason(point: Point) -> tuple[str, str | None]:
    """(backend that would run `point`, None) if it can run here, else (backend, reason):
    the backend's own answer first, then the format's geometry check. Never does any work."""
    from harness.formats.base import get_format

    name = resolve_backend(point)
    if point.backend == "auto" and point.format not in base.all_backends().get(name).formats:
        return name, (f"no registered backend runs format {point.format!r} "
                      f"(backend auto; registered: {', '.join(base.all_backends().names())})")
    reason = _reason(name, point)
    if reason is None:
        spec = point.prune
        reason = get_format(point.format).supports((point.m, point.k), block=spec.block,
                                                   group_size=spec.group_size, nm=spec.nm)
    return name, reason
