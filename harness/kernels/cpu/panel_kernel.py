"""The panel kernel of the row_group layout (Numba): the column-group-major order of the 1×g
groups of Hartenstein et al., "Weight pruning for GPUs".

The rows of a block of `rows` output rows that keep a group in column group c all multiply the
same g rows of X: that g×tile panel is copied once into a small buffer (it stays in L1), and four
output rows at a time run through it, each X load feeding four FMAs, their accumulators in
registers (harness.kernels.cpu.intrinsics.stack). The partial sums of a row over its column
groups accumulate in a padded scratch row (in L2; the rows two fours ahead are prefetched), and
the fused epilogue writes the row out at the end. The panel order is a reordering of the stored
groups (harness.kernels.cpu.panel), made once in prepare. Shared conventions (tiles, xpad,
epilogue, disk cache) are those of harness.kernels.cpu.jit.
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit, prange

from harness.kernels.cpu.cache import configure
from harness.kernels.cpu.config import DOT_TAIL
from harness.kernels.cpu.intrinsics import prefetch, stack

configure()  # before the first @njit(cache=True) below: the cache locator reads the folder then


@njit(inline="always")
def _micro4(y0, y1, y2, y3, v0, v1, v2, v3, xb, q0, tile):
    """y_i[q0 : q0 + tile] += v_i · xb for four output rows sharing one X panel (g×tile)."""
    a0 = stack(tile, xb)
    a1 = stack(tile, xb)
    a2 = stack(tile, xb)
    a3 = stack(tile, xb)
    # one loop per row: rows may overlap as far as LLVM knows, and a loop over all four would
    # be versioned on that and go through the stack
    for q in range(tile):
        a0[q] = y0[q0 + q]
    for q in range(tile):
        a1[q] = y1[q0 + q]
    for q in range(tile):
        a2[q] = y2[q0 + q]
    for q in range(tile):
        a3[q] = y3[q0 + q]
    for j in range(xb.shape[0]):
        w0 = v0[j]
        w1 = v1[j]
        w2 = v2[j]
        w3 = v3[j]
        xr = xb[j]
        for q in range(tile):
            a0[q] += w0 * xr[q]
            a1[q] += w1 * xr[q]
            a2[q] += w2 * xr[q]
            a3[q] += w3 * xr[q]
    for q in range(tile):
        y0[q0 + q] = a0[q]
    for q in range(tile):
        y1[q0 + q] = a1[q]
    for q in range(tile):
        y2[q0 + q] = a2[q]
    for q in range(tile):
        y3[q0 + q] = a3[q]


@njit(inline="always")
def _prefetch4(ypad, prow, p, q0):
    prefetch(ypad, prow[p], q0)  # type: ignore[call-arg]  # typingctx is numba's
    prefetch(ypad, prow[p + 1], q0)
    prefetch(ypad, prow[p + 2], q0)
    prefetch(ypad, prow[p + 3], q0)


@njit(inline="always")
def _micro1(y0, v0, xb, q0, tile):
    a0 = stack(tile, xb)
    for q in range(tile):
        a0[q] = y0[q0 + q]
    for j in range(xb.shape[0]):
        w0 = v0[j]
        xr = xb[j]
        for q in range(tile):
            a0[q] += w0 * xr[q]
    for q in range(tile):
        y0[q0 + q] = a0[q]


@njit(inline="always")
def _dots(y, v, xt, count):
    """y[q] += v · xt[q] for q < count: the columns of a narrow N as dot products along the
    group (16 lanes of the group at a time), instead of a tile of mostly padded lanes."""
    g = v.shape[0]
    for q in range(count):
        xr = xt[q]
        acc = stack(16, xt)
        for lane in range(16):
            acc[lane] = 0
        j = 0
        while j + 16 <= g:
            for lane in range(16):
                acc[lane] += v[j + lane] * xr[j + lane]
            j += 16
        s = acc[0]
        for lane in range(1, 16):
            s += acc[lane]
        while j < g:
            s += v[j] * xr[j]
            j += 1
        y[q] += s


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def row_group_panel_kernel(ptr, prow, pvals, x, ypad, out, bias, has_bias, relu, has_clamp,
                           clamp, rows, tile):
    """ptr[b·C + c] … ptr[b·C + c + 1]: the groups of row block b (of `rows` rows) in column
    group c (C = ⌈K/g⌉), by row; prow their rows, pvals their values (harness.kernels.cpu.panel).
    ypad (M × config.panel_layout's width) is scratch. At N ≤ DOT_TAIL every column is a dot
    product along the group; otherwise N runs in tiles, the last zero-padded."""
    literally(tile)
    m = out.shape[0]
    k, n = x.shape
    g = pvals.shape[1]
    ncg = (k + g - 1) // g
    width = ypad.shape[1]
    dot_cols = n if n <= DOT_TAIL else 0
    nt = 0 if dot_cols else (n + tile - 1) // tile
    for b in prange((m + rows - 1) // rows):
        r0 = b * rows
        r1 = min(m, r0 + rows)
        xb = np.zeros((g, tile), x.dtype)
        xt = np.zeros((max(dot_cols, 1), g), x.dtype)
        for r in range(r0, r1):
            for q in range(width):
                ypad[r, q] = 0
        for c in range(ncg):
            lo = ptr[b * ncg + c]
            hi = ptr[b * ncg + c + 1]
            if lo == hi:
                continue
            c0 = c * g
            count = min(g, k - c0)
            for t in range(nt):
                q0 = t * tile
                filled = min(tile, n - q0)
                for j in range(count):
                    xr = x[c0 + j]
                    xbj = xb[j]
                    for q in range(filled):
                        xbj[q] = xr[q0 + q]
                    for q in range(filled, tile):
                        xbj[q] = 0
                for j in range(count, g):  # past K: the stored values there are zero
                    for q in range(tile):
                        xb[j, q] = 0
                p = lo
                while p + 4 <= hi:
                    if p + 12 <= hi:  # the rows two fours ahead: L2 → L1 while these run
                        _prefetch4(ypad, prow, p + 8, q0)
                    _micro4(ypad[prow[p]], ypad[prow[p + 1]], ypad[prow[p + 2]],
                            ypad[prow[p + 3]], pvals[p], pvals[p + 1], pvals[p + 2],
                            pvals[p + 3], xb, q0, tile)
                    p += 4
                while p < hi:
                    _micro1(ypad[prow[p]], pvals[p], xb, q0, tile)
                    p += 1
            if dot_cols > 0:
                for q in range(dot_cols):
                    for j in range(g):
                        xt[q, j] = x[c0 + j, q] if j < count else 0
                for p in range(lo, hi):
                    _dots(ypad[prow[p]], pvals[p], xt, dot_cols)
        for r in range(r0, r1):
            y = out[r]
            yp = ypad[r]
            bb = bias[r] if has_bias else bias[0] * 0
            for q in range(n):
                v = yp[q] + bb
                if relu:
                    v = max(v, 0)
                if has_clamp:
                    v = min(v, clamp)
                y[q] = v
