"""The Numba kernels: Y (M×N) = W (M×K) · X (K×N) for row_group, bsr and csr operands.

Imported lazily (it imports numba; kernels compile on first call or load from the disk cache).
Every kernel walks the stored weights of one output row and adds `w · X[col, :]` into that row:
the innermost loop runs over the N contiguous columns of X and Y (both row-major), which LLVM
vectorises. `prange` splits the rows into blocks of `rows` rows (a meta-parameter: the unit of
work a thread takes). `unroll` (1, 2, 4 or 8) is how many weights are folded into one pass over
the output row: each pass loads and stores the row of Y once, so folding 4 weights cuts that
traffic 4× (with N = 50 fp32 on AVX-512 the row stays in L1 and the load/store ports, not the
FMAs, limit the plain loop). A group of g (or a block row of c) consecutive columns reads g
consecutive rows of X: one contiguous g×N strip.

Loops index whole rows from 0 (`range(n)`), never slices or `range(q0, q1)`: Numba then knows
the index is non-negative and emits no wrap-around check, so LLVM vectorises; tiling N with index
bounds measured 3–5× slower here.

The fused epilogue is the Triton kernels' (harness/kernels/epilogue.py): y = min(ReLU(acc +
bias), clamp), each part optional; bias has one value per output row.

Compiled code is cached on disk (`cache=True`) in the folder `cache.configure()` sets before the
decorators below run, so a new process loads it instead of compiling.
"""

from __future__ import annotations

from numba import njit, prange

from harness.kernels.cpu.cache import configure

configure()  # before the first @njit(cache=True) below: the cache locator reads the folder then

# every kernel: @njit(parallel=True, fastmath=True, cache=True, nogil=True) (spelled out: the
# typed njit overloads do not accept **kwargs)


@njit(inline="always")
def _epilogue(y, n, bias, r, has_bias, relu, has_clamp, clamp):
    if has_bias:
        b = bias[r]
        for q in range(n):
            y[q] += b
    if relu:
        for q in range(n):
            y[q] = max(y[q], 0)
    if has_clamp:
        for q in range(n):
            y[q] = min(y[q], clamp)


@njit(inline="always")
def _strip(y, n, vals, x, col0, count, unroll):
    """y += Σ_j vals[j] · x[col0 + j] for j < count (consecutive columns: a group or a block
    row), `unroll` weights per pass over y."""
    j = 0
    if unroll >= 8:
        while j + 8 <= count:
            c = col0 + j
            w0, w1, w2, w3 = vals[j], vals[j + 1], vals[j + 2], vals[j + 3]
            w4, w5, w6, w7 = vals[j + 4], vals[j + 5], vals[j + 6], vals[j + 7]
            x0, x1, x2, x3 = x[c], x[c + 1], x[c + 2], x[c + 3]
            x4, x5, x6, x7 = x[c + 4], x[c + 5], x[c + 6], x[c + 7]
            for q in range(n):
                y[q] += ((w0 * x0[q] + w1 * x1[q]) + (w2 * x2[q] + w3 * x3[q])) + \
                    ((w4 * x4[q] + w5 * x5[q]) + (w6 * x6[q] + w7 * x7[q]))
            j += 8
    if unroll >= 4:
        while j + 4 <= count:
            c = col0 + j
            w0, w1, w2, w3 = vals[j], vals[j + 1], vals[j + 2], vals[j + 3]
            x0, x1, x2, x3 = x[c], x[c + 1], x[c + 2], x[c + 3]
            for q in range(n):
                y[q] += (w0 * x0[q] + w1 * x1[q]) + (w2 * x2[q] + w3 * x3[q])
            j += 4
    if unroll >= 2:
        while j + 2 <= count:
            w0, w1 = vals[j], vals[j + 1]
            x0, x1 = x[col0 + j], x[col0 + j + 1]
            for q in range(n):
                y[q] += w0 * x0[q] + w1 * x1[q]
            j += 2
    while j < count:
        w0 = vals[j]
        x0 = x[col0 + j]
        for q in range(n):
            y[q] += w0 * x0[q]
        j += 1


