"""Triton kernel: BSR sparse W (M×K, r×c blocks) × dense X (K×N) with tl.dot, fp32 accumulation.

Layout (harness.formats.base, `bsr`): crow_indices (ceil(M/r)+1), col_indices (nnzb) in block
columns, values (nnzb, r, c) contiguous. One program owns one block row (r rows) × a BLOCK_N tile
of N and walks the row's blocks: each block is one contiguous r·c load of W and a c×BLOCK_N tile
of X (rows masked past K, so a zero-padded edge block is harmless), multiplied on the tensor cores
by tl.dot into an fp32 r×BLOCK_N accumulator. fp32 inputs use IEEE precision unless the config
allows TF32. Fused epilogue (+ bias, ReLU, clamp): harness.kernels.epilogue. Rows ≥ M and
columns ≥ N are masked on store; every other output element is written, empty block rows
included.
"""

from __future__ import annotations

import triton
import triton.language as tl

from harness.kernels.epilogue import epilogue


@triton.jit
def bsr_kernel(crow, col_idx, values, x, bias, out,
               M, N, K, stride_xk, stride_xn, stride_om, stride_on, clamp_max,
               R: tl.constexpr, C: tl.constexpr, BLOCK_N: tl.constexpr,
               HAS_BIAS: tl.constexpr, RELU: tl.constexpr, HAS_CLAMP: tl.constexpr,
               PRECISION: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_r = tl.arange(0, R)
    offs_c = tl.arange(0, C)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    n_mask = offs_n < N
    # int64 loop index: nnzb·r·c may pass 2^31 on large weights.
    start = tl.load(crow + pid_m).to(tl.int64)
    end = tl.load(crow + pid_m + 1).to(tl.int64)
    acc = tl.zeros((R, BLOCK_N), dtype=tl.float32)
    w_offs = offs_r[:, None] * C + offs_c[None, :]
    for b in range(start, end):
        cb = tl.load(col_idx + b)
        w = tl.load(values + b * (R * C) + w_offs)
        k = cb * C + offs_c
        xt = tl.load(x + k[:, None] * stride_xk + offs_n[None, :] * stride_xn,
                     mask=(k < K)[:, None] & n_mask[None, :], other=0.0)
        acc = tl.dot(w, xt.to(w.dtype), acc, input_precision=PRECISION)
    rows = pid_m * R + offs_r
    r_mask = rows < M
    acc = epilogue(acc, bias + rows[:, None], r_mask[:, None], clamp_max, HAS_BIAS, RELU,
                   HAS_CLAMP)
    tl.store(out + rows[:, None] * stride_om + offs_n[None, :] * stride_on,
             acc.to(out.dtype.element_ty), mask=r_mask[:, None] & n_mask[None, :])
