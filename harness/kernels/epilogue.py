"""The fused epilogue of the bundled kernels: y = min(ReLU(acc + bias), clamp), each part optional.

The Sparse DNN Graph Challenge layer (wang-training-sparse-dnn-gpus-graph-challenge.md:
Y = min(ReLU(W·X + b), 32)). One `@triton.jit` helper for every kernel: `bias_ptrs`/`bias_mask`
have the shape the accumulator broadcasts against — a scalar per row (row strategy) or a
(rows, 1) column (tile and BSR kernels).
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def epilogue(acc, bias_ptrs, bias_mask, clamp_max, HAS_BIAS: tl.constexpr, RELU: tl.constexpr,
             HAS_CLAMP: tl.constexpr):
    if HAS_BIAS:
        acc += tl.load(bias_ptrs, mask=bias_mask, other=0.0).to(tl.float32)
    if RELU:
        acc = tl.maximum(acc, 0.0)
    if HAS_CLAMP:
        acc = tl.minimum(acc, clamp_max)
    return acc
