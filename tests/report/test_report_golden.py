"""The whole page of a small fixed report equals a committed golden file.

Any change to what the report draws shows up here as a diff of `golden/report.html`. After an
intended change, regenerate the file and review its diff before committing it:

    HARNESS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/report/test_report_golden.py

Timestamps and the harness version are normalised, so neither the clock nor a release changes it;
the file holds one element per line.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from harness import __version__
from harness.answers import Budget, decide
from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec
from harness.report import ReportData, render
from harness.report.data import HistoryPoint
from harness.store.api import RunRow

GOLDEN = Path(__file__).with_name("golden") / "report.html"
PROV = {"device": "cpu", "cpu_model": "Test CPU", "threads": 2, "git_sha": "abc1234"}


def _ok(fmt: str, backend: str, g: int, rate: float, speedup: float) -> Measurement:
    median = 1e-3 / speedup
    p = Point(512, 512, 8, "float32", "cpu", fmt, backend, PruneSpec("row_group", rate, g))
    return Measurement(
        point=p,
        status="ok",
        samples_s=(median * 0.99, median, median * 1.01),
        stats=Stats(n=3, median=median, iqr=median * 0.02, mean=median, stdev=median * 0.01,
                    min=median * 0.99, rel_noise=0.01),
        verified=True,
        rel_error=1e-7,
        speedup=speedup,
        speedup_ci=(speedup * 0.95, speedup * 1.04),
        bandwidth_gbs=10.0 * speedup,
        peak_fraction=0.4 * speedup / 4,
        provenance=PROV,
    )


def golden_data() -> ReportData:
    ms = [
        _ok(fmt, backend, g, rate, k / (6 * (1 - rate) + 0.1))
        for fmt, backend, k in (("csr", "numba", 1.0), ("row_group", "numba", 1.6))
        for g in (4, 32)
        for rate in (0.8, 0.9, 0.98)
    ]
    bad = Point(512, 512, 8, "float32", "cpu", "bsr", "triton", PruneSpec("block", 0.9, block=(4, 4)))
    ms.append(Measurement(point=bad, status="unsupported", reason="triton needs a CUDA device"))
    train = [
        {"dense": True, "status": "ok", "accuracy": 0.975, "pattern": "dense", "group_size": 1,
         "pruning_rate": 0.0},
    ] + [
        {"dense": False, "status": "ok", "accuracy": acc, "pattern": "row_group",
         "group_size": g, "pruning_rate": 0.9, "aggregation": "l2", "schedule": "one_shot",
         "speedup": ms[3 * (g == 32) + 1].speedup}
        for g, acc in ((4, 0.971), (32, 0.962))
    ]
    decision = decide(train, Budget(max_drop=0.01))
    runs = (
        RunRow(id=1, kind="tune", suite="golden", study="golden", context_key=None, status="finished",
               started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:05:00+00:00",
               config={}, provenance=PROV),
    )
    history = tuple(
        HistoryPoint(run_id=10 + i, started_at=f"2026-01-0{i + 1}T03:00:00+00:00",
                     git_sha=f"{i:07d}", point_key="k1", label="csr/numba g=4 90%",
                     median_s=t, status="ok")
        for i, t in enumerate((1.0e-3, 1.01e-3, 0.99e-3, 1.3e-3, 1.31e-3, 1.29e-3))
    )
    return ReportData(
        title="harness report: golden",
        measurements=tuple(ms),
        train=tuple(train),
        runs=runs,
        source="sqlite:///golden.db",
        scope="study golden",
        generated_at="2026-01-02T03:04:05+00:00",
        history=history,
        decision=decision,
    )


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


def normalise(page: str) -> str:
    page = page.replace(f"harness {__version__}<", "harness VERSION<")
    # one element per line, so that a change reads as a short diff
    return _TIME.sub("TIME", page).replace("><", ">\n<")


def test_report_equals_golden_file():
    page = normalise(render(golden_data()))
    if os.environ.get("HARNESS_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(page, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert page == expected, "report changed: see this file's docstring to regenerate"


def test_normalise_hides_the_clock_and_the_version_only():
    a = render(golden_data())
    later = replace(golden_data(), generated_at="2027-05-06T07:08:09+00:00")
    assert a != render(later) and normalise(a) == normalise(render(later))
    assert "study golden" in normalise(a) and "TIME" in normalise(a)
