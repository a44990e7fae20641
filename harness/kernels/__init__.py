"""Bundled Triton block-sparse kernels: row-group (1×g) and BSR (r×c) weight × dense activations.

Triton is imported lazily inside the functions, so `import harness.kernels` stays cheap and works
without a GPU. Without CUDA, export TRITON_INTERPRET=1 *before* the first call (the kernels are
decorated on first import) to run them in Triton's CPU interpreter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.kernels.config import KernelConfig, interpreter_active, validate_config

if TYPE_CHECKING:
    from torch import Tensor

    from harness.formats.base import Operand

__all__ = ["KernelConfig", "bsr_mm", "interpreter_active", "row_group_mm", "validate_config"]


def row_group_mm(op: Operand, x: Tensor, *, bias: Tensor | None = None, relu: bool = False,
                 clamp: float | None = None, config: KernelConfig | None = None,
                 out: Tensor | None = None) -> Tensor:
    """W @ X for a `row_group` operand W (M×K) and dense X (K×N), same dtype (fp16/bf16/fp32).

    Optional fused epilogue y = min(relu(W·X + bias), clamp). `out` (M×N, X's dtype) is written
    in full when given. Raises UnsupportedError for an illegal config or dtype, InputError for
    mismatched shapes.
    """
    from harness.kernels.launch import _run

    return _run("row_group", op, x, bias, relu, clamp, config, out)


def bsr_mm(op: Operand, x: Tensor, *, bias: Tensor | None = None, relu: bool = False,
           clamp: float | None = None, config: KernelConfig | None = None,
           out: Tensor | None = None) -> Tensor:
    """W @ X for a `bsr` operand W (r×c blocks, r, c ∈ {16, 32, 64}) and dense X (K×N); as
    row_group_mm otherwise."""
    from harness.kernels.launch import _run

    return _run("bsr", op, x, bias, relu, clamp, config, out)
