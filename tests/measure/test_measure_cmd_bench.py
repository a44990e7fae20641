"""`harness bench` end to end on a tiny suite with a temporary SQLite store."""

from __future__ import annotations

import pytest
import torch

from harness.cli.cmd_bench import select_points, table
from harness.cli.main import main

SUITE = """\
name: tiny
device: cpu
dtype: float32
seed: 3
threads: 1
space:
  shape: [64, 64, 4]
  pruning_rate: [0.5, 0.75]
  group_size: [1, 4]
  pattern: row_group
  aggregation: rms
  format: [dense, csr]
  backend: auto
measure:
  warmup: 1
  min_samples: 2
  min_time_s: 0.0
  max_time_s: 0.02
  rounds: 2
  mode: hot
"""


@pytest.fixture(autouse=True)
def _keep_threads():
    n = torch.get_num_threads()  # the suite sets threads: 1 for the whole process
    yield
    torch.set_num_threads(n)


def test_bench_measures_stores_and_prints(tmp_path, capsys, monkeypatch):
    from harness.measure import roofline

    monkeypatch.setattr(roofline, "_peaks", {})
    monkeypatch.setattr(roofline, "measure_peak", lambda device: 1e10)  # the copy takes seconds
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["bench", str(suite), "--points", "3", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "speedup [CI]" in out and "3 points on cpu" in out
    from harness.store import open_store

    store = open_store(url)
    try:
        runs = store.runs(kind="bench")
        assert len(runs) == 1 and runs[0].status == "finished" and runs[0].suite == "tiny"
        ms = store.measurements(run_id=runs[0].id)
        assert len(ms) == 3
        assert all(s.measurement.status in ("ok", "unsupported") for s in ms)
        assert any(s.measurement.status == "ok" and s.measurement.speedup > 0 for s in ms)
        assert store.get_peak(next(iter(roofline._peaks))) == 1e10
    finally:
        store.close()


@pytest.mark.parametrize(("drift", "noted"), [(0.2, True), (0.01, False)])
def test_bench_notes_a_baseline_that_drifted_during_the_run(tmp_path, capsys, monkeypatch,
                                                            drift, noted):
    from harness.measure import roofline
    from harness.measure.runner import Bench

    monkeypatch.setattr(roofline, "measure_peak", lambda device: 1e10)
    monkeypatch.setattr(Bench, "baseline_drift", lambda self: {("p",): drift})
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    assert main(["bench", str(suite), "--points", "1",
                 "--storage", f"sqlite:///{tmp_path / 'h.db'}"]) == 0
    out = capsys.readouterr().out
    assert ("moved by 20%" in out) is noted and ("compare speedups" in out) is noted


def test_bench_bad_points_is_input_error(tmp_path, capsys):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    assert main(["bench", str(suite), "--points", "0"]) == 2
    assert "--points" in capsys.readouterr().err
    assert main(["bench", str(suite), "--device", "tpu"]) == 2
    assert "--device" in capsys.readouterr().err


def test_select_points_is_seeded_and_ordered():
    grid = list(range(20))
    a, b = select_points(grid, 5, 1), select_points(grid, 5, 1)
    assert a == b == sorted(a) and len(set(a)) == 5
    assert select_points(grid, 50, 1) == grid and select_points(grid, None, 0) == grid


def test_table_aligns_columns():
    text = table([["a", "bb"], ["ccc", "d"]], ["h1", "h2"])
    lines = text.splitlines()
    assert lines[0].startswith("h1 ") and lines[2].index("bb") == lines[3].index("d")


KILL_SUITE = SUITE.replace("shape: [64, 64, 4]", "shape: [[64, 64, 4], [64, 96, 4], [96, 64, 4], "
                           "[96, 96, 4], [128, 64, 4], [64, 128, 4], [128, 128, 4], [32, 64, 4]]")\
    .replace("max_time_s: 0.02", "max_time_s: 0.3").replace("min_samples: 2", "min_samples: 1000")


def _stored(db) -> int:
    import sqlite3

    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute("select count(*) from measurements").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        con.close()


@pytest.mark.timeout(240)
def test_kill_9_of_bench_grid_keeps_every_measurement_made_before(tmp_path):
    """Measurements are stored as they are made: SIGKILL in the middle of the grid loses at most
    the interleaved group in flight, and what was stored reads back whole."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from harness.store import open_store

    suite = tmp_path / "kill.yaml"
    suite.write_text(KILL_SUITE)
    db = tmp_path / "h.db"
    cmd = [sys.executable, "-c", "from harness.cli.main import main; raise SystemExit(main())",
           "bench", str(suite), "--grid", "--storage", f"sqlite:///{db}"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while _stored(db) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the grid finished before it could be interrupted"
        seen = _stored(db)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    total = 8 * 2 * 2 * 2  # shapes × rates × group sizes × formats
    store = open_store(f"sqlite:///{db}")
    try:
        kept = store.measurements()
        assert seen <= len(kept) < total, "nothing was stored before the end of the grid"
        assert all(sm.measurement.point.m > 0 and sm.measurement.status for sm in kept)
        assert [r.status for r in store.runs(kind="bench")] in (["running"], ["killed"])
    finally:
        store.close()
