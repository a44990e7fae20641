"""Block formats: bsr and blocked_ell with r×c blocks (layouts: harness/formats/base.py).

A block is stored iff any of its values is non-zero. Both need M % r == 0 and K % c == 0
(`supports` answers the reason otherwise). Blocked-ELL pads every block-row to the widest one
(W = max stored blocks per block-row) with column -1 and zero values; a kernel reads the padding,
so `nbytes` counts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.core.point import pair
from harness.formats._util import (
    block_reason,
    blocks_to_dense,
    check_matrix,
    nonzero_blocks,
    pointers,
    stored_entries,
)
from harness.formats.base import FORMATS, Format, Operand

if TYPE_CHECKING:
    import torch


class _Blocked(Format):
    def supports(self, shape: tuple[int, int], *, block: tuple[int, int] = (1, 1),
                 group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> str | None:
        return block_reason(pair(shape), pair(block), self.name)

    def _blocks(self, dense: torch.Tensor, block: tuple[int, int]):
        shape = check_matrix(dense, self.name)
        reason = self.supports(shape, block=block)
        if reason:
            raise ValueError(reason)
        blocks, stored = nonzero_blocks(dense, *block)
        return shape, blocks, stored


class BSR(_Blocked):
    name = "bsr"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        import torch

        shape, blocks, stored = self._blocks(dense, block)
        _, rows, cols = stored_entries(stored)
        arrays = {"crow_indices": pointers(rows, stored.shape[0]),
                  "col_indices": cols.to(torch.int32),
                  "values": blocks[rows, cols].contiguous()}
        return Operand(self.name, shape, arrays, {"block": tuple(block)})

    def decode(self, op: Operand) -> torch.Tensor:
        import torch

        r, c = op.meta["block"]
        m, k = op.shape
        a = op.arrays
        rows = torch.repeat_interleave(torch.arange(m // r, device=op.device),
                                       a["crow_indices"].diff().long())
        blocks = torch.zeros((m // r, k // c, r, c), dtype=op.dtype, device=op.device)
        blocks[rows, a["col_indices"].long()] = a["values"]
        return blocks_to_dense(blocks)


class BlockedELL(_Blocked):
    name = "blocked_ell"

    def encode(self, dense: torch.Tensor, *, block: tuple[int, int] = (1, 1),
               group_size: int = 1, nm: tuple[int, int] = (2, 4)) -> Operand:
        import torch

        shape, blocks, stored = self._blocks(dense, block)
        r, c = block
        counts = stored.sum(dim=1)
        width = int(counts.max()) if counts.numel() else 0
        _, rows, cols = stored_entries(stored)
        # slot of each stored block within its block-row: its rank in row-major order
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.arange(rows.numel(), device=dense.device) - starts[rows]
        col_blocks = torch.full((shape[0] // r, width), -1, dtype=torch.int32, device=dense.device)
        values = torch.zeros((shape[0] // r, width, r, c), dtype=dense.dtype, device=dense.device)
        col_blocks[rows, slot] = cols.to(torch.int32)
        values[rows, slot] = blocks[rows, cols]
        return Operand(self.name, shape, {"col_blocks": col_blocks, "values": values},
                       {"block": tuple(block)})

    def decode(self, op: Operand) -> torch.Tensor:
        import torch

        r, c = op.meta["block"]
        m, k = op.shape
        cb = op.arrays["col_blocks"].long()
        used = cb >= 0
        rows = used.nonzero()[:, 0]
        blocks = torch.zeros((m // r, k // c, r, c), dtype=op.dtype, device=op.device)
        blocks[rows, cb[used]] = op.arrays["values"][used]
        return blocks_to_dense(blocks)


FORMATS.register("bsr", BSR())
FORMATS.register("blocked_ell", BlockedELL())
