"""A second tune of the same suite reuses the models the first trained; a changed `train:`
section or --fresh trains again."""

from __future__ import annotations

import pytest
from tune_helpers import TINY, write_suite

from harness.cli.main import main
from harness.store import open_store

TRAIN = """\
train: {model: fc, dataset: digits, schedule: oneshot, pretrain_epochs: 1, finetune_epochs: 1,
        candidates: 2, batch_size: 128}
"""


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """Run `harness tune` (suite text, extra flags) → (PruneSpecs trained, stderr, the run's
    training records)."""
    import harness.train.stage as stage

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    calls: list = []
    real = stage._train_one

    def counting(*args, **kw):
        calls.append(args[4])  # the PruneSpec trained
        return real(*args, **kw)

    monkeypatch.setattr(stage, "_train_one", counting)

    def run(text: str, *flags: str, capsys) -> tuple[list, str, list[dict]]:
        calls.clear()
        suite = write_suite(tmp_path, text)
        assert main(["tune", str(suite), "--storage", url, "-o", str(tmp_path / "r"),
                     *flags]) == 0
        err = capsys.readouterr().err
        store = open_store(url)
        try:
            last = max(r.id for r in store.runs(kind="tune"))
            records = store.train_results(run_id=last)
        finally:
            store.close()
        return list(calls), err, records

    return run


def _configs(records: list[dict], **match) -> set[tuple]:
    return {(r["pruning_rate"], r["group_size"]) for r in records if r["kind"] == "candidate"
            and all(r.get(k) == v for k, v in match.items())}


@pytest.mark.timeout(600)
def test_a_second_run_trains_nothing_again_a_changed_spec_and_fresh_do(trained, capsys):
    calls1, _, first = trained(TINY + TRAIN, capsys=capsys)
    assert calls1 and not any(r.get("reused") for r in first)
    # the second run measures new points: its front may bring a configuration not trained yet
    calls2, err, second = trained(TINY + TRAIN, capsys=capsys)
    again = _configs(second) & _configs(first)
    assert again, "the second run's front shares no configuration with the first"
    assert not {(p.rate, p.group_size) for p in calls2} & again, "a model was trained again"
    assert _configs(second, reused=True) == again
    assert "reused (run 1)" in err
    acc = {(r["pruning_rate"], r["group_size"]): r["accuracy"] for r in first
           if r["kind"] == "candidate"}
    assert all(r["accuracy"] == acc[(r["pruning_rate"], r["group_size"])] for r in second
               if r.get("reused") and not r["dense"])
    assert sum(r["kind"] == "decision" for r in second) == 1  # the answer is decided again

    # another training (epochs) of the same configurations: every one trained, none reused
    calls3, err, third = trained(TINY + TRAIN.replace("finetune_epochs: 1", "finetune_epochs: 2"),
                                 capsys=capsys)
    assert len(calls3) == len(_configs(third)) and not _configs(third, reused=True)
    assert "reused" not in err

    calls4, _, fresh = trained(TINY + TRAIN, "--fresh", capsys=capsys)
    assert len(calls4) == len(_configs(fresh)) and not any(r.get("reused") for r in fresh)


SUITE = """\
name: t
space: {shape: [64, 64, 8], pruning_rate: [0.5, 0.9], group_size: [4], pattern: row_group,
        format: csr}
train: {model: fc, dataset: synthetic, pretrain_epochs: 1, finetune_epochs: 1}
"""


class Store:
    """The store's training records of one study, and what this run adds."""

    def __init__(self, earlier):
        self.earlier, self.added = earlier, []

    def train_results(self, study=None):
        return list(self.earlier) if study == "s" else []

    def add_train_result(self, run_id, record):
        self.added.append(dict(record))


def _front():
    from harness.core.point import Point, PruneSpec
    from harness.tune.front import FrontRow

    p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 4))
    return [FrontRow(0, p.label(), (2.0, 0.9), 100, p.as_dict(), ("speedup", "pruning_rate"))]


