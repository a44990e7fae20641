from __future__ import annotations

import copy
import itertools
import math

import pytest
import torch

from harness.core.point import PruneSpec
from harness.pruning.base import prune_mask
from harness.pruning.projections import project
from harness.train import trainer
from harness.train.models import build_model, mlp
from harness.train.reconfigure import reconfigure
from harness.train.schedules import SCHEDULES
from harness.train.schedules.admm import u_step, z_step
from harness.train.schedules.gradual import gradual_sparsity
from harness.train.schedules.group_lasso import group_lasso_term, lambda_for_ratio
from harness.train.schedules.iterative import iterative_rates
from harness.train.trainer import TrainConfig, pretrain, train

CFG = TrainConfig(epochs=2, batch_size=64, lr=0.05)
OPTIONS = {"admm": {"iters": 2}, "gradual": {"every": 2}, "group_lasso": {"interval": 1,
                                                                          "final_epochs": 1}}


@pytest.fixture
def dense(tiny_data):
    model = build_model("lenet300", tiny_data.in_shape, tiny_data.n_classes, seed=0)
    train(model, tiny_data, TrainConfig(epochs=2, batch_size=64, lr=0.05))
    return model


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_pruned_weights_stay_exactly_zero(name, dense, tiny_data):
    spec = PruneSpec(pattern="row_group", rate=0.8, group_size=4)
    res = SCHEDULES.get(name)(copy.deepcopy(dense), tiny_data, spec, CFG,
                              options=OPTIONS.get(name, {}))
    assert res.masks
    params = trainer.resolve_params(res.model, res.masks)
    for n, mask in res.masks.items():
        assert torch.all(params[n][~mask] == 0), n
        assert not torch.any(torch.signbit(params[n][~mask])), "no -0.0 left"
    assert 0.0 <= res.accuracy <= 1.0 and res.epochs >= 1
    rec = res.as_record()
    assert {"accuracy", "loss", "sparsity", "epochs", "time_s", "accuracy_before",
            "loss_before"} <= set(rec)
    assert 0.0 <= rec["accuracy_before"] <= 1.0 and rec["signal_died"] is False


def test_masks_hold_after_every_optimiser_step(dense, tiny_data):
    masks = {"1": torch.rand_like(dense[1].weight) > 0.5}
    seen = []

    def on_step(step, model):
        seen.append(bool(torch.all(model[1].weight[~masks["1"]] == 0)))

    train(dense, tiny_data, TrainConfig(epochs=1, batch_size=64, optimizer="adam", lr=1e-2),
          masks=masks, on_step=on_step)
    assert seen and all(seen)


def test_oneshot_reaches_the_exact_rate(dense, tiny_data):
    spec = PruneSpec(pattern="unstructured", rate=0.9)
    res = SCHEDULES.get("oneshot")(dense, tiny_data, spec, CFG)
    for n, mask in res.masks.items():
        assert int((~mask).sum()) == round(0.9 * mask.numel()), n
    total = sum(m.numel() for m in res.masks.values())
    removed = sum(round(0.9 * m.numel()) for m in res.masks.values())
    assert res.sparsity == pytest.approx(removed / total, abs=1e-12)


def test_iterative_rates_and_exact_target(dense, tiny_data):
    assert iterative_rates(0.9, 0.5) == pytest.approx([0.5, 0.75, 0.875, 0.9])
    assert iterative_rates(0.75, 0.5) == pytest.approx([0.5, 0.75])
    spec = PruneSpec(pattern="row_group", rate=0.9, group_size=2)
    res = SCHEDULES.get("iterative")(dense, tiny_data, spec, CFG, options={"step_epochs": 1})
    assert res.epochs == 4
    for n, mask in res.masks.items():
        groups = mask.shape[0] * math.ceil(mask.shape[1] / 2)
        removed_groups = int((~mask).sum()) // 2  # widths here are even
        assert removed_groups == round(0.9 * groups), n


