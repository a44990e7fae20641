"""`--workers`: signals to the parent reach the workers, every option reaches them, and each
worker has its own sampler seed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from tune_helpers import TINY, write_suite

from harness.config.tuner import TunerProfile
from harness.tune.checks import worker_profile
from harness.tune.samplers import worker_seed
from harness.tune.workers import worker_command

LONG = TINY.replace("trials: 6", "trials: 400").replace("max_time_s: 0.05", "max_time_s: 0.2")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_parent_stops_every_worker_and_the_parent_waits(tmp_path, sig):
    suite = write_suite(tmp_path, LONG, "long.yaml")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "tune", str(suite), "--storage",
                             url, "--workers", "3", "--trials", "300", "--quiet"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        end, workers = time.monotonic() + 120, []
        while time.monotonic() < end and len(workers) < 3:
            workers = _children(proc.pid)
            time.sleep(0.2)
        assert len(workers) == 3, proc.stdout.read() if proc.poll() is not None else workers
        time.sleep(3)  # let them get going (importing, opening the study)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=120)
        # the parent waited: when it has exited, so have its workers
        assert [w for w in workers if _alive(w)] == [], out
        time.sleep(10)
        assert [w for w in workers if _alive(w)] == [], out
        assert proc.returncode == 130, out
        assert "passed to the 3 workers" in out
        assert "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl death signal")
def test_workers_stop_when_the_parent_is_killed_hard(tmp_path):
    suite = write_suite(tmp_path, LONG, "long.yaml")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "tune", str(suite), "--storage",
                             url, "--workers", "2", "--trials", "300", "--quiet"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end, workers = time.monotonic() + 120, []
    while time.monotonic() < end and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.2)
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60  # each finishes its trial in flight, then stops
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.5)
    alive = [w for w in workers if _alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert alive == []


def test_every_option_reaches_the_workers():
    opts = SimpleNamespace(suite="s.yaml", tuner="t.yaml", device="cuda:1", timeout_s=30.0,
                           fresh=True, reuse_any_code=True, quiet=True)
    cmd = worker_command(opts, study_name="st", trials=5, index=2)
    assert cmd[1:] == ["-m", "harness", "tune", "s.yaml", "--workers", "1", "--no-post",
                       "--study", "st", "--trials", "5", "--worker-index", "2",
                       "--tuner", "t.yaml", "--device", "cuda:1", "--timeout", "30.0",
                       "--fresh", "--reuse-any-code", "--quiet"]
    plain = SimpleNamespace(suite="s.yaml", tuner=None, device=None, timeout_s=None,
                            fresh=False, reuse_any_code=False, quiet=False)
    assert "--fresh" not in worker_command(plain, study_name="st", trials=1)


def test_each_worker_gets_its_own_seed_derived_from_the_study_seed():
    suite = SimpleNamespace(seed=7)
    profile = TunerProfile(name="random", sampler="random", options={})
    seeds = [worker_profile(SimpleNamespace(worker_index=i), suite, profile).options["seed"]
             for i in range(8)]
    assert len(set(seeds)) == 8 and all(0 <= s < 2**32 for s in seeds)
    assert seeds[3] == worker_seed(7, 3)  # reproducible
    seeded = TunerProfile(name="r", sampler="random", options={"seed": 1})
    assert worker_profile(SimpleNamespace(worker_index=0), suite, seeded).options["seed"] == \
        worker_seed(1, 0) != seeds[0]
    assert worker_profile(SimpleNamespace(worker_index=None), suite, seeded) is seeded


RAW_LOG = re.compile(r"^\[[DIWE] \d{4}-\d\d-\d\d ")  # Optuna's default log format


def test_the_workers_progress_has_no_raw_optuna_log_line(tmp_path):
    suite = write_suite(tmp_path)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    out = subprocess.run([sys.executable, "-m", "harness", "tune", str(suite), "--storage", url,
                          "--workers", "2", "--trials", "4", "--no-post"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = (out.stdout + out.stderr).splitlines()
    assert sum(" trial " in line for line in lines) >= 4, lines  # the workers' progress
    # a raw log line, or a warning naming Optuna (harness's own lines may name the store path)
    raw = [line for line in lines if RAW_LOG.match(line)
           or ("optuna" in line.lower() and not line.startswith("harness tune:"))]
    assert raw == []


def test_quiet_optuna_silences_its_logger_but_not_its_errors():
    # judged by the levels, not by captured output: Optuna's handler keeps the stderr of the
    # first test that logged through it, so what it prints later depends on the test order
    import logging

    import optuna

    from harness.tune.progress import quiet_optuna

    optuna.logging.set_verbosity(optuna.logging.INFO)
    logger = optuna.logging.get_logger("optuna.study.study")
    assert logger.isEnabledFor(logging.INFO)
    quiet_optuna()
    assert not logger.isEnabledFor(logging.INFO) and not logger.isEnabledFor(logging.WARNING)
    assert logger.isEnabledFor(logging.ERROR)


def test_the_bar_counts_newly_measured_points_and_never_overflows():
    import io

    from harness.core.measurement import Measurement
    from harness.tune.progress import TrialProgress

    point = _point()
    stream = io.StringIO()
    progress = TrialProgress(2, stream=stream)
    measured = Measurement(point, "ok", speedup=1.5, speedup_ci=(1.4, 1.6))
    progress(0, point, measured, "")
    progress(1, point, None, "repeat of trial 0")
    progress(2, point, measured, "reused")
    progress(3, point, measured, "")
    progress(4, point, measured, "")  # a worker may finish one more than its share
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1].split(" trial")[0] for line in lines] == \
        ["1/2", "1/2", "1/2", "2/2", "3/2"]
    assert all(line.startswith("[") and line.index("]") == 21 for line in lines)
    assert "repeat of trial 0" in lines[1] and "(reused)" in lines[2]


def _point():
    from tune_helpers import TINY

    from harness.config.suite import loads_suite

    return next(iter(loads_suite(TINY).grid("cpu")))
