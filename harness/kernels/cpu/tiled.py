"""CSR SpMM on column-tiled operands: Y (tiles × M × T) = W (M×K, csr) · X (tiles × K × T).

For a chain of products in which X is the previous product's output (the Graph Challenge's
layers, "Performance of Training Sparse Deep Neural Networks on GPUs"), X is kept as column
tiles of T columns stored one after another. One tile (K × T: 256 KB at K = 1024, T = 64 fp32)
stays in L2 while every row of W gathers from it, and its rows are adjacent in memory. In a plain
K × N array they sit N·4 bytes apart, so each tile row is on another page: with K = 1024 and
one thread, the row kernel fell from 23 GFMA/s at N = 64 to 6 at N = 4096.

The accumulation is the row kernel's (`_zero`, `_gather`, `_finish` of harness.kernels.cpu.jit,
two FMA chains per 64-column tile), so a column agrees with `spmm` to rounding (fastmath lets
LLVM contract each compiled copy its own way: they differ in the last bit). The kernel also
reports which columns hold a nonzero after the epilogue (`live`), for callers that drop dead
columns.
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit, prange

from harness.kernels.cpu.intrinsics import stack
from harness.kernels.cpu.jit import _finish, _gather, _zero

TILE = 64  # fp32 columns per tile: four AVX-512 registers per accumulator chain


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def csr_tiled_kernel(crow, cols, values, x, out, live, bias, relu, has_clamp, clamp, tile):
    """out[t] = epilogue(W · x[t]) for every tile t (in parallel); live[t, q] = column q of tile
    t has a nonzero. x: tiles × K × tile, out: tiles × M × tile, bias: one value per row."""
    literally(tile)
    m = crow.size - 1
    for t in prange(x.shape[0]):
        a0 = stack(tile, x)
        a1 = stack(tile, x)
        a2 = stack(tile, x)
        a3 = stack(tile, x)
        seen = stack(tile, x)
        for q in range(tile):
            seen[q] = 0
        xt = x[t]
        for r in range(m):
            y = out[t, r]
            _zero(a0, a1, a2, a3, tile)
            _gather(a0, a1, a2, a3, values, cols, xt, crow[r], crow[r + 1], 0, tile)
            _finish(y, 0, tile, a0, a1, a2, a3, tile, bias[r], relu, has_clamp, clamp)
            for q in range(tile):
                seen[q] = max(seen[q], abs(y[q]))
        for q in range(tile):
            live[t, q] = seen[q] != 0


@njit(parallel=True, cache=True, nogil=True)
def gather_columns(x, keep, out):
    """out's column j = x's column keep[j] (columns counted across tiles); columns of out past
    keep.size are zero. Per output tile, row by row: each source row segment is read once."""
    tile = x.shape[2]
    for u in prange(out.shape[0]):
        src_t = np.empty(tile, np.int64)
        src_q = np.empty(tile, np.int64)
        width = min(tile, keep.size - u * tile)
        for q in range(width):
            s = keep[u * tile + q]
            src_t[q] = s // tile
            src_q[q] = s - src_t[q] * tile
        for r in range(x.shape[1]):
            for q in range(width):
                out[u, r, q] = x[src_t[q], r, src_q[q]]
            for q in range(width, tile):
                out[u, r, q] = 0


@njit(parallel=True, cache=True, nogil=True)
def from_csr_rows(indptr, indices, data, out):
    """out's column i = row i of the CSR matrix (indptr, indices, data); a tile is zeroed and
    filled by one thread while it is in cache."""
    tile = out.shape[2]
    n = indptr.size - 1
    for u in prange(out.shape[0]):
        out[u] = 0
        for q in range(tile):
            i = u * tile + q
            if i < n:
                for p in range(indptr[i], indptr[i + 1]):
                    out[u, indices[p], q] = data[p]


def tiles_for(n: int, tile: int = TILE) -> int:
    return -(-n // tile)
