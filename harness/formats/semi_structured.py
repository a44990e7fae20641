"""semi_structured: 2:4 sparsity (values = the pruned dense weight; the backend compresses it).

`supports` answers a reason unless nm == (2, 4) and K % 4 == 0; `encode` also checks that the
weight itself is 2:4 (at most 2 non-zeros in every 4 consecutive weights of a row) and raises
ValueError naming the first offending row and column otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats._util import check_matrix
from harness.formats.base import FORMATS, Format, Operand

if TYPE_CHECKING:
    import torch


class SemiStructured(Format):
    name = "semi_structured"

    def supports(self, shape: tuple[int, int], *, block: tuple[int, int] = (1, 1),
                 group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> str | None:
        if tuple(nm) != (2, 4):
            return f"semi_structured stores 2:4 sparsity only, got {nm[0]}:{nm[1]}"
        if shape[1] % 4:
            return f"semi_structured needs K % 4 == 0, got K={shape[1]}"
        return None

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        shape = check_matrix(dense, self.name)
        reason = self.supports(shape, nm=nm)
        if reason:
            raise ValueError(reason)
        import torch

        nz = (dense != 0).reshape(shape[0], shape[1] // 4, 4)
        per_group = nz.sum(dim=-1, dtype=torch.uint8)
        bad = (per_group > 2).nonzero()
        if bad.numel():
            i, j = (int(v) for v in bad[0])
            raise ValueError(f"semi_structured: weight is not 2:4 — row {i}, columns "
                             f"{4 * j}..{4 * j + 3} hold {int(per_group[i, j])} non-zeros (max 2)")
        return Operand(self.name, shape, {"values": dense.contiguous().clone()}, {"nm": (2, 4)})

    def decode(self, op: Operand) -> torch.Tensor:
        return op.arrays["values"].clone()

    def nbytes(self, op: Operand) -> dict[str, int]:
        """What the compressed 2:4 operand holds: half the values, and 2-bit positions of each
        kept value (M·K/2 · 2 bit = M·K/8 bytes of metadata)."""
        v = op.arrays["values"]
        return {"values": v.numel() // 2 * v.element_size(), "indices": v.numel() // 8,
                "pointers": 0}


FORMATS.register("semi_structured", SemiStructured())
