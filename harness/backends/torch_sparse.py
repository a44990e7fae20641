"""`torch_sparse`: CSR / CSC / COO / BSR weight × dense activations through `torch.sparse.mm`.

Which library does the work in torch 2.13 (ATen's dispatch, checked by experiment on CPU):

CPU
  csr   MKL sparse BLAS (mkl_sparse_?_mm), float32/float64 only ("addmm_out_sparse_csr_impl_mkl"
        is not implemented for Half/BFloat16).
  csc   same MKL path; torch converts CSC → CSR inside every call, so that conversion is timed.
  bsr   MKL BSR, float32/float64, square blocks only ("MKL Sparse doesn't support matrices with
        non-square blocks"); 1×1 blocks work.
  coo   torch's own COO kernel (not MKL), all four dtypes.
CUDA
  csr   cuSPARSE generic SpMM; float16/bfloat16 accumulate in float32. bfloat16 needs SM80+
        (cuSPARSE runs a data type only where the GPU supports it natively).
  csc   torch converts CSC → CSR inside every call (timed), then cuSPARSE SpMM.
  coo   cuSPARSE through ATen's legacy COO path, float32/float64 only (its dispatch has no
        Half/BFloat16: "addmm_sparse_cuda" not implemented for 'Half', pytorch#41069, #144040);
        torch coalesces and derives CSR row pointers inside every call (timed).
  bsr   square blocks larger than 1×1 only (ATen asserts it). float64 → cuSPARSE bsrmm.
        float16/bfloat16/float32 never reach cuSPARSE: torch uses its bundled Triton kernel
        (torch.sparse._triton_ops.bsr_dense_addmm) when the block side is a power of two ≥ 16 and
        N is a multiple of it, and a generic ATen block-by-block batched matmul otherwise.

Index arrays: int32 for the compressed formats (cuSPARSE/MKL LP64 take them as they are; ATen's
BSR path would otherwise cast them on every call), int64 for COO (torch's COO requires it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import (
    Case,
    LibraryBackend,
    cuda_capability,
    identity,
    torch_sync,
)

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

_ALL = frozenset({"float32", "float16", "bfloat16", "float64"})
_MKL = frozenset({"float32", "float64"})
_FP32_64 = _MKL  # the same set on CUDA, where it is not MKL's limit but ATen's COO dispatch

# (device type, format) → dtypes torch 2.13 runs for sparse @ dense.
SUPPORT: dict[tuple[str, str], frozenset[str]] = {
    ("cpu", "csr"): _MKL,
    ("cpu", "csc"): _MKL,
    ("cpu", "bsr"): _MKL,
    ("cpu", "coo"): _ALL,
    ("cuda", "csr"): _ALL,
    ("cuda", "csc"): _ALL,
    ("cuda", "coo"): _FP32_64,
    ("cuda", "bsr"): _ALL,
}


def cuda_bsr_path(dtype: str, block: tuple[int, int], n: int) -> str:
    """The library torch 2.13 uses for a CUDA BSR @ dense product (for provenance)."""
    r = block[0]
    if dtype == "float64":
        return "cusparse-bsrmm"
    if r >= 16 and r & (r - 1) == 0 and n % r == 0:
        return "torch-triton-bsr_dense_addmm"
    return "aten-generic-block-matmul"


class TorchSparse(LibraryBackend):
    name = "torch_sparse"
    formats = frozenset({"csr", "csc", "coo", "bsr"})
    devices = frozenset({"cpu", "cuda"})
    dtypes = _ALL

    def check(self, case: Case) -> str | None:
        allowed = SUPPORT[(case.device_type, case.format)]
        if case.dtype not in allowed:
            return (f"torch.sparse {case.format.upper()} @ dense on {case.device_type} has no "
                    f"{case.dtype} kernel (runs: {', '.join(sorted(allowed))})")
        if case.device_type == "cuda" and case.dtype == "bfloat16":
            cap = cuda_capability(case.device)
            if cap is not None and cap < (8, 0):
                return f"bfloat16 sparse kernels need SM80+, {case.device} is SM{cap[0]}{cap[1]}"
        if case.format == "bsr":
            r, c = case.block
            if r != c:
                return f"torch.sparse BSR @ dense needs square blocks, got {r}x{c}"
            if case.device_type == "cuda" and r == 1:
                return "torch.sparse BSR @ dense on CUDA needs blocks larger than 1x1"
        return None

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import torch

        a = _to_torch_sparse(operand)
        return Prepared(run=lambda: torch.sparse.mm(a, x), to_torch=identity,
                        sync=torch_sync(x.device))


def _to_torch_sparse(op: Operand) -> torch.Tensor:
    """The operand's arrays as a torch sparse tensor (indices converted once, here).

    Invariants are checked here, once and outside timing: a malformed operand then fails with
    a clear error instead of reading out of bounds inside the timed kernel."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # "Sparse CSR/BSR tensor support is in beta state": once per process, not actionable.
        warnings.filterwarnings("ignore", message="Sparse .* support is in beta")
        return _build_sparse(op, torch)


def _build_sparse(op: Operand, torch) -> torch.Tensor:
    arr, size = op.arrays, tuple(op.shape)
    i32 = torch.int32
    if op.format == "csr":
        return torch.sparse_csr_tensor(arr["crow_indices"].to(i32), arr["col_indices"].to(i32),
                                       arr["values"], size=size,
                                       check_invariants=True)
    if op.format == "csc":
        return torch.sparse_csc_tensor(arr["ccol_indices"].to(i32), arr["row_indices"].to(i32),
                                       arr["values"], size=size,
                                       check_invariants=True)
    if op.format == "bsr":
        return torch.sparse_bsr_tensor(arr["crow_indices"].to(i32), arr["col_indices"].to(i32),
                                       arr["values"].contiguous(), size=size,
                                       check_invariants=True)
    indices = torch.stack([arr["row_indices"], arr["col_indices"]]).to(torch.int64)
    # coalesce() here, outside timing: a coalesced tensor is not re-sorted on every call.
    return torch.sparse_coo_tensor(indices, arr["values"], size=size,
                                       check_invariants=True).coalesce()


BACKENDS.register("torch_sparse", TorchSparse())
