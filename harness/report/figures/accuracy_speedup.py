"""Fig. 5 of the seed: accuracy against kernel speedup, one point per trained configuration."""

from __future__ import annotations

from harness.pareto import non_dominated
from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import pct
from harness.report.figures.lines import HEIGHT, WIDTH, framed_plot
from harness.report.figures.papers import HARTENSTEIN
from harness.report.figures.training import (
    acc_fmt,
    acc_range,
    kernel_ci,
    kernel_speedup,
    num,
    train_label,
    train_tip,
)


@figure("accuracy_vs_speedup", 35)
def accuracy_vs_speedup(data: ReportData) -> Section | None:
    pruned = [t for t in data.train if not t.get("dense") and num(t.get("accuracy")) is not None]
    dense = [t for t in data.train if t.get("dense") and num(t.get("accuracy")) is not None]
    pts = [(t, s) for t in pruned if (s := kernel_speedup(t, data.timed)) is not None]
    if not pts:
        return None
    rates = sorted({num(t.get("pruning_rate")) or 0.0 for t, _ in pts})
    vals = [(s, float(t["accuracy"])) for t, s in pts]
    cis = [kernel_ci(t, data.timed, s) for t, s in pts]
    front = set(non_dominated(vals, ["maximize", "maximize"]).tolist())
    accs = [a for _, a in vals] + [float(t["accuracy"]) for t in dense]
    xs = [s for s, _ in vals] + [x for ci in cis if ci for x in ci]
    frame = svg.Frame.make(
        svg.padded(xs, include=[1.0] if dense else [], pad=0.1),
        acc_range(accs),
        width=WIDTH,
        height=HEIGHT,
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
    rate_colors = dict(zip(rates, svg.colours(len(rates)), strict=True))
    labels = svg.LabelPlacer((x0 + 2, y0 + 2, x1 - 2, y1 - 2), svg.CLASS_SIZE["point-label"])
    marks, texts = [], []
    for i, ((t, s), (_, a), ci) in enumerate(zip(pts, vals, cis, strict=True)):
        on = i in front
        color = rate_colors[num(t.get("pruning_rate")) or 0.0]
        px, py = frame.x(s), frame.y(a)
        if ci is not None:
            marks.append(svg.hbar(frame, a, ci[0], ci[1], color=color))
        tip = ("Pareto-optimal\n" if on else "") + train_tip(t, s)
        if ci is not None:
            tip += f"\n95% CI [{ci[0]:.2f}, {ci[1]:.2f}]×"
        marks.append(
            svg.marker(px, py, color=color, r=5 if on else 3.5, tip=tip,
                       cls="pt front" if on else "pt dominated", hollow=not on)
        )
        labels.block(px, py, 5)
    dense_xy = [(frame.x(1.0), frame.y(float(t["accuracy"]))) for t in dense]
    for t, (px, py) in zip(dense, dense_xy, strict=True):
        marks.append(
            svg.marker(px, py, color=svg.REFERENCE, tip=train_tip(t, 1.0), cls="pt dense",
                       shape="cross")
        )
        labels.block(px, py, 7)
    for px, py in dense_xy:
        texts.append(labels.place(px, py, "dense"))
    # front labels first: where space is short, dominated points lose theirs
    for i in sorted(range(len(pts)), key=lambda i: i not in front):
        s, a = vals[i]
        texts.append(labels.place(frame.x(s), frame.y(a), train_label(pts[i][0])))
    body += marks + texts
    items = [(f"rate {pct(r)}", rate_colors[r]) for r in rates]
    items.append(("dense model", svg.REFERENCE))
    plot = framed_plot(frame, body, items, cls="plot pareto accuracy", label="accuracy vs speedup")
    return Section(
        "fig5",
        "Accuracy vs speedup",
        grid([plot], wide=True),
        HARTENSTEIN.cite("Fig. 5")
        + ": one point per trained configuration (labelled by group size where the label fits; "
        "hover for all), the dense model marked ×; filled points are Pareto-optimal in "
        "(speedup, accuracy); bars are the kernel's stored 95% confidence interval. Speedup is "
        "the training record's own, else the best measured kernel at the same pruning.",
    )
