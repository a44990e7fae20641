"""The training stage's choice of configurations: the front's best, then the Fig. 4 series."""

from __future__ import annotations

from harness.config.suite import loads_suite
from harness.core.point import Point, PruneSpec
from harness.tune.front import FrontRow
from harness.tune.train_stage import candidates, fig4_series, flatten

SUITE = """\
name: t
space:
  shape: [64, 64, 8]
  pruning_rate: {low: 0.8, high: 0.98, step: 0.02}
  group_size: [1, 4, 16]
  pattern: row_group
  format: csr
"""

OBJ = ("speedup", "pruning_rate")


def _row(rate: float, g: int, speedup: float, trial: int) -> FrontRow:
    p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", rate, g))
    return FrontRow(trial, p.label(), (speedup, rate), trial * 10, p.as_dict(), OBJ)


def test_candidates_dedupe_by_pruning_and_rank_by_speedup():
    front = [_row(0.9, 4, 1.5, 1), _row(0.98, 16, 3.0, 2), _row(0.9, 4, 1.7, 3),
             _row(0.8, 1, 0.9, 4)]
    chosen = candidates(front, limit=2)
    assert [(c[0].rate, c[0].group_size, c[1], c[2]) for c in chosen] == [
        (0.98, 16, 3.0, 20), (0.9, 4, 1.7, 30)]


def test_candidates_read_the_speedup_by_name_whatever_the_objectives_order():
    p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 4))
    q = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.98, 16))
    reverse = [FrontRow(1, p.label(), (0.9, 1.5), 10, p.as_dict(), ("pruning_rate", "speedup")),
               FrontRow(2, q.label(), (0.98, 3.0), 20, q.as_dict(), ("pruning_rate", "speedup"))]
    assert [(c[0].rate, c[1]) for c in candidates(reverse, limit=2)] == [(0.98, 3.0), (0.9, 1.5)]
    no_speedup = [FrontRow(1, p.label(), (0.9, 2e-3), 10, p.as_dict(), ("pruning_rate", "energy"))]
    assert [(c[0].rate, c[1]) for c in candidates(no_speedup, limit=2)] == [(0.9, None)]


def test_fig4_series_uses_every_group_size_at_the_rate_nearest_90_percent():
    suite = loads_suite(SUITE)
    series = fig4_series(suite.space)
    assert [(s.rate, s.group_size, s.pattern) for s in series] == [
        (0.9, 1, "row_group"), (0.9, 4, "row_group"), (0.9, 16, "row_group")]
    unstructured = loads_suite(SUITE.replace("pattern: row_group", "pattern: unstructured"))
    assert fig4_series(unstructured.space) == []


def test_flatten_gives_the_report_keys():
    rec = {"kind": "candidate", "accuracy": 0.9,
           "prune": {"pattern": "row_group", "rate": 0.9, "group_size": 8, "aggregation": "rms",
                     "block": [1, 1], "nm": [2, 4], "seed": 0}}
    flat = flatten(rec)
    assert flat["dense"] is False and flat["pruning_rate"] == 0.9 and flat["group_size"] == 8
    assert flatten({"kind": "dense", "prune": None})["dense"] is True


def test_every_trained_configuration_gets_a_measured_kernel():
    """The Fig. 4 series is trained without a front measurement: it is looked up in the study's
    stored measurements, else measured, so a model within budget can be recommended."""
    from types import SimpleNamespace

    from harness.core.measurement import Measurement
    from harness.tune.train_stage import time_untimed

    suite = loads_suite(SUITE.replace("format: csr", "format: [csr, row_group]"))
    front = [_row(0.98, 16, 3.0, 2)]
    stored_point = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 4))
    stored = Measurement(stored_point, "ok", speedup=1.8, speedup_ci=(1.7, 1.9))
    added: list = []

    class Store:
        def measurements(self, study=None):
            return [SimpleNamespace(measurement=stored, id=7)] if study == "s" else []

        def add_measurement(self, run_id, m, context_key=None):
            added.append(m)
            return 100 + len(added)

    asked: list = []

    def measure(points):
        asked.extend(points)
        return [Measurement(p, "ok", speedup=(2.5 if p.prune.group_size == 16 else 1.0)
                            if p.format == "row_group" else 2.0, speedup_ci=(1.0, 3.0))
                for p in points]

    recs = [flatten({"kind": "pruned", "status": "ok", "accuracy": 0.9,
                     "prune": {"pattern": "row_group", "rate": r, "group_size": g,
                               "aggregation": "rms"}}) for r, g in ((0.9, 4), (0.9, 16))]
    recs.append(flatten({"kind": "dense", "status": "ok", "accuracy": 0.95}))
    out = time_untimed(suite, Store(), 1, front, recs, device="cpu", study="s",
                       measure=measure)
    # g=4: csr was stored in the study (1.8×), row_group is measured now (1.0×): the best counts
    assert {(p.format, p.prune.group_size) for p in asked} == {
        ("row_group", 4), ("csr", 16), ("row_group", 16)}
    assert (out[0]["speedup"], out[0]["measurement_id"]) == (1.8, 7)
    assert (out[1]["speedup"], out[1]["measurement_id"]) == (2.5, 103)  # the faster format
    assert "speedup" not in out[2] and len(added) == 3


