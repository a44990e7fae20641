"""Clean stops: SIGTERM finishes the trial in flight and stops; kill -9 loses at most that one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from tune_helpers import TINY, write_suite

# a long budget, so that the run is still going when the signal arrives
LONG = TINY.replace("trials: 6", "trials: 400").replace("max_time_s: 0.05", "max_time_s: 0.2")


def _start(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    suite = write_suite(tmp_path, LONG, "long.yaml")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "tune", str(suite), "--storage",
                             url, "--no-post"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, url


def _wait_for_trials(proc: subprocess.Popen, n: int, timeout: float = 120) -> list[str]:
    lines, done, end = [], 0, time.monotonic() + timeout
    while done < n and time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        done += " trial " in line
    assert done >= n, "".join(lines)
    return lines


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="tiny-cpu", storage=url).trials


def test_sigterm_stops_cleanly_after_the_current_trial(tmp_path):
    proc, url = _start(tmp_path)
    _wait_for_trials(proc, 2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "SIGTERM received" in out
    trials = _trials(url)
    assert 2 <= len(trials) < 400
    assert all(t.state.is_finished() for t in trials), [t.state for t in trials]

    from harness.store import open_store

    store = open_store(url)
    try:
        assert [r.status for r in store.runs(kind="tune")] == ["interrupted"]
    finally:
        store.close()


def test_kill_9_loses_at_most_the_trial_in_flight(tmp_path):
    proc, url = _start(tmp_path)
    _wait_for_trials(proc, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    trials = _trials(url)
    unfinished = [t for t in trials if not t.state.is_finished()]
    assert len(unfinished) <= 1
    from harness.store import open_store

    store = open_store(url)
    try:
        for t in trials:
            if t.state == optuna.trial.TrialState.COMPLETE:
                # every finished trial's measurement is stored whole
                m = store.get_measurement(t.user_attrs["measurement_id"]).measurement
                assert m.status == "ok" and len(m.samples_s) == m.stats.n
    finally:
        store.close()
