"""A fused row-wise SpGEMM for the challenge on CPU (Numba, parallel over rows).

Each output row of Z = Y·W is accumulated Gustavson-style in a dense scratch row (one per
thread, swept once per row), and the challenge's epilogue — bias on the nonzeros, ReLU, clamp at 32 — is applied
while the row is compacted, so Z is never stored before its zeros are dropped. Rows that end up
empty are dropped in the same pass (the seed's "with filter"), so dead inputs cost nothing in
later layers. Work per layer is Σ over the live entries of Y of that row's 32 connections.

Two passes per layer: the first writes each row's surviving entries into a slab sized by an
upper bound (min(columns, nnz(y_i) · max row length of W)), the second copies the slabs into a
compact CSR. Inputs with int32 indices, float32 values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.graph.radixnet import YMAX

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

_KERNELS: dict[str, Any] = {}
PARALLEL_MIN_WORK = 1 << 21  # multiply-adds in a layer below which it runs on one thread


def available() -> str | None:
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numba is not installed"
    return None


def _compile() -> dict[str, Any]:
    if _KERNELS:
        return _KERNELS
    try:  # the bundled CPU kernels' on-disk cache folder, when that module is present
        from harness.kernels.cpu.cache import configure

        configure()
    except ImportError:
        pass
    import numba
    import numpy as np

    @numba.njit(nogil=True, cache=True)
    def rows(lo, hi, acc, indptr, indices, data, w_indptr, w_indices, w_data, bias, ymax,
             n_cols, slab_ptr, slab_cols, slab_vals, counts):
        for i in range(lo, hi):
            for p in range(indptr[i], indptr[i + 1]):
                y = data[p]
                k = indices[p]
                for q in range(w_indptr[k], w_indptr[k + 1]):
                    acc[w_indices[q]] += y * w_data[q]
            # a dense sweep of the scratch row beats tracking touched columns: rows of Y reach
            # hundreds of entries, each touching 32 columns
            out = slab_ptr[i]
            for j in range(n_cols):
                v = acc[j]
                if v != 0.0:  # bias on the nonzeros of Z only
                    acc[j] = 0.0
                    v += bias
                    if v > 0.0:
                        slab_cols[out] = j
                        slab_vals[out] = v if v < ymax else ymax
                        out += 1
            counts[i] = out - slab_ptr[i]

    @numba.njit(parallel=True, nogil=True, cache=True)
    def layer_parallel(indptr, indices, data, w_indptr, w_indices, w_data, bias, ymax, n_cols,
                       slab_ptr, slab_cols, slab_vals, counts, chunks):
        n_rows = indptr.size - 1
        step = (n_rows + chunks - 1) // chunks
        for c in numba.prange(chunks):
            acc = np.zeros(n_cols, dtype=np.float32)
            rows(c * step, min(n_rows, (c + 1) * step), acc, indptr, indices, data, w_indptr,
                 w_indices, w_data, bias, ymax, n_cols, slab_ptr, slab_cols, slab_vals, counts)

    @numba.njit(nogil=True, cache=True)
    def layer_serial(indptr, indices, data, w_indptr, w_indices, w_data, bias, ymax, n_cols,
                     slab_ptr, slab_cols, slab_vals, counts, chunks):
        acc = np.zeros(n_cols, dtype=np.float32)
        rows(0, indptr.size - 1, acc, indptr, indices, data, w_indptr, w_indices, w_data, bias,
             ymax, n_cols, slab_ptr, slab_cols, slab_vals, counts)

    @numba.njit(nogil=True, cache=True)
    def compact(slab_ptr, slab_cols, slab_vals, counts, keep, new_ptr, new_cols, new_vals):
        for r in range(keep.size):
            i = keep[r]
            src, dst = slab_ptr[i], new_ptr[r]
            for t in range(counts[i]):
                new_cols[dst + t] = slab_cols[src + t]
                new_vals[dst + t] = slab_vals[src + t]

    _KERNELS.update(parallel=layer_parallel, serial=layer_serial, compact=compact)
    return _KERNELS


class NumbaFusedEngine:
    """Engine (see harness.graph.engines) whose layers drop empty rows themselves; its
    `layer` returns (Y, kept rows) so the runner can track which inputs are alive."""

    drops_rows = True

    def __init__(self, threads: int | None = None) -> None:
        import numba

        self.kernels = _compile()
        self.threads = threads or numba.get_num_threads()
        # persistent work buffers, grown geometrically: fresh multi-MiB arrays every layer cost
        # more in page faults than the first layers' arithmetic
        self._bufs: dict[str, Any] = {}
        self._turn = 0

    def _buf(self, name: str, size: int, dtype: Any) -> Any:
        import numpy as np

        have = self._bufs.get(name)
        if have is None or have.size < size:
            have = np.empty(max(size, 2 * (have.size if have is not None else 0), 4096), dtype)
            self._bufs[name] = have
        return have[:size]

    def weight(self, w: sp.csr_matrix) -> tuple[Any, ...]:
        import numpy as np

        w = w.astype(np.float32).tocsr()
        w.sort_indices()
        return (w.indptr.astype(np.int64), w.indices.astype(np.int32), w.data, w.shape[1],
                int(np.diff(w.indptr).max(initial=0)))

    def inputs(self, y0: sp.csr_matrix) -> tuple[Any, ...]:
        import numpy as np

        y0 = y0.astype(np.float32).tocsr()
        return (y0.indptr.astype(np.int64), y0.indices.astype(np.int32), y0.data)

    def layer(self, y: tuple[Any, ...], w: tuple[Any, ...], bias: float) -> tuple[Any, Any]:
        import numba
        import numpy as np

        indptr, indices, data = y
        w_indptr, w_indices, w_data, n_cols, w_max = w
        bound = np.minimum(np.diff(indptr) * w_max, n_cols)
        slab_ptr = self._buf("slab_ptr", bound.size + 1, np.int64)
        slab_ptr[0] = 0
        np.cumsum(bound, out=slab_ptr[1:])
        total = int(slab_ptr[-1])
        slab_cols = self._buf("slab_cols", total, np.int32)
        slab_vals = self._buf("slab_vals", total, np.float32)
        counts = self._buf("counts", bound.size, np.int64)
        # a parallel region costs a fork/join per layer, which dominates once few inputs are
        # alive (and costs milliseconds when a core is busy elsewhere): small layers run serially
        parallel = self.threads > 1 and indices.size * w_max >= PARALLEL_MIN_WORK
        if parallel:
            numba.set_num_threads(self.threads)
        chunks = max(1, min(bound.size, 8 * self.threads))
        self.kernels["parallel" if parallel else "serial"](indptr, indices, data, w_indptr, w_indices, w_data,
                              np.float32(bias), np.float32(YMAX), n_cols, slab_ptr, slab_cols,
                              slab_vals, counts, chunks)
        keep = np.flatnonzero(counts)
        side = f"out{self._turn}"  # the input of this layer lives in the other side's buffers
        self._turn ^= 1
        new_ptr = self._buf(side + "_ptr", keep.size + 1, np.int64)
        new_ptr[0] = 0
        np.cumsum(counts[keep], out=new_ptr[1:])
        nnz = int(new_ptr[-1])
        new_cols = self._buf(side + "_cols", nnz, np.int32)
        new_vals = self._buf(side + "_vals", nnz, np.float32)
        self.kernels["compact"](slab_ptr, slab_cols, slab_vals, counts, keep, new_ptr, new_cols,
                                new_vals)
        return (new_ptr, new_cols, new_vals), keep

    def take_rows(self, y: tuple[Any, ...], rows: np.ndarray) -> tuple[Any, ...]:
        """y restricted to `rows`, which include every nonempty row (as ScipyEngine's)."""
        import numpy as np

        indptr, indices, data = y
        if len(rows) == indptr.size - 1:
            return y
        return indptr[np.concatenate(([0], rows + 1))], indices, data

    def arange(self, n: int) -> np.ndarray:
        import numpy as np

        return np.arange(n, dtype=np.int64)

    def to_numpy(self, a: np.ndarray) -> np.ndarray:
        return a

    def n_rows(self, y: tuple[Any, ...]) -> int:
        return int(y[0].size - 1)

    def nonempty(self, y: tuple[Any, ...]) -> np.ndarray:
        import numpy as np

        return np.flatnonzero(np.diff(y[0]))
