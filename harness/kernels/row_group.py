"""Triton kernel: row-group sparse W (M×K, 1×g groups) × dense X (K×N), fp32 accumulation.

Layout (harness.formats.base, `row_group`): row_ptr (M+1), group_cols (G) with offsets that are
multiples of g, values (G, g) packed (hartenstein-weight-pruning-gpus.md, Sec. 3: groups of g
adjacent weights per row, offset a multiple of g).

Design (N is small, so this is a memory-bandwidth problem):
- One program owns `rows` consecutive rows × a BLOCK_N tile of N. Grid (ceil(M/rows),
  ceil(N/BLOCK_N)); with BLOCK_N ≥ N every packed value of W is read exactly once.
- A row's groups are consumed BLOCK_K non-zeros at a time through a *flattened* index
  e = row_ptr[row]·g + j: the values load `values[e]` is one contiguous, coalesced stretch of
  BLOCK_K elements (several whole groups), independent of g. Each element finds its group by e // g
  (a shift: g is a power of two) and its column as group_cols[e // g] + e % g.
- X is taken with arbitrary strides. Row-major K×N is the better layout for small N: the g rows
  of X a group touches are one contiguous run of g·N elements (coalesced when BLOCK_N covers N);
  with X^T (N×K) each n reads only g contiguous elements (64 B at g=32, fp16), i.e. one sector
  per n instead of one long run. X is small (K·N) and stays in L2 either way; W dominates traffic.
- Products are accumulated in fp32 (row reduction with tl.sum), then the optional fused epilogue
  of the Sparse DNN Graph Challenge (wang-training-sparse-dnn-gpus-graph-challenge.md: Y =
  min(ReLU(W·X + b), 32)): + bias[row], ReLU, clamp(max=c), cast to the output dtype.
- Every (row < M, n < N) element is stored, including empty rows (then 0 + bias).

Why a second strategy (`tile`, KernelConfig.strategy): the row strategy reads W once but moves
one g×N tile of X from L1/L2 per stored group, i.e. nnz·N elements of X — at 90 % sparsity and
N = 64 that is ~6× the bytes of W's packed values, so it is L2-bound, not DRAM-bound. The tile
strategy lets BLOCK_M rows share every X tile (X traffic (M/BLOCK_M)·K·N) and does the
multiply-adds densely on the tensor cores; it needs a per-(K-chunk, row) group count
(built once per operand by `launch.chunk_counts`, M·K/BLOCK_K int8 — 8 % of W's fp16 values at
90 % sparsity and BLOCK_K=64 — counted by the benchmark).
Which one wins depends on N, density, g and dtype (fp32 tile needs TF32 to use tensor cores):
the autotuner measures both.
"""

from __future__ import annotations

import triton
import triton.language as tl

from harness.kernels.epilogue import epilogue


@triton.jit
def row_group_kernel(row_ptr, group_cols, values, x, bias, out,
                     M, N, K, stride_xk, stride_xn, stride_om, stride_on, clamp_max,
                     G: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_N: tl.constexpr,
                     ROWS: tl.constexpr, HAS_BIAS: tl.constexpr, RELU: tl.constexpr,
                     HAS_CLAMP: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    n_mask = offs_n < N
    j = tl.arange(0, BLOCK_K)
    within = j % G  # every step starts on a group boundary (BLOCK_K is a multiple of G)
    for r in tl.static_range(ROWS):
        row = pid_m * ROWS + r
        in_m = row < M
        # int64: flattened value offsets (G·g) may pass 2^31 on large weights.
        start = tl.load(row_ptr + row, mask=in_m, other=0).to(tl.int64) * G
        end = tl.load(row_ptr + row + 1, mask=in_m, other=0).to(tl.int64) * G
        acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
        for base in range(start, end, BLOCK_K):
            # The values load compiles to ld.global.v4 where a thread holds ≥ 4 contiguous values
            # (checked for sm_90 in tests/kernels/test_kernels_aot.py; Triton 3.7 derives the
            # alignment from row_ptr·G even without this hint, which is kept as documentation).
            e = tl.multiple_of(base, G) + j
            e_mask = e < end
            col = tl.load(group_cols + e // G, mask=e_mask, other=0)
            k = col + within
            w = tl.load(values + e, mask=e_mask, other=0.0).to(tl.float32)
            x_mask = (e_mask & (k < K))[:, None] & n_mask[None, :]
            xt = tl.load(x + k[:, None] * stride_xk + offs_n[None, :] * stride_xn,
                         mask=x_mask, other=0.0).to(tl.float32)
            acc += tl.sum(w[:, None] * xt, axis=0)
        acc = epilogue(acc, bias + row, in_m, clamp_max, HAS_BIAS, RELU, HAS_CLAMP)
        tl.store(out + row * stride_om + offs_n * stride_on,
                 acc.to(out.dtype.element_ty), mask=n_mask & in_m)


@triton.jit
def row_group_tile_kernel(row_ptr, chunk_counts, group_cols, values, x, bias, out,
                          M, N, K, C, stride_xk, stride_xn, stride_om, stride_on, clamp_max,
                          G: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr,
                          BLOCK_N: tl.constexpr, HAS_BIAS: tl.constexpr, RELU: tl.constexpr,
                          HAS_CLAMP: tl.constexpr, PRECISION: tl.constexpr):
    """Tile strategy: BLOCK_M rows share each BLOCK_K×BLOCK_N tile of X (loaded once per program
    instead of once per group), W's groups are scattered into a dense BLOCK_M×BLOCK_K register tile
    and multiplied on the tensor cores. `chunk_counts` (C, M) int8 holds how many groups row r has
    in K-chunk c (≤ BLOCK_K/g ≤ 16): its loads are coalesced across rows and independent of the
    data, so the per-row cursor advances by a register add instead of chaining a memory latency
    per chunk."""
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    r_mask = rows < M
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    n_mask = offs_n < N
    j = tl.arange(0, BLOCK_K)
    slot_col = (j // G) * G  # column offset of the group slot each tile column belongs to
    within = j % G
    p0 = tl.load(row_ptr + rows, mask=r_mask, other=0)
    cnt_ptr = chunk_counts + rows  # advanced by M per chunk (pointer arithmetic: no i32 overflow)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for c in range(0, C):
        p1 = p0 + tl.load(cnt_ptr, mask=r_mask, other=0).to(tl.int32)
        cnt_ptr += M
        k0 = c * BLOCK_K
        w = tl.zeros((BLOCK_M, BLOCK_K), dtype=values.dtype.element_ty)
        for t in tl.static_range(BLOCK_K // G):  # a row has at most BLOCK_K/g groups per chunk
            idx = p0 + t
            col = tl.load(group_cols + idx, mask=idx < p1, other=-1)
            hit = (col - k0)[:, None] == slot_col[None, :]
            v = tl.load(values + idx.to(tl.int64)[:, None] * G + within[None, :], mask=hit,
                        other=0.0)
            w = tl.where(hit, v, w)
        p0 = p1
        k = k0 + j
        xt = tl.load(x + k[:, None] * stride_xk + offs_n[None, :] * stride_xn,
                     mask=(k < K)[:, None] & n_mask[None, :], other=0.0)
        acc = tl.dot(w, xt.to(w.dtype), acc, input_precision=PRECISION)
    acc = epilogue(acc, bias + rows[:, None], r_mask[:, None], clamp_max, HAS_BIAS, RELU,
                   HAS_CLAMP)
    tl.store(out + rows[:, None] * stride_om + offs_n[None, :] * stride_on,
             acc.to(out.dtype.element_ty), mask=r_mask[:, None] & n_mask[None, :])
