"""`regress()`: measure a suite's fixed points, store the run, compare with the baseline.

The baseline is resolved (and bad input refused) before anything is measured or stored.
On a shared CPU the whole machine is faster or slower from one run to the next; by default each
point is therefore compared relative to the dense baseline that was timed in its own interleaved
rounds (`--normalize dense`), the same principle as the speedups. The price, stated in the
output: a slowdown of the dense library itself shows as machine drift, not as a regression, on
CPU — `--normalize none` compares raw times (the default on CUDA, whose clocks are stable).
Exit status: 1 if any point regressed, else 0 (bad input raises InputError → 2).

Every verdict is stored with the run (`Store.add_verdict`: the numbers compared, every
re-measurement), so the report draws what the exit code was decided on. The printed times are
raw medians of the stored measurements, formatted as the report's trend tooltips format them;
the ratio beside them says whether it is raw or dense-relative, and how it follows from them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from harness.core.errors import InputError
from harness.regress import fresh
from harness.regress.baseline import DENSE_KEY, Baseline, resolve
from harness.regress.compare import RATIO_KIND, Verdict, compare

if TYPE_CHECKING:
    from harness.config.suite import Suite
    from harness.core.measurement import Measurement
    from harness.store.api import VerdictRecord


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
    normalize: str = "auto"  # auto | dense | drift | none (auto: dense on CPU, none on CUDA)
    confirm: int = 2  # re-measurements a flagged point must fail too before it is a regression
    pytest_benchmark: str | None = None  # also write this run in pytest-benchmark's JSON format
    quiet: bool = False


@dataclass(frozen=True)
class Remeasured:
    """One re-measurement of a flagged point in a fresh process, compared like the first."""

    status: str
    median: float | None  # raw, seconds
    factor: float
    verdict: Verdict | None  # None: not compared (contended or failed)


@dataclass(frozen=True)
class Row:
    """A point of this run against the baseline. `verdict` compares this run's measurement;
    the point's final verdict (`kind`) also heeds its re-measurements."""

    key: str
    label: str
    status: str
    verdict: Verdict | None
    baseline_median: float | None  # raw seconds: the baseline measurement's stored median
    current_median: float | None  # raw seconds: this run's stored median (the trend tooltip's)
    factor: float = 1.0  # the current samples were divided by this before comparing
    normalized: str = "none"  # how factor was found: dense | drift | none (see _factor)
    baseline_run: int | None = None  # where the baseline samples came from (None: a file)
    measurement_id: int | None = None  # this run's stored measurement of the point
    remeasured: tuple[Remeasured, ...] = ()

    @property
    def confirmed(self) -> int:
        """Re-measurements that agreed with a regression."""
        return sum(1 for r in self.remeasured if r.verdict is not None and r.verdict.regressed)

    @property
    def kind(self) -> str | None:
        """The final verdict: a regression stands only while every compared re-measurement
        agrees; the one that disagreed gives the verdict instead (None: not compared)."""
        if self.verdict is None:
            return None
        decided = [r.verdict for r in self.remeasured if r.verdict is not None]
        if self.verdict.regressed and decided and not decided[-1].regressed:
            return decided[-1].kind
        return self.verdict.kind

    @property
    def regressed(self) -> bool:
        return self.kind == "regression"


@dataclass(frozen=True)
class RegressResult:
    run_id: int
    baseline: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""
    drift: float = 1.0  # machine-wide factor divided out of the current samples (1: none)
    normalize: str = "none"
    measured: tuple[Measurement, ...] = ()  # this run's Measurements
    provenance: dict = field(default_factory=dict)
    threshold: float = 1.10

    @property
    def widened(self) -> float:
        """Factor the threshold was widened by: how far the whole machine drifted (1: not)."""
        return drift_margin(self.drift) if self.normalize in ("dense", "drift") else 1.0

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.regressed]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def _median(xs: list[float]) -> float | None:
    import statistics

    return statistics.median(xs) if xs else None


