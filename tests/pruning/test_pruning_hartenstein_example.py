"""hartenstein-weight-pruning-gpus.md, Eq. 1–3 and the CSR arrays A, JA, IA of its 4×4 example."""

from __future__ import annotations

import torch

from harness.core.point import PruneSpec
from harness.formats.base import get_format
from harness.pruning.base import prune_mask
from harness.pruning.patterns import group_scores

# Rows 2 and 4 (1-based) hold the large groups G2,1, G2,2 and G4,2 of Eq. 3.
M = torch.tensor([[0.10, -0.20, 0.15, 0.05],
                  [0.90, -0.80, 0.70, 0.60],
                  [-0.10, 0.20, 0.10, -0.05],
                  [0.30, 0.10, -0.50, 0.60]])
SPEC = PruneSpec(pattern="row_group", rate=5 / 8, group_size=2)  # aggregation: rms (default)


def test_group_rms_matrix_eq2():
    expected = torch.tensor([[((a * a + b * b) / 2) ** 0.5 for a, b in zip(r[::2], r[1::2], strict=True)]
                             for r in M.tolist()])
    assert torch.allclose(group_scores(M, SPEC), expected)


def test_pruned_matrix_eq3():
    mask = prune_mask(M, SPEC)
    pruned = torch.where(mask, M, 0.0)
    expected = torch.zeros(4, 4)
    expected[1, :] = M[1, :]
    expected[3, 2:] = M[3, 2:]
    assert torch.equal(pruned, expected)
    assert int(mask.sum()) == 6  # 3 of 8 groups of 2 kept


def test_csr_arrays_a_ja_ia():
    pruned = torch.where(prune_mask(M, SPEC), M, 0.0)
    op = get_format("csr").encode(pruned)
    assert op.arrays["values"].tolist() == [M[1, 0], M[1, 1], M[1, 2], M[1, 3], M[3, 2], M[3, 3]]
    assert op.arrays["col_indices"].tolist() == [0, 1, 2, 3, 2, 3]  # JA (0-based)
    assert op.arrays["crow_indices"].tolist() == [0, 0, 4, 4, 6]  # IA
    rg = get_format("row_group").encode(pruned, group_size=2)
    assert rg.arrays["row_ptr"].tolist() == [0, 0, 2, 2, 3]
    assert rg.arrays["group_cols"].tolist() == [0, 2, 2]
