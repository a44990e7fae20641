"""Verification of a kernel's output against the float64 reference of the *pruned* weight.

error = ‖out − ref‖_F / ‖ref‖_F (absolute ‖out‖_F when ‖ref‖_F = 0). Tolerances per dtype:

  float64  1e-10   accumulation-order differences only
  float32  1e-4    K up to ~10^4 with fp32 accumulation; 5e-3 when TF32 matmuls are enabled on
                   CUDA (10-bit mantissa inputs, ~1e-3 relative per product)
  float16  1e-2    10-bit mantissa inputs and outputs, fp32 accumulation in cuBLAS/cuSPARSE
  bfloat16 3e-2    8-bit mantissa

NaN or Inf never passes. Before the verification call, `poison` fills a block of the output's size
with NaN and frees it: the CUDA caching allocator hands that block to the next allocation of the
same size, so a kernel that leaves part of its output unwritten is caught. (On the CPU the
allocator gives no such guarantee; there the check relies on the comparison alone.)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

TOLERANCES = {"float64": 1e-10, "float32": 1e-4, "float16": 1e-2, "bfloat16": 3e-2}
TF32_TOLERANCE = 5e-3


def tolerance(dtype: str, device: str = "cpu") -> float:
    if dtype == "float32" and device.split(":", 1)[0] == "cuda":
        import torch

        if torch.backends.cuda.matmul.allow_tf32:
            return TF32_TOLERANCE
    return TOLERANCES[dtype]


def rel_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    """‖out − ref‖_F / ‖ref‖_F in float64 on the CPU; NaN/Inf or a shape mismatch → inf/NaN."""
    import torch

    o = out.detach().to("cpu", torch.float64)
    if tuple(o.shape) != tuple(ref.shape):
        return math.inf
    if not bool(torch.isfinite(o).all()):
        return math.nan
    den = float(torch.linalg.norm(ref))
    num = float(torch.linalg.norm(o - ref))
    return num / den if den > 0 else num


def passes(err: float, dtype: str, device: str = "cpu") -> bool:
    return math.isfinite(err) and err <= tolerance(dtype, device)


def poison(shape: tuple[int, ...], dtype: torch.dtype, device: str) -> None:
    """Leave a NaN-filled block of this size in the allocator's cache (see module doc)."""
    import torch

    buf = torch.full(shape, math.nan, dtype=dtype, device=device)
    del buf
