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


def _brute_front(rows: list[tuple[str, tuple[float, ...]]], directions: list[str]) -> set[str]:
    """Keys of the rows no other row dominates (O(n²) reference, independent of harness)."""
    sign = [1.0 if d == "minimize" else -1.0 for d in directions]
    mins = [(k, [s * v for s, v in zip(sign, vals, strict=True)]) for k, vals in rows]
    return {k for k, a in mins
            if not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a
                       for _, b in mins)}


@pytest.mark.parametrize(("objectives", "names", "directions"), [
    (REVERSED, ["pruning_rate", "speedup"], ["minimize", "maximize"]),
    (MAX_RATE, ["speedup", "pruning_rate"], ["maximize", "maximize"]),
])
def test_terminal_store_and_report_share_one_front(tmp_path, monkeypatch, objectives, names,
                                                   directions):
    monkeypatch.chdir(tmp_path)
    from harness.tune import run as tune_run

    monkeypatch.setattr(tune_run, "_report", lambda *a: None)  # the front is read below instead
    suite = write_suite(tmp_path, TINY.replace("objectives: [speedup, pruning_rate]", objectives))
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
        rows = [(m.point.key(), tuple(value[n](m) for n in names)) for m in data.timed]
    finally:
        store.close()
    assert terminal == report == _brute_front(rows, directions)
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
