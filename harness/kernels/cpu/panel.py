"""The panel order of a row_group operand: its stored groups by (row block, column group, row).

The 1×g groups of hartenstein-weight-pruning-gpus.md ("Weight pruning for GPUs") that share a
column group c (columns c·g … c·g+g−1) all multiply the same g rows of X. The panel kernel
(harness.kernels.cpu.panel_kernel.row_group_panel_kernel) visits them column group by column group inside
each block of `rows` output rows, so this is a reordering of the stored operand's groups made once
in prepare (a permutation of its rows of values, never a second encoder): `ptr` indexes the
groups of (block b, column group c) at b·C + c, `prow` gives each group's row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.formats.base import Operand


def order(op: Operand, rows: int) -> tuple[Any, Any, Any]:
    """(ptr, prow, pvals) as numpy arrays for blocks of `rows` output rows."""
    import numpy as np
    import torch

    m, k = op.shape
    g = int(op.meta["group_size"])
    arrays = op.arrays
    counts = arrays["row_ptr"].detach().long().diff()
    row = torch.repeat_interleave(torch.arange(m), counts)
    col = arrays["group_cols"].detach().long() // g
    ncg = -(-k // g)
    nblocks = -(-m // rows)
    key = (row // rows) * ncg + col
    perm = torch.argsort(key * m + row)  # by block and column group, then row
    ptr = torch.zeros(nblocks * ncg + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(key, minlength=nblocks * ncg), 0)
    values = arrays["values"].detach()[perm].contiguous()
    return (ptr.numpy().astype(np.int64), row[perm].numpy().astype(np.int32),
            values.numpy())
