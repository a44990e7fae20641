"""The Numba row kernels: Y (M×N) = W (M×K) · X (K×N) for row_group, bsr and csr operands.

Imported lazily (it imports numba; kernels compile on first call or load from the disk cache).
The other algorithm, panels for row groups, lives in harness.kernels.cpu.panel_kernel.

Both algorithms hold the output in registers: N is cut into tiles of `tile` columns (a literal,
so every kernel is compiled per tile width and its tile loops have a constant trip count), and the
tile's accumulators are stack arrays (harness.kernels.cpu.intrinsics) that LLVM keeps in vector
registers across the whole reduction. Loads of X and W then feed the FMAs directly; the output is
written once per tile.

- **rows** (every layout): one output row at a time, every stored weight of the row in turn
  (a 1×g group or a block row reads g consecutive rows of X; csr scattered ones). Several
  accumulator tiles (weight j into tile j mod 4, or mod 2 for wide tiles) give the FMAs
  independent chains; bsr runs four rows of a block row at a time instead, which share each X
  row.
- **panel** (row_group only, harness.kernels.cpu.panel_kernel): column groups outer, four rows
  sharing each X panel ("Weight pruning for GPUs", Hartenstein et al.: its 1×g groups).

X is read through `xpad`: X itself when N is a multiple of the tile, else a copy padded with
zeros to whole tiles, made inside the call (it is part of the product's cost).

The fused epilogue is the Triton kernels' (harness/kernels/epilogue.py): y = min(ReLU(acc +
bias), clamp), each part optional; bias has one value per output row.

Compiled code is cached on disk (`cache=True`) in the folder `cache.configure()` sets before the
decorators below run, so a new process loads it instead of compiling.
"""

from __future__ import annotations

from numba import literally, njit, prange

from harness.kernels.cpu.cache import configure
from harness.kernels.cpu.intrinsics import stack

configure()  # before the first @njit(cache=True) below: the cache locator reads the folder then

# every kernel: @njit(parallel=True, fastmath=True, cache=True, nogil=True) (spelled out: the
# typed njit overloads do not accept **kwargs)

# The row kernel spreads a row's weights over independent accumulator chains so the FMAs do not
# wait on each other: four chains for narrow tiles, two from WIDE_TILE columns (a 64-column fp32
# tile is already four vectors per chain). Measured at 4096², 90 %, csr, 2 threads: four chains
# 3.9× faster than two at N = 16, two 14 % faster than four at N = 50.
WIDE_TILE = 64
# csr at N ≤ CSR_DOT_N: gathered dot products (4096², 90 %, 2 threads: N = 1 0.94 ms against
# 2.58 ms with a tile, N = 2 1.66 against 2.79; at N = 4 the tile wins, 2.94 against 3.19).
CSR_DOT_N = 2


@njit(inline="always")
def _finish(y, q0, n, a0, a1, a2, a3, tile, b, relu, has_clamp, clamp):
    """y[q0 + q] = epilogue(a0[q] + a1[q] + a2[q] + a3[q]) for the tile's columns inside N."""
    s = stack(tile, y)
    for q in range(tile):
        s[q] = (a0[q] + a1[q]) + (a2[q] + a3[q]) + b
    for q in range(min(tile, n - q0)):
        v = s[q]
        if relu:
            v = max(v, 0)
        if has_clamp:
            v = min(v, clamp)
        y[q0 + q] = v


@njit(inline="always")
def _zero(a0, a1, a2, a3, tile):
    for q in range(tile):
        a0[q] = 0
    for q in range(tile):
        a1[q] = 0
    for q in range(tile):
        a2[q] = 0
    for q in range(tile):
        a3[q] = 0


