"""Several processes on one study: `--workers K`, and separate processes with --study/--storage.

On PostgreSQL (the distributed case): 4 workers × 10 trials give exactly 40 finished trials,
none lost or duplicated.
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
    assert len(trials) == 6
    assert sorted(t.number for t in trials) == list(range(6))
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
    assert len(trials) == 40
    assert sorted(t.number for t in trials) == list(range(40))
    assert all(t.state.is_finished() for t in trials)
    # no trial was measured twice: every completed trial links to its own stored measurement
    ids = [t.user_attrs["measurement_id"] for t in trials
           if t.state == optuna.trial.TrialState.COMPLETE and not t.user_attrs.get("reused")]
    assert len(ids) == len(set(ids))
