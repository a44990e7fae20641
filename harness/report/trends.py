"""Trend charts of nightly regression runs: one line chart per point, median time per run.

The x axis is the sequence of regression runs in the report (the same run at the same place in
every chart), labelled by short git SHA and date; the y axis is the point's median time. Persistent
level shifts found by `harness.regress.steps.detect_steps` (a single outlying run is never a
step) are marked on the first run of the new level: red for a slowdown, green for a speed-up.
The verdicts `harness regress` stored with a run (regression / improvement, with the ratio it
compared, raw or dense-relative, and its re-measurements) are drawn as that command judged them:
a square around the run's point, and one table row each.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.regress.compare import RATIO_KIND
from harness.regress.steps import Step, detect_steps
from harness.report import svg
from harness.report.data import HistoryPoint, ReportData
from harness.report.figures import Section, figure, fmt_time, table

if TYPE_CHECKING:
    from harness.store.api import VerdictRecord

FLAGGED = ("regression", "improvement")  # stored verdicts a chart marks
LINE = svg.PALETTE[0]
SLOWER = "#c0392b"
FASTER = "#009E73"
MISSING = "#9aa0a6"
MAX_XTICKS = 6


@dataclass(frozen=True)
class RunTick:
    """A regression run on the shared x axis."""

    index: int
    run_id: int
    started_at: str
    git_sha: str

    @property
    def sha(self) -> str:
        return self.git_sha[:7] if self.git_sha else f"run {self.run_id}"

    @property
    def date(self) -> str:
        return self.started_at[:10]


@dataclass(frozen=True)
class Marked:
    """A detected step, located on the run that starts the new level."""

    step: Step
    run: RunTick

    @property
    def change(self) -> str:
        r = self.step.ratio
        return f"{(r - 1) * 100:+.0f}%" if math.isfinite(r) else "new level"

    @property
    def note(self) -> str:
        return f"{self.change} from run {self.run.run_id} ({self.run.sha})"


def run_axis(history: Sequence[HistoryPoint]) -> list[RunTick]:
    """The distinct runs of `history`, in its (run) order."""
    seen: dict[int, RunTick] = {}
    for h in history:
        if h.run_id not in seen:
            seen[h.run_id] = RunTick(len(seen), h.run_id, h.started_at, h.git_sha)
    return list(seen.values())


def per_run(entries: Sequence[HistoryPoint]) -> dict[int, tuple[float | None, str]]:
    """run id → (median time, status) of one point; repeated measurements in a run → their median."""
    by_run: dict[int, list[HistoryPoint]] = defaultdict(list)
    for h in entries:
        by_run[h.run_id].append(h)
    out: dict[int, tuple[float | None, str]] = {}
    for rid, hs in by_run.items():
        ok = [h.median_s for h in hs if h.median_s is not None and math.isfinite(h.median_s)]
        out[rid] = (statistics.median(ok), "ok") if ok else (None, hs[0].status)
    return out


def point_steps(values: Sequence[tuple[RunTick, float]]) -> list[Marked]:
    """Steps of one point's timed history, each on its run."""
    return [Marked(s, values[s.index][0]) for s in detect_steps([v for _, v in values])]


def _time_unit(vmax: float) -> tuple[float, str]:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if vmax >= scale:
            return scale, unit
    return 1e-9, "ns"


def _span(values: Sequence[float], rel: float) -> list[float]:
    if not values:
        return []
    mid = statistics.median(values)
    return [mid * (1 - rel), mid * (1 + rel)]


def _xticks(n: int) -> list[int]:
    """At most MAX_XTICKS evenly spaced run indices, always including the latest run."""
    step = max(1, math.ceil(n / MAX_XTICKS))
    return sorted(range(n - 1, -1, -step))


def verdict_text(v: VerdictRecord) -> str:
    """A stored verdict in the words `harness regress` printed it."""
    ratio = "n/a" if v.ratio is None else f"{v.ratio:.3f}x"
    p = "" if v.p_value is None else f", p={v.p_value:.2g}"
    return (f"regress: {v.verdict} {ratio} {RATIO_KIND.get(v.normalize, v.normalize)}{p}, "
            f"threshold {v.threshold:.2f}, confirmed {v.confirmed}x in a fresh process")