@njit(inline="always")
def _strip(a0, a1, a2, a3, v, xpad, c0, count, q0, tile):
    """a += Σ_j v[j] · xpad[c0 + j, q0 : q0 + tile] over j < count (consecutive rows of X: a
    group or a block row), spread over independent accumulator chains (see `_chains`)."""
    j = 0
    if tile < WIDE_TILE:
        while j + 4 <= count:
            w0 = v[j]
            w1 = v[j + 1]
            w2 = v[j + 2]
            w3 = v[j + 3]
            x0 = xpad[c0 + j]
            x1 = xpad[c0 + j + 1]
            x2 = xpad[c0 + j + 2]
            x3 = xpad[c0 + j + 3]
            for q in range(tile):
                a0[q] += w0 * x0[q0 + q]
                a1[q] += w1 * x1[q0 + q]
                a2[q] += w2 * x2[q0 + q]
                a3[q] += w3 * x3[q0 + q]
            j += 4
    else:
        while j + 2 <= count:
            w0 = v[j]
            w1 = v[j + 1]
            x0 = xpad[c0 + j]
            x1 = xpad[c0 + j + 1]
            for q in range(tile):
                a0[q] += w0 * x0[q0 + q]
                a1[q] += w1 * x1[q0 + q]
            j += 2
    while j < count:
        w0 = v[j]
        x0 = xpad[c0 + j]
        for q in range(tile):
            a0[q] += w0 * x0[q0 + q]
        j += 1


@njit(inline="always")
def _gather(a0, a1, a2, a3, values, cols, xpad, p, end, q0, tile):
    """a += Σ values[p] · xpad[cols[p], q0 : q0 + tile] over p < end (csr: scattered rows of X),
    spread over independent accumulator chains like `_strip`."""
    if tile < WIDE_TILE:
        while p + 4 <= end:
            w0 = values[p]
            w1 = values[p + 1]
            w2 = values[p + 2]
            w3 = values[p + 3]
            x0 = xpad[cols[p]]
            x1 = xpad[cols[p + 1]]
            x2 = xpad[cols[p + 2]]
            x3 = xpad[cols[p + 3]]
            for q in range(tile):
                a0[q] += w0 * x0[q0 + q]
                a1[q] += w1 * x1[q0 + q]
                a2[q] += w2 * x2[q0 + q]
                a3[q] += w3 * x3[q0 + q]
            p += 4
    else:
        while p + 2 <= end:
            w0 = values[p]
            w1 = values[p + 1]
            x0 = xpad[cols[p]]
            x1 = xpad[cols[p + 1]]
            for q in range(tile):
                a0[q] += w0 * x0[q0 + q]
                a1[q] += w1 * x1[q0 + q]
            p += 2
    while p < end:
        w0 = values[p]
        x0 = xpad[cols[p]]
        for q in range(tile):
            a0[q] += w0 * x0[q0 + q]
        p += 1


