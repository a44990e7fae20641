"""ADMM Euclidean projections (zhang Eq. 5) and group-lasso groups (lym Eq. 2)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import InputError
from harness.core.point import PruneSpec
from harness.pruning.projections import (
    STRUCTURES,
    group_lasso_groups,
    group_norms,
    project,
    zero_small_groups,
)


def ref_groups(shape: tuple[int, ...], spec: PruneSpec) -> list[list[int]]:
    """Flat indices of every group of a structure (loop-based reference)."""
    out, inner = shape[0], math.prod(shape[1:])
    if spec.pattern == "channel":
        rest = math.prod(shape[2:])
        return [[(o * shape[1] + c) * rest + s for o in range(out) for s in range(rest)]
                for c in range(shape[1])]
    r, c = {"unstructured": (1, 1), "row_group": (1, spec.group_size), "block": spec.block,
            "rows": (1, inner), "columns": (out, 1)}[spec.pattern]
    return [[i * inner + j for i in range(bi, min(bi + r, out)) for j in range(bj, min(bj + c, inner))]
            for bi in range(0, out, r) for bj in range(0, inner, c)]


def smooth_weight(shape, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(shape, generator=g) + 0.05
    return w * (torch.randint(0, 2, shape, generator=g) * 2 - 1)

SETTINGS = settings(max_examples=50, deadline=None)
shapes = st.one_of(st.tuples(st.integers(1, 8), st.integers(1, 12)),
                   st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)))


@SETTINGS
@given(shape=shapes, structure=st.sampled_from(sorted(STRUCTURES)),
       keep=st.one_of(st.floats(0, 1), st.integers(0, 30)), g=st.integers(1, 5),
       block=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=st.integers(0, 10_000))
def test_projection_keeps_largest_norm_groups_and_is_idempotent(shape, structure, keep, g, block, seed):
    w = smooth_weight(shape, seed).double()
    p = project(w, structure, keep, group_size=g, block=block)
    assert torch.equal(project(p, structure, keep, group_size=g, block=block), p)
    groups = ref_groups(shape, PruneSpec(STRUCTURES[structure], group_size=g, block=block))
    k = round(keep * len(groups)) if isinstance(keep, float) else min(keep, len(groups))
    fw, fp = w.reshape(-1), p.reshape(-1)
    kept, dropped = [], []
    for idx in groups:
        norm = float(fw[idx].norm())
        if bool((fp[idx] != 0).any()):
            assert torch.equal(fp[idx], fw[idx])  # kept groups unchanged
            kept.append(norm)
        else:
            dropped.append(norm)
    assert len(kept) == k
    if kept and dropped:
        assert min(kept) >= max(dropped)


def test_projection_structures_on_conv():
    w = smooth_weight((6, 4, 3, 3), 0)
    w[:, 2] *= 10  # channel 2 dominates
    p = project(w, "channel", 1)
    assert torch.equal(p[:, 2], w[:, 2]) and (p[:, [0, 1, 3]] == 0).all()
    w = smooth_weight((6, 4, 3, 3), 1)
    w[4] *= 10
    p = project(w, "filter", 1)
    assert torch.equal(p[4], w[4]) and int((p != 0).sum()) == 36
    p = project(w, "shape", 0.25)  # 36 columns of the 6 × 36 view → 9 kept
    assert int((p.reshape(6, -1) != 0).any(0).sum()) == 9


def test_projection_bad_input():
    with pytest.raises(InputError, match="structure"):
        project(torch.ones(2, 2), "diagonal", 1)
    with pytest.raises(InputError, match="keep"):
        project(torch.ones(2, 2), "rows", 1.5)


@SETTINGS
@given(shape=shapes, axis=st.sampled_from(["in", "out"]), seed=st.integers(0, 1000))
def test_group_lasso_groups_partition_and_norms(shape, axis, seed):
    w = smooth_weight(shape, seed)
    idx = group_lasso_groups(w, axis)
    n = shape[1] if axis == "in" else shape[0]
    assert idx.shape == (n, math.prod(shape) // n)
    assert sorted(idx.reshape(-1).tolist()) == list(range(w.numel()))
    ref = torch.stack([(w[:, c] if axis == "in" else w[c]).norm() for c in range(n)])
    assert torch.allclose(group_norms(w, axis), ref)
    assert torch.allclose(w.reshape(-1)[idx].norm(dim=1), ref)


def test_group_norms_differentiable_at_zero_groups():
    w = torch.zeros(3, 4, requires_grad=True)
    (group_norms(w, "in").sum() + group_norms(w, "out").sum()).backward()
    assert torch.isfinite(w.grad).all()


def test_zero_small_groups():
    w = torch.ones(4, 3, 2, 2)
    w[:, 1] = 5e-5  # input channel 1: all below 1e-4
    w[2] = 1e-5  # filter 2: all below
    keep_in = zero_small_groups(w, "in")
    assert keep_in.shape == w.shape
    assert not keep_in[:, 1].any() and keep_in[:, [0, 2]].all()
    keep_out = zero_small_groups(w, "out")
    assert not keep_out[2].any() and keep_out[[0, 1, 3]].all()
    lin = torch.tensor([[1.0, 5e-5], [2.0, 3e-5]])
    assert zero_small_groups(lin, "in").tolist() == [[True, False], [True, False]]
    assert zero_small_groups(lin, "in", tol=1e-5).all()
