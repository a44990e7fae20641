"""Pareto fronts: speedup against pruning rate per problem (shape, dtype, device).
"""

from __future__ import annotations

from harness.core.point import Point
from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import (
    colour_map,
    describe,
    group_by,
    pct,
    problem_key,
    shape_label,
    timed_speedup,
)
from harness.report.figures.lines import HEIGHT, WIDTH, framed_plot, shared_y


@figure("pareto", 30)
def pareto(data: ReportData) -> Section | None:
    ms = data.timed
    if not ms:
        return None
    colors = colour_map(((), f"{m.point.format}/{m.point.backend}") for m in ms)
    cis = [x for m in ms if m.speedup_ci for x in m.speedup_ci]
    yr, ylog = shared_y([timed_speedup(m) for m in ms] + cis, include=[1.0])
    xr = svg.padded([m.point.prune.rate for m in ms], pad=0.04)
    problems = sorted(group_by(ms, lambda m: problem_key(m.point)).items(), key=lambda kv: str(kv[0]))
    top = max(svg.title_top(_title(g[0].point), WIDTH) for _, g in problems)
    panels = []
    for _key, group in problems:
        vals = [(m.point.prune.rate, timed_speedup(m)) for m in group]
        # the one front, taken in the study's stored objectives and directions
        front = {i for i, m in enumerate(group) if data.on_front(m)}
        title = _title(group[0].point)
        frame = svg.Frame.make(xr, yr, ylog=ylog, width=WIDTH, height=HEIGHT, top=top)
        body = [
            svg.axes(
                frame,
                xlabel="pruning rate (lower keeps more weights)",
                ylabel="speedup over dense",
                xfmt=pct,
                yfmt=lambda v: f"{v:g}×",
                title=title,
            )
        ]
        x0, _, x1, _ = frame.box
        body.append(
            svg.line(
                x0, frame.y(1.0), x1, frame.y(1.0), color="#c0392b", dash="5 4", cls="ref-line"
            )
        )
        stair: list[tuple[float, float]] = []
        for i in sorted(front, key=lambda i: vals[i]):  # staircase: best speedup at each rate
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
            if m.speedup_ci is not None:
                # hidden with its point by the "front only" toggle
                body.append(svg.errorbar(frame, r, *m.speedup_ci, color=color,
                                         cls="ci" if on else "ci dominated"))
            body.append(
                svg.marker(
                    frame.x(r),
                    frame.y(v),
                    color=color,
                    r=5 if on else 3.2,
                    tip=("Pareto-optimal\n" if on else "") + describe(m),
                    cls="pt front" if on else "pt dominated",
                    hollow=not on,
                )
            )
        items = list(colors.items())
        panels.append(framed_plot(frame, body, items, cls="plot pareto", label="Pareto front"))
    toggle = (
        '<label class="toggle"><input type="checkbox" data-toggle="hide-dominated"> '
        "show the Pareto-optimal points only</label>"
    )
    return Section(
        "pareto",
        "Pareto front: speedup vs pruning rate",
        toggle + grid(panels, wide=True),
        "One point per measurement with its stored 95% confidence interval; filled points are "
        f"on the Pareto front of the study's objectives ({_objectives(data)}), joined by the "
        "dotted staircase. All panels share both axes. Hover a point for its configuration.",
    )


def _title(p: Point) -> str:
    return f"{shape_label(p)} · {p.dtype} · {p.device}"


def _objectives(data: ReportData) -> str:
    arrow = {"maximize": "↑", "minimize": "↓"}
    return ", ".join(f"{name} {arrow.get(d, d)}" for name, d in data.objectives)
