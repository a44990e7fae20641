from __future__ import annotations

from types import SimpleNamespace

import optuna
import pytest
import torch

from harness.core.point import Point, PruneSpec
from harness.train.models import build_model
from harness.train.speed import model_speedup
from harness.train.stage import train_candidates
from harness.tune.train_objective import objective_for_optuna


def _spec(**kw):
    base = dict(model="lenet300", dataset="synthetic", data_path=None, schedule="oneshot",
                pretrain_epochs=2, finetune_epochs=1, batch_size=64, lr=0.05, optimizer="sgd",
                candidates=None, budget_s=None, options={})
    base.update(kw)
    return SimpleNamespace(**base)


def test_train_candidates_records(monkeypatch):
    # keep the synthetic data tiny through the registry's defaults
    from harness.train import data as data_mod

    real = data_mod.DATASETS.get("synthetic")
    monkeypatch.setitem(data_mod.DATASETS._items, "synthetic",
                        lambda **kw: real(n=300, features=12, n_classes=3, **kw))
    prune = PruneSpec(pattern="row_group", rate=0.75, group_size=4)
    p1 = Point(m=300, k=12, n=8, format="csr", backend="torch", prune=prune)
    p2 = Point(m=300, k=12, n=8, format="dense", backend="torch", prune=prune)  # same pruning
    bad = PruneSpec(pattern="nm", rate=0.3, nm=(2, 4))
    seen = []
    recs = train_candidates(_spec(), [p1, p2, PruneSpec(rate=0.5), bad], device="cpu", seed=0,
                            progress=lambda i, n, r: seen.append((i, n)))
    assert [r["kind"] for r in recs] == ["dense"] + ["candidate"] * 4
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    dense, c1, c2, c3, c4 = recs
    assert dense["sparsity"] == 0.0 and 0 <= dense["accuracy"] <= 1
    assert c1["status"] == "ok" and c1["point_key"] == p1.key() and c1["prune"]["group_size"] == 4
    assert c1["accuracy"] == c2["accuracy"] and c2["point"]["format"] == "dense"
    assert c1["sparsity"] == pytest.approx(0.75, abs=0.01)
    assert c3["prune"]["pattern"] == "unstructured" and c3["epochs"] == 1
    assert c4["status"].startswith("unsupported:") and c4["accuracy"] is None
    # zero budget: candidates are skipped, the dense record (cached) is still there
    recs = train_candidates(_spec(), [PruneSpec(rate=0.3)], budget_s=0.0)
    assert recs[0]["cached"] is True and recs[1]["status"].startswith("skipped")


def _study(pruner, spec):
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective_for_optuna(spec, group_sizes=(1, 4)), n_trials=2)
    return study


def test_optuna_objective_reports_and_prunes():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = _spec(finetune_epochs=2)
    done = _study(optuna.pruners.NopPruner(), spec)
    t = done.trials[0]
    assert t.state == optuna.trial.TrialState.COMPLETE and 0 <= t.value <= 1
    assert sorted(t.intermediate_values) == [1, 2] and "sparsity" in t.user_attrs
    pruned = _study(optuna.pruners.ThresholdPruner(lower=1.5), spec)  # any accuracy < 1.5
    assert all(t.state == optuna.trial.TrialState.PRUNED for t in pruned.trials)
    assert all(list(t.intermediate_values) == [1] for t in pruned.trials)


def test_model_speedup_checks_outputs_then_times():
    model = build_model("lenet300", (16,), 4, seed=0)
    masks = {"1": torch.rand(300, 16) > 0.9, "3": torch.rand(100, 300) > 0.9}
    x = torch.randn(8, 16)
    out = model_speedup(model, masks, x, repeats=3)
    assert out["valid"] and out["speedup"] > 0 and out["rounds"] >= 3, out
    assert out["max_abs_err"] < 1e-4
    bad = model_speedup(model, masks, x, kernel="no_such_kernel", repeats=3)
    assert bad["valid"] is False and "no_such_kernel" in bad["error"]


@pytest.mark.gpu
def test_cuda_path_is_the_cpu_code(tiny_data):
    """Same schedule and cache code on CUDA: masks hold and the cached model loads to the GPU."""
    from harness.train.schedules import SCHEDULES
    from harness.train.trainer import TrainConfig, pretrain

    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05)
    dense, _ = pretrain("lenet300", tiny_data, cfg, device="cuda")
    again, rec = pretrain("lenet300", tiny_data, cfg, device="cuda")
    assert rec["cached"] and next(again.parameters()).is_cuda
    res = SCHEDULES.get("oneshot")(dense, tiny_data, PruneSpec(pattern="row_group", rate=0.8,
                                                                group_size=4), cfg, device="cuda")
    for name, mask in res.masks.items():
        w = res.model.get_submodule(name).weight
        assert w.is_cuda and torch.all(w[~mask.to(w.device)] == 0)


def test_stage_passes_scope_overrides_and_model_options(monkeypatch):
    from harness.core.errors import InputError
    from harness.train import data as data_mod

    real = data_mod.DATASETS.get("synthetic")
    monkeypatch.setitem(data_mod.DATASETS._items, "synthetic",
                        lambda **kw: real(n=300, features=12, n_classes=3, **kw))
    spec = _spec(model="fc", pretrain_epochs=4, batch_size=32,
                 options={"scope": "global", "rate.15": None, "input_layer": True})
    dense, rec = train_candidates(spec, [PruneSpec(rate=0.8)], seed=0)
    assert dense["model_options"] == {"input_layer": True} and dense["signal_died"] is False
    assert rec["status"] == "ok" and 0 <= rec["accuracy_before"] <= 1
    assert isinstance(rec["signal_died"], bool)
    # fc with the input layer: 8 weight layers, the last (15) left dense by its override
    pruned = rec["sparsity"]
    assert 0.7 < pruned < 0.9
    with pytest.raises(InputError, match=r"train.options.scope"):
        train_candidates(_spec(options={"scope": "model"}), [PruneSpec(rate=0.5)])


def test_a_bad_schedule_option_is_refused_before_any_training(monkeypatch):
    from harness.core.errors import InputError
    from harness.train import stage

    def no_training(*a, **k):
        raise AssertionError("the options are checked before the dense model is trained")

    monkeypatch.setattr(stage, "prepare", no_training)
    spec = _spec(schedule="group_lasso", options={"lr_milestones": "half"})
    with pytest.raises(InputError, match=r"train.options.lr_milestones"):
        train_candidates(spec, [PruneSpec(rate=0.5)])
    with pytest.raises(InputError, match=r"train.options.lr_milestones"):
        stage.trial_objective(spec, pruned=RuntimeError)
