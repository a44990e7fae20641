"""`semi_structured`: 2:4 sparse tensor cores through `torch.sparse.to_sparse_semi_structured`.

CUDA only, compute capability 8.0+ (the sparse tensor cores of Ampere and later). `prepare`
compresses the pruned dense weight (values + 2-bit metadata) once, outside timing; the timed call
is `torch.mm(W_2:4, X)`.

torch 2.13 picks the cuSPARSELt kernels when `torch.backends.cusparselt.is_available()`, else its
CUTLASS kernels. Their constraints on the sparse M×K weight (from torch's
`_DTYPE_SHAPE_CONSTRAINTS`): both dimensions a multiple of (and at least) 16×16 for cuSPARSELt,
32×64 for CUTLASS, in float16/bfloat16. X's dimensions are padded by torch inside the call (to
multiples of 8), so any N works, N = 1 included, with the padding timed. float32 is left out: only
CUTLASS runs it, with TF32 tensor-core math (~1e-3 relative error), which fails float32
verification unless TF32 is enabled; int8/float8 are not harness dtypes.

The weight must hold at most 2 non-zeros in every aligned group of 4 along a row: `supports`
accepts n:m patterns that guarantee it (m a multiple of 4 with n ≤ 2, or 4 a multiple of m with
n·4/m ≤ 2) and `prepare` checks the weight itself, since compression silently drops extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.backends.base import BACKENDS, Prepared
from harness.backends.common import (
    Case,
    LibraryBackend,
    cuda_capability,
    cuda_reason,
    identity,
    torch_sync,
)
from harness.core.errors import UnsupportedError

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

MIN_CAPABILITY = (8, 0)
# (rows, cols) the sparse weight's M and K must be multiples of (torch 2.13, float16/bfloat16);
# read from torch itself when it exposes them (`shape_multiple`).
SHAPE_MULTIPLE = {"cusparselt": (16, 16), "cutlass": (32, 64)}


def max_kept_per_4(nm: tuple[int, int]) -> int | None:
    """Most non-zeros an n:m pattern can leave in an aligned group of 4 (None: no bound)."""
    n, m = nm
    if m <= 0 or n < 0:
        return None
    if m % 4 == 0:
        return min(n, 4)
    if 4 % m == 0:
        return n * (4 // m)
    return None


def kernel_library() -> str:
    """'cusparselt' or 'cutlass': what torch's to_sparse_semi_structured will use here."""
    try:
        import torch

        if torch.backends.cusparselt.is_available():
            return "cusparselt"
    except Exception:  # no cuSPARSELt binding in this build
        pass
    return "cutlass"


def shape_multiple(library: str, dtype: str) -> tuple[int, int]:
    """(rows, cols) that M and K must be multiples of for `library`'s 2:4 kernels in `dtype`."""
    try:
        import torch

        cls = (torch.sparse.SparseSemiStructuredTensorCUSPARSELT if library == "cusparselt"
               else torch.sparse.SparseSemiStructuredTensorCUTLASS)
        cfg = cls._DTYPE_SHAPE_CONSTRAINTS[getattr(torch, dtype)]
        return int(cfg.sparse_min_rows), int(cfg.sparse_min_cols)
    except Exception:  # private attribute moved: fall back to torch 2.13's values
        return SHAPE_MULTIPLE[library]


class SemiStructured(LibraryBackend):
    name = "semi_structured"
    formats = frozenset({"semi_structured"})
    devices = frozenset({"cuda"})
    dtypes = frozenset({"float16", "bfloat16"})

    def library_reason(self, device: str) -> str | None:
        reason = cuda_reason(device)
        if reason:
            return reason
        try:
            import torch

            torch.sparse.to_sparse_semi_structured  # noqa: B018  (present in this torch?)
        except Exception as err:
            return f"torch has no semi-structured sparsity ({type(err).__name__}: {err})"
        cap = cuda_capability(device)
        if cap is None or cap < MIN_CAPABILITY:
            found = f"SM{cap[0]}{cap[1]}" if cap else "unknown"
            return f"2:4 sparse tensor cores need CUDA compute capability 8.0+, {device} is {found}"
        return None

    def check(self, case: Case) -> str | None:
        if case.pattern is not None:
            bound = max_kept_per_4(case.nm) if case.pattern == "nm" else None
            if bound is None or bound > 2:
                what = f"nm {case.nm[0]}:{case.nm[1]}" if case.pattern == "nm" else case.pattern
                return ("semi_structured needs a pattern keeping at most 2 of every 4 weights "
                        f"(nm 2:4, 1:4, 1:2), got {what}")
        lib = kernel_library()
        r, c = shape_multiple(lib, case.dtype)
        if case.m < r or case.m % r or case.k < c or case.k % c:
            return (f"{lib} 2:4 kernels need M a multiple of {r} and K a multiple of {c}, "
                    f"got M={case.m}, K={case.k}")
        return None

    def build(self, operand: Operand, x: torch.Tensor) -> Prepared:
        import torch
        from torch.sparse import SparseSemiStructuredTensorCUSPARSELT as Lt
        from torch.sparse import SparseSemiStructuredTensorCUTLASS as Cutlass

        w = operand.arrays["values"].contiguous()
        m, k = w.shape
        per_group = (w != 0).reshape(m, k // 4, 4).sum(dim=-1)
        worst = int(per_group.max()) if per_group.numel() else 0
        if worst > 2:
            raise UnsupportedError(f"unsupported: weight is not 2:4 sparse (a group of 4 holds "
                                   f"{worst} non-zeros)")
        cls = Lt if kernel_library() == "cusparselt" else Cutlass
        ws = cls.from_dense(w)
        return Prepared(run=lambda: torch.mm(ws, x), to_torch=identity, sync=torch_sync(x.device))


BACKENDS.register("semi_structured", SemiStructured())
