"""Shared machinery of the library backends: one check answers both `supports` and `prepare`.

`supports(point)` must answer before any work, and `prepare(operand, x)` must refuse the same
combinations with `UnsupportedError` (never another exception). Both are therefore reduced to a
`Case` (format, device, dtype, shape, geometry) and one `check(case)` per backend, so the two
answers cannot drift apart.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.backends.base import Backend, Prepared, device_type
from harness.core.dtypes import canonical
from harness.core.errors import UnsupportedError
from harness.core.point import pair

if TYPE_CHECKING:
    import torch

    from harness.core.point import Point
    from harness.formats.base import Operand


@dataclass(frozen=True)
class Case:
    """What a backend needs to know to accept or refuse a product W (m×k) @ X (k×n).

    `pattern` is None when the case comes from an operand (the pruning pattern is not stored);
    checks that need it then look at the operand's data instead.
    """

    format: str
    device: str
    dtype: str
    m: int
    k: int
    n: int
    block: tuple[int, int] = (1, 1)
    nm: tuple[int, int] = (2, 4)
    pattern: str | None = None

    @property
    def device_type(self) -> str:
        return device_type(self.device)

    @classmethod
    def from_point(cls, point: Point) -> Case:
        try:
            dtype = canonical(point.dtype)
        except KeyError:
            dtype = point.dtype  # the dtype check then names it as unsupported
        return cls(point.format, point.device, dtype, point.m, point.k, point.n,
                   pair(point.prune.block), pair(point.prune.nm), point.prune.pattern)

    @classmethod
    def from_operand(cls, operand: Operand, x: torch.Tensor) -> Case:
        m, k = operand.shape
        n = x.shape[1] if x.dim() == 2 else 0
        return cls(operand.format, str(x.device), torch_dtype_name(operand.dtype), m, k, n,
                   tuple(operand.meta.get("block", (1, 1))), tuple(operand.meta.get("nm", (2, 4))))


def torch_dtype_name(dtype: object) -> str:
    """torch.float16 → 'float16'."""
    return str(dtype).removeprefix("torch.")


def operand_mismatch(operand: Operand, x: torch.Tensor) -> str | None:
    """Reason why `operand` and `x` cannot be multiplied at all (caller error), else None."""
    if x.dim() != 2:
        return f"activations must be 2-D (K×N), got shape {tuple(x.shape)}"
    if operand.shape[1] != x.shape[0]:
        return f"weight {operand.shape[0]}×{operand.shape[1]} cannot multiply activations {x.shape[0]}×{x.shape[1]}"
    if operand.dtype != x.dtype:
        return f"weight dtype {torch_dtype_name(operand.dtype)} differs from activations dtype {torch_dtype_name(x.dtype)}"
    if operand.device != x.device:
        return f"weight on {operand.device} but activations on {x.device}"
    return None


def cuda_capability(device: str) -> tuple[int, int] | None:
    """Compute capability of a CUDA device, None when CUDA is absent or the index is invalid."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        return pair(torch.cuda.get_device_capability(device))
    except Exception:  # any failure means "no usable CUDA device"
        return None


def cuda_reason(device: str) -> str | None:
    """None if `device` is CPU or a present CUDA device, else why not (never raises)."""
    if device_type(device) != "cuda":
        return None
    try:
        import torch

        if not torch.cuda.is_available():
            return "CUDA not present"
        index = torch.device(device).index
        if index is not None and index >= torch.cuda.device_count():
            return f"{device} does not exist ({torch.cuda.device_count()} CUDA device(s))"
    except Exception as err:  # a broken CUDA setup is a reason, not a crash
        return f"CUDA not usable: {type(err).__name__}: {err}"
    return None


def identity(out: torch.Tensor) -> torch.Tensor:
    """`Prepared.to_torch` for backends whose run() already returns a torch tensor."""
    return out


def torch_sync(device: torch.device) -> Callable[[], None]:
    """Waits for queued work on a torch device (CUDA); a no-op on CPU, where calls are eager."""
    import torch

    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


class LibraryBackend(Backend):
    """A backend whose every refusal comes from `check(case)` plus the base declarations."""

    def available(self, device: str = "cpu") -> str | None:
        if device_type(device) not in self.devices:
            return f"{self.name} runs on {' or '.join(sorted(self.devices))} only, not {device}"
        try:
            return self.library_reason(device)
        except Exception as err:  # available() never raises
            return f"{self.name} unusable: {type(err).__name__}: {err}"

    def library_reason(self, device: str) -> str | None:
        """Why the library or the device is unusable here (called for a declared device type)."""
        return cuda_reason(device)

    def supports(self, point: Point) -> str | None:
        return self.reason(Case.from_point(point))

    def reason(self, case: Case) -> str | None:
        # The base check reads only .format, .device and .dtype, which a Case has.
        return Backend.supports(self, case) or self.check(case)  # type: ignore[arg-type]

    def check(self, case: Case) -> str | None:
        """Backend-specific refusals beyond format/device/dtype/availability."""
        return None

    def prepare(self, operand: Operand, x: torch.Tensor) -> Prepared:
        reason = operand_mismatch(operand, x) or self.reason(Case.from_operand(operand, x))
        if reason:
            raise UnsupportedError(f"unsupported: {reason}")
        return self.build(operand, x)

    @abstractmethod
    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        """Build the timed callable; only called for accepted combinations."""
