"""Report figures: a registry of builders, each `ReportData -> Section | None` (pure).

Figures follow hartenstein-weight-pruning-gpus.md: Fig. 3 (speedup vs pruning rate, one line per
group size, break-even at 1×), Fig. 4 (accuracy per group size at a fixed rate) and Fig. 5
(accuracy vs speedup, one point per group size, the dense model marked), plus a heatmap, Pareto
fronts, a roofline view, energy, provenance and the best-configurations table.

Where several measurements share a (panel, series, rate) cell, e.g. repeated runs or aggregations,
the line figures plot their median; the Pareto figure and the tables show every measurement.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.answers import row_cells
from harness.core.measurement import Measurement
from harness.core.point import Point
from harness.core.registry import Registry
from harness.pareto import non_dominated
from harness.report import svg
from harness.report.data import ReportData
from harness.report.svg import esc

ENERGY_KEY = "nvml.energy_j_per_call"
SEED = "hartenstein-weight-pruning-gpus.md"


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    html: str  # already escaped
    note: str = ""  # plain text, escaped when rendered


@dataclass(frozen=True)
class Figure:
    order: int
    build: Callable[[ReportData], Section | None]


FIGURES: Registry[Figure] = Registry("report figure")


def figure(name: str, order: int) -> Callable[[Callable[[ReportData], Section | None]], Callable]:
    def deco(fn: Callable[[ReportData], Section | None]) -> Callable[[ReportData], Section | None]:
        FIGURES.register(name, Figure(order, fn))
        return fn

    return deco


def build_sections(data: ReportData) -> list[Section]:
    """Every registered figure, in order; builders answering None are left out."""
    out = []
    for _, fig in sorted(FIGURES.items(), key=lambda kv: (kv[1].order, kv[0])):
        sec = fig.build(data)
        if sec is not None:
            out.append(sec)
    return out


# --------------------------------------------------------------------------- labels and grouping

_PATTERN_ORDER = {"unstructured": 0, "row_group": 1, "block": 2, "nm": 3}


def geometry(p: Point) -> tuple[tuple, str]:
    """(sort key, label) of a point's pruning geometry: 'g=32', 'block 4x4', '2:4', …"""
    pr = p.prune
    order = _PATTERN_ORDER.get(pr.pattern, 9)
    if pr.pattern == "row_group":
        return (order, pr.group_size, 0), f"g={pr.group_size}"
    if pr.pattern == "block":
        return (order, pr.block[0] * pr.block[1], pr.block[0]), f"block {pr.block[0]}x{pr.block[1]}"
    if pr.pattern == "nm":
        return (order, pr.nm[1], pr.nm[0]), f"{pr.nm[0]}:{pr.nm[1]}"
    return (order, 0, 0), pr.pattern


def shape_label(p: Point) -> str:
    return f"{p.m}×{p.k}×{p.n}"


def panel_key(p: Point) -> tuple:
    return (p.format, p.backend, p.shape, p.dtype, p.device)


def panel_label(p: Point) -> str:
    return f"{p.format}/{p.backend} · {shape_label(p)} · {p.dtype} · {p.device}"


def problem_key(p: Point) -> tuple:
    return (p.shape, p.dtype, p.device)


