"""Whole-model pruning, fine-tuning with kept masks, and the sparse export."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import PruneSpec
from harness.formats.base import get_format
from harness.pruning.model import (
    LayerRule,
    MaskKeeper,
    apply_masks,
    export_sparse,
    layer_rules,
    prune_model,
)
from harness.pruning.patterns import achieved_rate

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(),
                         nn.Linear(24, 10))


def convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 6, 3), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 5))


def test_prune_model_exact_rate_and_in_place():
    model = convnet()
    biases = {n: m.bias.detach().clone() for n, m in model.named_modules() if hasattr(m, "bias") and m.bias is not None}
    spec = PruneSpec("row_group", rate=0.75, group_size=4)
    masks = prune_model(model, spec)
    assert set(masks) == {"0", "2", "4", "6"}
    for name, mask in masks.items():
        w = model.get_submodule(name).weight
        assert mask.shape == w.shape and mask.dtype == torch.bool
        assert torch.equal(w != 0, mask)  # randn weights have no exact zeros
        g = mask.reshape(mask.shape[0], -1).shape[1]
        n_groups = mask.shape[0] * -(-g // 4)
        assert achieved_rate(mask, spec) == round(0.75 * n_groups) / n_groups
    for n, b in biases.items():  # biases are never pruned
        assert torch.equal(model.get_submodule(n).bias, b)


def test_skip_and_overrides():
    model = convnet()
    spec = PruneSpec("unstructured", rate=0.5)
    rules = layer_rules(model, spec, overrides={"2": PruneSpec("channel", 0.5), "6": None},
                        skip_first=True)
    assert rules["0"] == LayerRule(None) and rules["6"] == LayerRule(None)
    assert rules["2"].spec.pattern == "channel" and rules["4"].spec == spec
    masks = prune_model(model, spec, overrides={"[02]": PruneSpec("filter", 0.5)}, skip_last=True)
    assert set(masks) == {"0", "2", "4"}
    assert (masks["0"].reshape(8, -1).all(1) | ~masks["0"].reshape(8, -1).any(1)).all()
    with pytest.raises(InputError, match="nope"):
        prune_model(convnet(), spec, overrides={"nope": None})


def test_unsupported_layer_names_the_layer():
    with pytest.raises(UnsupportedError, match="layer 0"):
        prune_model(mlp(), PruneSpec("nm", rate=0.9, nm=(2, 4)))


def test_mask_keeper_keeps_zeros_through_training():
    model = mlp()
    masks = prune_model(model, PruneSpec("block", rate=0.6, block=(4, 4)), skip_last=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    x, y = torch.randn(16, 20), torch.randint(0, 10, (16,))
    before = model[0].weight.detach().clone()
    with MaskKeeper(model, masks, opt):
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            assert (model[0].weight.grad[~masks["0"]] == 0).all()
            opt.step()
    for name, mask in masks.items():
        assert (model.get_submodule(name).weight[~mask] == 0).all()
    assert not torch.equal(model[0].weight, before)  # the kept weights did train
    # without the keeper, a plain step revives pruned weights; apply_masks re-zeroes them
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    assert (model[0].weight[~masks["0"]] != 0).any()
    apply_masks(model, masks)
    assert (model[0].weight[~masks["0"]] == 0).all()


def test_export_sparse_matches_masked_dense():
    model = convnet()
    masks = prune_model(model, PruneSpec("row_group", rate=0.8, group_size=8), skip_first=True)
    sparse = export_sparse(model, masks)
    names = {n: type(m).__name__ for n, m in sparse.named_modules()}
    assert names["4"] == "SparseLinear" and names["6"] == "SparseLinear"
    assert names["0"] == "Conv2d" and type(model[4]) is nn.Linear  # original untouched
    assert sparse[4].weight_csr.layout == torch.sparse_csr
    assert sparse[4].weight_csr._nnz() == int(masks["4"].sum())
    x = torch.randn(7, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(sparse(x), model(x), rtol=1e-5, atol=1e-6)
        assert torch.allclose(export_sparse(model)(x), model(x), rtol=1e-5, atol=1e-6)


def test_export_sparse_batched_leading_dims_and_bare_linear():
    lin = nn.Linear(12, 6)
    with torch.no_grad():
        lin.weight[:, ::2] = 0
    x = torch.randn(2, 3, 12)
    with torch.no_grad():
        assert torch.allclose(export_sparse(lin)(x), lin(x), atol=1e-6)


def test_export_triton_calls_row_group_kernel(monkeypatch):
    calls = []

    def fake_row_group_mm(op, x):  # stands in for the bundled kernel: checks the operand layout
        calls.append((op.format, op.shape, op.meta["group_size"], tuple(x.shape)))
        return get_format("row_group").decode(op) @ x

    monkeypatch.setitem(sys.modules, "harness.kernels",
                        types.SimpleNamespace(row_group_mm=fake_row_group_mm))
    model = mlp()
    masks = prune_model(model, PruneSpec("row_group", rate=0.5, group_size=4))
    sparse = export_sparse(model, masks, kernel="triton", group_size=4)
    x = torch.randn(5, 20)
    with torch.no_grad():
        assert torch.allclose(sparse(x), model(x), rtol=1e-5, atol=1e-6)
    assert calls[0] == ("row_group", (32, 20), 4, (20, 5))
    with pytest.raises(KeyError, match="valid: torch_sparse, triton"):
        export_sparse(model, masks, kernel="cusparse")


@pytest.mark.gpu
@pytest.mark.parametrize("kernel", ["torch_sparse", "triton"])
def test_export_on_cuda_matches_masked_dense(kernel):
    model = mlp().cuda()
    masks = prune_model(model, PruneSpec("row_group", rate=0.75, group_size=8))
    sparse = export_sparse(model, masks, kernel=kernel, group_size=8)
    x = torch.randn(9, 20, device="cuda")
    tol = 1e-2 if kernel == "triton" else 1e-4  # the kernel may use TF32 for fp32
    with torch.no_grad():
        assert torch.allclose(sparse(x), model(x), rtol=tol, atol=tol)


def test_masks_keyed_by_weight_name():
    model = mlp()
    masks = prune_model(model, PruneSpec("unstructured", rate=0.5))
    by_weight = {f"{k}.weight": v for k, v in masks.items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)
    apply_masks(model, by_weight)
    assert torch.equal(model[0].weight != 0, masks["0"])
    x = torch.randn(3, 20)
    with torch.no_grad():
        assert torch.allclose(export_sparse(model, by_weight)(x), model(x), atol=1e-6)
    with pytest.raises(KeyError, match="names no layer"):
        apply_masks(model, {"1.weight": masks["0"]})
