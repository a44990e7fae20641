"""Bundled CPU kernels (Numba) for the row_group, bsr and csr layouts of harness.formats.

The CPU counterpart of the Triton kernels (harness.kernels): the same operands (one layout
contract, no second encoder), the same fused epilogue y = min(ReLU(W·X + bias), clamp), fp32 and
fp64. The bundled 1×g row-group format is the one of hartenstein-weight-pruning-gpus.md ("Weight
pruning for GPUs"), here run on a CPU. `spmm` is the public call; numba is imported only when a
kernel is first needed (`import harness.kernels.cpu` stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.kernels.cpu.config import KINDS, CpuConfig, default_config

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

__all__ = ["KINDS", "CpuConfig", "default_config", "spmm"]


def spmm(op: Operand, x: torch.Tensor, *, bias: torch.Tensor | None = None, relu: bool = False,
         clamp: float | None = None, config: CpuConfig | None = None,
         out: torch.Tensor | None = None) -> torch.Tensor:
    """W @ X (M×N) for a row_group, bsr or csr operand W (M×K) and dense X (K×N) on the CPU,
    same dtype (float32 or float64), with the optional fused epilogue. Compiles (or loads from
    the disk cache) on first use; raises UnsupportedError / InputError like the Triton
    launchers."""
    from harness.kernels.cpu.launch import bind

    return bind(op, x, bias=bias, relu=relu, clamp=clamp, config=config, out=out)()
