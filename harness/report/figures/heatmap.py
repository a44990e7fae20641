"""Heatmap: pruning geometry × pruning rate, coloured by log₂ of the median speedup.
"""

from __future__ import annotations

import math

from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import group_by, panel_key, panel_label, pct
from harness.report.figures.lines import series_by_geometry


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
        group_by(ms, lambda m: panel_key(m.point)).items(), key=lambda kv: str(kv[0])
    ):
        series = series_by_geometry(group, lambda m: m.speedup)
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
                tip = f"{panel_label(group[0].point)}\n{lab} · rate {pct(r)}\nspeedup {v:.2f}×" + (
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
                    pct(r),
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
        grid(panels),
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