def fmt_time(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_speedup(m: Measurement) -> str:
    if m.speedup is None:
        return "–"
    ci = f" [{m.speedup_ci[0]:.2f}, {m.speedup_ci[1]:.2f}]" if m.speedup_ci else ""
    return f"{m.speedup:.2f}×{ci}"


def describe(m: Measurement) -> str:
    """Full configuration of a measurement, one fact per line (hover text)."""
    p = m.point
    _, geo = geometry(p)
    lines = [
        f"{p.format} / {p.backend}",
        f"pattern {p.prune.pattern}" + (f" ({geo})" if geo != p.prune.pattern else ""),
        f"rate {p.prune.rate:.1%}",
        f"{p.dtype} · {shape_label(p)} · {p.device}",
        f"median {fmt_time(m.stats.median if m.stats else None)}",
        f"speedup {fmt_speedup(m)}",
    ]
    if p.prune.pattern in ("row_group", "unstructured"):
        lines.insert(2, f"aggregation {p.prune.aggregation}")
    if m.throttled:
        lines.append("measured while the device was throttled")
    return "\n".join(lines)


def _colors(labels: Iterable[tuple[tuple, str]]) -> dict[str, str]:
    """Stable colour per label (sorted by its sort key) across all panels."""
    ordered = sorted(set(labels))
    return {lab: svg.PALETTE[i % len(svg.PALETTE)] for i, (_, lab) in enumerate(ordered)}


def _group(
    ms: Iterable[Measurement], key: Callable[[Measurement], Any]
) -> dict[Any, list[Measurement]]:
    out: dict[Any, list[Measurement]] = defaultdict(list)
    for m in ms:
        out[key(m)].append(m)
    return out


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%" if abs(v * 100 - round(v * 100)) < 1e-6 else f"{v * 100:.1f}%"


def _grid(panels: Sequence[str]) -> str:
    return (
        '<div class="panels">' + "".join(f'<div class="panel">{p}</div>' for p in panels) + "</div>"
    )


# --------------------------------------------------------------------------- line panels


def _series(
    ms: Sequence[Measurement], value: Callable[[Measurement], float | None]
) -> dict[tuple[tuple, str], list[tuple[float, float, int]]]:
    """series (geometry) → sorted [(rate, median value, count)]."""
    cells: dict[tuple[tuple, str], dict[float, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in ms:
        v = value(m)
        if v is not None and math.isfinite(v):
            cells[geometry(m.point)][m.point.prune.rate].append(v)
    return {
        g: sorted((r, statistics.median(vs), len(vs)) for r, vs in by_rate.items())
        for g, by_rate in cells.items()
    }


def break_even(points: Sequence[tuple[float, float, int]], level: float = 1.0) -> float | None:
    """Lowest rate from which the series stays ≥ level, linearly interpolated; None if never."""
    above = [v >= level for _, v, _ in points]
    if not above or not above[-1]:
        return None
    i = len(points) - 1
    while i > 0 and above[i - 1]:
        i -= 1
    if i == 0:
        return points[0][0]
    (r0, v0, _), (r1, v1, _) = points[i - 1], points[i]
    return r0 + (level - v0) / (v1 - v0) * (r1 - r0) if v1 != v0 else r1


def line_panels(
    ms: Sequence[Measurement],
    value: Callable[[Measurement], float | None],
    *,
    ylabel: str,
    ref: float | None = None,
    ref_label: str = "",
    unit: str = "",
    show_break_even: bool = False,
    cls: str = "fig",
) -> str:
    """One panel per (format, backend, shape, dtype, device): value vs pruning rate, one line per
    pruning geometry, an optional dashed reference line (e.g. break-even at 1×)."""
    panels_ms = _group(ms, lambda m: panel_key(m.point))
    colors = _colors(geometry(m.point) for m in ms)
    out = []
    for key in sorted(panels_ms, key=str):
        group = panels_ms[key]
        series = _series(group, value)
        if not series:
            continue
        ys = [v for pts in series.values() for _, v, _ in pts]
        rates = [r for pts in series.values() for r, _, _ in pts]
        positive = min(ys) > 0
        ylog = positive and max(ys) / min(ys) > 8
        frame = svg.Frame.make(
            svg.padded(rates, pad=0.04),
            svg.padded(ys, include=[ref] if ref is not None else [], log=ylog),
            ylog=ylog,
            width=440,
            height=300,
        )
        body = [
            svg.axes(
                frame,
                xlabel="pruning rate",
                ylabel=ylabel,
                xfmt=_pct,
                yfmt=lambda v: f"{v:g}{unit}",
                title=panel_label(group[0].point),
            )
        ]
        if ref is not None:
            x0, _, x1, _ = frame.box
            body.append(
                svg.line(
                    x0,
                    frame.y(ref),
                    x1,
                    frame.y(ref),
                    color="#c0392b",
                    width=1.5,
                    dash="5 4",
                    cls="ref-line",
                )
            )
            if ref_label:
                body.append(
                    svg.text(x1 - 4, frame.y(ref) - 4, ref_label, anchor="end", cls="ref-label")
                )
        legend_items = []
        for g in sorted(series):
            pts, color = series[g], colors[g[1]]
            body.append(svg.polyline(frame, [(r, v) for r, v, _ in pts], color=color))
            for r, v, n in pts:
                tip = f"{panel_label(group[0].point)}\n{g[1]} · rate {_pct(r)}\n{ylabel}: {v:.3g}{unit}"
                tip += f" (median of {n})" if n > 1 else ""
                body.append(svg.marker(frame.x(r), frame.y(v), color=color, r=3, tip=tip))
            label = g[1]
            if show_break_even:
                be = break_even(pts, ref if ref is not None else 1.0)
                label += f" (≥1× from {_pct(be)})" if be is not None else " (never ≥1×)"
            legend_items.append((label, color))
        cols = 2 if show_break_even else 3
        col_w = 200 if show_break_even else 135
        out.append(framed_plot(frame, body, legend_items, cls=f"plot {cls}", label=ylabel,
                               cols=cols, col_width=col_w, swatch="line"))
    return _grid(out) if out else ""


def framed_plot(frame: Any, body: Sequence[str], items: Sequence[tuple[str, str]], *, cls: str,
                label: str, cols: int = 3, col_width: int = 140, swatch: str = "dot") -> str:
    """One SVG: the plot's body with its legend underneath (height grows with the legend)."""
    lh = svg.legend_height(len(items), cols)
    return svg.svg(
        (frame.width, frame.height + lh + 6),
        "".join(body)
        + svg.legend(items, frame.x.a, frame.height + 4, cols=cols, col_width=col_width,
                     swatch=swatch),
        cls=cls,
        label=label,
    )


# --------------------------------------------------------------------------- figures


@figure("speedup_vs_rate", 10)
def speedup_vs_rate(data: ReportData) -> Section | None:
    ms = data.timed
    if not ms:
        return None
    body = line_panels(
        ms,
        lambda m: m.speedup,
        ylabel="speedup over dense",
        unit="×",
        ref=1.0,
        ref_label="break-even 1×",
        show_break_even=True,
        cls="fig3",
    )
    return Section(
        "fig3",
        "Speedup vs pruning rate",
        body,
        f"{SEED}, Fig. 3: median speedup over the dense baseline per pruning geometry; "
        "the dashed line is break-even (1×).",
    )


def _heat_color(v: float, vmax_log: float) -> str:
    """Diverging colour on log2(speedup): red below 1×, white at 1×, blue above."""
    t = max(-1.0, min(1.0, math.log2(v) / vmax_log)) if v > 0 else -1.0
    lo, mid, hi = (178, 24, 43), (247, 247, 247), (33, 102, 172)
    end = hi if t >= 0 else lo
    a = abs(t)
    rgb = tuple(round(mid[i] + (end[i] - mid[i]) * a) for i in range(3))
    return "#" + "".join(f"{c:02x}" for c in rgb)


@figure("heatmap", 20)
def heatmap(data: ReportData) -> Section | None:
    ms = data.timed
    if not ms:
        return None
    panels = []
    vals = [m.speedup for m in ms if m.speedup and m.speedup > 0]
    vmax_log = max(1.0, max((abs(math.log2(v)) for v in vals), default=1.0))
    for _key, group in sorted(
        _group(ms, lambda m: panel_key(m.point)).items(), key=lambda kv: str(kv[0])
    ):
        series = _series(group, lambda m: m.speedup)
        rates = sorted({r for pts in series.values() for r, _, _ in pts})
        rows = sorted(series)
        cw, ch, left, top = max(34.0, min(52.0, 380 / max(len(rates), 1))), 22.0, 86.0, 22.0
        w, h = left + cw * len(rates) + 10, top + ch * len(rows) + 40
        body = [svg.text(left, 14, panel_label(group[0].point), cls="panel-title", weight="600")]
        for j, (_, lab) in enumerate(rows):
            body.append(
                svg.text(left - 6, top + j * ch + ch / 2 + 4, lab, anchor="end", cls="tick")
            )
            by_rate = {r: (v, n) for r, v, n in series[rows[j]]}
            for i, r in enumerate(rates):
                if r not in by_rate:
                    continue
                v, n = by_rate[r]
                tip = f"{panel_label(group[0].point)}\n{lab} · rate {_pct(r)}\nspeedup {v:.2f}×" + (
                    f" (median of {n})" if n > 1 else ""
                )
                color = _heat_color(v, vmax_log)
                dark = abs(math.log2(v)) / vmax_log > 0.55 if v > 0 else True
                body.append(
                    svg.cell(
                        left + i * cw,
                        top + j * ch,
                        cw,
                        ch,
                        color=color,
                        label=f"{v:.2f}",
                        tip=tip,
                        dark=dark,
                    )
                )
        for i, r in enumerate(rates):
            body.append(
                svg.text(
                    left + i * cw + cw / 2,
                    top + ch * len(rows) + 14,
                    _pct(r),
                    anchor="middle",
                    cls="tick",
                )
            )
        body.append(
            svg.text(
                left + cw * len(rates) / 2,
                top + ch * len(rows) + 32,
                "pruning rate",
                anchor="middle",
                cls="axis-label",
            )
        )
        panels.append(svg.svg((w, h), "".join(body), cls="plot heatmap", label="speedup heatmap"))
    panels.append(_colorbar(vmax_log))
    return Section(
        "heatmap",
        "Speedup by pruning geometry × pruning rate",
        _grid(panels),
        "Median speedup over dense per cell; colour is log₂(speedup): blue faster, red slower than dense.",
    )


def _colorbar(vmax_log: float) -> str:
    w, h, x0, steps = 260.0, 56.0, 20.0, 48
    bw = (w - 2 * x0) / steps
    parts = [svg.text(x0, 12, "speedup (colour scale)", cls="axis-label")]
    for i in range(steps):
        t = -1 + 2 * (i + 0.5) / steps
        parts.append(
            f'<rect x="{svg.fmt(x0 + i * bw)}" y="18" width="{svg.fmt(bw + 0.5)}" height="14" '
            f'fill="{_heat_color(2 ** (t * vmax_log), vmax_log)}"/>'
        )
    for t in (-1, -0.5, 0, 0.5, 1):
        x = x0 + (t + 1) / 2 * (w - 2 * x0)
        parts.append(svg.line(x, 32, x, 36, color="#555"))
        parts.append(svg.text(x, 48, f"{2 ** (t * vmax_log):.2g}×", anchor="middle", cls="tick"))
    return svg.svg((w, h), "".join(parts), cls="plot colorbar", label="colour scale")


@figure("pareto", 30)
def pareto(data: ReportData) -> Section | None:
    ms = data.timed
    if not ms:
        return None
    colors = _colors((0, f"{m.point.format}/{m.point.backend}") for m in ms)
    panels = []
    for _key, group in sorted(
        _group(ms, lambda m: problem_key(m.point)).items(), key=lambda kv: str(kv[0])
    ):
        vals = [(m.point.prune.rate, m.speedup) for m in group]
        front = set(non_dominated(vals, ["minimize", "maximize"]).tolist())
        ys = [v for _, v in vals]
        ylog = min(ys) > 0 and max(ys) / min(ys) > 8
        frame = svg.Frame.make(
            svg.padded([r for r, _ in vals], pad=0.04),
            svg.padded(ys, include=[1.0], log=ylog),
            ylog=ylog,
            width=460,
            height=320,
        )
        p0 = group[0].point
        body = [
            svg.axes(
                frame,
                xlabel="pruning rate (lower keeps more weights)",
                ylabel="speedup over dense",
                xfmt=_pct,
                yfmt=lambda v: f"{v:g}×",
                title=f"{shape_label(p0)} · {p0.dtype} · {p0.device}",
            )
        ]
        x0, _, x1, _ = frame.box
        body.append(
            svg.line(
                x0, frame.y(1.0), x1, frame.y(1.0), color="#c0392b", dash="5 4", cls="ref-line"
            )
        )
        order = sorted(front, key=lambda i: vals[i])
        stair = []
        for i in order:  # staircase: the best speedup reachable at each rate
            r, v = vals[i]
            if stair:
                stair.append((r, stair[-1][1]))
            stair.append((r, v))
        body.append(
            svg.polyline(frame, stair, color="#333", width=1.5, dash="3 2", cls="front-line")
        )
        for i in sorted(range(len(group)), key=lambda i: i in front):  # front drawn on top
            m, on = group[i], i in front
            r, v = vals[i]
            color = colors[f"{m.point.format}/{m.point.backend}"]
            tip = ("Pareto-optimal\n" if on else "") + describe(m)
            body.append(
                svg.marker(
                    frame.x(r),
                    frame.y(v),
                    color=color,
                    r=5 if on else 3.2,
                    tip=tip,
                    cls="pt front" if on else "pt dominated",
                    hollow=not on,
                )
            )
        items = [(lab, c) for lab, c in colors.items()]
        panels.append(framed_plot(frame, body, items, cls="plot pareto", label="Pareto front"))
    toggle = (
        '<label class="toggle"><input type="checkbox" data-toggle="hide-dominated"> '
        "show the Pareto-optimal points only</label>"
    )
    return Section(
        "pareto",
        "Pareto front: speedup vs pruning rate",
        toggle + _grid(panels),
        "One point per measurement; filled points are Pareto-optimal (no other configuration "
        "is faster at the same or a lower pruning rate). Hover a point for its configuration.",
    )


# --------------------------------------------------------------------------- training figures


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _kernel_speedup(rec: Mapping[str, Any], ms: Sequence[Measurement]) -> float | None:
    """The record's own speedup, else the best measured kernel speedup for its pruning."""
    own = _num(rec.get("speedup"))
    if own is not None:
        return own
    rate, g, pattern = _num(rec.get("pruning_rate")), rec.get("group_size"), rec.get("pattern")
    found = [
        m.speedup
        for m in ms
        if m.speedup is not None
        and rate is not None
        and abs(m.point.prune.rate - rate) < 1e-9
        and m.point.prune.pattern == pattern
        and (pattern != "row_group" or m.point.prune.group_size == g)
    ]
    return max(found) if found else None


def _acc_fmt(accs: Sequence[float]) -> Callable[[float], str]:
    """Accuracies in [0, 1] are shown as percentages, anything else as is."""
    if accs and all(0.0 <= a <= 1.0 for a in accs):
        return lambda v: f"{v * 100:.4g}%"
    return lambda v: f"{v:.4g}"


def _train_label(rec: Mapping[str, Any]) -> str:
    pattern = rec.get("pattern", "")
    g = rec.get("group_size")
    return (
        f"g={g}"
        if pattern in ("row_group", "unstructured", None, "") and g is not None
        else str(pattern)
    )


def _train_tip(rec: Mapping[str, Any], speedup: float | None) -> str:
    keys = (
        "pattern",
        "group_size",
        "pruning_rate",
        "aggregation",
        "schedule",
        "epochs",
        "accuracy",
        "loss",
        "model_speedup",
        "time_s",
    )
    lines = ["dense reference" if rec.get("dense") else _train_label(rec)]
    lines += [f"{k} {_fmt_val(rec[k])}" for k in keys if k in rec and rec[k] is not None]
    if speedup is not None:
        lines.append(f"kernel speedup {speedup:.2f}×")
    return "\n".join(lines)


def _fmt_val(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@figure("accuracy_vs_speedup", 35)
def accuracy_vs_speedup(data: ReportData) -> Section | None:
    pruned = [t for t in data.train if not t.get("dense") and _num(t.get("accuracy")) is not None]
    dense = [t for t in data.train if t.get("dense") and _num(t.get("accuracy")) is not None]
    pts = [(t, _kernel_speedup(t, data.timed)) for t in pruned]
    pts = [(t, s) for t, s in pts if s is not None]
    if not pts:
        return None
    rates = sorted({_num(t.get("pruning_rate")) or 0.0 for t, _ in pts})
    vals = [(s, float(t["accuracy"])) for t, s in pts]
    front = set(non_dominated(vals, ["maximize", "maximize"]).tolist())
    accs = [a for _, a in vals] + [float(t["accuracy"]) for t in dense]
    frame = svg.Frame.make(
        svg.padded([s for s, _ in vals], include=[1.0] if dense else [], pad=0.1),
        svg.padded(accs, pad=0.1),
        width=520,
        height=340,
    )
    body = [
        svg.axes(
            frame,
            xlabel="kernel speedup over dense",
            ylabel="accuracy",
            xfmt=lambda v: f"{v:g}×",
            yfmt=_acc_fmt(accs),
        )
    ]
    x0, y0, x1, y1 = frame.box
    body.append(
        svg.line(frame.x(1.0), y0, frame.x(1.0), y1, color="#c0392b", dash="5 4", cls="ref-line")
    )
    rate_colors = {r: svg.PALETTE[i % len(svg.PALETTE)] for i, r in enumerate(rates)}
    for i, ((t, s), (_, a)) in enumerate(zip(pts, vals, strict=True)):
        on = i in front
        color = rate_colors[_num(t.get("pruning_rate")) or 0.0]
        px, py = frame.x(s), frame.y(a)
        body.append(
            svg.marker(
                px,
                py,
                color=color,
                r=5 if on else 3.5,
                tip=("Pareto-optimal\n" if on else "") + _train_tip(t, s),
                cls="pt front" if on else "pt dominated",
                hollow=not on,
            )
        )
        body.append(svg.text(px + 7, py - 5, _train_label(t), cls="point-label", size=10))
    for t in dense:
        px, py = frame.x(1.0), frame.y(float(t["accuracy"]))
        body.append(
            svg.marker(px, py, color="#000", tip=_train_tip(t, 1.0), cls="pt dense", shape="cross")
        )
        body.append(svg.text(px - 9, py + 4, "dense", anchor="end", cls="point-label", size=10))
    items = [(f"rate {_pct(r)}", rate_colors[r]) for r in rates] + [("dense model (×)", "#000")]
    plot = framed_plot(frame, body, items, cls="plot pareto accuracy", label="accuracy vs speedup")
    return Section(
        "fig5",
        "Accuracy vs speedup",
        _grid([plot]),
        f"{SEED}, Fig. 5: one point per trained configuration (labelled by group size), the dense "
        "model marked ×; filled points are Pareto-optimal in (speedup, accuracy). "
        "Speedup is the training record's own, else the best measured kernel at the same pruning.",
    )


@figure("accuracy_per_group", 40)
def accuracy_per_group(data: ReportData) -> Section | None:
    pruned = [
        t
        for t in data.train
        if not t.get("dense")
        and _num(t.get("accuracy")) is not None
        and _num(t.get("pruning_rate")) is not None
    ]
    if not pruned:
        return None
    dense_acc = [
        float(t["accuracy"])
        for t in data.train
        if t.get("dense") and _num(t.get("accuracy")) is not None
    ]
    by_rate = _group_dicts(pruned, lambda t: _num(t["pruning_rate"]))
    panels = []
    for rate in sorted(by_rate):
        recs = by_rate[rate]
        labels = sorted({(_num(t.get("group_size")) or 0, _train_label(t)) for t in recs})
        pos = {lab: i for i, (_, lab) in enumerate(labels)}
        accs = [float(t["accuracy"]) for t in recs] + dense_acc
        frame = svg.Frame.make(
            (-0.6, len(labels) - 0.4), svg.padded(accs, pad=0.15), width=440, height=300
        )
        body = [
            svg.axes(
                frame,
                xlabel="group size",
                ylabel="accuracy",
                xticks=[],
                yfmt=_acc_fmt(accs),
                title=f"pruning rate {_pct(rate)}",
            )
        ]
        x0, y0, x1, y1 = frame.box
        for lab, i in pos.items():
            body.append(svg.text(frame.x(i), y1 + 14, lab, anchor="middle", cls="tick"))
        if dense_acc:
            ya = frame.y(statistics.median(dense_acc))
            body.append(svg.line(x0, ya, x1, ya, color="#333", dash="5 4", cls="ref-line"))
            body.append(svg.text(x1 - 4, ya - 4, "dense", anchor="end", cls="ref-label"))
        variants = sorted(
            {(t.get("aggregation", ""), t.get("schedule", "")) for t in recs}, key=str
        )
        vcolor = {v: svg.PALETTE[i % len(svg.PALETTE)] for i, v in enumerate(variants)}
        for t in recs:
            v = (t.get("aggregation", ""), t.get("schedule", ""))
            body.append(
                svg.marker(
                    frame.x(pos[_train_label(t)]),
                    frame.y(float(t["accuracy"])),
                    color=vcolor[v],
                    r=4.5,
                    tip=_train_tip(t, None),
                )
            )
        items = [(" · ".join(str(x) for x in v if x) or "pruned", c) for v, c in vcolor.items()]
        panels.append(framed_plot(frame, body, items, cls="plot fig4",
                                  label="accuracy per group size"))
    return Section(
        "fig4",
        "Accuracy per group size at a fixed pruning rate",
        _grid(panels),
        f"{SEED}, Fig. 4: accuracy of each trained model by group size; the dashed line is the "
        "dense model. One panel per pruning rate.",
    )


def _group_dicts(
    recs: Iterable[Mapping[str, Any]], key: Callable
) -> dict[Any, list[Mapping[str, Any]]]:
    out: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for r in recs:
        out[key(r)].append(r)
    return out


# --------------------------------------------------------------------------- hardware figures


@figure("roofline", 50)
def roofline(data: ReportData) -> Section | None:
    ms = [m for m in data.measurements if m.status == "ok" and m.peak_fraction is not None]
    if not ms:
        if not data.measurements:
            return None
        return Section(
            "roofline",
            "Achieved fraction of peak bandwidth",
            "",
            "No measurement recorded a bandwidth peak fraction (the device peak was not measured).",
        )
    body = line_panels(
        ms,
        lambda m: m.peak_fraction * 100,
        ylabel="% of peak bandwidth",
        unit="%",
        ref=100.0,
        ref_label="peak",
        cls="roofline",
    )
    return Section(
        "roofline",
        "Achieved fraction of peak bandwidth",
        body,
        "Bytes a kernel must read and write (values, indices, pointers, activations, output) "
        "per median call, over the device's measured peak bandwidth.",
    )


@figure("energy", 60)
def energy(data: ReportData) -> Section | None:
    ms = [
        m
        for m in data.measurements
        if m.status == "ok" and _num(m.counters.get(ENERGY_KEY)) is not None
    ]
    if not ms:
        if not data.measurements:
            return None
        return Section(
            "energy",
            "Energy per call",
            "",
            f"No energy was measured ({ENERGY_KEY} absent: NVML not available or not enabled).",
        )
    body = line_panels(
        ms,
        lambda m: float(m.counters[ENERGY_KEY]) * 1e3,
        ylabel="energy per call (mJ)",
        unit=" mJ",
        cls="energy",
    )
    return Section(
        "energy",
        "Energy per call",
        body,
        "Difference of NVML's total-energy counter over back-to-back calls, divided by the call count.",
    )


# --------------------------------------------------------------------------- tables


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "") -> str:
    h = "".join(f"<th>{esc(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'


_SECRET_KEY = re.compile(r"(pass|secret|token|credential|url|dsn)", re.I)
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*):[^@\s]*@")


def redact(key: str, value: object) -> str | None:
    """None for keys that may hold secrets (except `url_redacted`); passwords cut out of URLs."""
    if _SECRET_KEY.search(key) and key != "url_redacted":
        return None
    return _URL_PASSWORD.sub(r"\1:***@", str(value))


def _flatten(d: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in d.items():
        if isinstance(v, Mapping):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


# the facts a reader checks first, in this order; every other key follows alphabetically
_PROV_FIRST = [
    "device",
    "device_name",
    "device_uuid",
    "compute_capability",
    "driver_version",
    "cuda_version",
    "torch_version",
    "cupy_version",
    "triton_version",
    "cpu_model",
    "threads",
    "git_sha",
    "harness_version",
    "schema_version",
    "hostname",
]


@figure("provenance", 80)
def provenance(data: ReportData) -> Section | None:
    if not data.runs and not data.measurements:
        return None
    values: dict[str, Counter] = defaultdict(Counter)
    for r in data.runs:
        for k, v in _flatten(r.provenance):
            values[k][_stringify(v)] += 1
    for m in data.measurements:
        for k, v in _flatten(m.provenance):
            values[k][_stringify(v)] += 1
    rows = [
        ("report scope", data.scope),
        ("storage", _URL_PASSWORD.sub(r"\1:***@", data.source)),
        ("generated", data.generated_at),
    ]
    rows = [r for r in rows if r[1]]
    for k in sorted(
        values, key=lambda k: (_PROV_FIRST.index(k) if k in _PROV_FIRST else len(_PROV_FIRST), k)
    ):
        shown = [x for x in (redact(k, v) for v in values[k]) if x is not None]
        if shown:
            rows.append((k, "; ".join(sorted(shown)[:6]) + (" …" if len(shown) > 6 else "")))
    if data.runs:
        runs = table(
            ["run", "kind", "suite", "study", "status", "started", "finished"],
            [
                (r.id, r.kind, r.suite, r.study or "", r.status, r.started_at, r.finished_at or "")
                for r in data.runs
            ],
            cls="runs",
        )
    else:
        runs = ""
    return Section(
        "provenance",
        "Provenance",
        table(["key", "value(s)"], rows, cls="prov") + runs,
        "Where and how the results were measured. Storage credentials are never shown.",
    )


def _stringify(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(v)


def _answer_table(decision: Any) -> str:
    """The stored answer (harness.answers): each trained configuration with its kernel speedup,
    accuracy, accuracy against dense and whether it is within the accuracy budget; the
    recommended one is marked (the fastest within budget that beats dense)."""
    rec = (decision.get("recommended") or {}).get("label")
    rows = [(r["label"] + (" (recommended)" if r["label"] == rec else ""),
             *row_cells(r, times="×", dash="–")) for r in decision.get("rows", [])]
    dense = decision.get("dense_accuracy")
    head = (f"<h3>Within the accuracy budget ({esc(decision.get('budget_text', ''))}; dense "
            f"accuracy {'n/a' if dense is None else f'{dense:.4f}'})</h3>")
    return head + table(["configuration", "kernel speedup", "accuracy", "vs dense",
                         "within budget"], rows, cls="answer")


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
                    _pct(p.prune.rate),
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
        by_reason = _group(bad, lambda m: (m.status, m.reason or "(no reason given)"))
        rows = []
        for (status, reason), group in sorted(
            by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])
        ):
            examples = "; ".join(g.point.label() for g in group[:3]) + (
                " …" if len(group) > 3 else ""
            )
            rows.append((status, reason, len(group), examples))
        parts.append(table(["status", "reason", "count", "examples"], rows, cls="failed"))
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