def regress(opts: RegressOptions) -> RegressResult:
    from harness.config.suite import load_suite
    from harness.measure.provenance import collect
    from harness.measure.recording import recording
    from harness.measure.runner import Bench
    from harness.store import open_store

    if opts.threshold <= 1.0:
        raise InputError("--threshold: expected a ratio above 1 such as 1.10", value=opts.threshold)
    suite = load_suite(opts.suite)
    device = opts.device or suite.resolved_device()
    store = open_store(opts.storage)
    try:
        provenance = collect(device, suite.threads, suite.seed)
        load_baseline = resolve(opts.baseline, store=store, suite=suite.name,
                                provenance=provenance, force=opts.force)
        points = list(suite.grid(device))
        config = {"suite": suite.path, "baseline": opts.baseline, "threshold": opts.threshold}
        # each measurement is stored as it is made (an interrupt keeps what was measured)
        with recording(store, "regress", suite.name, measure=suite.measure, device=device,
                       threads=suite.threads, seed=suite.seed, config=config) as rec:
            ids: dict[str, int] = {}

            def sink(m: Measurement) -> None:
                ids[m.point.key()] = rec.add(m)

            bench = Bench(suite.measure, device=device, threads=suite.threads, store=store,
                          sink=sink)
            measured = bench.measure_many(points)
            base = load_baseline()  # after measuring: see baseline.resolve
            mode = opts.normalize if opts.normalize != "auto" else (
                "none" if device.startswith("cuda") else "dense")
            drift = machine_drift(measured, base) if mode in ("dense", "drift") else 1.0
            threshold = opts.threshold * (drift_margin(drift) if mode != "none" else 1.0)
            rows = [replace(_row(m, base, threshold, _factor(m, base, mode, drift)),
                            measurement_id=ids.get(m.point.key())) for m in measured]
            rows = _confirm(rows, measured, opts, threshold, suite, device, base, mode, drift)
            for r in rows:  # with the run, before it is marked finished
                if r.verdict is not None:
                    store.add_verdict(rec.run_id, verdict_record(r, threshold))
        run_id = rec.run_id
        note = "" if base is None else base.note
        label = "none (first run on this device)" if base is None or not base.samples else base.label
        return RegressResult(run_id, label, rows, note, drift, mode, tuple(measured),
                             dict(provenance), opts.threshold)
    finally:
        store.close()


def _confirm(rows: list[Row], measured: list[Measurement], opts: RegressOptions,
             threshold: float, suite: Suite, device: str, base: Baseline | None, mode: str,
             drift: float) -> list[Row]:
    """Re-measure flagged points in a fresh process (`fresh.py`) up to `opts.confirm` times; a
    point stays a regression only if every re-measurement that could be compared agrees (a
    contended or failed one is recorded and ignored).

    Within one run thousands of samples make any shift "significant"; what the samples of one
    run cannot show is the run-to-run noise of a process. A real slowdown survives
    re-measurement in a new process; such noise does not.
    """
    by_key = {r.key: i for i, r in enumerate(rows)}
    for _ in range(max(0, opts.confirm)):
        flagged = [m.point for m in measured if rows[by_key[m.point.key()]].regressed]
        if not flagged:
            break
        again = REMEASURE(str(suite.path), device, flagged)
        for m in again:
            i = by_key[m.point.key()]
            # one that could not be compared (contended, failed) is recorded but neither
            # confirms nor clears
            check = _row(m, base, threshold, _factor(m, base, mode, drift))
            rows[i] = replace(rows[i], remeasured=(*rows[i].remeasured, Remeasured(
                m.status, check.current_median, check.factor, check.verdict)))
        measured = again
    return rows


# how flagged points are re-measured: a fresh process (tests may measure in-process instead)
REMEASURE = fresh.remeasure


def _baseline_samples(m: Measurement, base: Baseline | None) -> list[float] | None:
    if base is None:
        return None
    return base.samples.get(m.point.key()) or base.samples.get(m.point.label())


