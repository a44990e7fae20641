"""Element-wise sparse formats: csr, csc, coo (layouts: harness/formats/base.py).

An element is stored iff it is non-zero (x != 0): NaN is stored, and -0.0 decodes as +0.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats._util import check_matrix, pointers, stored_entries
from harness.formats.base import FORMATS, Format, Operand

if TYPE_CHECKING:
    import torch


class CSR(Format):
    name = "csr"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        import torch

        shape = check_matrix(dense, self.name)
        flat, rows, cols = stored_entries(dense != 0)
        arrays = {"crow_indices": pointers(rows, shape[0]), "col_indices": cols.to(torch.int32),
                  "values": dense.reshape(-1)[flat]}
        return Operand(self.name, shape, arrays)

    def decode(self, op: Operand) -> torch.Tensor:
        import torch

        a = op.arrays
        rows = torch.repeat_interleave(
            torch.arange(op.shape[0], device=op.device), a["crow_indices"].diff().long())
        out = torch.zeros(op.shape, dtype=op.dtype, device=op.device)
        out[rows, a["col_indices"].long()] = a["values"]
        return out


_CSR = CSR()


class CSC(Format):
    """CSR of the transpose: column pointers, row indices, values in column-major order."""

    name = "csc"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        shape = check_matrix(dense, self.name)
        t = _CSR.encode(dense.t().contiguous()).arrays
        return Operand(self.name, shape, {
            "ccol_indices": t["crow_indices"], "row_indices": t["col_indices"],
            "values": t["values"]})

    def decode(self, op: Operand) -> torch.Tensor:
        a = op.arrays
        t = Operand("csr", (op.shape[1], op.shape[0]), {
            "crow_indices": a["ccol_indices"], "col_indices": a["row_indices"],
            "values": a["values"]})
        return _CSR.decode(t).t().contiguous()


class COO(Format):
    name = "coo"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        import torch

        shape = check_matrix(dense, self.name)
        flat, rows, cols = stored_entries(dense != 0)
        arrays = {"row_indices": rows.to(torch.int32), "col_indices": cols.to(torch.int32),
                  "values": dense.reshape(-1)[flat]}
        return Operand(self.name, shape, arrays)

    def decode(self, op: Operand) -> torch.Tensor:
        import torch

        a = op.arrays
        out = torch.zeros(op.shape, dtype=op.dtype, device=op.device)
        out[a["row_indices"].long(), a["col_indices"].long()] = a["values"]
        return out


FORMATS.register("csr", _CSR)
FORMATS.register("csc", CSC())
FORMATS.register("coo", COO())