def test_gradual_cubic_formula():
    assert gradual_sparsity(0, 0.0, 0.9, 100) == 0.0
    assert gradual_sparsity(100, 0.0, 0.9, 100) == 0.9
    assert gradual_sparsity(500, 0.0, 0.9, 100) == 0.9
    assert gradual_sparsity(50, 0.1, 0.9, 100) == pytest.approx(0.9 + (0.1 - 0.9) * 0.5 ** 3)
    seq = [gradual_sparsity(t, 0.0, 0.8, 40) for t in range(41)]
    assert all(b >= a for a, b in itertools.pairwise(seq))
    # the rise is fastest at the start (Zhu & Gupta): first step gains more than the last
    assert seq[1] - seq[0] > seq[40] - seq[39]


def test_gradual_schedule_lands_on_target(dense, tiny_data):
    spec = PruneSpec(pattern="unstructured", rate=0.7)
    res = SCHEDULES.get("gradual")(dense, tiny_data, spec, CFG, options={"every": 1})
    for mask in res.masks.values():
        assert int((~mask).sum()) == round(0.7 * mask.numel())


def test_admm_z_step_is_the_projection_and_u_update():
    lin = torch.nn.Sequential(torch.nn.Linear(16, 8))
    spec = PruneSpec(pattern="row_group", rate=0.5, group_size=4)
    w0 = lin[0].weight.detach().clone()
    u = {"0": torch.randn(8, 16) * 0.1}
    z, masks = z_step(lin, u, spec)
    x = w0 + u["0"]
    assert torch.equal(z["0"], project(x, "row_group", 16, group_size=4))  # 32 groups, keep 16
    assert int((~masks["0"]).sum()) == 16 * 4
    assert torch.equal(z["0"], x * masks["0"])
    assert torch.equal(lin[0].weight, w0), "z_step must leave W untouched"
    # the projection is Euclidean: no other mask of the same structure and rate is closer
    other = prune_mask(torch.rand(8, 16), spec)
    assert (x - z["0"]).norm() <= (x - x * other).norm() + 1e-6
    new_u = u_step(u, {"0": w0}, z)
    assert torch.allclose(new_u["0"], u["0"] + w0 - z["0"])


def test_group_lasso_lambda_gives_the_ratio(tiny_data):
    lam = lambda_for_ratio(2.0, 50.0, 0.2)
    assert lam * 50.0 / (2.0 + lam * 50.0) == pytest.approx(0.2)
    model = build_model("lenet300", tiny_data.in_shape, tiny_data.n_classes, seed=0)
    w = [m.weight.detach() for m in model if isinstance(m, torch.nn.Linear)]
    # the first layer's input columns (the image) and the last layer's rows (classes) are free
    expect = sum(x.norm(dim=0).sum() for x in w[1:]) + sum(x.norm(dim=1).sum() for x in w[:-1])
    assert float(group_lasso_term(model).detach()) == pytest.approx(float(expect), rel=1e-5)
    res = SCHEDULES.get("group_lasso")(model, tiny_data, PruneSpec(), CFG,
                                       options={"ratio": 0.25, "interval": 1})
    assert res.extra["penalty_ratio0"] == pytest.approx(0.25)


def test_reconfiguration_builds_smaller_model_with_same_function():
    torch.manual_seed(0)
    model = mlp(10, (12, 9), 3)
    lin1, lin2, lin3 = model[1], model[3], model[5]
    with torch.no_grad():
        lin1.weight[[0, 5]] = 0  # incoming zero: constant relu(b) folded into the next bias
        lin1.bias[0] = 0.7
        lin2.weight[:, [3, 7]] = 0  # outgoing zero: unused
        lin2.weight[2] = 0
        lin3.weight[:, 4] = 0
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 10)).sum().backward()
    opt.step()
    with torch.no_grad():  # undo the step on the zeroed groups to keep them zero
        lin1.weight[[0, 5]] = 0
        lin2.weight[:, [3, 7]] = 0
        lin2.weight[2] = 0
        lin3.weight[:, 4] = 0
    small, new_opt, widths = reconfigure(model, opt)
    assert widths == [8, 7]
    assert isinstance(small, torch.nn.Sequential) and small[1].weight.shape == (8, 10)
    x = torch.randn(32, 10)
    assert torch.allclose(small(x), model(x), atol=1e-6)
    buf = new_opt.state[small[1].weight]["momentum_buffer"]
    assert buf.shape == small[1].weight.shape