def drift_margin(drift: float) -> float:
    """How much a machine-wide drift widens the threshold: dividing a drift out is only as good
    as the drift is uniform, so a run taken 30 % off the baseline's machine state must show a
    point 30 % beyond the threshold too (1 when the drift is within 10 %)."""
    d = max(drift, 1 / drift) if drift > 0 else 1.0
    return d if d > 1.10 else 1.0


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
        if old and m.samples_s and m.status == "ok":
            ratios.append(statistics.median(m.samples_s) / statistics.median(old))
    return statistics.median(ratios) if len(ratios) >= 3 else 1.0


def _factor(m: Measurement, base: Baseline | None, mode: str,
            drift: float) -> tuple[float, str]:
    """What the current samples are divided by before comparing.

    dense: the drift of the dense baseline timed in the same interleaved rounds as this point
    (now vs then) — machine state that slows everything at that moment cancels, point by
    point; the dense point itself and points without that record fall back to the run-wide
    drift. drift: the run-wide drift for every point. none: 1. Returns (factor, which of the
    three it is).
    """
    if mode == "dense" and base is not None and not _is_dense(m):
        now, then = m.counters.get(DENSE_KEY), base.dense_median.get(m.point.key())
        if now and then:
            return float(now) / float(then), "dense"
    return (drift, "drift") if mode in ("dense", "drift") else (1.0, "none")


def _is_dense(m: Measurement) -> bool:
    return m.point == m.point.baseline()


def _stored_median(m: Measurement) -> float | None:
    """The measurement's median as stored (what the report's trend tooltip shows)."""
    if m.status != "ok":
        return None
    return m.stats.median if m.stats is not None else _median(list(m.samples_s))


def _row(m: Measurement, base: Baseline | None, threshold: float,
         normalization: tuple[float, str] = (1.0, "none")) -> Row:
    factor, normalized = normalization
    old = _baseline_samples(m, base)
    # a contended (or failed) measurement is shown with its status, never compared
    current = [x / factor for x in m.samples_s] if m.status == "ok" else []
    verdict = compare(old, current, threshold=threshold) if old and current else None
    key = m.point.key()
    base_median = None if base is None or not old else base.medians.get(key, _median(old))
    return Row(key, m.point.label(), m.status, verdict, base_median, _stored_median(m),
               factor, normalized, None if base is None else base.runs.get(key))


def verdict_record(r: Row, threshold: float) -> VerdictRecord:
    """The row as the store keeps it (harness.store.api.VerdictRecord)."""
    from harness.store.api import VerdictRecord

    assert r.verdict is not None and r.kind is not None  # only compared rows are stored
    v = r.verdict
    return VerdictRecord(
        point_key=r.key, verdict=r.kind, ratio=_finite(v.ratio), p_value=v.p_value,
        normalize=r.normalized, factor=r.factor, threshold=threshold,
        baseline_median_s=r.baseline_median, current_median_s=r.current_median,
        n_baseline=v.n_baseline, n_current=v.n_current, measurement_id=r.measurement_id,
        baseline_run_id=r.baseline_run, confirmed=r.confirmed,
        remeasured=tuple({"status": x.status, "median_s": x.median, "factor": x.factor,
                          "verdict": x.verdict.kind if x.verdict else None,
                          "ratio": _finite(x.verdict.ratio) if x.verdict else None,
                          "p_value": x.verdict.p_value if x.verdict else None}
                         for x in r.remeasured))


def _finite(x: float) -> float | None:
    import math

    return x if math.isfinite(x) else None




