"""`scipy`: CSR / CSC / COO / BSR weight × dense activations with scipy.sparse on CPU.

SciPy's compiled sparsetools kernels (csr_matvecs, csc_matvecs, coo_matmat_dense, bsr_matvecs)
run single-threaded, so this backend is the one-core reference next to multi-threaded MKL.
scipy.sparse has no float16 kernels (it refuses float16 COO/BSR and dense conversion with
"scipy.sparse does not support dtype float16"; float16 CSR/CSC built from arrays are upcast and
the product comes back in float32) and numpy has no bfloat16, so only float32/float64 run. BSR takes any block shape, square or not.
The arrays are shared with torch without copies (`Tensor.numpy()`); the product comes back as a
numpy array and is turned into a torch tensor in `to_torch`, outside timing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import LibraryBackend

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand


class ScipyCPU(LibraryBackend):
    name = "scipy"
    formats = frozenset({"csr", "csc", "coo", "bsr"})
    devices = frozenset({"cpu"})
    dtypes = frozenset({"float32", "float64"})

    def library_reason(self, device: str) -> str | None:
        try:
            import scipy.sparse  # noqa: F401
        except Exception as err:  # ImportError or a broken install
            return f"scipy not installed ({type(err).__name__}: {err})"
        return None

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import numpy as np
        import torch

        a = to_scipy(operand)
        # C-contiguous once here, so scipy does not copy X inside the timed call.
        xn = np.ascontiguousarray(x.detach().numpy())
        return Prepared(run=lambda: a @ xn, to_torch=lambda out: torch.from_numpy(np.asarray(out)))


def to_scipy(op: Operand) -> Any:
    """The operand as a scipy sparse array sharing the operand's memory where scipy allows."""
    import scipy.sparse as sp

    arr = {k: v.detach().numpy() for k, v in op.arrays.items()}
    shape = tuple(op.shape)
    if op.format == "csr":
        return sp.csr_array((arr["values"], arr["col_indices"], arr["crow_indices"]), shape=shape)
    if op.format == "csc":
        return sp.csc_array((arr["values"], arr["row_indices"], arr["ccol_indices"]), shape=shape)
    if op.format == "bsr":
        values = arr["values"]
        return sp.bsr_array((values, arr["col_indices"], arr["crow_indices"]), shape=shape,
                            blocksize=tuple(values.shape[1:]) if values.ndim == 3 else None)
    return sp.coo_array((arr["values"], (arr["row_indices"], arr["col_indices"])), shape=shape)


BACKENDS.register("scipy", ScipyCPU())
