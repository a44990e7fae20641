from __future__ import annotations

import math

import pytest
import torch

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import PruneSpec
from harness.train.models import mlp
from harness.train.scope import global_keep_masks, layer_rates, scope_masks


def _model(seed: int = 0):
    torch.manual_seed(seed)
    model = mlp(16, (32, 24), 4)
    with torch.no_grad():  # layers of different magnitude: a global threshold must notice
        model[1].weight.mul_(0.1)
        model[3].weight.mul_(3.0)
    return model


def _removed(masks):
    return {n: 1.0 - float(m.float().mean()) for n, m in masks.items()}


def test_layer_scope_prunes_every_layer_to_the_rate():
    spec = PruneSpec(pattern="row_group", rate=0.5, group_size=4)
    masks = scope_masks(_model(), spec, scope="layer")
    assert list(masks) == ["1", "3", "5"]
    assert all(r == pytest.approx(0.5) for r in _removed(masks).values())


def test_global_scope_one_threshold_across_layers():
    spec = PruneSpec(pattern="row_group", rate=0.6, group_size=4)
    model = _model()
    weights = {n: model[int(n)].weight.detach().clone() for n in ("1", "3", "5")}
    masks = scope_masks(model, spec, scope="global")
    total = sum(m.numel() for m in masks.values())
    removed = sum(int((~m).sum()) for m in masks.values())
    assert abs(removed - round(0.6 * total)) < 4  # at most one group of 4 over
    rates = _removed(masks)
    assert rates["1"] > 0.6 > rates["3"], "small weights go first, whatever their layer"
    # one threshold: every removed group scores at most every kept group (RMS of 4 weights)
    def rms(w):
        return w.reshape(w.shape[0], -1, 4).pow(2).mean(-1).sqrt()
    kept = torch.cat([rms(weights[n])[rms(masks[n].float()) > 0] for n in weights])
    gone = torch.cat([rms(weights[n])[rms(masks[n].float()) == 0] for n in weights])
    assert float(gone.max()) <= float(kept.min())
    for n, m in masks.items():  # pruned in place
        assert torch.all(model[int(n)].weight[~m] == 0)


def test_per_layer_rate_overrides_in_both_scopes():
    spec = PruneSpec(pattern="unstructured", rate=0.8)
    rates = layer_rates({"rate.1": 0.25, "rate.5": None, "ratio": 0.2})
    assert rates == {"1": 0.25, "5": None}
    for scope in ("layer", "global"):
        masks = scope_masks(_model(), spec, scope=scope, layer_rates=rates)
        assert set(masks) == {"1", "3"}, "null leaves the layer dense"
        assert _removed(masks)["1"] == pytest.approx(0.25, abs=1 / 512)
        assert _removed(masks)["3"] == pytest.approx(0.8, abs=1 / 768)


def test_bad_scope_rates_and_layers_are_one_line_input_errors():
    spec = PruneSpec(rate=0.5)
    with pytest.raises(InputError, match=r"train.options.scope: expected one of global, layer"):
        scope_masks(_model(), spec, scope="network")
    with pytest.raises(InputError, match=r"train.options.rate.1: expected a pruning rate"):
        layer_rates({"rate.1": 1.5})
    with pytest.raises(InputError, match=r"train.options.rate.fc9.*1, 3, 5"):
        scope_masks(_model(), spec, layer_rates={"fc9": 0.5})
    with pytest.raises(UnsupportedError, match="nm"):
        global_keep_masks({"1": torch.ones(4, 8)}, PruneSpec(pattern="nm", rate=0.5))


def test_global_scope_counts_ragged_groups_by_their_weights():
    w = {"a": torch.arange(1.0, 11.0).reshape(2, 5), "b": torch.full((2, 4), 100.0)}
    spec = PruneSpec(pattern="row_group", rate=0.3, group_size=4)
    masks = global_keep_masks(w, spec)
    # 18 weights, target 5: the two 1-wide edge groups (5, 10) score low but hold 1 weight each
    removed = sum(int((~m).sum()) for m in masks.values())
    assert removed >= round(0.3 * 18) and removed - round(0.3 * 18) < 4
    assert bool(masks["b"].all())
    assert math.isclose(float((~masks["a"]).sum()), removed)
