"""The challenge on the bundled CPU csr kernel with column-tiled activations.

Activations are dense and transposed (neurons × inputs) like `engines.BundledCpuEngine`'s, but
stored as tiles of 64 inputs (tiles × neurons × 64, harness.kernels.cpu.tiled), so each layer is
one parallel pass over the tiles in which a tile stays in L2 while all 1024 (or more) weight rows
gather from it. The kernel reports which inputs are still nonzero. When the dead inputs would
free at least one whole tile, the live ones are packed into fewer tiles (the seed's "with
filter"); otherwise dead inputs ride along as zero columns, which stay zero.

Adding the bias to every entry is exact only for a bias ≤ 0, as the challenge's is (see
harness.graph.network): a zero of Z then stays zero after ReLU. A positive bias is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp


class TiledCpuEngine:
    """Engine (see harness.graph.engines) whose layers drop dead inputs themselves; its `layer`
    returns (Y, kept inputs) so the runner tracks which inputs are alive. Y is (tiles, count)."""

    drops_rows = True

    def __init__(self) -> None:
        from harness.kernels.cpu import tiled

        self.k = tiled
        self._bufs: list[Any] = [None, None]  # a layer reads one while writing the other
        self._bias: dict[tuple[int, float], Any] = {}
        self._kernel: Any = None

    def _buf(self, side: int, tiles: int, rows: int) -> Any:
        import numpy as np

        have = self._bufs[side]
        if have is None or have.shape[0] < tiles or have.shape[1] != rows:
            have = np.empty((tiles, rows, self.k.TILE), np.float32)
            self._bufs[side] = have
        return have[:tiles]

    def _side(self, a: Any) -> int:
        return 0 if self._bufs[0] is not None and a.base is self._bufs[0] else 1

    def weight(self, w: sp.csr_matrix) -> tuple[Any, ...]:
        import numpy as np

        wt = w.T.astype(np.float32).tocsr()  # row k of Wᵀ: the inputs of neuron k
        wt.sort_indices()
        return (wt.indptr.astype(np.int64), wt.indices.astype(np.int32), wt.data, wt.shape[0])

    def inputs(self, y0: sp.csr_matrix) -> tuple[Any, int]:
        import numpy as np

        y0 = y0.astype(np.float32).tocsr()
        n = y0.shape[0]
        x = self._buf(0, self.k.tiles_for(n), y0.shape[1])
        self.k.from_csr_rows(y0.indptr.astype(np.int64), y0.indices.astype(np.int32), y0.data, x)
        return x, n

    def layer(self, y: tuple[Any, int], w: tuple[Any, ...], bias: float) -> tuple[Any, Any]:
        import numpy as np

        from harness.core.errors import UnsupportedError
        from harness.graph.radixnet import YMAX
        from harness.kernels.cpu.launch import entry_point

        if bias > 0:
            raise UnsupportedError("the tiled engine adds the bias to every entry, which equals "
                                   "the challenge's rule only for a bias ≤ 0")
        x, n = y
        crow, cols, values, m = w
        key = (m, bias)
        if key not in self._bias:
            self._bias[key] = np.full(m, bias, np.float32)
        side = self._side(x)
        out = self._buf(1 - side, x.shape[0], m)
        live = np.empty((x.shape[0], self.k.TILE), np.bool_)
        args = (crow, cols, values, x, out, live, self._bias[key], True, True, np.float32(YMAX),
                self.k.TILE)
        if self._kernel is None:  # the dispatcher compiles (or loads) once; then the overload
            self.k.csr_tiled_kernel(*args)  # itself, since a literal tile is retyped per call
            self._kernel = entry_point(self.k.csr_tiled_kernel, args)
        else:
            self._kernel(*args)
        kept = np.flatnonzero(live.reshape(-1)[:n])
        if self.k.tiles_for(kept.size) == out.shape[0]:
            return (out, n), np.arange(n)  # no tile to free: dead inputs stay as zero columns
        packed = self._buf(side, self.k.tiles_for(kept.size), m)
        self.k.gather_columns(out, kept, packed)
        return (packed, int(kept.size)), kept

    def nonempty(self, y: tuple[Any, int]) -> np.ndarray:
        import numpy as np

        x, n = y
        return np.flatnonzero(np.abs(x).max(axis=1).reshape(-1)[:n])

    def take_rows(self, y: tuple[Any, int], rows: np.ndarray) -> tuple[Any, int]:
        return y  # never asked: this engine drops inputs inside `layer`

    def arange(self, n: int) -> np.ndarray:
        import numpy as np

        return np.arange(n, dtype=np.int64)

    def to_numpy(self, a: np.ndarray) -> np.ndarray:
        return a

    def n_rows(self, y: tuple[Any, int]) -> int:
        return y[1]
