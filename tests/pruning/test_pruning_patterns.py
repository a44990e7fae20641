"""Pruning patterns against a loop-based reference: exact rate, structure, tie-breaking, seeds."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import PruneSpec
from harness.pruning.base import AGGREGATIONS, PATTERNS, prune_mask
from harness.pruning.patterns import achieved_rate, check_spec, group_scores, n_groups

SETTINGS = settings(max_examples=50, deadline=None)
DETERMINISTIC_AGGS = ["rms", "mean", "median", "l1", "l2", "max"]


def ref_groups(shape: tuple[int, ...], spec: PruneSpec) -> list[list[int]]:
    """Flat indices (into weight.reshape(-1)) of every group, in flat group order."""
    out, inner = shape[0], math.prod(shape[1:])
    p = spec.pattern
    if p == "channel":
        rest = math.prod(shape[2:])
        return [[(o * shape[1] + c) * rest + s for o in range(out) for s in range(rest)]
                for c in range(shape[1])]
    r, c = {"unstructured": (1, 1), "row_group": (1, spec.group_size), "block": spec.block,
            "rows": (1, inner), "filter": (1, inner), "columns": (out, 1),
            "shape": (out, 1)}[p]
    return [[i * inner + j for i in range(bi, min(bi + r, out)) for j in range(bj, min(bj + c, inner))]
            for bi in range(0, out, r) for bj in range(0, inner, c)]


def ref_mask(weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    groups = ref_groups(tuple(weight.shape), spec)
    flat = weight.reshape(-1)
    agg = AGGREGATIONS.get(spec.aggregation)
    scores = [float(agg(flat[idx].reshape(1, -1))[0]) for idx in groups]
    order = sorted(range(len(groups)), key=lambda i: (scores[i], i))  # stable: lower index first
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    for gi in order[: round(spec.rate * len(groups))]:
        keep[groups[gi]] = False
    return keep.reshape(weight.shape)


def integer_weight(shape, seed: int, levels: int = 3) -> torch.Tensor:
    """Integer-valued, no zeros, many ties: every aggregation is exact, so ties are real."""
    g = torch.Generator().manual_seed(seed)
    mag = torch.randint(1, levels + 1, shape, generator=g).float()
    sign = torch.randint(0, 2, shape, generator=g).float() * 2 - 1
    return mag * sign


def smooth_weight(shape, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(shape, generator=g) + 0.05
    return w * (torch.randint(0, 2, shape, generator=g) * 2 - 1)


shapes_2d = st.tuples(st.integers(1, 9), st.integers(1, 17))
shapes_4d = st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
rates = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]), st.floats(0, 1))


@st.composite
def specs(draw, patterns=("unstructured", "row_group", "block", "rows", "filter", "columns",
                          "shape", "channel"), aggs=DETERMINISTIC_AGGS):
    return PruneSpec(pattern=draw(st.sampled_from(patterns)), rate=draw(rates),
                     group_size=draw(st.integers(1, 8)),
                     block=(draw(st.integers(1, 4)), draw(st.integers(1, 5))),
                     aggregation=draw(st.sampled_from(aggs)), seed=draw(st.integers(0, 3)))


@SETTINGS
@given(shape=st.one_of(shapes_2d, shapes_4d), spec=specs(), seed=st.integers(0, 10_000))
def test_mask_equals_reference_with_ties(shape, spec, seed):
    w = integer_weight(shape, seed)
    mask = prune_mask(w, spec)
    assert mask.dtype == torch.bool and mask.shape == w.shape
    assert torch.equal(mask, ref_mask(w, spec))


@SETTINGS
@given(shape=st.one_of(shapes_2d, shapes_4d), spec=specs(aggs=[*DETERMINISTIC_AGGS, "random"]),
       seed=st.integers(0, 10_000))
def test_exact_rate_and_whole_groups(shape, spec, seed):
    w = smooth_weight(shape, seed)
    mask = prune_mask(w, spec)
    groups = ref_groups(shape, spec)
    flat = mask.reshape(-1)
    states = [bool(flat[idx].all()) if bool(flat[idx].any()) else False for idx in groups]
    for idx in groups:  # each group entirely kept or entirely removed
        assert bool(flat[idx].all()) or not bool(flat[idx].any())
    removed = len(groups) - sum(states)
    assert removed == round(spec.rate * len(groups))
    assert n_groups(shape, spec) == len(groups)
    assert achieved_rate(mask, spec) == pytest.approx(removed / len(groups))


@SETTINGS
@given(shape=shapes_2d, spec=specs(aggs=DETERMINISTIC_AGGS), seed=st.integers(0, 10_000))
def test_kept_groups_score_at_least_removed(shape, spec, seed):
    w = smooth_weight(shape, seed).double()
    mask = prune_mask(w, spec)
    agg = AGGREGATIONS.get(spec.aggregation)
    flat_w, flat_m = w.reshape(-1), mask.reshape(-1)
    kept, removed = [], []
    for idx in ref_groups(shape, spec):
        (kept if bool(flat_m[idx].all()) else removed).append(float(agg(flat_w[idx][None])[0]))
    if kept and removed:
        assert min(kept) >= max(removed)


@SETTINGS
@given(shape=st.one_of(shapes_2d, shapes_4d), spec=specs(aggs=[*DETERMINISTIC_AGGS, "random"]),
       seed=st.integers(0, 10_000))
def test_deterministic_across_calls(shape, spec, seed):
    w = smooth_weight(shape, seed)
    assert torch.equal(prune_mask(w, spec), prune_mask(w.clone(), spec))


def test_random_aggregation_is_seeded_and_ignores_values():
    w1, w2 = smooth_weight((64, 64), 1), smooth_weight((64, 64), 2)
    spec = PruneSpec("row_group", rate=0.5, group_size=4, aggregation="random", seed=7)
    m1 = prune_mask(w1, spec)
    assert torch.equal(m1, prune_mask(w2, spec))  # selection depends on the seed only
    other = prune_mask(w1, PruneSpec("row_group", 0.5, group_size=4, aggregation="random", seed=8))
    assert not torch.equal(m1, other)
    assert not torch.equal(m1, prune_mask(w1, PruneSpec("row_group", 0.5, group_size=4)))


def test_partial_row_group_scored_on_its_own_elements():
    # K=5, g=4: the partial group (col 4) has RMS 3, beating the full group's RMS ≈ 2.1.
    w = torch.tensor([[2.0, 2.0, 2.0, 2.5, 3.0]])
    mask = prune_mask(w, PruneSpec("row_group", rate=0.5, group_size=4))
    assert mask.tolist() == [[False] * 4 + [True]]
    assert group_scores(w, PruneSpec("row_group", group_size=4)).shape == (1, 2)


def test_partial_edge_blocks():
    w = torch.ones(3, 5)
    w[2, 4] = 10.0  # the 1×1 corner block (3×5 tiled by 2×2)
    mask = prune_mask(w, PruneSpec("block", rate=5 / 6, block=(2, 2)))
    expected = torch.zeros(3, 5, dtype=torch.bool)
    expected[2, 4] = True
    assert torch.equal(mask, expected)


@SETTINGS
@given(rows=st.integers(1, 6), k=st.integers(1, 40), nm=st.sampled_from([(2, 4), (1, 4), (4, 8), (1, 2), (3, 3), (5, 12), (7, 18)]),
       seed=st.integers(0, 10_000))
def test_nm_keeps_n_largest_of_every_m(rows, k, nm, seed):
    n, m = nm
    w = integer_weight((rows, k), seed, levels=5)
    mask = prune_mask(w, PruneSpec("nm", nm=nm))
    for i in range(rows):
        for j in range(0, k, m):
            seg_m, seg_w = mask[i, j:j + m], w[i, j:j + m].abs()
            assert int(seg_m.sum()) == min(n, seg_m.numel())
            if seg_m.any() and (~seg_m).any():
                assert seg_w[seg_m].min() >= seg_w[~seg_m].max()
            # ties: among equal magnitudes the lower index goes first
            for a in range(seg_m.numel()):
                for b in range(a + 1, seg_m.numel()):
                    if seg_w[a] == seg_w[b] and bool(seg_m[a]):
                        assert bool(seg_m[b])


def test_two_four_holds_on_conv_weight():
    w = smooth_weight((4, 2, 2, 2), 3)  # viewed as 4 × 8
    mask = prune_mask(w, PruneSpec("nm", rate=0.5, nm=(2, 4))).reshape(4, 2, 4)
    assert (mask.sum(-1) == 2).all()


def test_nm_rate_mismatch_is_unsupported_reason():
    spec = PruneSpec("nm", rate=0.9, nm=(2, 4))
    reason = check_spec((4, 8), spec)
    assert reason and "implies rate 0.5" in reason
    with pytest.raises(UnsupportedError):
        prune_mask(torch.ones(4, 8), spec)


def test_bad_values_raise_input_error():
    for spec in (PruneSpec("row_group", rate=1.5), PruneSpec("row_group", group_size=0),
                 PruneSpec("block", block=(0, 2)), PruneSpec("nm", nm=(5, 4))):
        with pytest.raises(InputError):
            check_spec((4, 8), spec)
    assert "at least 2 dims" in check_spec((8,), PruneSpec("rows", 0.5))


def test_registries_hold_the_builtins():
    from harness.pruning import patterns  # noqa: F401

    assert {"unstructured", "row_group", "block", "nm", "rows", "columns", "filter", "channel",
            "shape"} <= set(PATTERNS.names())
    assert {"rms", "mean", "median", "l1", "l2", "max", "random"} <= set(AGGREGATIONS.names())
    assert PruneSpec().aggregation == "rms"


def test_fp16_and_bf16_weights():
    w = smooth_weight((8, 16), 0) * 300  # squares overflow fp16: scores run in float32
    for dtype in (torch.float16, torch.bfloat16):
        spec = PruneSpec("row_group", rate=0.5, group_size=4)
        assert torch.equal(prune_mask(w.to(dtype), spec), ref_mask(w.to(dtype).float(), spec))


@pytest.mark.gpu
def test_same_mask_on_cuda():
    w = smooth_weight((64, 96), 0)
    for spec in (PruneSpec("row_group", 0.7, group_size=8), PruneSpec("block", 0.5, block=(4, 4)),
                 PruneSpec("unstructured", 0.9, aggregation="random"), PruneSpec("nm")):
        assert torch.equal(prune_mask(w.cuda(), spec).cpu(), prune_mask(w, spec))
