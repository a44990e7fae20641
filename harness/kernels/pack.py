"""Minimal encoders to the layout contract of `harness.formats.base` (row_group, bsr).

The formats module is the canonical encoder; these vectorised torch versions exist so the kernels,
their tests and the GPU benchmark can build operands on any device without a round trip through
Python loops (a 16384² weight packs in milliseconds on a GPU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.formats.base import Operand

if TYPE_CHECKING:
    import torch


def pack_row_group(dense: torch.Tensor, group_size: int) -> Operand:
    """1×g groups at offsets that are multiples of g (hartenstein-weight-pruning-gpus.md, Sec. 3,
    Eq. 1); a group is stored iff any of its weights is non-zero; the last partial group is
    zero-padded past K."""
    import torch

    m, k = dense.shape
    g = group_size
    ng = -(-k // g)
    padded = torch.zeros((m, ng * g), dtype=dense.dtype, device=dense.device)
    padded[:, :k] = dense
    groups = padded.view(m, ng, g)
    keep = (groups != 0).any(dim=2)  # (m, ng)
    rows, gidx = keep.nonzero(as_tuple=True)  # row-major order
    counts = keep.sum(dim=1)
    row_ptr = torch.zeros(m + 1, dtype=torch.int32, device=dense.device)
    row_ptr[1:] = torch.cumsum(counts, 0).to(torch.int32)
    return Operand("row_group", (m, k), {
        "row_ptr": row_ptr,
        "group_cols": (gidx * g).to(torch.int32),
        "values": groups[rows, gidx].contiguous(),
    }, {"group_size": g})


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