def table(result: RegressResult) -> str:
    lines = [f"baseline: {result.baseline}"]
    if result.note:
        lines.append(f"note: {result.note}")
    lines.append("times: raw medians of the stored measurements, as the report's trend tooltips "
                 "show them; each ratio (current/baseline) says whether it is raw, "
                 "dense-relative or drift-corrected")
    if result.normalize == "dense":
        lines.append("normalized: each point relative to the dense baseline timed in its own "
                     "rounds, now vs the baseline's run (dense-relative ratio = raw ratio / "
                     f"dense ratio; machine drift {result.drift:.3f}x; --normalize none to "
                     "compare raw times)")
    if result.widened > 1.0:
        lines.append(f"note: the whole machine ran {result.drift:.2f}x the baseline's time; the "
                     f"threshold is widened by {result.widened:.2f}x for this run (a run on a "
                     "quiet machine judges finer)")
    elif result.normalize == "drift":
        lines.append(f"normalized: machine drift {result.drift:.3f}x divided out of every point "
                     "(--normalize none to compare raw times)")
    for r in result.rows:
        if r.verdict is None:
            what = r.status if r.status != "ok" else "new point (no baseline)"
            lines.append(f"  {'-':11} {r.label}: {what}")
            continue
        lines.append(f"  {r.kind:11} {r.label}: {row_numbers(r)}")
    n = len(result.regressions)
    lines.append(f"{n} regression(s)" + (": " + "; ".join(r.label for r in result.regressions)
                                         if n else ""))
    return "\n".join(lines)


def row_numbers(r: Row) -> str:
    """`<baseline> (run B) -> <current> (this run); <ratio> <kind> …`: the raw medians, then the
    compared ratio and how it follows from them, then any re-measurements."""
    assert r.verdict is not None
    v = r.verdict
    where = f"run {r.baseline_run}" if r.baseline_run is not None else "baseline file"
    text = (f"{fmt_time(r.baseline_median)} ({where}) -> {fmt_time(r.current_median)} "
            f"(this run); {_ratio(v.ratio)} {RATIO_KIND[r.normalized]}")
    if r.normalized != "none" and r.baseline_median and r.current_median:
        raw = r.current_median / r.baseline_median
        text += f" = raw {_ratio(raw)} / {r.normalized} {_ratio(r.factor)}"
    text += f", {_p(v.p_value)}"
    if r.remeasured:
        again = ", ".join(
            f"{fmt_time(x.median)} {_ratio(x.verdict.ratio)} {x.verdict.kind}" if x.verdict
            else f"{x.status} (not compared)" for x in r.remeasured)
        text += f"; re-measured in a fresh process: {again}"
        if r.regressed:
            text += f" (confirmed {r.confirmed}x)"
    return text


def _ratio(x: float) -> str:
    return f"{x:.3f}x"


def _p(p: float | None) -> str:
    return f"p={p:.2g}" if p is not None else "p=n/a"


def fmt_time(seconds: float | None) -> str:
    """A time as the report's tooltips write it: 3 significant digits in s, ms, µs or ns."""
    import math

    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def write_json(result: RegressResult, path: str) -> None:
    rows = [{"point_key": r.key, "label": r.label, "status": r.status, "verdict": r.kind,
             "ratio": r.verdict.ratio if r.verdict else None,
             "ratio_kind": RATIO_KIND[r.normalized],
             "factor": r.factor, "p_value": r.verdict.p_value if r.verdict else None,
             "baseline_median_s": r.baseline_median, "current_median_s": r.current_median,
             "baseline_run_id": r.baseline_run, "confirmed": r.confirmed,
             "remeasured": len(r.remeasured)}
            for r in result.rows]
    Path(path).write_text(json.dumps({"run_id": result.run_id, "baseline": result.baseline,
                                      "drift": result.drift, "normalize": result.normalize,
                                      "threshold_widened_by": result.widened,
                                      "regressions": len(result.regressions), "points": rows},
                                     indent=1))


def write_junit(result: RegressResult, path: str) -> None:
    cases = []
    regressed = {r.key for r in result.regressions}
    for r in result.rows:
        body = ""
        if r.key in regressed and r.verdict is not None:  # a regression always has a verdict
            msg = (f"{r.verdict.ratio:.3f}x slower ({RATIO_KIND[r.normalized]}, "
                   f"{_p(r.verdict.p_value)})")
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
    if opts.pytest_benchmark:
        from harness.regress import pytest_benchmark

        pytest_benchmark.write(result.measured, opts.pytest_benchmark,
                               provenance=result.provenance)
    if result.regressions and not opts.quiet:
        print(f"harness regress: {len(result.regressions)} regression(s)", file=sys.stderr)
    return result.exit_code
