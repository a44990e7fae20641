"""Backend `triton`: the bundled Triton kernels (harness.kernels) for row_group and bsr operands.

On CUDA, `prepare` autotunes the kernel's meta-parameters (cached on disk per device and key, see
harness.kernels.autotune); under the Triton CPU interpreter (TRITON_INTERPRET=1) it uses a fixed
small config, since interpreter timings say nothing about a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.backends.base import BACKENDS, Backend, Prepared, device_type

if TYPE_CHECKING:
    import torch

    from harness.core.point import Point
    from harness.formats.base import Operand

_KIND = {"row_group": "row_group", "bsr": "bsr"}
NEED_CUDA = ("the bundled Triton kernels need CUDA "
             "(set TRITON_INTERPRET=1 to run them in the interpreter)")


def _snapshot(t: torch.Tensor) -> torch.Tensor:
    return t.clone()


class TritonBackend(Backend):
    name = "triton"
    formats = frozenset(_KIND)
    devices = frozenset({"cuda", "cpu"})
    dtypes = frozenset({"float16", "bfloat16", "float32"})

    def __init__(self, *, time_fn: Callable[[Callable[[], Any]], float] | None = None,
                 tune: bool = True) -> None:
        self.time_fn = time_fn  # None: autotune's CUDA-event median; pass harness.measure's timer
        self.tune = tune

    def available(self, device: str = "cpu") -> str | None:
        import importlib.util

        from harness.kernels.config import interpreter_active

        # find_spec, not import: importing triton fixes its interpreter mode for the process
        # (its own library functions are decorated then), so answering must not import it.
        if importlib.util.find_spec("triton") is None:  # pragma: no cover - pinned dependency
            return "triton is not installed"
        kind = device_type(device)
        if kind == "cpu":
            return None if interpreter_active() else NEED_CUDA
        if kind == "cuda":
            try:
                import torch

                if not torch.cuda.is_available():
                    return "CUDA not available to torch"
            except Exception as e:  # pragma: no cover
                return f"torch cannot be imported: {e}"
            if interpreter_active():
                return "TRITON_INTERPRET=1 is set: kernels would run in the CPU interpreter"
            return None
        return f"triton runs on cuda (or cpu in the interpreter), not {device}"

    def supports(self, point: Point) -> str | None:
        from harness.kernels.config import BLOCK_DIMS, GROUP_SIZES, interpreter_active

        base = super().supports(point)
        if base:
            return base
        if point.format == "row_group" and point.prune.group_size not in GROUP_SIZES:
            return f"triton row_group kernel needs g in {GROUP_SIZES}, got {point.prune.group_size}"
        if point.format == "bsr":
            r, c = point.prune.block
            if r not in BLOCK_DIMS or c not in BLOCK_DIMS:
                return f"triton bsr kernel needs r, c in {BLOCK_DIMS}, got {r}×{c}"
            if point.dtype == "bfloat16" and interpreter_active():
                return "bf16 tl.dot is wrong in the Triton interpreter; run bf16 BSR on a GPU"
        return None

    def _refusal(self, operand: Operand, x: torch.Tensor) -> str | None:
        """supports() for an operand in hand (prepare is also called without a Point)."""
        from harness.kernels.config import BLOCK_DIMS, GROUP_SIZES, interpreter_active

        if operand.format not in _KIND:
            return f"triton does not run format {operand.format!r} (runs: bsr, row_group)"
        dtype = str(operand.dtype).removeprefix("torch.")
        if dtype not in self.dtypes or x.dtype != operand.dtype:
            return f"triton runs {', '.join(sorted(self.dtypes))} with matching W and X, " \
                   f"got W {dtype}, X {str(x.dtype).removeprefix('torch.')}"
        if operand.format == "row_group" and operand.meta.get("group_size") not in GROUP_SIZES:
            return f"triton row_group kernel needs g in {GROUP_SIZES}, got {operand.meta.get('group_size')}"
        if operand.format == "bsr":
            r, c = operand.meta.get("block", (0, 0))
            if r not in BLOCK_DIMS or c not in BLOCK_DIMS:
                return f"triton bsr kernel needs r, c in {BLOCK_DIMS}, got {r}×{c}"
            if dtype == "bfloat16" and interpreter_active():
                return "bf16 tl.dot is wrong in the Triton interpreter; run bf16 BSR on a GPU"
        return self.available(str(x.device))

    def prepare(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import torch

        from harness.core.errors import UnsupportedError
        from harness.kernels import bsr_mm, row_group_mm
        from harness.kernels.config import interpreter_active
        from harness.kernels.launch import chunk_counts, default_config

        reason = self._refusal(operand, x)
        if reason:
            raise UnsupportedError(reason)
        kind = _KIND[operand.format]
        fn = row_group_mm if kind == "row_group" else bsr_mm
        x = x.contiguous()
        gpu = x.device.type == "cuda" and not interpreter_active()
        if gpu and self.tune:
            from harness.kernels.autotune import autotune

            cfg = autotune(kind, operand, x, time_fn=self.time_fn)
        else:
            cfg = default_config(kind, x.shape[1],
                                 group_size=int(operand.meta.get("group_size", 32)),
                                 dtype=str(x.dtype).removeprefix("torch."))
        if cfg.strategy == "tile" and kind == "row_group":
            chunk_counts(operand, cfg.block_k)  # the tile kernel's index, built outside timing
        out = torch.empty((operand.shape[0], x.shape[1]), dtype=x.dtype, device=x.device)
        sync = torch.cuda.synchronize if gpu else (lambda: None)
        # `out` is reused across calls (allocation stays out of the timed region), so to_torch copies.
        emulated = "Triton CPU interpreter (TRITON_INTERPRET=1)" if interpreter_active() else None
        return Prepared(run=lambda: fn(operand, x, config=cfg, out=out), to_torch=_snapshot,
                        sync=sync, emulated=emulated)


BACKENDS.register("triton", TritonBackend())
