from __future__ import annotations

import pytest
import torch
from torch import nn

from harness.core.registry import UnknownName
from harness.train.models import FC_HIDDEN, MODELS, build_model


@pytest.mark.parametrize("name", ["fc", "lenet300", "cnn"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28)])
def test_models_map_images_to_logits(name, shape):
    model = build_model(name, shape, 10, seed=0)
    assert model(torch.zeros(3, *shape)).shape == (3, 10)


def test_fc_has_hartenstein_table2_widths_in_both_readings():
    # default: Table 2's first row is a 784-wide layer of its own (eight weight layers)
    model = build_model("fc", (1, 28, 28), 10)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [m.in_features for m in linears] == [784, 784, *FC_HIDDEN]
    assert [m.out_features for m in linears] == [784, *FC_HIDDEN, 10]
    assert sum(isinstance(m, nn.ReLU) for m in model) == len(FC_HIDDEN) + 1
    # the other reading: the first row only names the inputs (seven weight layers)
    model = build_model("fc", (1, 28, 28), 10, options={"input_layer": False, "ratio": 0.2})
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [m.in_features for m in linears] == [784, *FC_HIDDEN]
    assert [m.out_features for m in linears] == [*FC_HIDDEN, 10]


def test_model_options_pick_the_builders_keywords_and_check_them():
    from harness.core.errors import InputError
    from harness.train.models import model_options

    opts = {"input_layer": False, "ratio": 0.2}
    assert model_options("fc", opts) == {"input_layer": False}
    assert model_options("cnn", opts) == {}
    with pytest.raises(InputError, match=r"train.options.input_layer"):
        build_model("fc", (16,), 4, options={"input_layer": "yes"})


def test_build_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model("lenet300", (16,), 4, seed=1)
    after = torch.rand(1)
    b = build_model("lenet300", (16,), 4, seed=1)
    c = build_model("lenet300", (16,), 4, seed=2)
    assert torch.equal(before, after)
    assert torch.equal(a[1].weight, b[1].weight)
    assert not torch.equal(a[1].weight, c[1].weight)


def test_unknown_model_lists_valid_names():
    with pytest.raises(UnknownName, match="cnn, fc, lenet300"):
        build_model("resnet", (1, 8, 8), 10)
    assert MODELS.names() == ["cnn", "fc", "lenet300"]


def test_fc_uses_keras_dense_initialisation():
    model = build_model("fc", (1, 28, 28), 10, seed=0)
    for m in model:
        if isinstance(m, nn.Linear):
            bound = (6.0 / (m.in_features + m.out_features)) ** 0.5
            top = float(m.weight.detach().abs().max())
            assert top <= bound and torch.all(m.bias == 0)
            assert top > 0.9 * bound  # uniform over the whole range
