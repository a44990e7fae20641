"""Heatmap: pruning geometry × pruning rate, coloured by log₂ of the median speedup.

Every panel shares one colour scale (the colour bar); each panel's title wraps to the panel's
width and the panel is at least as wide as its longest title line and row label, so titles of
neighbouring panels never run into each other.
"""

from __future__ import annotations

import math

from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import group_by, panel_key, panel_label, pct, timed_speedup
from harness.report.figures.lines import Series, series_by_geometry

CELL_H = 22.0
MIN_WIDTH = 260.0
EMPTY = "#e4e6ea"  # a cell without a measurement  # a panel's title wraps to at least this width


def _heat_color(v: float, vmax_log: float) -> str:
    """Diverging colour on log2(speedup): red below 1×, white at 1×, blue above."""
    t = max(-1.0, min(1.0, math.log2(v) / vmax_log)) if v > 0 else -1.0
    lo, mid, hi = (178, 24, 43), (247, 247, 247), (33, 102, 172)
    end = hi if t >= 0 else lo
    a = abs(t)
    rgb = tuple(round(mid[i] + (end[i] - mid[i]) * a) for i in range(3))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _panel(title: str, series: Series, vmax_log: float) -> str:
    rates = sorted({c.rate for pts in series.values() for c in pts})
    rows = sorted(series)
    tick = svg.CLASS_SIZE["tick"]
    left = 12 + max(svg.text_width(lab, tick) for _, lab in rows)
    cw = max(40.0, min(56.0, 400 / max(len(rates), 1)))
    grid_w = left + cw * len(rates) + 10
    lines = svg.title_lines(title, max(grid_w, MIN_WIDTH))
    size = svg.CLASS_SIZE["panel-title"]
    w = max(grid_w, 8 + max(svg.text_width(ln, size, bold=True) for ln in lines))
    top = 12 + svg.TITLE_LINE * len(lines)
    h = top + CELL_H * len(rows) + 40
    body = [
        svg.text(4, 16 + svg.TITLE_LINE * i, ln, cls="panel-title", weight="600")
        for i, ln in enumerate(lines)
    ]
    for j, g in enumerate(rows):
        lab = g[1]
        body.append(svg.text(left - 6, top + j * CELL_H + CELL_H / 2 + 4, lab, anchor="end",
                             cls="tick"))
        measured = {c.rate for c in series[g]}
        for i, r in enumerate(rates):  # grey, not white (white means 1×): never measured
            if r not in measured:
                body.append(svg.cell(left + i * cw, top + j * CELL_H, cw, CELL_H, color=EMPTY,
                                     tip=f"{title}\n{lab} · rate {pct(r)}\nnot measured"))
        for c in series[g]:
            i = rates.index(c.rate)
            tip = f"{title}\n{lab} · rate {pct(c.rate)}\nspeedup {c.value:.2f}×" + (
                f" (median of {c.n})" if c.n > 1 else ""
            )
            if c.lo is not None and c.hi is not None:
                tip += f"\n95% CI [{c.lo:.2f}, {c.hi:.2f}]×"
            dark = abs(math.log2(c.value)) / vmax_log > 0.55 if c.value > 0 else True
            body.append(
                svg.cell(left + i * cw, top + j * CELL_H, cw, CELL_H,
                         color=_heat_color(c.value, vmax_log), label=f"{c.value:.2f}", tip=tip,
                         dark=dark)
            )
    for i, r in enumerate(rates):
        body.append(svg.text(left + i * cw + cw / 2, top + CELL_H * len(rows) + 14, pct(r),
                             anchor="middle", cls="tick"))
    body.append(svg.text(left + cw * len(rates) / 2, top + CELL_H * len(rows) + 32,
                         "pruning rate", anchor="middle", cls="axis-label"))
    return svg.svg((w, h), "".join(body), cls="plot heatmap", label="speedup heatmap")


@figure("heatmap", 20)
def heatmap(data: ReportData) -> Section | None:
    ms = data.timed
    if not ms:
        return None
    vals = [timed_speedup(m) for m in ms]
    vmax_log = max(1.0, max((abs(math.log2(v)) for v in vals if v > 0), default=1.0))
    panels = []
    for _key, group in sorted(
        group_by(ms, lambda m: panel_key(m.point)).items(), key=lambda kv: str(kv[0])
    ):
        series = series_by_geometry(group, lambda m: m.speedup, lambda m: m.speedup_ci)
        panels.append(_panel(panel_label(group[0].point), series, vmax_log))
    panels.append(_colorbar(vmax_log))
    return Section(
        "heatmap",
        "Speedup by pruning geometry × pruning rate",
        grid(panels),
        "Median speedup over dense per cell; colour is log₂(speedup): blue faster, red slower "
        "than dense, on one scale for every panel; grey cells were not measured.",
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
