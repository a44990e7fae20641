"""dense: values (M, K), the pruned weight itself (the cuBLAS / MKL baseline)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats._util import check_matrix
from harness.formats.base import FORMATS, Format, Operand

if TYPE_CHECKING:
    import torch


class Dense(Format):
    name = "dense"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        shape = check_matrix(dense, self.name)
        return Operand(self.name, shape, {"values": dense.contiguous().clone()})

    def decode(self, op: Operand) -> torch.Tensor:
        return op.arrays["values"].clone()


FORMATS.register("dense", Dense())