def _earlier(suite, **extra):
    """What a first run stored for the front's configuration and the dense model."""
    from harness.core.point import Point
    from harness.train.stage import planned
    from harness.tune.train_stage import flatten

    spec = Point.from_dict(_front()[0].point).prune
    cand = flatten({**planned(suite.train, spec, seed=suite.seed), "status": "ok",
                    "accuracy": 0.93, "epochs": 1, "id": 5, "run_id": 1, "speedup": 9.9,
                    "measurement_id": 1, **extra})
    dense = flatten(dict(planned(suite.train, None, seed=suite.seed), status="ok",
                         accuracy=0.95, epochs=1, id=4, run_id=1))
    return [dense, cand]


@pytest.mark.parametrize(("case", "retrained"), [
    ("same", 0), ("fresh", 1), ("budget_cut", 1), ("other_training", 1), ("failed", 1),
    ("other_code", 1)])
def test_only_a_finished_record_of_the_same_training_is_reused(monkeypatch, case, retrained):
    import dataclasses

    import harness.train.stage as stage
    from harness.config.suite import loads_suite
    from harness.tune.train_stage import run_training

    suite = loads_suite(SUITE)
    earlier = _earlier(suite, **({"budget_cut": True} if case == "budget_cut" else {}),
                       **({"status": "unsupported: x"} if case == "failed" else {}),
                       **({"training_code": "0" * 16} if case == "other_code" else {}))
    trained: list = []

    def fake(spec, prunes, *, device, budget_s, seed, progress):
        trained.extend(prunes)
        return [dict(stage.planned(spec, None, seed=seed), status="ok", accuracy=0.95)] + [
            dict(stage.planned(spec, p, seed=seed), status="ok", accuracy=0.9) for p in prunes]

    monkeypatch.setattr(stage, "train_candidates", fake)
    if case == "other_training":  # the same configuration, trained with another lr
        suite = dataclasses.replace(suite, train=dataclasses.replace(suite.train, lr=0.01))
    store = Store(earlier)
    out = run_training(suite, store, 2, _front(), device="cpu", say=lambda s: None, study="s",
                       fresh=case == "fresh")
    assert len(trained) == retrained
    cand = next(r for r in out if not r["dense"])
    if retrained:
        assert not cand.get("reused") and cand["accuracy"] == 0.9
    else:
        assert cand["reused"] and cand["reused_from"] == {"run_id": 1, "id": 5}
        assert cand["accuracy"] == 0.93 and (cand["speedup"], cand["measurement_id"]) == (2.0, 100)
        assert all(r["reused"] for r in out) and "id" not in cand  # the dense model too
        from harness.tune.train_stage import copy_reused

        again = copy_reused({**cand, "id": 9, "run_id": 2})  # reused once more by a third run
        assert again["reused_from"] == {"run_id": 1, "id": 5}  # still the run that trained it
    assert sorted(map(repr, store.added)) == sorted(map(repr, out))


def test_a_training_is_marked_cut_only_when_the_budget_stopped_it():
    """A schedule that found its deadline passed (and stopped) is `budget_cut`; one that ran all
    its epochs and merely ended after the deadline is not, so it can be reused."""
    import time
    from types import SimpleNamespace

    from harness.core.point import PruneSpec
    from harness.train.stage import Deadline, _train_one

    def schedule(stops: bool):
        def run(model, data, prune, cfg, *, deadline, **_):
            time.sleep(0.02)  # past the deadline either way
            if stops and time.perf_counter() > deadline:
                pass  # the trainer would break here: an epoch left out
            return SimpleNamespace(as_record=lambda: {"accuracy": 0.9, "epochs": 1})
        return run

    spec = SimpleNamespace(schedule="oneshot", pretrain_epochs=1)
    for stops, cut in ((True, True), (False, False)):
        deadline = Deadline(time.perf_counter() + 0.001)
        rec = _train_one(schedule(stops), spec, object(), None, PruneSpec("row_group", 0.9, 4),
                         None, {}, {}, {}, "cpu", 0, deadline, skip=False)
        assert rec["status"] == "ok" and rec.get("budget_cut", False) is cut
    own = Deadline(1.0)
    assert own > 0 and not own.passed  # its own comparisons never mark it
    d = Deadline(time.perf_counter() + 60)
    assert not time.perf_counter() > d and not d.passed
