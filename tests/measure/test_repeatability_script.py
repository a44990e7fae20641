"""benchmarks/repeatability.py: repeated measurements of one point in one run, summarised."""

from __future__ import annotations

import json

import pytest
from benchmark_scripts import load


def _load():
    return load("repeatability")


def test_spread_is_max_over_min_minus_one():
    assert _load().spread([2.0, 2.1, 2.2]) == pytest.approx(0.1)


def test_tiny_run_writes_every_measurement_and_a_consistent_summary(tmp_path, capsys):
    mod = _load()
    out = tmp_path / "rep"
    rc = mod.main(["--shape", "96", "64", "8", "--repeats", "3", "--min-samples", "3",
                   "--min-time", "0", "--max-time", "0.05", "--rounds", "2", "--threads", "1",
                   "--out", str(out)])
    assert rc == 0
    data = json.loads(out.with_suffix(".json").read_text())
    rows, summary = data["rows"], data["summary"]
    assert len(rows) == 3
    medians = [r["median_ms"] for r in rows]
    assert summary["median_spread"] == pytest.approx(max(medians) / min(medians) - 1)
    for r in rows:
        assert r["median_ms"] > 0 and r["dense_median_ms"] > 0 and r["speedup"] > 0
        assert r["ci"][0] <= r["speedup"] <= r["ci"][1]
        assert r["timed_s"] <= r["wall_s"] - r["setup_s"] + 1e-9
        assert 0.0 <= r["outside_frac"] < 1.0
    assert rows[1]["setup_s"] == 0.0  # the converted operand is cached after the first
    assert "spread (max/min − 1)" in capsys.readouterr().out
