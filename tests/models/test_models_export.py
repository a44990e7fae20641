"""Export with real sparse execution, its verification, shares and the predicted speedup."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import PruneSpec
from harness.measure.timer import Policy
from harness.models.export import (
    LayerChoice,
    evaluate,
    export_model,
    masked_model,
    predicted_speedup,
    pruning_rate,
    uniform,
    verify_export,
)
from harness.models.extract import extract
from harness.models.share import measure_shares, shares_from_times


def small_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 96), nn.ReLU(), nn.Linear(96, 64), nn.ReLU(),
                         nn.Linear(64, 10)).eval()


CHOICES = {
    "row_group/numba": LayerChoice("row_group", "numba", PruneSpec("row_group", 0.75, 8)),
    "csr/numba": LayerChoice("csr", "numba", PruneSpec("unstructured", 0.9)),
    "bsr/numba": LayerChoice("bsr", "numba", PruneSpec("block", 0.5, block=(2, 4))),
    "csr/torch_sparse": LayerChoice("csr", "torch_sparse", PruneSpec("row_group", 0.5, 4)),
}


@pytest.mark.parametrize("label", list(CHOICES))
def test_the_exported_model_computes_the_masked_dense_model(label):
    model, x = small_mlp(), torch.randn(8, 64)
    config = uniform(model, CHOICES[label])
    masked, masks = masked_model(model, config)
    exported = export_model(masked, config, x)
    kinds = [type(m).__name__ for m in exported.modules()]
    assert kinds.count("BackendLinear") == 3 and "Linear" not in kinds
    with torch.no_grad():
        torch.testing.assert_close(exported(x), masked(x), rtol=1e-5, atol=1e-5)
        assert not torch.allclose(masked(x), model(x))  # the pruning changed the model
        y = exported(torch.randn(3, 64))  # another batch: prepared again for N = 3
    assert y.shape == (3, 10)
    assert verify_export(exported, masked, x).ok
    assert pruning_rate(model, masks) == pytest.approx(CHOICES[label].prune.rate, abs=0.02)


def test_verification_fails_for_a_model_that_is_not_the_masked_one():
    model, x = small_mlp(), torch.randn(8, 64)
    masked, _ = masked_model(model, uniform(model, CHOICES["csr/numba"]))
    check = verify_export(model, masked, x)
    assert not check.ok and check.rel_error > check.tolerance == 1e-4


def test_layers_not_configured_stay_dense_and_unpruned():
    model, x = small_mlp(), torch.randn(8, 64)
    config = {"2": CHOICES["row_group/numba"]}
    masked, masks = masked_model(model, config)
    exported = export_model(masked, config, x)
    assert set(masks) == {"2"}
    assert [type(exported[i]).__name__ for i in (0, 2, 4)] == ["Linear", "BackendLinear", "Linear"]
    assert torch.equal(exported[0].weight, model[0].weight)


def small_cnn(*, stride: int = 1, padding: int = 1, dilation: int = 1,
              bias: bool = True) -> nn.Module:
    torch.manual_seed(0)
    conv2 = nn.Conv2d(8, 12, 3, stride=stride, padding=padding, dilation=dilation, bias=bias)
    return nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), conv2, nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(48, 6)).eval()


@pytest.mark.parametrize("label", ["row_group/numba", "csr/numba", "bsr/numba"])
@pytest.mark.parametrize("geometry", [{}, {"stride": 2, "padding": 0},
                                      {"dilation": 2, "padding": 2, "bias": False}])
def test_a_pruned_conv_runs_as_its_im2col_gemm_and_computes_the_masked_model(label, geometry):
    model, x = small_cnn(**geometry), torch.randn(2, 4, 9, 11)
    config = uniform(model, CHOICES[label])
    assert set(config) == {"0", "2", "6"}
    masked, masks = masked_model(model, config)
    exported = export_model(masked, config, x)
    kinds = [type(m).__name__ for m in exported.modules()]
    assert kinds.count("BackendConv2d") == 2 and "Conv2d" not in kinds
    with torch.no_grad():
        torch.testing.assert_close(exported(x), masked(x), rtol=1e-5, atol=1e-5)
        assert not torch.allclose(masked(x), model(x))
        one = torch.randn(4, 9, 11)  # unbatched input, another N: prepared again
        torch.testing.assert_close(exported[:4](one), masked[:4](one), rtol=1e-5, atol=1e-5)
    assert verify_export(exported, masked, x).ok
    # the im2col rows (out × in·kh·kw) are what the pattern pruned
    assert pruning_rate(model, masks) == pytest.approx(CHOICES[label].prune.rate, abs=0.05)


def test_a_grouped_conv_or_an_unknown_layer_is_refused():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    assert set(uniform(model, CHOICES["csr/numba"])) == {"2"}  # the grouped conv stays dense
    with pytest.raises(UnsupportedError, match=r"layer 0: a grouped Conv2d \(groups=2\) runs "
                                               r"dense"):
        masked_model(model, {"0": CHOICES["csr/numba"]})
    with pytest.raises(InputError, match=r"config\.9: .*layer name"):
        masked_model(model, {"9": CHOICES["csr/numba"]})
    masked, masks = masked_model(model, {"0": LayerChoice(prune=PruneSpec("unstructured", 0.5))})
    assert set(masks) == {"0"} and int((masked[0].weight == 0).sum()) == 36


def test_a_backend_that_cannot_run_a_layer_is_named():
    model, x = small_mlp(), torch.randn(8, 64)
    config = uniform(model, LayerChoice("row_group", "torch_sparse", PruneSpec("row_group", 0.5, 8)))
    masked, _ = masked_model(model, config)
    with pytest.raises(UnsupportedError, match=r"layer 0: .*torch_sparse"):
        export_model(masked, config, x)


def test_predicted_speedup_is_model_time_over_rest_plus_sparse_layers():
    # model 10 s, layers 3 + 5 s dense → rest 2 s; sparse 1 + 1 s → 10 / 4
    assert predicted_speedup(10.0, [3.0, 5.0], [1.0, 1.0]) == pytest.approx(2.5)
    assert predicted_speedup(10.0, [3.0, 5.0], [3.0, 5.0]) == pytest.approx(1.0)
    assert predicted_speedup(10.0, [], []) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one sparse time per dense"):
        predicted_speedup(10.0, [3.0], [])
    with pytest.raises(ValueError, match="not positive"):
        predicted_speedup(1.0, [3.0], [0.5])


def test_shares_and_rest_from_fake_times_count_grouped_layers_once_each():
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 2))
    ext = extract(model, torch.randn(5, 8))
    shares = shares_from_times(ext, 10.0, {"8x8x5": 2.0, "2x8x5": 1.0})
    assert [(s.name, s.time_s, s.share) for s in shares.layers] == [
        ("0", 2.0, 0.2), ("1", 2.0, 0.2), ("2", 1.0, 0.1)]
    assert shares.layers_s == 5.0 and shares.rest_s == 5.0


class ConstantSampler:
    """Calls the variant and reports a fixed time: exercises the pipeline, not the machine."""

    def __init__(self) -> None:
        self.calls = 0

    def sample(self, fn, block: int = 1) -> float:
        for _ in range(block):
            fn()
        self.calls += 1
        return 1e-3

    def sync(self) -> None:
        pass


FAST = Policy(warmup=1, min_samples=2, rounds=3, max_time_s=5.0, block_min_s=0.0)


def test_measure_shares_and_evaluate_run_every_variant_through_the_timer():
    model, x = small_mlp(), torch.randn(8, 64)
    sampler = ConstantSampler()
    shares = measure_shares(model, x, policy=FAST, sampler=sampler)
    assert shares.rounds >= 3 and len(shares.layers) == 3
    assert shares.rest_s == pytest.approx(1e-3 - 3e-3)
    result = evaluate(model, uniform(model, CHOICES["csr/numba"]), x, policy=FAST,
                      sampler=ConstantSampler())
    assert result.check.ok and result.rounds >= 3 and result.contended is None
    # every time is 1 ms: model 1, three dense and three sparse layers of 1 → 1 / (1 − 3 + 3)
    assert result.measured_speedup == 1.0 and result.predicted_speedup == 1.0
    assert [r.choice for r in result.layers] == ["csr/numba unstructured 90%"] * 3
    assert math.isclose(result.as_dict()["rest_s"], -2e-3)
