"""Built-in models, user factories and their layers as GEMM shapes."""

from __future__ import annotations

import itertools
import sys

import pytest
import torch
from torch import nn

from harness.core.errors import InputError
from harness.models.builtin import BUILTINS, encoder_layer, load_model
from harness.models.extract import extract


def _shapes(model: nn.Module, x: torch.Tensor) -> list[tuple[str, tuple[int, int, int]]]:
    return [(layer.name, layer.shape) for layer in extract(model, x).layers]


@pytest.mark.parametrize(("name", "widths"), [
    ("fc", [784, 784, 128, 128, 256, 256, 512, 512, 10]),  # hartenstein Table 2, input layer
    ("lenet300", [784, 300, 100, 10]),
])
def test_mlp_builtins_give_one_gemm_per_linear_with_n_the_batch(name, widths):
    m = load_model(name)
    shapes = [s for _, s in _shapes(m.module, m.sample(50))]
    assert shapes == [(out, inp, 50) for inp, out in itertools.pairwise(widths)]


def test_cnn_convolutions_are_their_im2col_gemms():
    m = load_model("cnn")
    layers = extract(m.module, m.sample(3)).layers
    assert [(layer.kind, layer.shape) for layer in layers] == [
        ("conv2d", (16, 1 * 3 * 3, 3 * 28 * 28)),  # M = filters, K = C·kh·kw, N = B·H·W
        ("conv2d", (32, 16 * 3 * 3, 3 * 28 * 28)),
        ("linear", (64, 32 * 16, 3)),
        ("linear", (10, 64, 3)),
    ]


def test_a_grouped_strided_convolution_counts_per_group_gemms():
    conv = nn.Conv2d(8, 12, (3, 5), stride=2, groups=4)
    (layer,) = extract(conv, torch.randn(2, 8, 11, 13)).layers
    out = conv(torch.randn(2, 8, 11, 13))
    assert layer.shape == (3, 2 * 3 * 5, 2 * out.shape[2] * out.shape[3])
    assert layer.gemms == 4


def _meta_builtin(name: str, x_shape: tuple[int, ...]) -> tuple[nn.Module, torch.Tensor]:
    """The full-size built-in on the meta device: shapes without 0.5 GB of weights."""
    with torch.device("meta"):
        d = BUILTINS.get(name)
        return d.build(0, d.in_shape), torch.empty(x_shape)


def test_llama_mlp_block_has_its_gate_up_down_shapes_with_n_the_tokens():
    model, x = _meta_builtin("llama_mlp", (16, *BUILTINS.get("llama_mlp").in_shape))
    assert _shapes(model, x) == [("gate_proj", (11008, 4096, 16)), ("up_proj", (11008, 4096, 16)),
                                 ("down_proj", (4096, 11008, 16))]


def test_bert_layer_has_n_batch_times_sequence_and_groups_its_equal_projections():
    model, x = _meta_builtin("bert_layer", (2, 128, 768))
    ext = extract(model, x)
    n = 2 * 128
    assert [(g.shape, g.layers) for g in ext.groups] == [
        ((768, 768, n), ("query", "key", "value", "attn_out")),
        ((3072, 768, n), ("ffn_in",)),
        ((768, 3072, n), ("ffn_out",)),
    ]
    assert [p.shape for p in ext.points()] == [g.shape for g in ext.groups]
    assert ext.points(format="csr")[0].format == "csr"


def test_a_builtin_takes_another_input_shape_where_its_width_allows():
    fc = load_model("fc", in_shape=(64,))  # 8×8 digits: the input layer follows the input
    assert [s for _, s in _shapes(fc.module, fc.sample(5))][:2] == [(64, 64, 5), (128, 64, 5)]
    bert = load_model("bert_layer", in_shape=(4, 768))  # another sequence length
    assert {layer.n for layer in extract(bert.module, bert.sample(2)).layers} == {8}
    for name, shape in [("bert_layer", (4, 512)), ("llama_mlp", (10,)), ("llama_mlp", (2, 4096))]:
        with pytest.raises(InputError, match=rf"model\.in_shape: .*for the built-in {name}"):
            load_model(name, in_shape=shape)


def test_bert_layer_runs_at_a_small_size():
    layer = encoder_layer(width=16, hidden=32, heads=4)
    y = layer(torch.randn(2, 5, 16))
    assert y.shape == (2, 5, 16) and bool(torch.isfinite(y).all())


def test_a_module_called_twice_is_two_layers_in_one_group():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(6, 6)

        def forward(self, x):
            return self.lin(torch.relu(self.lin(x)))

    ext = extract(Twice(), torch.randn(4, 6))
    assert [layer.name for layer in ext.layers] == ["lin", "lin#2"]
    assert [g.layers for g in ext.groups] == [("lin", "lin#2")]


FACTORY = """
import torch
from torch import nn

def tiny():
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))

def not_a_module():
    return 42
"""


@pytest.fixture
def user_package(make_user_package):
    return make_user_package("userpkg_models_test", FACTORY)


def test_a_user_factory_is_imported_only_when_named(user_package):
    assert user_package not in sys.modules
    m = load_model(f"{user_package}:tiny", in_shape=(5,))
    assert user_package in sys.modules
    assert _shapes(m.module, m.sample(4)) == [("0", (7, 5, 4)), ("2", (3, 7, 4))]
    again = load_model(f"{user_package}:tiny", in_shape=(5,))
    assert torch.equal(again.module[0].weight, m.module[0].weight)  # seeded


@pytest.mark.parametrize(("spec", "says"), [
    ("no_such_model", "package.module:function"),
    ("userpkg_models_test.nets", "package.module:function"),
    ("userpkg_models_test.nets:missing", "has no function 'missing'"),
    ("userpkg_models_test.nope:tiny", "whose module imports"),
    ("userpkg_models_test.nets:not_a_module", "returning a torch.nn.Module, got int"),
    ("bad spec:x", "package.module:function"),
])
def test_a_bad_spec_is_an_input_error_naming_it(user_package, spec, says):
    with pytest.raises(InputError) as err:
        load_model(spec, in_shape=(5,))
    assert repr(spec) in str(err.value) and says in str(err.value)
    assert str(err.value).startswith("model: ")


def test_a_factory_needs_the_input_shape(user_package):
    with pytest.raises(InputError, match=r"model\.in_shape: .*input shape of one sample"):
        load_model(f"{user_package}:tiny")


class TickClock:
    """Every reading is 1 ms after the last: constant samples, no real timing."""

    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        self.t += 1e-3
        return self.t


def test_the_extracted_points_are_measured_by_the_measurement_core():
    from harness.config.settings import MeasureSettings
    from harness.core.point import PruneSpec
    from harness.measure.runner import Bench

    model = nn.Sequential(nn.Linear(32, 48), nn.ReLU(), nn.Linear(48, 32))
    ext = extract(model, torch.randn(4, 32))
    points = ext.points(format="csr", backend="numba", prune=PruneSpec("unstructured", 0.9))
    bench = Bench(MeasureSettings(max_time_s=1.0), device="cpu", clock=TickClock())
    measured = bench.measure_many(points)
    assert [(m.point.shape, m.status, m.verified) for m in measured] == [
        ((48, 32, 4), "ok", True), ((32, 48, 4), "ok", True)]