def test_pretrain_is_cached(tiny_data, monkeypatch):
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05)
    m1, r1 = pretrain("lenet300", tiny_data, cfg)
    assert r1["cached"] is False

    def boom(*a, **k):
        raise AssertionError("second call must not train")

    real_train = trainer.train
    monkeypatch.setattr(trainer, "train", boom)
    m2, r2 = pretrain("lenet300", tiny_data, cfg)
    assert r2["cached"] is True and r2["accuracy"] == r1["accuracy"]
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    monkeypatch.setattr(trainer, "train", real_train)
    _, r3 = pretrain("lenet300", tiny_data, TrainConfig(epochs=1, batch_size=64, lr=0.01))
    assert r3["cached"] is False, "another lr is another cache entry"


def test_pretrain_cache_key_includes_model_options(tiny_data):
    from harness.train.trainer import pretrain

    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05)
    m1, r1 = pretrain("fc", tiny_data, cfg, options={"input_layer": True})
    m2, r2 = pretrain("fc", tiny_data, cfg, options={"input_layer": False})
    assert r1["key"] != r2["key"] and not r2["cached"]
    assert len(list(m1.parameters())) == len(list(m2.parameters())) + 2


def test_chance_loss_and_signal_died(tiny_data):
    from harness.train.trainer import chance_loss, signal_died

    assert chance_loss(torch.arange(10).repeat(7)) == pytest.approx(math.log(10))
    assert chance_loss(torch.tensor([0, 0, 0, 1])) < math.log(2)
    assert signal_died([2.4, 2.31, 2.30], math.log(10))
    assert not signal_died([2.4, 2.0, 2.30], math.log(10))
    assert signal_died([float("nan")], math.log(10)) and not signal_died([], math.log(10))


def test_a_model_cut_off_from_its_input_is_flagged(dense, tiny_data):
    # every weight of the first layer pruned: the output no longer depends on the input
    model = copy.deepcopy(dense)
    masks = {"1": torch.zeros_like(model[1].weight, dtype=torch.bool)}
    history = train(model, tiny_data, CFG, masks=masks)
    from harness.train.schedules.base import finish

    res = finish(model, tiny_data, masks, history, 0.0, device="cpu")
    assert res.extra["signal_died"] is True
    alive = finish(dense, tiny_data, {}, train(dense, tiny_data, CFG), 0.0, device="cpu")
    assert alive.extra["signal_died"] is False


def test_admm_residual_per_iteration_falls_under_the_tolerance(dense, tiny_data):
    from harness.train.schedules.admm import DEFAULT_ITERS, TOLERANCE, rho_schedule

    assert rho_schedule(0.01, 2.0, 4, rho_max=0.05) == pytest.approx([0.01, 0.02, 0.04, 0.05])
    spec = PruneSpec(pattern="rows", rate=0.5)
    cfg = TrainConfig(epochs=1, batch_size=16, lr=0.05)  # ~18 W-steps per iteration
    res = SCHEDULES.get("admm")(copy.deepcopy(dense), tiny_data, spec, cfg)  # the defaults
    e = res.extra
    assert len(e["admm_residuals"]) == e["admm_iters"] == len(e["admm_rhos"]) <= DEFAULT_ITERS
    assert all(b >= a for a, b in zip(e["admm_rhos"], e["admm_rhos"][1:], strict=False))
    assert e["admm_converged"] and e["admm_rel_residuals"][-1] < TOLERANCE
    assert e["admm_rel_residuals"][-1] < e["admm_rel_residuals"][0]
    # the paper's fixed rho over two iterations stays far from the structured set
    opts = {"rho": 3e-3, "rho_growth": 1.0, "iters": 2}
    far = SCHEDULES.get("admm")(copy.deepcopy(dense), tiny_data, spec, cfg, options=opts)
    assert not far.extra["admm_converged"] and far.extra["admm_rel_residuals"][-1] > 0.1


