"""A padding BSR encoder for the bundled kernel (layout contract of `harness.formats.base`).

The formats module is the canonical encoder (row_group operands come from
`get_format("row_group")`); its `bsr` refuses M or K that are not multiples of the block, while
the bundled kernel masks its edges, so its tests and benchmark need ragged shapes: this encoder
zero-pads M and K up to whole blocks and keeps the true shape in the operand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats.base import Operand

if TYPE_CHECKING:
    import torch


def pack_bsr(dense: torch.Tensor, block: tuple[int, int]) -> Operand:
    """r×c blocks; M and K are zero-padded up to multiples of r and c (ceil(M/r) block rows)."""
    import torch

    m, k = dense.shape
    r, c = block
    mb, kb = -(-m // r), -(-k // c)
    padded = torch.zeros((mb * r, kb * c), dtype=dense.dtype, device=dense.device)
    padded[:m, :k] = dense
    blocks = padded.view(mb, r, kb, c).permute(0, 2, 1, 3)  # (mb, kb, r, c)
    keep = (blocks != 0).flatten(2).any(dim=2)
    brow, bcol = keep.nonzero(as_tuple=True)
    crow = torch.zeros(mb + 1, dtype=torch.int32, device=dense.device)
    crow[1:] = torch.cumsum(keep.sum(dim=1), 0).to(torch.int32)
    return Operand("bsr", (m, k), {
        "crow_indices": crow,
        "col_indices": bcol.to(torch.int32),
        "values": blocks[brow, bcol].contiguous(),
    }, {"block": (r, c)})
