"""`harness tune` end to end on CPU with SQLite: trials, links to measurements, resume, reuse,
failures recorded, report written."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from tune_helpers import TINY, write_suite

from harness.cli.main import main
from harness.store import open_store


def _study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    return suite, url, tmp_path


def test_tune_runs_links_trials_and_writes_report(env):
    suite, url, tmp = env
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp / "rep")]) == 0
    study = _study(url, "tiny-cpu")
    # --trials counts newly measured points; repeats of this study's points do not
    assert sum(bool(t.user_attrs.get("new")) for t in study.trials) == 6
    keys = [t.user_attrs["point_key"] for t in study.trials if "measurement_id" in t.user_attrs]
    assert len(keys) == len(set(keys)), "a point of the study was measured or reused twice"
    store = open_store(url)
    try:
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert done, "no completed trial"
        for t in done:
            stored = store.get_measurement(t.user_attrs["measurement_id"])
            m = stored.measurement
            assert m.status == "ok" and m.verified
            assert m.point.key() == t.user_attrs["point_key"]
            assert t.values[0] == pytest.approx(m.speedup)
            assert t.values[1] == pytest.approx(m.point.prune.rate)
        runs = store.runs(kind="tune")
        assert [r.status for r in runs] == ["finished"]
    finally:
        store.close()
    html = (tmp / "rep" / "index.html").read_text()
    assert "Pareto" in html and "tiny" in html


def test_rerun_continues_the_study_and_reuses_measurements(env):
    suite, url, tmp = env
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp / "r")]) == 0
    store = open_store(url)
    first = len(store.measurements())
    measured_keys = {sm.measurement.point.key() for sm in store.measurements()}
    store.close()
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp / "r")]) == 0
    study = _study(url, "tiny-cpu")
    # the same study, continued: 12 new points in all (the whole grid), no point twice
    assert sum(bool(t.user_attrs.get("new")) for t in study.trials) == 12
    store = open_store(url)
    try:
        later = store.measurements()
        keys = [sm.measurement.point.key() for sm in later]
        assert len(keys) == len(set(keys)), "a point was measured twice in one context"
        reused = [t for t in study.trials[6:] if t.user_attrs.get("reused")]
        for t in reused:
            assert t.user_attrs["point_key"] in measured_keys | set(keys)
        # the second run measured only the points the first had not seen
        assert len(later) - first == len(set(keys) - measured_keys)
    finally:
        store.close()


def test_fresh_starts_a_new_study_and_measures_again(env):
    suite, url, tmp = env
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp / "r")]) == 0
    assert main(["tune", str(suite), "--storage", url, "--quiet", "--fresh",
                 "-o", str(tmp / "r")]) == 0
    names = [s.study_name for s in optuna.get_all_study_summaries(url)]
    assert "tiny-cpu" in names and len(names) == 2
    fresh = _study(url, next(n for n in names if n != "tiny-cpu"))
    assert not any(t.user_attrs.get("reused") for t in fresh.trials)


def test_failed_and_pruned_trials_record_reasons_and_the_study_goes_on(env, tmp_path, capsys):
    # bsr with a 16x16 block on a 64x96 weight is fine, but blocked by a constraint here;
    # semi_structured cannot run on CPU: unsupported → pruned with the reason
    text = TINY.replace("format: [csr, coo]", "format: [csr, semi_structured]").replace(
        "tuner: {sampler: random, trials: 6, options: {seed: 0}}",
        "tuner: {sampler: random, trials: 8, options: {seed: 1}}\n"
        "constraints:\n  - exclude: {format: csr, pruning_rate: 0.75}\n")
    suite = write_suite(tmp_path, text, "mixed.yaml")
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp_path / "r")]) == 0
    study = _study(url, "tiny-cpu")
    # 8 asked, but only 4 points are feasible (csr at 75 % is excluded, semi_structured cannot
    # run on CPU): every feasible point is measured once, no proposal is wasted on the rest or
    # on a repeat, and the shortfall is said in one line
    assert sum(bool(t.user_attrs.get("new")) for t in study.trials) == 4
    assert len(study.trials) == 4
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}
    assert "4 of 8 new points measured" in capsys.readouterr().err
    # the grid sampler enumerates the whole space by name: what cannot run is pruned, with why
    grid = text.replace("sampler: random", "sampler: grid").replace("trials: 8", "trials: null")
    suite = write_suite(tmp_path, grid, "grid.yaml")
    url = f"sqlite:///{tmp_path / 'g.db'}"
    assert main(["tune", str(suite), "--storage", url, "--quiet", "-o", str(tmp_path / "r")]) == 0
    study = _study(url, "tiny-cpu")
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.user_attrs["reason"].startswith(("constraint:", "unsupported:"))
                          for t in pruned)
    assert sum(bool(t.user_attrs.get("new")) for t in study.trials) == 4  # and the study went on


def test_bad_tuner_profile_is_exit_2_and_stores_nothing(env):
    suite, url, tmp = env
    bad = tmp / "bad.yaml"
    bad.write_text("sampler: annealing\n")
    assert main(["tune", str(suite), "--storage", url, "--tuner", str(bad)]) == 2
    assert not (tmp / "h.db").exists()


def test_grid_tuner_visits_every_point_of_a_stepped_range_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = TINY.replace("pruning_rate: [0.5, 0.75, 0.9]",
                        "pruning_rate: {low: 0.5, high: 0.9, step: 0.2}")
    suite = write_suite(tmp_path, text, "stepped.yaml")
    url = f"sqlite:///{tmp_path / 'g.db'}"
    grid = Path(__file__).resolve().parents[2] / "tuners" / "grid.yaml"
    assert main(["tune", str(suite), "--storage", url, "--tuner", str(grid), "--quiet",
                 "-o", str(tmp_path / "r")]) == 0
    trials = _study(url, "tiny-cpu").trials
    points = {(t.params["pruning_rate"], t.params["group_size"], t.params["format"])
              for t in trials}
    assert len(trials) == len(points) == 3 * 2 * 2
    assert {p[0] for p in points} == {0.5, 0.7, 0.9}
