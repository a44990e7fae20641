"""One Pareto front: the terminal's table, the directions stored with the study and run, and the
report's filled points agree, whatever order the suite lists its objectives in and whichever way
it optimises each (a suite may maximise the pruning rate)."""

from __future__ import annotations

import pytest
from tune_helpers import TINY, write_suite

from harness.core.point import Point
from harness.report.data import from_store
from harness.store import open_store
from harness.tune.run import TuneOptions, tune

REVERSED = "objectives: [pruning_rate, speedup]"
MAX_RATE = ("objectives: [{name: speedup, direction: maximize}, "
            "{name: pruning_rate, direction: maximize}]")


TWO_SHAPES = "shape: [[64, 96, 8], [32, 48, 4]]"


def _brute_front(rows: list[tuple[str, str, tuple[float, ...]]], directions: list[str]
                 ) -> set[str]:
    """Keys of the rows no other row of the same problem dominates (O(n²) reference,
    independent of harness); a row is (key, problem, values)."""
    sign = [1.0 if d == "minimize" else -1.0 for d in directions]
    mins = [(k, prob, [s * v for s, v in zip(sign, vals, strict=True)]) for k, prob, vals in rows]
    return {k for k, prob, a in mins
            if not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a
                       for _, other, b in mins if other == prob)}


@pytest.mark.parametrize(("objectives", "names", "directions", "shapes"), [
    (REVERSED, ["pruning_rate", "speedup"], ["minimize", "maximize"], None),
    (MAX_RATE, ["speedup", "pruning_rate"], ["maximize", "maximize"], None),
    # two problems: each point is compared with those of its own dense baseline only
    ("objectives: [speedup, pruning_rate]", ["speedup", "pruning_rate"],
     ["maximize", "minimize"], TWO_SHAPES),
])
def test_terminal_store_and_report_share_one_front(tmp_path, monkeypatch, objectives, names,
                                                   directions, shapes):
    monkeypatch.chdir(tmp_path)
    from harness.tune import run as tune_run

    monkeypatch.setattr(tune_run, "_report", lambda *a: None)  # the front is read below instead
    text = TINY.replace("objectives: [speedup, pruning_rate]", objectives)
    if shapes:
        text = text.replace("shape: [64, 96, 8]", shapes).replace("trials: 6", "trials: 12")
    suite = write_suite(tmp_path, text)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    result = tune(TuneOptions(suite=str(suite), storage=url, quiet=True))
    terminal = {Point.from_dict(r.point).key() for r in result.front}
    assert terminal, "the study has no front"
    assert all(r.names == tuple(names) for r in result.front)

    store = open_store(url)
    try:
        run = store.runs(kind="tune")[0]
        assert (run.config["objectives"], run.config["directions"]) == (names, directions)
        data = from_store(store, study=result.study)
        assert data.objectives == tuple(zip(names, directions, strict=True))
        report = {m.point.key() for m in data.front}
        assert all(data.on_front(m) == (m.point.key() in report) for m in data.timed)
        value = {"speedup": lambda m: m.speedup, "pruning_rate": lambda m: m.point.prune.rate}
        rows = [(m.point.key(), m.point.baseline().key(), tuple(value[n](m) for n in names))
                for m in data.timed]
    finally:
        store.close()
    assert terminal == report == _brute_front(rows, directions)
    if shapes:  # both problems were measured and each has its own front
        assert len({m.point.shape for m in data.timed}) == 2
        assert {m.point.shape for m in data.front} == {m.point.shape for m in data.timed}
    for r in result.front:  # the rows' values are the stored measurements', by name
        m = next(m for m in data.timed if m.point.key() == Point.from_dict(r.point).key())
        assert r.value("speedup") == pytest.approx(m.speedup)
        assert r.value("pruning_rate") == pytest.approx(m.point.prune.rate)


def test_a_selection_without_a_stored_tune_run_takes_the_registry_defaults():
    from harness.report.data import DEFAULT_OBJECTIVES, stored_objectives
    from harness.store.api import RunRow

    def run(i: int, kind: str, config: dict) -> RunRow:
        return RunRow(i, kind, "s", None, None, "finished", f"2026-01-0{i}", None, config, {})

    assert stored_objectives([]) == DEFAULT_OBJECTIVES == (("speedup", "maximize"),
                                                           ("pruning_rate", "minimize"))
    assert stored_objectives([run(1, "bench", {})]) == DEFAULT_OBJECTIVES
    tuned = [run(2, "tune", {"objectives": ["energy", "speedup"],
                             "directions": ["minimize", "maximize"]}),
             run(1, "tune", {"objectives": ["speedup"], "directions": ["maximize"]})]
    assert stored_objectives(tuned) == (("energy", "minimize"), ("speedup", "maximize"))
