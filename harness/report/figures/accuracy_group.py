"""Fig. 4 of the seed: accuracy per group size at a fixed pruning rate, the dense model dashed.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from harness.report import svg
from harness.report.data import ReportData
from harness.report.figures.base import Section, figure, grid
from harness.report.figures.labels import pct
from harness.report.figures.lines import HEIGHT, WIDTH, framed_plot
from harness.report.figures.papers import HARTENSTEIN
from harness.report.figures.training import (
    acc_fmt,
    acc_range,
    group_dicts,
    num,
    train_label,
    train_tip,
)


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
    # a rate with one group size compares nothing: its models are in Fig. 5 only (unless no
    # rate has two, when every rate keeps its panel)
    compared = {r: recs for r, recs in by_rate.items() if len({train_label(t) for t in recs}) > 1}
    left_out = sorted(set(by_rate) - set(compared)) if compared else []
    by_rate = compared or by_rate
    pruned = [t for recs in by_rate.values() for t in recs]
    # every panel shares the y range and the variant colours
    all_accs = [float(t["accuracy"]) for t in pruned] + dense_acc
    yr, yfmt = acc_range(all_accs, pad=0.15), acc_fmt(all_accs)
    variants = sorted({_variant(t) for t in pruned}, key=str)
    vcolor = dict(zip(variants, svg.colours(len(variants)), strict=True))
    panels = []
    for rate in sorted(by_rate):
        recs = by_rate[rate]
        labels = sorted({(num(t.get("group_size")) or 0, train_label(t)) for t in recs})
        pos = {lab: i for i, (_, lab) in enumerate(labels)}
        title = f"pruning rate {pct(rate)}"
        frame = svg.Frame.make((-0.6, len(labels) - 0.4), yr, width=WIDTH, height=HEIGHT,
                               top=svg.title_top(title, WIDTH))
        body = [
            svg.axes(frame, xlabel="group size", ylabel="accuracy", xticks=[], yfmt=yfmt,
                     title=title)
        ]
        x0, _, x1, y1 = frame.box
        for lab, i in pos.items():
            body.append(svg.text(frame.x(i), y1 + 14, lab, anchor="middle", cls="tick"))
        if dense_acc:
            ya = frame.y(statistics.median(dense_acc))
            body.append(svg.line(x0, ya, x1, ya, color="#333", dash="5 4", cls="ref-line"))
            body.append(svg.text(x1 - 4, ya - 4, "dense", anchor="end", cls="dense-label"))
        here = [v for v in variants if any(_variant(t) == v for t in recs)]
        for t in recs:
            v = _variant(t)
            # variants of one group size side by side rather than on top of each other
            dx = (here.index(v) - (len(here) - 1) / 2) * min(0.12, 0.6 / len(here))
            body.append(
                svg.marker(
                    frame.x(pos[train_label(t)] + dx),
                    frame.y(float(t["accuracy"])),
                    color=vcolor[v],
                    r=4.5,
                    tip=train_tip(t, None),
                )
            )
        items = [(" · ".join(str(x) for x in v if x) or "pruned", vcolor[v]) for v in here]
        panels.append(framed_plot(frame, body, items, cls="plot fig4",
                                  label="accuracy per group size"))
    return Section(
        "fig4",
        "Accuracy per group size at a fixed pruning rate",
        grid(panels, wide=True),
        HARTENSTEIN.cite("Fig. 4")
        + ": accuracy of each trained model by group size; the dashed line is the "
        "dense model. One panel per pruning rate at which several group sizes were trained; "
        "all panels share the y axis, which spans at least 5 accuracy points."
        + (f" Rates with one group size ({', '.join(pct(r) for r in left_out)}) are in Fig. 5."
           if left_out else ""),
    )


def _variant(rec: Mapping[str, Any]) -> tuple[str, str]:
    return (str(rec.get("aggregation", "") or ""), str(rec.get("schedule", "") or ""))