@njit(inline="always")
def _gather(y, n, values, cols, x, p, end, unroll):
    """y += Σ_p values[p] · x[cols[p]] for p in [p, end) (CSR: scattered columns)."""
    if unroll >= 4:
        while p + 4 <= end:
            w0, w1, w2, w3 = values[p], values[p + 1], values[p + 2], values[p + 3]
            x0, x1, x2, x3 = x[cols[p]], x[cols[p + 1]], x[cols[p + 2]], x[cols[p + 3]]
            for q in range(n):
                y[q] += (w0 * x0[q] + w1 * x1[q]) + (w2 * x2[q] + w3 * x3[q])
            p += 4
    if unroll >= 2:
        while p + 2 <= end:
            w0, w1 = values[p], values[p + 1]
            x0, x1 = x[cols[p]], x[cols[p + 1]]
            for q in range(n):
                y[q] += w0 * x0[q] + w1 * x1[q]
            p += 2
    while p < end:
        w0 = values[p]
        x0 = x[cols[p]]
        for q in range(n):
            y[q] += w0 * x0[q]
        p += 1


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def row_group_kernel(row_ptr, group_cols, values, x, out, bias, has_bias, relu, has_clamp,
                     clamp, rows, unroll):
    m = row_ptr.size - 1
    k, n = x.shape
    g = values.shape[1]
    for b in prange((m + rows - 1) // rows):
        for r in range(b * rows, min(m, (b + 1) * rows)):
            y = out[r]
            for q in range(n):
                y[q] = 0
            for p in range(row_ptr[r], row_ptr[r + 1]):
                c0 = group_cols[p]
                _strip(y, n, values[p], x, c0, min(g, k - c0), unroll)
            _epilogue(y, n, bias, r, has_bias, relu, has_clamp, clamp)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def bsr_kernel(crow, cols, values, x, out, bias, has_bias, relu, has_clamp, clamp, rows, unroll):
    """`rows` counts block rows here (each of r output rows)."""
    mb = crow.size - 1
    n = x.shape[1]
    br, bc = values.shape[1], values.shape[2]
    for b in prange((mb + rows - 1) // rows):
        for rb in range(b * rows, min(mb, (b + 1) * rows)):
            for i in range(br):
                r = rb * br + i
                y = out[r]
                for q in range(n):
                    y[q] = 0
                for p in range(crow[rb], crow[rb + 1]):
                    _strip(y, n, values[p, i], x, cols[p] * bc, bc, unroll)
                _epilogue(y, n, bias, r, has_bias, relu, has_clamp, clamp)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def csr_kernel(crow, cols, values, x, out, bias, has_bias, relu, has_clamp, clamp, rows, unroll):
    m = crow.size - 1
    n = x.shape[1]
    for b in prange((m + rows - 1) // rows):
        for r in range(b * rows, min(m, (b + 1) * rows)):
            y = out[r]
            for q in range(n):
                y[q] = 0
            _gather(y, n, values, cols, x, crow[r], crow[r + 1], unroll)
            _epilogue(y, n, bias, r, has_bias, relu, has_clamp, clamp)


KERNELS = {"row_group": row_group_kernel, "bsr": bsr_kernel, "csr": csr_kernel}


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def gather_rows_kernel(row_ptr, pos, parts, out, bias, has_bias, relu, has_clamp, clamp):
    """out[r] = Σ parts[pos[p]] over the stored groups p of row r, then the epilogue (the second
    half of harness.kernels.cpu.groupgemm: the partial products of every group, summed per row)."""
    m = row_ptr.size - 1
    n = parts.shape[1]
    for r in prange(m):
        y = out[r]
        for q in range(n):
            y[q] = 0
        for p in range(row_ptr[r], row_ptr[r + 1]):
            t = parts[pos[p]]
            for q in range(n):
                y[q] += t[q]
        _epilogue(y, n, bias, r, has_bias, relu, has_clamp, clamp)
