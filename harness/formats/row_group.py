"""row_group: the bundled format of hartenstein-weight-pruning-gpus.md's 1×g row groups.

Layout (harness/formats/base.py): row_ptr (M+1) into the group list, group_cols (G) first column
of each stored group (a multiple of g), values (G, g) packed; meta group_size = g. A group is
stored iff any of its values is non-zero. When K % g != 0 the last group of a row is partial: its
values are zero-padded past K (a kernel must not read columns ≥ K).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats._util import check_matrix, pointers, stored_entries
from harness.formats.base import FORMATS, Format, Operand

if TYPE_CHECKING:
    import torch


class RowGroup(Format):
    name = "row_group"

    def supports(self, shape: tuple[int, int], *, block: tuple[int, int] = (1, 1),
                 group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> str | None:
        if not isinstance(group_size, int) or group_size < 1:
            return f"row_group needs a positive group size, got {group_size!r}"
        return None

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        import torch

        m, k = check_matrix(dense, self.name)
        reason = self.supports((m, k), group_size=group_size)
        if reason:
            raise ValueError(reason)
        g = group_size
        ng = -(-k // g)
        padded = torch.nn.functional.pad(dense, (0, ng * g - k)) if ng * g != k else dense
        groups = padded.reshape(m, ng, g)
        _, rows, cols = stored_entries((groups != 0).any(dim=-1))
        arrays = {"row_ptr": pointers(rows, m), "group_cols": (cols * g).to(torch.int32),
                  "values": groups[rows, cols].contiguous()}
        return Operand(self.name, (m, k), arrays, {"group_size": g})

    def decode(self, op: Operand) -> torch.Tensor:
        import torch

        g = op.meta["group_size"]
        m, k = op.shape
        ng = -(-k // g)
        a = op.arrays
        rows = torch.repeat_interleave(torch.arange(m, device=op.device), a["row_ptr"].diff().long())
        groups = torch.zeros((m, ng, g), dtype=op.dtype, device=op.device)
        groups[rows, a["group_cols"].long() // g] = a["values"]
        return groups.reshape(m, ng * g)[:, :k].contiguous()


FORMATS.register("row_group", RowGroup())