def test_admm_halves_the_w_step_lr_once_rho_stops_growing(dense, tiny_data):
    from harness.core.errors import InputError
    from harness.train.schedules.base import check_options

    spec = PruneSpec(pattern="rows", rate=0.5)
    cfg = TrainConfig(epochs=1, batch_size=64, lr=1e-3, optimizer="adam")
    # rho 0.5, 1, 2, then 2 (at rho_max) twice: the lr halves in the last two iterations only
    opts = {"rho": 0.5, "rho_growth": 2.0, "rho_max": 2.0, "iters": 5, "tol": 0.0}
    res = SCHEDULES.get("admm")(copy.deepcopy(dense), tiny_data, spec, cfg, options=opts)
    assert res.extra["admm_rhos"] == pytest.approx([0.5, 1.0, 2.0, 2.0, 2.0])
    assert res.extra["admm_lrs"] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 2.5e-4])
    kept = SCHEDULES.get("admm")(copy.deepcopy(dense), tiny_data, spec, cfg,
                                 options={**opts, "iters": 4, "lr_decay": 1})
    assert kept.extra["admm_lrs"] == pytest.approx([1e-3] * 4)
    for bad in (0, 1.5, True, "half"):
        with pytest.raises(InputError, match=r"train\.options\.lr_decay: .*\(0, 1\]"):
            check_options("admm", {"lr_decay": bad})


def test_admm_global_scope_projects_all_layers_together(dense):
    spec = PruneSpec(pattern="unstructured", rate=0.7)
    u = {n: torch.zeros_like(dense[int(n)].weight) for n in ("1", "3", "5")}
    z, masks = z_step(dense, u, spec, {"scope": "global"})
    total = sum(m.numel() for m in masks.values())
    assert sum(int((~m).sum()) for m in masks.values()) == round(0.7 * total)
    kept = torch.cat([dense[int(n)].weight.detach()[m].abs() for n, m in masks.items()])
    gone = torch.cat([dense[int(n)].weight.detach()[~m].abs() for n, m in masks.items()])
    assert float(gone.max()) <= float(kept.min())
    assert all(torch.equal(z[n], dense[int(n)].weight.detach() * masks[n]) for n in z)


def test_forward_flops_of_linear_and_conv():
    from harness.train.flops import epoch_flops, forward_flops

    model = mlp(10, (6,), 3)
    assert forward_flops(model, (10,)) == 2 * (10 * 6 + 6 * 3)
    assert epoch_flops(model, (10,), 5) == 3 * 5 * forward_flops(model, (10,))
    conv = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 5 * 5, 3))
    assert forward_flops(conv, (2, 5, 5)) == 2 * (2 * 9 * 4 * 25) + 2 * 100 * 3


def test_group_lasso_spares_the_input_and_records_a_falling_training_cost(tiny_data):
    model = build_model("lenet300", tiny_data.in_shape, tiny_data.n_classes, seed=0)
    cfg = TrainConfig(epochs=6, batch_size=64, lr=0.05)
    res = SCHEDULES.get("group_lasso")(model, tiny_data, PruneSpec(), cfg,
                                       options={"ratio": 0.5, "interval": 1, "threshold": 0.05})
    e = res.extra
    first = next(m for m in res.model if isinstance(m, torch.nn.Linear))
    assert first.in_features == tiny_data.in_shape[0]
    assert bool((first.weight != 0).any(dim=0).all()), "no input column of the image is removed"
    assert len(e["epoch_flops"]) == len(e["epoch_s"]) == res.epochs == 6
    assert all(b <= a for a, b in zip(e["epoch_flops"], e["epoch_flops"][1:], strict=False))
    assert e["epoch_flops"][0] == e["dense_epoch_flops"]
    assert e["epoch_flops"][-1] < e["dense_epoch_flops"], "reconfiguration made it cheaper"
    assert 0 < e["train_flops_ratio"] < 1 and 0 < e["neurons_removed"] < 1
    assert all(t > 0 for t in e["epoch_s"])