def test_the_decision_compares_with_the_fastest_dense_dtype_stored_with_the_measurement(
        tmp_path):
    from harness.core.measurement import Measurement
    from harness.store import open_store
    from harness.tune.train_stage import decide_and_store

    suite = loads_suite(SUITE + "train: {model: fc, dataset: digits}\n", "t.yaml")
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        run = store.begin_run("tune", "t", config={}, provenance={})
        p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 4))
        counters = {"dense_alt.bfloat16.speedup": 4.0, "dense_alt.fastest": "bfloat16",
                    "dense_alt.fastest_speedup": 4.0}
        mid = store.add_measurement(run, Measurement(p, "ok", speedup=2.0, speedup_ci=(2, 2),
                                                     counters=counters))
        bare = store.add_measurement(run, Measurement(p.baseline(), "ok", speedup=1.0))
        dense = {"dense": True, "accuracy": 0.96, "status": "ok"}
        rec = flatten({"kind": "pruned", "prune": {"pattern": "row_group", "rate": 0.9,
                                                   "group_size": 4}, "accuracy": 0.958,
                       "status": "ok", "speedup": 2.0, "measurement_id": mid})
        d = decide_and_store(suite, store, run, [], [dense, rec])
        assert d["dense_alternative"] == {"dtype": "bfloat16", "speedup": 4.0}
        assert d["rows"][0]["vs_fastest_dense"] == 0.5
        d = decide_and_store(suite, store, run, [], [dense, {**rec, "measurement_id": bare}])
        assert d["dense_alternative"] is None and d["rows"][0]["vs_fastest_dense"] is None
        # another Bench timed the same problem's bf16 at 2.0: every row of the problem is
        # compared with one value, the median (3.0), not each with its own Bench's
        q = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.5, 4))
        other = store.add_measurement(run, Measurement(
            q, "ok", speedup=1.5, speedup_ci=(1.5, 1.5),
            counters={**counters, "dense_alt.fastest_speedup": 2.0}))
        rec2 = flatten({"kind": "pruned", "prune": {"pattern": "row_group", "rate": 0.5,
                                                    "group_size": 4}, "accuracy": 0.959,
                        "status": "ok", "speedup": 1.5, "measurement_id": other})
        d = decide_and_store(suite, store, run, [], [dense, rec, rec2])
        assert d["dense_alternative"] == {"dtype": "bfloat16", "speedup": 3.0}
        vs = sorted(r["vs_fastest_dense"] for r in d["rows"])
        assert vs == [0.5, 2.0 / 3.0]
    finally:
        store.close()


def test_the_decision_rows_carry_the_linked_measurements_speedup_ci(tmp_path):
    """Trained rows and the front's untrained configurations get their measurement's 95 % CI,
    stored with the decision and shown as "2.29x [2.20, 2.41]"."""
    from harness.answers import format_answer, stored_decision
    from harness.core.measurement import Measurement
    from harness.store import open_store
    from harness.tune.train_stage import decide_and_store

    suite = loads_suite(SUITE + "train: {model: fc, dataset: digits}\n", "t.yaml")
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        run = store.begin_run("tune", "t", config={}, provenance={})
        p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 4))
        q = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.98, 16))
        mid = store.add_measurement(run, Measurement(p, "ok", speedup=2.29,
                                                     speedup_ci=(2.2, 2.41)))
        qid = store.add_measurement(run, Measurement(q, "ok", speedup=5.0, speedup_ci=(4.5, 5.5)))
        dense = {"dense": True, "accuracy": 0.96, "status": "ok"}
        rec = flatten({"kind": "candidate", "prune": {"pattern": "row_group", "rate": 0.9,
                                                      "group_size": 4}, "accuracy": 0.958,
                       "status": "ok", "speedup": 2.29, "measurement_id": mid})
        front = [FrontRow(1, q.label(), (5.0, 0.98), qid, q.as_dict(), OBJ)]
        decide_and_store(suite, store, run, front, [dense, rec])
        d = stored_decision(store.train_results(run_id=run))  # as stored (JSON)
    finally:
        store.close()
    cis = {r["label"]: (r["speedup_ci"], r["status"]) for r in d["rows"]}
    assert cis == {"row_group g=4 at 90%": ([2.2, 2.41], "ok"),
                   "row_group g=16 at 98%": ([4.5, 5.5], "not trained")}
    text = format_answer(d)
    assert "2.29x [2.20, 2.41]" in text and "5.00x [4.50, 5.50]" in text
