"""Several processes on one study: `--workers K`, and separate processes with --study/--storage.

On PostgreSQL (the distributed case): 4 workers × 10 trials give exactly 40 newly measured
points, none lost or duplicated.
"""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
import pytest
from pg_fixtures import pg_admin_url, pg_url  # noqa: F401  (fixtures, found by name)
from tune_helpers import TINY, write_suite

from harness.cli.main import main
from harness.tune.workers import shares

CONTINUOUS = TINY.replace("pruning_rate: [0.5, 0.75, 0.9]",
                          "pruning_rate: {low: 0.5, high: 0.95}")


def test_shares_add_up():
    assert shares(10, 4) == [3, 3, 2, 2]
    assert sum(shares(40, 4)) == 40


def test_local_workers_share_one_sqlite_study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", str(suite), "--storage", url, "--workers", "2", "--trials", "6",
                 "--quiet", "-o", str(tmp_path / "r")]) == 0
    trials = optuna.load_study(study_name="tiny-cpu", storage=url).trials
    assert sum(bool(t.user_attrs.get("new")) for t in trials) == 6  # --trials: new points
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert all(t.state.is_finished() for t in trials)
    assert (tmp_path / "r" / "index.html").exists()


@pytest.mark.postgres
def test_four_processes_times_ten_trials_on_postgresql(tmp_path, pg_url):  # noqa: F811
    suite = write_suite(tmp_path, CONTINUOUS, "cont.yaml")
    env = dict(os.environ, HARNESS_STORAGE=pg_url)
    cmd = [sys.executable, "-m", "harness", "tune", str(suite), "--study", "dist",
           "--trials", "10", "--no-post", "--quiet"]
    # four independent processes, as on four machines (they race to create the study)
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    trials = optuna.load_study(study_name="dist", storage=pg_url).trials
    assert sum(bool(t.user_attrs.get("new")) for t in trials) == 40  # 4 × 10 new points
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert all(t.state.is_finished() for t in trials)
    # no trial was measured twice: every completed trial links to its own stored measurement
    ids = [t.user_attrs["measurement_id"] for t in trials
           if t.state == optuna.trial.TrialState.COMPLETE and not t.user_attrs.get("reused")]
    assert len(ids) == len(set(ids))


# rounds of `--workers 4` on a fresh study each (HARNESS_WORKER_ROUNDS=10 for the figure)
ROUNDS = int(os.environ.get("HARNESS_WORKER_ROUNDS", "2"))


def _duplicates(url: str, study: str) -> dict[str, int]:
    """Points measured (status ok) more than once within the study's runs."""
    from collections import Counter

    from harness.store import open_store

    store = open_store(url)
    try:
        runs = {r.id for r in store.runs(study=study)}
        keys = Counter(sm.measurement.point.key() for sm in store.measurements()
                       if sm.run_id in runs and sm.measurement.status == "ok")
    finally:
        store.close()
    return {k: n for k, n in keys.items() if n > 1}


def _rounds_without_duplicates(tmp_path, url: str) -> None:
    suite = write_suite(tmp_path)  # 12 grid points; 4 workers × 3 trials collide often
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_STORAGE"}
    for r in range(ROUNDS):
        cmd = [sys.executable, "-m", "harness", "tune", str(suite), "--storage", url,
               "--study", f"round{r}", "--workers", "4", "--trials", "12", "--no-post",
               "--quiet"]
        out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        assert _duplicates(url, f"round{r}") == {}, f"round {r}"


@pytest.mark.timeout(900)
def test_four_workers_never_measure_a_point_twice_on_sqlite(tmp_path):
    _rounds_without_duplicates(tmp_path, f"sqlite:///{tmp_path / 'h.db'}")


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_four_workers_never_measure_a_point_twice_on_postgresql(tmp_path, pg_url):  # noqa: F811
    _rounds_without_duplicates(tmp_path, pg_url)


TRAINED = TINY + """\
train: {model: fc, dataset: digits, schedule: oneshot, pretrain_epochs: 1, finetune_epochs: 1,
        candidates: 1, batch_size: 128}
"""


@pytest.mark.timeout(600)
def test_after_workers_the_parent_trains_the_front_once(tmp_path, monkeypatch):
    from harness.answers import DECISION
    from harness.store import open_store

    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path, TRAINED, "trained.yaml")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", str(suite), "--storage", url, "--workers", "2", "--trials", "4",
                 "--quiet", "-o", str(tmp_path / "r")]) == 0
    store = open_store(url)
    try:
        train_runs = store.runs(kind="train", study="tiny-cpu")
        assert [r.status for r in train_runs] == ["finished"]  # once, in the parent
        records = store.train_results(run_id=train_runs[0].id)
        assert any(r.get("dense") for r in records)
        assert [r["kind"] for r in records].count(DECISION) == 1
        assert len(store.runs(kind="tune", study="tiny-cpu")) == 2  # the two workers' runs
    finally:
        store.close()