def test_lr_steps_down_at_the_papers_milestones():
    from harness.train.schedules.group_lasso import lr_at

    lrs = [lr_at(e, 8, 0.1) for e in range(8)]
    assert lrs[:4] == [0.1] * 4  # milestones at 0.5 and 0.75 of 8 epochs: epochs 4 and 6
    assert lrs[4:6] == [pytest.approx(0.01)] * 2 and lrs[6:] == [pytest.approx(0.001)] * 2
    assert [lr_at(e, 8, 0.1, milestones=()) for e in range(8)] == [0.1] * 8


@pytest.mark.parametrize(("value", "expect"), [("0.5,0.75", (0.5, 0.75)), ("", ()), (0.6, (0.6,)),
                                               ([0.25, 0.5], (0.25, 0.5))])
def test_lr_milestones_from_a_suites_scalar_or_a_list(value, expect):
    from harness.train.schedules.group_lasso import lr_milestones

    assert lr_milestones(value) == expect


@pytest.mark.parametrize("value", ["half", 1.5, "0.5,2", True])
def test_bad_lr_milestones_name_the_option(value):
    from harness.core.errors import InputError
    from harness.train.schedules.group_lasso import lr_milestones

    with pytest.raises(InputError, match="lr_milestones"):
        lr_milestones(value)


def test_group_lasso_zeroes_groups_at_the_papers_threshold_on_digits():
    """lym's own threshold (1e-4, the default): a short from-scratch run on digits removes
    hidden neurons, and the reconfigured model is smaller and still accurate."""
    from harness.train.data import load_dataset
    from harness.train.models import keras_init

    data = load_dataset("digits", seed=0)
    torch.manual_seed(0)
    model = keras_init(mlp(64, (32, 32), 10))
    res = SCHEDULES.get("group_lasso")(model, data, PruneSpec(),
                                       TrainConfig(epochs=12, batch_size=32, lr=0.1),
                                       options={"interval": 2})
    e = res.extra
    assert e["neurons_removed"] > 0.1 and res.sparsity > 0.1
    assert sum(e["hidden_widths"]) < 64
    assert e["train_flops_ratio"] < 1 and e["epoch_flops"][-1] < e["dense_epoch_flops"]
    assert e["lasso_budget"] > 0.5  # the penalty could pull a unit-norm group to zero
    assert res.accuracy > 0.9