def chart(
    label: str,
    cells: dict[int, tuple[float | None, str]],
    axis: Sequence[RunTick],
    verdicts: Mapping[int, VerdictRecord] | None = None,
) -> tuple[str, list[Marked]]:
    """One point's trend chart (SVG) and its detected steps; `verdicts`: the point's stored
    regression/improvement verdicts by run id, each boxed on its run."""
    verdicts = verdicts or {}
    timed = [(t, v) for t in axis if (v := cells.get(t.run_id, (None, ""))[0]) is not None]
    marked = point_steps(timed)
    values = [v for _, v in timed]
    scale, unit = _time_unit(max(values, default=1.0))
    frame = svg.Frame.make(
        (-0.5, max(len(axis), 1) - 0.5),
        # at least ±10% around the median level: run-to-run noise of 1% must not look like a cliff
        svg.padded(values, pad=0.15, include=_span(values, 0.10)),
        width=460,
        height=250,
        top=svg.title_top(label, 460),
        left=62,
        bottom=58,
    )
    x0, y0, x1, y1 = frame.box
    body = [
        svg.axes(frame, xticks=[], yfmt=lambda v: f"{v / scale:.3g} {unit}", title=label),
        svg.text((x0 + x1) / 2, y1 + 46, "run (git SHA, date)", anchor="middle", cls="axis-label"),
        svg.text(14, (y0 + y1) / 2, "median time", anchor="middle", cls="axis-label", rotate=-90),
    ]
    for i in _xticks(len(axis)):
        t, px = axis[i], frame.x(i)
        body.append(svg.line(px, y1, px, y1 + 4, color="#999"))
        body.append(svg.text(px, y1 + 15, t.sha, anchor="middle", cls="tick", size=10))
        body.append(svg.text(px, y1 + 27, t.date, anchor="middle", cls="tick", size=9))
    # one polyline per run of consecutive timed runs: a gap where the point was not timed
    seg: list[tuple[float, float]] = []
    for t, v in timed:
        if seg and t.index != seg[-1][0] + 1:
            body.append(svg.polyline(frame, seg, color=LINE, cls="series trend"))
            seg = []
        seg.append((t.index, v))
    body.append(svg.polyline(frame, seg, color=LINE, cls="series trend"))
    steps_at = {m.run.run_id: m for m in marked}
    for j, m in enumerate(marked):
        px = frame.x(m.run.index - 0.5)
        color = SLOWER if m.step.ratio > 1 else FASTER
        body.append(svg.line(px, y0, px, y1, color=color, dash="4 3", cls="step-line"))
        right = m.run.index > len(axis) / 2
        body.append(
            svg.text(
                px + (-4 if right else 4),
                y0 + 12 + 12 * j,
                m.note,
                anchor="end" if right else "start",
                cls="ref-label step-note" if m.step.ratio > 1 else "step-note",
                size=10,
            )
        )
    for t, v in timed:
        tip = f"{label}\nrun {t.run_id} · {t.sha} · {t.started_at}\nmedian {fmt_time(v)}"
        judged = verdicts.get(t.run_id)
        if judged is not None:
            tip += "\n" + verdict_text(judged)
            color = SLOWER if judged.verdict == "regression" else FASTER
            body.append(svg.marker(frame.x(t.index), frame.y(v), color=color, r=8, tip=tip,
                                   cls="pt verdict", shape="square", hollow=True))
        step = steps_at.get(t.run_id)
        if step is None:
            body.append(svg.marker(frame.x(t.index), frame.y(v), color=LINE, r=3, tip=tip))
            continue
        tip += (
            f"\nstep {step.change}: {fmt_time(step.step.before)} → {fmt_time(step.step.after)} "
            "(persistent level shift)"
        )
        color = SLOWER if step.step.ratio > 1 else FASTER
        body.append(
            svg.marker(frame.x(t.index), frame.y(v), color=color, r=5.5, tip=tip, cls="pt step")
        )
    for t in axis:
        v, status = cells.get(t.run_id, (None, ""))
        if v is None and status:
            tip = f"{label}\nrun {t.run_id} · {t.sha} · {t.started_at}\nnot timed: {status}"
            body.append(
                svg.marker(
                    frame.x(t.index),
                    y1 - 6,
                    color=MISSING,
                    r=3,
                    tip=tip,
                    cls="pt not-timed",
                    shape="cross",
                )
            )
    return svg.svg(frame, "".join(body), cls="plot trend", label=label), marked


@figure("trends", 90)
def trends(data: ReportData) -> Section | None:
    if not data.history:
        return None
    axis = run_axis(data.history)
    by_point: dict[str, list[HistoryPoint]] = defaultdict(list)
    for h in data.history:
        by_point[h.point_key].append(h)
    judged: dict[str, dict[int, VerdictRecord]] = defaultdict(dict)
    for sv in data.verdicts:
        if sv.record.verdict in FLAGGED:
            judged[sv.record.point_key][sv.run_id] = sv.record
    charts = []
    for key, entries in by_point.items():
        label = entries[0].label
        html, marked = chart(label, per_run(entries), axis, judged.get(key))
        slower = any(m.step.ratio > 1 for m in marked)
        charts.append(((not slower, label, key), html, label, marked))
    charts.sort(key=lambda c: c[0])  # points that got slower first
    rows = [
        (
            label,
            m.change,
            m.run.run_id,
            m.run.sha,
            m.run.date,
            fmt_time(m.step.before),
            fmt_time(m.step.after),
        )
        for _, _, label, marked in charts
        for m in marked
    ]
    summary = (
        table(
            ["point", "change", "from run", "git SHA", "date", "before", "after"],
            rows,
            cls="steps",
        )
        if rows
        else '<p class="note">No persistent step in any point\'s history.</p>'
    )
    labels = {h.point_key: h.label for h in data.history}
    stored = [(labels.get(key, key), run, v.verdict, verdict_text(v).removeprefix("regress: "))
              for key, runs in judged.items() for run, v in sorted(runs.items())]
    if stored:
        summary += "<h3>Verdicts stored by harness regress</h3>" + table(
            ["point", "run", "verdict", "as regress judged it"], stored, cls="verdicts")
    grid = (
        '<div class="panels">'
        + "".join(f'<div class="panel">{html}</div>' for _, html, _, _ in charts)
        + "</div>"
    )
    return Section(
        "trends",
        "Trends over regression runs",
        summary + grid,
        f"Median time of each point in each of {len(axis)} regression run(s), in run order "
        "(labelled by short git SHA and date). Marked runs start a persistent level shift found "
        "by step detection (red slower, green faster); a single outlying run is never a step. "
        "Grey crosses: runs where the point was not timed. Squares: runs that harness regress "
        "itself judged a regression (red) or an improvement (green), as it stored the verdict.",
    )
