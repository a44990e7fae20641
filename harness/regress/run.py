"""`regress()`: measure a suite's fixed points, store the run, compare with the baseline.

The baseline is resolved (and bad input refused) before anything is measured or stored.
Exit status: 1 if any point regressed, else 0 (bad input raises InputError → 2).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from harness.core.errors import InputError
from harness.regress.baseline import Baseline, resolve
from harness.regress.compare import Verdict, compare


@dataclass(frozen=True)
class RegressOptions:
    suite: str
    baseline: str = "latest"
    threshold: float = 1.10
    storage: str | None = None
    junit: str | None = None
    json: str | None = None
    force: bool = False
    device: str | None = None
    normalize: str = "auto"  # auto | drift | none (auto: drift on CPU, none on CUDA)
    quiet: bool = False


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    status: str
    verdict: Verdict | None
    baseline_median: float | None
    current_median: float | None


@dataclass(frozen=True)
class RegressResult:
    run_id: int
    baseline: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""
    drift: float = 1.0  # machine-wide factor divided out of the current samples (1: none)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict is not None and r.verdict.regressed]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def _median(xs: list[float]) -> float | None:
    import statistics

    return statistics.median(xs) if xs else None


def regress(opts: RegressOptions) -> RegressResult:
    from harness.config.suite import load_suite
    from harness.measure.provenance import collect
    from harness.measure.runner import Bench
    from harness.store import open_store
    from harness.tune.context import context_key

    if opts.threshold <= 1.0:
        raise InputError("--threshold: expected a ratio above 1 such as 1.10", value=opts.threshold)
    suite = load_suite(opts.suite)
    device = opts.device or suite.resolved_device()
    store = open_store(opts.storage)
    try:
        provenance = collect(device, suite.threads, suite.seed)
        base = resolve(opts.baseline, store=store, suite=suite.name, provenance=provenance,
                       force=opts.force)
        points = list(suite.grid(device))
        ctx = context_key(suite.measure, device, provenance)
        run_id = store.begin_run("regress", suite.name, config={
            "suite": suite.path, "baseline": opts.baseline, "threshold": opts.threshold},
            provenance=provenance, context_key=ctx)
        status = "failed"
        try:
            bench = Bench(suite.measure, device=device, threads=suite.threads, store=store)
            measured = bench.measure_many(points)
            for m in measured:
                store.add_measurement(run_id, m, context_key=ctx)
            status = "finished"
        finally:
            store.end_run(run_id, status)
        mode = opts.normalize if opts.normalize != "auto" else (
            "none" if device.startswith("cuda") else "drift")
        drift = machine_drift(measured, base) if mode == "drift" else 1.0
        rows = [_row(m, base, opts.threshold, drift) for m in measured]
        note = "" if base is None else base.note
        label = "none (first run on this device)" if base is None or not base.samples else base.label
        return RegressResult(run_id, label, rows, note, drift)
    finally:
        store.close()


def _baseline_samples(m: Any, base: Baseline | None) -> list[float] | None:
    if base is None:
        return None
    return base.samples.get(m.point.key()) or base.samples.get(m.point.label())


def machine_drift(measured: list[Any], base: Baseline | None) -> float:
    """Median over all compared points of median(current)/median(baseline).

    On a shared CPU the whole machine runs faster or slower from one run to the next (seen
    here: every point 25 % slower in one run of ten with nothing changed). Dividing that common
    factor out leaves what is specific to a point. The price: a slowdown of *every* point alike
    cannot be told from machine noise — it is reported as drift, not as a regression.
    """
    import statistics

    ratios = []
    for m in measured:
        old = _baseline_samples(m, base)
        if old and m.samples_s:
            ratios.append(statistics.median(m.samples_s) / statistics.median(old))
    return statistics.median(ratios) if len(ratios) >= 3 else 1.0


def _row(m: Any, base: Baseline | None, threshold: float, drift: float = 1.0) -> Row:
    old = _baseline_samples(m, base)
    current = [x / drift for x in m.samples_s]
    verdict = compare(old, current, threshold=threshold) if old and current else None
    return Row(m.point.key(), m.point.label(), m.status, verdict, _median(old or []),
               _median(current))


def table(result: RegressResult) -> str:
    lines = [f"baseline: {result.baseline}"]
    if result.note:
        lines.append(f"note: {result.note}")
    if result.drift != 1.0:
        lines.append(f"machine drift: every point {result.drift:.3f}x the baseline's median; "
                     "divided out before comparing (--normalize none to keep it)")
    for r in result.rows:
        if r.verdict is None:
            what = r.status if r.status != "ok" else "new point (no baseline)"
            lines.append(f"  {'-':11} {r.label}: {what}")
            continue
        v = r.verdict
        p = f"p={v.p_value:.2g}" if v.p_value is not None else "p=n/a"
        lines.append(f"  {v.kind:11} {r.label}: {r.baseline_median * 1e3:.4g} ms -> "
                     f"{r.current_median * 1e3:.4g} ms ({v.ratio:.3f}x, {p})")
    n = len(result.regressions)
    lines.append(f"{n} regression(s)" + (": " + "; ".join(r.label for r in result.regressions)
                                         if n else ""))
    return "\n".join(lines)


def write_json(result: RegressResult, path: str) -> None:
    rows = [{"point_key": r.key, "label": r.label, "status": r.status,
             "verdict": r.verdict.kind if r.verdict else None,
             "ratio": r.verdict.ratio if r.verdict else None,
             "p_value": r.verdict.p_value if r.verdict else None,
             "baseline_median_s": r.baseline_median, "current_median_s": r.current_median}
            for r in result.rows]
    Path(path).write_text(json.dumps({"run_id": result.run_id, "baseline": result.baseline,
                                      "drift": result.drift,
                                      "regressions": len(result.regressions), "points": rows},
                                     indent=1))


def write_junit(result: RegressResult, path: str) -> None:
    cases = []
    for r in result.rows:
        body = ""
        if r.verdict is not None and r.verdict.regressed:
            msg = f"{r.verdict.ratio:.3f}x slower (p={r.verdict.p_value:.2g})"
            body = f"<failure message={quoteattr(msg)}>{escape(r.label)}</failure>"
        cases.append(f'  <testcase classname="harness.regress" name={quoteattr(r.label)}>'
                     f"{body}</testcase>")
    xml = (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="harness regress" '
           f'tests="{len(result.rows)}" failures="{len(result.regressions)}">\n'
           + "\n".join(cases) + "\n</testsuite>\n")
    Path(path).write_text(xml)


def main_report(result: RegressResult, opts: RegressOptions) -> int:
    print(table(result))
    if opts.json:
        write_json(result, opts.json)
    if opts.junit:
        write_junit(result, opts.junit)
    if result.regressions and not opts.quiet:
        print(f"harness regress: {len(result.regressions)} regression(s)", file=sys.stderr)
    return result.exit_code
