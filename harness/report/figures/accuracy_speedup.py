"""Fig. 5 of the seed: accuracy against kernel speedup, one point per trained configuration.
"""

from __future__ import annotations

from harness.pareto import non_dominated
from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import pct
from harness.report.figures.lines import framed_plot
from harness.report.figures.papers import SEED
from harness.report.figures.training import acc_fmt, kernel_speedup, num, train_label, train_tip


@figure("accuracy_vs_speedup", 35)
def accuracy_vs_speedup(data: ReportData) -> Section | None:
    pruned = [t for t in data.train if not t.get("dense") and num(t.get("accuracy")) is not None]
    dense = [t for t in data.train if t.get("dense") and num(t.get("accuracy")) is not None]
    pts = [(t, kernel_speedup(t, data.timed)) for t in pruned]
    pts = [(t, s) for t, s in pts if s is not None]
    if not pts:
        return None
    rates = sorted({num(t.get("pruning_rate")) or 0.0 for t, _ in pts})
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
            yfmt=acc_fmt(accs),
        )
    ]
    x0, y0, x1, y1 = frame.box
    body.append(
        svg.line(frame.x(1.0), y0, frame.x(1.0), y1, color="#c0392b", dash="5 4", cls="ref-line")
    )
    rate_colors = {r: svg.PALETTE[i % len(svg.PALETTE)] for i, r in enumerate(rates)}
    for i, ((t, s), (_, a)) in enumerate(zip(pts, vals, strict=True)):
        on = i in front
        color = rate_colors[num(t.get("pruning_rate")) or 0.0]
        px, py = frame.x(s), frame.y(a)
        body.append(
            svg.marker(
                px,
                py,
                color=color,
                r=5 if on else 3.5,
                tip=("Pareto-optimal\n" if on else "") + train_tip(t, s),
                cls="pt front" if on else "pt dominated",
                hollow=not on,
            )
        )
        body.append(svg.text(px + 7, py - 5, train_label(t), cls="point-label", size=10))
    for t in dense:
        px, py = frame.x(1.0), frame.y(float(t["accuracy"]))
        body.append(
            svg.marker(px, py, color="#000", tip=train_tip(t, 1.0), cls="pt dense", shape="cross")
        )
        body.append(svg.text(px - 9, py + 4, "dense", anchor="end", cls="point-label", size=10))
    items = [(f"rate {pct(r)}", rate_colors[r]) for r in rates] + [("dense model (×)", "#000")]
    plot = framed_plot(frame, body, items, cls="plot pareto accuracy", label="accuracy vs speedup")
    return Section(
        "fig5",
        "Accuracy vs speedup",
        grid([plot]),
        f"{SEED}, Fig. 5: one point per trained configuration (labelled by group size), the dense "
        "model marked ×; filled points are Pareto-optimal in (speedup, accuracy). "
        "Speedup is the training record's own, else the best measured kernel at the same pruning.",
    )
