"""`cupy`: CSR / COO × dense with cuSPARSE SpMM through CuPy, and dense W @ X with cuBLAS (CUDA).

The torch tensors are shared with CuPy through DLPack (no copies) in `prepare`. Made there too,
once and outside timing: X in column-major order, which `cupyx.cusparse.spmm` requires (instead
of inside every call as `csr_matrix @ X` would), and the SpMM output, which spmm would otherwise
allocate and zero in every call. Work is queued on torch's current stream (wrapped as a CuPy
`ExternalStream`), so CUDA-event timing on torch's stream sees it; `sync` synchronises that
stream.

dtypes: cuSPARSE SpMM through CuPy runs float32/float64 (CuPy passes the matrix dtype as the
compute type, and half-precision compute is not a cuSPARSE SpMM mode); dense cuBLAS also runs
float16. CuPy has no bfloat16.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import Case, LibraryBackend

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

SPARSE_DTYPES = frozenset({"float32", "float64"})
DENSE_DTYPES = frozenset({"float16", "float32", "float64"})


class CupyBackend(LibraryBackend):
    name = "cupy"
    formats = frozenset({"csr", "coo", "dense"})
    devices = frozenset({"cuda"})
    dtypes = DENSE_DTYPES | SPARSE_DTYPES

    def available(self, device: str = "cuda") -> str | None:
        try:
            import cupy  # noqa: F401
        except Exception as err:  # ImportError, or a CuPy built for another CUDA
            return f"cupy not installed ({type(err).__name__}: {err})"
        return super().available(device)

    def library_reason(self, device: str) -> str | None:
        import cupy

        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # no driver / no device
            return f"CUDA not present (cupy: {type(err).__name__}: {err})"
        if count == 0:
            return "CUDA not present (cupy sees no device)"
        index = _index(device)
        if index >= count:
            return f"{device} does not exist ({count} CUDA device(s))"
        return None

    def check(self, case: Case) -> str | None:
        if case.format != "dense" and case.dtype not in SPARSE_DTYPES:
            return (f"cupy cuSPARSE SpMM runs {', '.join(sorted(SPARSE_DTYPES))}, "
                    f"not {case.dtype}")
        return None

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import cupy
        import torch

        device = cupy.cuda.Device(_index(str(x.device)))
        with device:
            ptr = torch.cuda.current_stream(x.device).cuda_stream
            # 0 is the legacy default stream, which CuPy has as its own null stream.
            stream = cupy.cuda.ExternalStream(ptr, device.id) if ptr else cupy.cuda.Stream.null
            with stream:
                # CuPy's sparse matrices take int32 indices only.
                arrays = {k: cupy.from_dlpack((v if k == "values" else v.to(torch.int32)).contiguous())
                          for k, v in operand.arrays.items()}
                xc = cupy.from_dlpack(x.contiguous())
                fn = _dense_fn(arrays, xc) if operand.format == "dense" else _sparse_fn(
                    operand, arrays, xc)

        def run() -> Any:
            with device, stream:
                return fn()

        return Prepared(run=run, to_torch=torch.from_dlpack, sync=stream.synchronize)


def _index(device: str) -> int:
    _, _, idx = device.partition(":")
    if idx:
        return int(idx)
    import torch

    return torch.cuda.current_device()


def _dense_fn(arrays: dict, xc: Any) -> Any:
    import cupy

    w = arrays["values"]
    return lambda: cupy.matmul(w, xc)


def _sparse_fn(op: Operand, arrays: dict, xc: Any) -> Any:
    import cupy
    import cupyx.cusparse as cusparse
    import cupyx.scipy.sparse as csp

    shape = tuple(op.shape)
    if op.format == "csr":
        a = csp.csr_matrix((arrays["values"], arrays["col_indices"], arrays["crow_indices"]),
                           shape=shape)
    else:
        a = csp.coo_matrix((arrays["values"], (arrays["row_indices"], arrays["col_indices"])),
                           shape=shape)
        a.sum_duplicates()  # marks it canonical (sorted, unique), as SpMM requires
    xf = cupy.asfortranarray(xc)
    # The output is allocated once here: spmm(c=None) would allocate and zero it inside every
    # timed call. Zeros, not empty: the previous result stays finite, so beta·C is 0 either way.
    c = cupy.zeros((shape[0], xf.shape[1]), dtype=a.dtype, order="F")
    return lambda: cusparse.spmm(a, xf, c=c)


BACKENDS.register("cupy", CupyBackend())
