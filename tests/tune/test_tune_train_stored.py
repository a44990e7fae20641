"""Training results are stored per candidate as each finishes, not when all are done."""

from __future__ import annotations

import pytest

from harness.config.suite import loads_suite
from harness.core.point import Point, PruneSpec
from harness.tune.front import FrontRow
from harness.tune.train_stage import run_training

SUITE = """\
name: t
space: {shape: [64, 64, 8], pruning_rate: [0.5, 0.9], group_size: [1, 4], pattern: row_group,
        format: csr}
train: {model: fc, dataset: synthetic, pretrain_epochs: 1, finetune_epochs: 1}
"""


class Store:
    def __init__(self):
        self.rows = []

    def add_train_result(self, run_id, record):
        self.rows.append((run_id, dict(record)))


def _front():
    rows = []
    for i, (rate, g, speedup) in enumerate([(0.9, 4, 2.0), (0.5, 1, 1.2)]):
        p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", rate, g))
        rows.append(FrontRow(i, p.label(), (speedup, rate), 100 + i, p.as_dict(),
                            ("speedup", "pruning_rate")))
    return rows


def _fake_training(stop_after: int | None):
    def train(spec, prunes, *, device, budget_s, seed, progress):
        dense = {"kind": "dense", "prune": None, "accuracy": 0.95, "status": "ok"}
        out = [dense]
        for i, p in enumerate(prunes):
            if stop_after is not None and i == stop_after:
                raise KeyboardInterrupt  # killed while training the next candidate
            rec = {"kind": "candidate", "status": "ok", "accuracy": 0.9 - i / 100,
                   "prune": {"pattern": p.pattern, "rate": p.rate, "group_size": p.group_size,
                             "aggregation": p.aggregation, "block": list(p.block),
                             "nm": list(p.nm)}}
            out.append(rec)
            progress(i + 1, len(prunes), rec)
        return out
    return train


def test_each_candidate_is_stored_when_it_finishes(monkeypatch):
    import harness.train.stage as stage

    monkeypatch.setattr(stage, "train_candidates", _fake_training(stop_after=2))
    store = Store()
    with pytest.raises(KeyboardInterrupt):
        run_training(loads_suite(SUITE), store, 7, _front(), device="cpu", say=lambda s: None)
    assert len(store.rows) == 2  # the two finished before the interruption were kept
    assert [r[1]["pruning_rate"] for r in store.rows] == [0.9, 0.5]
    assert store.rows[0][1]["speedup"] == 2.0 and store.rows[0][1]["measurement_id"] == 100
    assert {r[0] for r in store.rows} == {7}


def test_a_finished_stage_stores_every_record_once(monkeypatch):
    import harness.train.stage as stage

    monkeypatch.setattr(stage, "train_candidates", _fake_training(stop_after=None))
    store = Store()
    out = run_training(loads_suite(SUITE), store, 7, _front(), device="cpu",
                       say=lambda s: None)
    stored = [r[1] for r in store.rows]
    assert stored[-1]["dense"] is True and stored[-1]["speedup"] == 1.0
    assert len(stored) == len(out) == 1 + len({(r["pruning_rate"], r["group_size"])
                                               for r in stored if not r["dense"]})
    assert sorted(map(repr, stored)) == sorted(map(repr, out))