@njit(inline="always")
def _pad(x, xpad):
    """Copy X into the zero-padded buffer (no-op when xpad is X itself)."""
    n = x.shape[1]
    if xpad.shape[1] != n:
        for i in prange(x.shape[0]):
            for q in range(n):
                xpad[i, q] = x[i, q]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def row_group_kernel(row_ptr, group_cols, values, x, xpad, out, bias, has_bias, relu, has_clamp,
                     clamp, rows, tile):
    literally(tile)
    _pad(x, xpad)
    m = row_ptr.size - 1
    k, n = x.shape
    g = values.shape[1]
    nt = xpad.shape[1] // tile
    for b in prange((m + rows - 1) // rows):
        a0 = stack(tile, x)
        a1 = stack(tile, x)
        a2 = stack(tile, x)
        a3 = stack(tile, x)
        for r in range(b * rows, min(m, (b + 1) * rows)):
            bb = bias[r] if has_bias else bias[0] * 0
            for t in range(nt):
                q0 = t * tile
                _zero(a0, a1, a2, a3, tile)
                for p in range(row_ptr[r], row_ptr[r + 1]):
                    c0 = group_cols[p]
                    _strip(a0, a1, a2, a3, values[p], xpad, c0, min(g, k - c0), q0, tile)
                _finish(out[r], q0, n, a0, a1, a2, a3, tile, bb, relu, has_clamp, clamp)


@njit(inline="always")
def _block_rows4(a0, a1, a2, a3, crow_lo, crow_hi, cols, values, i, xpad, q0, tile):
    """a_k += Σ over the block row's blocks of values[p, i + k] · xpad[block's columns]: four
    rows of a block row share every X row they read, and their accumulators stay in registers
    across the whole block row."""
    bc = values.shape[2]
    _zero(a0, a1, a2, a3, tile)
    for p in range(crow_lo, crow_hi):
        c0 = cols[p] * bc
        v = values[p]
        for j in range(bc):
            w0 = v[i, j]
            w1 = v[i + 1, j]
            w2 = v[i + 2, j]
            w3 = v[i + 3, j]
            xr = xpad[c0 + j]
            for q in range(tile):
                a0[q] += w0 * xr[q0 + q]
                a1[q] += w1 * xr[q0 + q]
                a2[q] += w2 * xr[q0 + q]
                a3[q] += w3 * xr[q0 + q]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def bsr_kernel(crow, cols, values, x, xpad, out, bias, has_bias, relu, has_clamp, clamp, rows,
               tile):
    """`rows` counts block rows here (each of r output rows). Rows of a block row run four at
    a time (`_block_rows4`), the rest one at a time."""
    literally(tile)
    _pad(x, xpad)
    mb = crow.size - 1
    n = x.shape[1]
    br, bc = values.shape[1], values.shape[2]
    nt = xpad.shape[1] // tile
    for b in prange((mb + rows - 1) // rows):
        a0 = stack(tile, x)
        a1 = stack(tile, x)
        a2 = stack(tile, x)
        a3 = stack(tile, x)
        zero = stack(tile, x)
        for q in range(tile):
            zero[q] = 0
        for rb in range(b * rows, min(mb, (b + 1) * rows)):
            for t in range(nt):
                q0 = t * tile
                i = 0
                while i + 4 <= br:
                    _block_rows4(a0, a1, a2, a3, crow[rb], crow[rb + 1], cols, values, i, xpad,
                                 q0, tile)
                    r = rb * br + i  # spelled out: a loop over the four would pick the stack
                    # arrays at run time, and LLVM could no longer keep them in registers
                    _finish(out[r], q0, n, a0, zero, zero, zero, tile,
                            bias[r] if has_bias else bias[0] * 0, relu, has_clamp, clamp)
                    _finish(out[r + 1], q0, n, a1, zero, zero, zero, tile,
                            bias[r + 1] if has_bias else bias[0] * 0, relu, has_clamp, clamp)
                    _finish(out[r + 2], q0, n, a2, zero, zero, zero, tile,
                            bias[r + 2] if has_bias else bias[0] * 0, relu, has_clamp, clamp)
                    _finish(out[r + 3], q0, n, a3, zero, zero, zero, tile,
                            bias[r + 3] if has_bias else bias[0] * 0, relu, has_clamp, clamp)
                    i += 4
                while i < br:
                    r = rb * br + i
                    bb = bias[r] if has_bias else bias[0] * 0
                    _zero(a0, a1, a2, a3, tile)
                    for p in range(crow[rb], crow[rb + 1]):
                        _strip(a0, a1, a2, a3, values[p, i], xpad, cols[p] * bc, bc, q0, tile)
                    _finish(out[r], q0, n, a0, a1, a2, a3, tile, bb, relu, has_clamp, clamp)
                    i += 1


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def csr_kernel(crow, cols, values, x, xpad, out, bias, has_bias, relu, has_clamp, clamp, rows,
               tile):
    """At N ≤ CSR_DOT_N each output is a dot product of the row's values with the gathered X
    entries (LLVM vectorises it with gathers) instead of a tile with N useful lanes."""
    literally(tile)
    m = crow.size - 1
    n = x.shape[1]
    if n <= CSR_DOT_N:
        for r in prange(m):
            bb = bias[r] if has_bias else bias[0] * 0
            for q in range(n):
                s = bias[0] * 0
                for p in range(crow[r], crow[r + 1]):
                    s += values[p] * x[cols[p], q]
                v = s + bb
                if relu:
                    v = max(v, 0)
                if has_clamp:
                    v = min(v, clamp)
                out[r, q] = v
    else:
        _pad(x, xpad)
        nt = xpad.shape[1] // tile
        for b in prange((m + rows - 1) // rows):
            a0 = stack(tile, x)
            a1 = stack(tile, x)
            a2 = stack(tile, x)
            a3 = stack(tile, x)
            for r in range(b * rows, min(m, (b + 1) * rows)):
                bb = bias[r] if has_bias else bias[0] * 0
                for t in range(nt):
                    q0 = t * tile
                    _zero(a0, a1, a2, a3, tile)
                    _gather(a0, a1, a2, a3, values, cols, xpad, crow[r], crow[r + 1], q0, tile)
                    _finish(out[r], q0, n, a0, a1, a2, a3, tile, bb, relu, has_clamp, clamp)


KERNELS = {"row_group": row_group_kernel, "bsr": bsr_kernel, "csr": csr_kernel}
