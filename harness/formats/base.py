"""Interface of the format role and the layout contract shared with the backends and kernels.

An `Operand` is a format's stored form of a pruned M×K weight: named tensors on one device plus
small metadata. Index arrays are int32 unless noted. Layouts (arrays / meta):

  dense            values (M,K)
  csr              crow_indices (M+1), col_indices (nnz), values (nnz)           row-major
  csc              ccol_indices (K+1), row_indices (nnz), values (nnz)           column-major
  coo              row_indices (nnz), col_indices (nnz), values (nnz)            sorted row-major
  bsr              crow_indices (M/r+1), col_indices (nnzb), values (nnzb,r,c)   meta block=(r,c)
  blocked_ell      col_blocks (M/r, W) with -1 for padding, values (M/r, W, r, c)  meta block=(r,c)
  semi_structured  values (M,K) the pruned dense weight (the backend compresses it on CUDA)
                                                                                  meta nm=(n,m)
  row_group        row_ptr (M+1) into the group list, group_cols (G) first column of each group
                   (a multiple of g), values (G,g) packed, zero-padded past K for a partial last
                   group                                                          meta group_size=g

`nbytes()` reports the bytes a kernel must read to use the operand, split into values / indices /
pointers, for the roofline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Operand:
    format: str
    shape: tuple[int, int]
    arrays: Mapping[str, torch.Tensor]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dtype(self) -> torch.dtype:
        return self.arrays["values"].dtype

    @property
    def device(self) -> torch.device:
        return self.arrays["values"].device

    def to(self, device: str | torch.device) -> Operand:
        arrays = {k: v.to(device) for k, v in self.arrays.items()}
        return Operand(self.format, self.shape, arrays, dict(self.meta))


class Format(ABC):
    """Converts a pruned dense weight to its stored form and back, exactly."""

    name: str

    def supports(self, shape: tuple[int, int], *, block: tuple[int, int] = (1, 1),
                 group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> str | None:
        """None if this format can store an M×K weight with this geometry, else the reason."""
        return None

    @abstractmethod
    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand: ...

    @abstractmethod
    def decode(self, op: Operand) -> torch.Tensor:
        """The exact dense M×K matrix the operand stores."""

    def nbytes(self, op: Operand) -> dict[str, int]:
        """Bytes of values, indices and pointers (keys: values, indices, pointers)."""
        idx = {"col_indices", "row_indices", "col_blocks", "group_cols"}
        ptr = {"crow_indices", "ccol_indices", "row_ptr"}
        out = {"values": 0, "indices": 0, "pointers": 0}
        for name, t in op.arrays.items():
            kind = "indices" if name in idx else "pointers" if name in ptr else "values"
            out[kind] += t.numel() * t.element_size()
        return out


FORMATS: Registry[Format] = Registry("format")


def get_format(name: str) -> Format:
    from harness.formats import builtin  # noqa: F401  (registers the built-ins)

    return FORMATS.get(name)
