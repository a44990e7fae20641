"""Best configurations: the stored answer (accuracy budget), the fastest verified kernels, and
what was not timed with its reasons.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.answers import alternative_line, columns, row_cells
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, table
from harness.report.figures.labels import (
    fmt_speedup,
    fmt_time,
    geometry,
    group_by,
    pct,
    shape_label,
)
from harness.report.svg import esc


def _answer_table(decision: Any) -> str:
    """The stored answer (harness.answers), with the terminal's columns: each trained
    configuration with its kernel speedup, accuracy, accuracy against dense, whether it is within
    the accuracy budget and, when one was timed, its speedup over the fastest cheaper dense dtype;
    the recommended one is marked (the fastest within budget that beats dense)."""
    rec = (decision.get("recommended") or {}).get("label")
    alt = bool(decision.get("dense_alternative"))
    rows = [(r["label"] + (" (recommended)" if r["label"] == rec else ""),
             *row_cells(r, times="×", dash="–", alt=alt)) for r in decision.get("rows", [])]
    dense = decision.get("dense_accuracy")
    head = (f"<h3>Within the accuracy budget ({esc(decision.get('budget_text', ''))}; dense "
            f"accuracy {'n/a' if dense is None else f'{dense:.4f}'})</h3>")
    other = alternative_line(decision, times="×")
    note = f'<p class="note">{esc(other[0].upper() + other[1:])}.</p>' if other else ""
    return head + table(["configuration", *columns(decision)], rows, cls="answer") + note


@figure("best", 70)
def best(data: ReportData, top: int = 20) -> Section | None:
    if not data.measurements:
        return None
    good = sorted((m for m in data.timed if m.verified), key=lambda m: -(m.speedup or 0.0))
    parts = [_answer_table(data.decision)] if data.decision else []
    if good:
        rows = []
        for i, m in enumerate(good[:top], 1):
            p = m.point
            rows.append(
                (
                    i,
                    f"{p.format}/{p.backend}",
                    f"{p.prune.pattern} {geometry(p)[1]}".strip(),
                    pct(p.prune.rate),
                    shape_label(p),
                    p.dtype,
                    p.device,
                    fmt_time(m.stats.median if m.stats else None),
                    fmt_speedup(m),
                    f"{m.rel_error:.1e}" if m.rel_error is not None else "–",
                    f"{m.bandwidth_gbs:.1f}" if m.bandwidth_gbs is not None else "–",
                    "throttled" if m.throttled else "",
                )
            )
        shown = min(top, len(good))
        parts.append(f"<h3>Fastest verified kernels ({shown} of {len(good)}, by speedup)</h3>")
        parts.append(
            table(
                [
                    "#",
                    "format/backend",
                    "pruning",
                    "rate",
                    "shape",
                    "dtype",
                    "device",
                    "median",
                    "speedup [CI]",
                    "rel. error",
                    "GB/s",
                    "flags",
                ],
                rows,
                cls="best",
            )
        )
    else:
        parts.append('<p class="note">No verified configuration with a speedup.</p>')
    bad = data.not_timed
    counts = Counter(m.status for m in bad)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    parts.append(f"<h3>Not timed: {esc(summary)}</h3>")
    if bad:
        by_reason = group_by(bad, lambda m: (m.status, m.reason or "(no reason given)"))
        failed: list[tuple[str, str, int, str]] = []
        for (status, reason), group in sorted(
            by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])
        ):
            examples = "; ".join(g.point.label() for g in group[:3]) + (
                " …" if len(group) > 3 else ""
            )
            failed.append((status, reason, len(group), examples))
        parts.append(table(["status", "reason", "count", "examples"], failed, cls="failed"))
    return Section(
        "best",
        "Best configurations",
        "".join(parts),
        "First the answer: every trained configuration with its accuracy against the dense model "
        "and the accuracy budget; the recommendation is the fastest within it. Then the top "
        f"{top} verified kernels by speedup, whose accuracy the table above gives where they were "
        "trained. Invalid (wrong output), unsupported, failed and contended configurations never "
        "get a speedup and are listed with their reasons.",
    )
