"""Fig. 4 of the seed: accuracy per group size at a fixed pruning rate, the dense model dashed.
"""

from __future__ import annotations

import statistics

from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import pct
from harness.report.figures.lines import framed_plot
from harness.report.figures.papers import SEED
from harness.report.figures.training import acc_fmt, group_dicts, num, train_label, train_tip


@figure("accuracy_per_group", 40)
def accuracy_per_group(data: ReportData) -> Section | None:
    pruned = [
        t
        for t in data.train
        if not t.get("dense")
        and num(t.get("accuracy")) is not None
        and num(t.get("pruning_rate")) is not None
    ]
    if not pruned:
        return None
    dense_acc = [
        float(t["accuracy"])
        for t in data.train
        if t.get("dense") and num(t.get("accuracy")) is not None
    ]
    by_rate = group_dicts(pruned, lambda t: num(t["pruning_rate"]))
    panels = []
    for rate in sorted(by_rate):
        recs = by_rate[rate]
        labels = sorted({(num(t.get("group_size")) or 0, train_label(t)) for t in recs})
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
                yfmt=acc_fmt(accs),
                title=f"pruning rate {pct(rate)}",
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
                    frame.x(pos[train_label(t)]),
                    frame.y(float(t["accuracy"])),
                    color=vcolor[v],
                    r=4.5,
                    tip=train_tip(t, None),
                )
            )
        items = [(" · ".join(str(x) for x in v if x) or "pruned", c) for v, c in vcolor.items()]
        panels.append(framed_plot(frame, body, items, cls="plot fig4",
                                  label="accuracy per group size"))
    return Section(
        "fig4",
        "Accuracy per group size at a fixed pruning rate",
        grid(panels),
        f"{SEED}, Fig. 4: accuracy of each trained model by group size; the dashed line is the "
        "dense model. One panel per pruning rate.",
    )
