"""The registry of challenge variants: an engine, a device and a mode (plain, buffer, filter).

A variant is prepared once for a network (weights converted outside the timed region) and then
maps the input rows to the categories (0-based indices of the inputs with a nonzero final row).
Other kernels plug in with `VARIANTS.register(name, Variant(...))` and an engine that follows
`harness.graph.engines.Engine`; GPU variants answer `available()` with a reason on machines
without CUDA or CuPy, never by raising.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.core.registry import Registry
from harness.graph import engines, fused
from harness.graph.tiled import TiledCpuEngine

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

    from harness.graph.network import Network

DENSE_MAX_NEURONS = 4096  # a dense 16384² float32 weight is 1 GiB per layer


def _no_requirement() -> str | None:
    return None


def _cuda() -> str | None:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return None if torch.cuda.is_available() else "CUDA not present"


def _cupy() -> str | None:
    reason = _cuda()
    if reason:
        return reason
    try:
        import cupy  # noqa: F401
        import cupyx.scipy.sparse  # noqa: F401
    except Exception as exc:  # ImportError, or a CUDA library mismatch at import
        return f"cupy not usable: {type(exc).__name__}"
    return None


def _bundled_cpu() -> str | None:
    try:
        import numba  # noqa: F401

        from harness.kernels.cpu import spmm  # noqa: F401
    except ImportError as exc:
        return f"the bundled CPU kernels are not usable: {exc}"
    return None


def _sparsetools() -> str | None:
    try:
        from scipy.sparse import _sparsetools as tools
    except ImportError:
        return "scipy.sparse._sparsetools not found in this SciPy"
    missing = [f for f in ("csr_matmat", "csr_matmat_maxnnz") if not hasattr(tools, f)]
    return f"this SciPy lacks sparsetools.{missing[0]}" if missing else None


@dataclass(frozen=True)
class Variant:
    """How to run the challenge: `make()` builds the engine; `filter_rows` drops all-zero rows
    of Y after every layer (the seed's "with filter")."""

    name: str
    device: str  # cpu | cuda
    description: str
    make: Callable[[], engines.Engine]
    filter_rows: bool = False
    max_neurons: int | None = None
    requires: Callable[[], str | None] = _no_requirement

    def available(self, neurons: int | None = None) -> str | None:
        """None if it can run here (for a network of `neurons`), else the reason."""
        if self.max_neurons is not None and neurons is not None and neurons > self.max_neurons:
            return f"only up to {self.max_neurons} neurons"
        return self.requires()

    def prepare(self, net: Network) -> Prepared:
        engine = self.make()
        return Prepared(self, engine, [engine.weight(w) for w in net.layers], net.bias)


@dataclass(frozen=True, eq=False)
class Prepared:
    variant: Variant
    engine: engines.Engine
    weights: list[Any]
    bias: float

    def __call__(self, y0: sp.csr_matrix) -> np.ndarray:
        """Categories of `y0`'s rows after every layer (sorted 0-based indices)."""
        e = self.engine
        y = e.inputs(y0)
        drops = getattr(e, "drops_rows", False)  # the engine filters inside its layer
        alive = e.arange(e.n_rows(y)) if self.variant.filter_rows or drops else None
        for w in self.weights:
            if drops:
                y, rows = e.layer(y, w, self.bias)
                assert alive is not None  # set above for every engine that drops rows
                alive = alive[rows]
                continue
            y = e.layer(y, w, self.bias)
            if alive is not None:
                rows = e.nonempty(y)
                if len(rows) < e.n_rows(y):
                    y, alive = e.take_rows(y, rows), alive[rows]
        rows = e.nonempty(y)
        return e.to_numpy(rows if alive is None else alive[rows])


VARIANTS: Registry[Variant] = Registry("graph variant")


def _add(v: Variant) -> None:
    VARIANTS.register(v.name, v)


for _dev, _prefix, _req in (("cpu", "torch_sparse", _no_requirement), ("cuda", "torch_sparse_cuda", _cuda)):
    _lib = "MKL" if _dev == "cpu" else "cuSPARSE"
    _add(Variant(_prefix, _dev, f"torch.sparse CSR×CSR ({_lib}), fresh allocations",
                 partial(engines.TorchEngine, _dev), requires=_req))
    _add(Variant(f"{_prefix}-buffer", _dev, f"torch.sparse CSR×CSR ({_lib}), epilogue into "
                 "persistent buffers", partial(engines.TorchEngine, _dev, buffer=True),
                 requires=_req))
    _add(Variant(f"{_prefix}-filter", _dev, f"torch.sparse CSR×CSR ({_lib}), all-zero rows "
                 "dropped", partial(engines.TorchEngine, _dev), filter_rows=True,
                 requires=_req))

_add(Variant("scipy", "cpu", "SciPy CSR×CSR (sparsetools)", lambda: engines.ScipyEngine()))
_add(Variant("scipy-buffer", "cpu", "SciPy two-phase CSR×CSR into a persistent work buffer",
             lambda: engines.ScipyEngine(buffer=True), requires=_sparsetools))
_add(Variant("scipy-filter", "cpu", "SciPy CSR×CSR, all-zero rows dropped",
             lambda: engines.ScipyEngine(), filter_rows=True))
_add(Variant("numba_fused-filter", "cpu", "Numba row-wise SpGEMM with the fused bias/ReLU/clamp "
             "epilogue, all-zero rows dropped in the same pass",
             lambda: fused.NumbaFusedEngine(), filter_rows=True, requires=fused.available))
_add(Variant("numba_kernels-filter", "cpu", "the bundled CPU kernels (Numba CSR SpMM, dense "
             "activations) with their fused bias/ReLU/clamp epilogue, all-zero inputs dropped",
             lambda: engines.BundledCpuEngine(), filter_rows=True,
             max_neurons=DENSE_MAX_NEURONS, requires=_bundled_cpu))
_add(Variant("numba_tiled-filter", "cpu", "the bundled CPU csr kernel on activations stored as "
             "tiles of 64 inputs (each tile stays in L2 through a layer), fused bias/ReLU/clamp "
             "and liveness, dead inputs packed into fewer tiles",
             lambda: TiledCpuEngine(), filter_rows=True, max_neurons=DENSE_MAX_NEURONS,
             requires=_bundled_cpu))
_add(Variant("dense", "cpu", "dense torch matmul (MKL) with the fused epilogue",
             lambda: engines.DenseEngine("cpu"), max_neurons=DENSE_MAX_NEURONS))
_add(Variant("dense-filter", "cpu", "dense torch matmul, all-zero rows dropped",
             lambda: engines.DenseEngine("cpu"), filter_rows=True,
             max_neurons=DENSE_MAX_NEURONS))
_add(Variant("dense_cuda", "cuda", "dense torch matmul (cuBLAS) with the fused epilogue",
             lambda: engines.DenseEngine("cuda"), max_neurons=DENSE_MAX_NEURONS, requires=_cuda))
_add(Variant("cupy", "cuda", "CuPy CSR×CSR (cuSPARSE SpGEMM)", lambda: engines.CupyEngine(),
             requires=_cupy))
_add(Variant("cupy-filter", "cuda", "CuPy CSR×CSR, all-zero rows dropped",
             lambda: engines.CupyEngine(), filter_rows=True, requires=_cupy))


def variants_for(device: str) -> list[Variant]:
    return [VARIANTS.get(n) for n in VARIANTS.names() if VARIANTS.get(n).device == device]
