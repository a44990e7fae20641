"""Regress prints raw times that agree with the report's trend tooltips, says what each ratio
is, and stores every verdict with the numbers it compared."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from harness.cli.main import main
from harness.regress.compare import Verdict
from harness.regress.run import Remeasured, Row, fmt_time, row_numbers
from harness.store import open_store

SUITE = """\
name: tinyregress
device: cpu
dtype: float32
seed: 0
threads: 1
space:
  shape: [64, 64, 8]
  pruning_rate: [0.5, 0.9]
  pattern: unstructured
  format: [csr, coo]
measure: {warmup: 1, min_samples: 10, min_time_s: 0.0, max_time_s: 0.05, rounds: 2, mode: hot}
"""


def test_times_are_formatted_as_the_reports_tooltips():
    from harness.report.figures import fmt_time as report_fmt_time

    for s in (3.21e-9, 4.567e-7, 1.0e-6, 9.999e-4, 1.0e-3, 0.0123456, 1.5, 123.4):
        assert fmt_time(s) == report_fmt_time(s)


def test_a_dense_relative_ratio_is_the_raw_ratio_over_the_dense_ratio():
    v = Verdict("regression", 1.5 / 1.2, 1e-6, 12, 12)
    row = Row("k", "label", "ok", v, 2e-3, 3e-3, factor=1.2, normalized="dense", baseline_run=4,
              remeasured=(Remeasured("ok", 3.1e-3, 1.25, Verdict("regression", 1.24, 1e-5, 12,
                                                                   12)),
                          Remeasured("contended", None, 1.0, None)))
    text = row_numbers(row)
    assert text.startswith("2 ms (run 4) -> 3 ms (this run); 1.250x dense-relative = raw 1.500x "
                           "/ dense 1.200x, p=1e-06; re-measured in a fresh process: 3.1 ms "
                           "1.240x regression, contended (not compared) (confirmed 1x)")
    raw = Row("k", "label", "ok", Verdict("unchanged", 1.01, 0.5, 12, 12), 2e-3, 2.02e-3)
    assert row_numbers(raw) == "2 ms (run None) -> 2.02 ms (this run); 1.010x raw, p=0.5" \
        .replace("run None", "baseline file")


def test_a_cleared_regression_takes_the_verdict_of_the_re_measurement():
    flagged = Verdict("regression", 1.5, 1e-6, 12, 12)
    row = Row("k", "label", "ok", flagged, 2e-3, 3e-3, remeasured=(
        Remeasured("ok", 3e-3, 1.0, flagged), Remeasured("ok", 2e-3, 1.0,
                                                         Verdict("unchanged", 1.0, 0.9, 12, 12))))
    assert (row.kind, row.regressed, row.confirmed) == ("unchanged", False, 1)
    kept = Row("k", "label", "ok", flagged, 2e-3, 3e-3,
               remeasured=(Remeasured("contended", None, 1.0, None),))
    assert (kept.kind, kept.regressed, kept.confirmed) == ("regression", True, 0)


def test_printed_times_match_the_trend_tooltips_and_verdicts_are_stored(tmp_path, capsys,
                                                                        monkeypatch):
    from fake_peaks import fake_peaks

    from harness.report.data import from_store

    fake_peaks(monkeypatch)
    monkeypatch.chdir(tmp_path)
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["regress", str(suite), "--storage", url, "--confirm", "0"]) == 0  # no baseline
    capsys.readouterr()
    out_json = tmp_path / "r.json"
    code = main(["regress", str(suite), "--storage", url, "--confirm", "0",
                 "--json", str(out_json)])
    printed = capsys.readouterr().out
    doc = json.loads(out_json.read_text())
    assert code == (1 if doc["regressions"] else 0)
    assert "each ratio (current/baseline) says whether it is raw, dense-relative or " \
           "drift-corrected" in printed
    with open_store(url) as store:
        first, second = (r.id for r in store.runs(kind="regress"))
        stored = {v.record.point_key: v.record for v in store.verdicts(run_id=second)}
        assert store.verdicts(run_id=first) == []  # the first run had no baseline
        data = from_store(store, suite="tinyregress")
        ids = {sm.measurement.point.key(): sm.id for sm in store.measurements(run_id=second)}
    # what the trend tooltip shows: the median of the point's stored medians in that run
    tooltip: dict[tuple[str, int], float] = {}
    for h in data.history:
        if h.median_s is not None:
            tooltip.setdefault((h.point_key, h.run_id), []).append(h.median_s)
    compared = [p for p in doc["points"] if p["verdict"] is not None]
    assert compared and set(stored) == {p["point_key"] for p in compared}
    for p in compared:
        key, v = p["point_key"], stored[p["point_key"]]
        then = statistics.median(tooltip[(key, first)])
        now = statistics.median(tooltip[(key, second)])
        assert (v.baseline_median_s, v.current_median_s) == (then, now)
        assert (v.verdict, v.ratio, v.p_value, v.factor) == (p["verdict"], p["ratio"],
                                                             p["p_value"], p["factor"])
        assert v.measurement_id == ids[key] and v.baseline_run_id == first
        assert v.normalize == "dense" and p["ratio_kind"] == "dense-relative"
        line = next(ln for ln in printed.splitlines() if f" {p['label']}: " in ln)
        assert f"{fmt_time(then)} (run {first}) -> {fmt_time(now)} (this run); " in line
        match = re.search(r"; ([\d.]+)x dense-relative = raw ([\d.]+)x / dense ([\d.]+)x", line)
        assert match, line
        ratio, raw, dense = map(float, match.groups())
        assert ratio == pytest.approx(raw / dense, rel=3e-3)  # as printed, to 3 decimals
        assert (ratio, raw, dense) == pytest.approx((v.ratio, now / then, v.factor), abs=6e-4)
        assert v.ratio == pytest.approx(now / then / v.factor, rel=1e-9)  # exactly, stored