def test_conv_reconfiguration_removes_zeroed_channels_with_the_same_function():
    """The cnn's zeroed channels leave the model: unused inputs of the next layer, dead filters
    whose ReLU(bias) is 0, dead filters folded into the head's bias; a dead filter with a nonzero
    constant before a zero-padded convolution stays (no bias can stand in for it)."""
    torch.manual_seed(0)
    model = build_model("cnn", (1, 8, 8), 10, seed=0)
    conv1, conv2, fc1 = model[1], model[3], model[7]
    with torch.no_grad():
        conv1.weight[3], conv1.bias[3] = 0, -0.2  # dead, ReLU(-0.2) = 0: removed
        conv1.weight[5], conv1.bias[5] = 0, 0.3  # dead, constant 0.3 into a padded conv: kept
        conv2.weight[:, 7] = 0  # conv1's channel 7 unused by conv2: removed
        conv2.weight[2], conv2.bias[2] = 0, 0.4  # dead, folded into fc1's bias: removed
        fc1.weight[:, 9 * 16:10 * 16] = 0  # conv2's channel 9 unused by the head: removed
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 1, 8, 8)).sum().backward()
    opt.step()
    with torch.no_grad():
        conv1.weight[3], conv1.bias[3] = 0, -0.2
        conv1.weight[5], conv1.bias[5] = 0, 0.3
        conv2.weight[:, 7] = 0
        conv2.weight[2], conv2.bias[2] = 0, 0.4
        fc1.weight[:, 9 * 16:10 * 16] = 0
    small, new_opt, widths = reconfigure(model, opt)
    assert widths == [14, 30, 64]
    assert small[1].weight.shape == (14, 1, 3, 3) and small[3].weight.shape == (30, 14, 3, 3)
    assert small[7].weight.shape == (64, 30 * 16)
    x = torch.randn(16, 1, 8, 8)
    assert torch.allclose(small(x), model(x), atol=1e-5)
    buf = new_opt.state[small[3].weight]["momentum_buffer"]
    assert buf.shape == small[3].weight.shape
    from harness.train.flops import forward_flops

    assert forward_flops(small, (1, 8, 8)) < forward_flops(model, (1, 8, 8))


def test_group_lasso_reconfigures_the_cnn_at_the_papers_threshold():
    """PruneTrain on the cnn (default threshold 1e-4): conv channels are removed during
    training, so the later epochs cost fewer FLOPs, and the accuracy holds."""
    from harness.train.data import load_dataset

    data = load_dataset("digits", seed=0)
    res = SCHEDULES.get("group_lasso")(build_model("cnn", data.in_shape, 10, seed=0),
                                       data, PruneSpec(),
                                       TrainConfig(epochs=12, batch_size=32, lr=0.1),
                                       options={"interval": 2})
    e = res.extra
    conv1, conv2, _head = e["hidden_widths"]
    assert conv1 + conv2 < 16 + 32, "conv channels removed"
    assert res.model[3].weight.shape[:2] == (conv2, conv1)
    assert e["epoch_flops"][-1] < e["dense_epoch_flops"] and e["train_flops_ratio"] < 1
    assert sum(e["hidden_widths"]) == round((1 - e["neurons_removed"]) * (16 + 32 + 64))
    assert res.accuracy > 0.9


def test_rescale_multiplies_the_kept_weights_by_the_root_of_weights_over_kept(dense):
    from harness.train.schedules.base import rescale_survivors

    before = copy.deepcopy(dense)
    masks = {"1": torch.rand_like(dense[1].weight) > 0.75, "3": torch.ones_like(dense[3].weight,
                                                                                 dtype=torch.bool)}
    rescale_survivors(dense, masks)
    factor = math.sqrt(masks["1"].numel() / int(masks["1"].sum()))
    assert factor > 1.5
    assert torch.allclose(dense[1].weight, before[1].weight * factor)
    assert torch.equal(dense[3].weight, before[3].weight)  # nothing pruned: factor 1
    assert torch.equal(dense[5].weight, before[5].weight)  # no mask: untouched


def test_oneshot_rescale_option_is_recorded_and_checked(dense, tiny_data):
    from harness.core.errors import InputError
    from harness.train.schedules.base import check_options

    spec = PruneSpec(pattern="unstructured", rate=0.9)
    plain = SCHEDULES.get("oneshot")(copy.deepcopy(dense), tiny_data, spec, CFG)
    scaled = SCHEDULES.get("oneshot")(copy.deepcopy(dense), tiny_data, spec, CFG,
                                      options={"rescale": True})
    assert scaled.as_record()["rescaled"] is True and "rescaled" not in plain.as_record()
    assert scaled.as_record()["loss_before"] != plain.as_record()["loss_before"]
    with pytest.raises(InputError, match=r"train\.options\.rescale.*true or false"):
        check_options("oneshot", {"rescale": "yes"})
