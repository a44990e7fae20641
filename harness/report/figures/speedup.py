"""Fig. 3 of the seed: speedup against pruning rate, one line per group size, break-even at 1×.
"""

from __future__ import annotations

from harness.report.data import ReportData
from harness.report.figures.base import Section, figure
from harness.report.figures.lines import line_panels
from harness.report.figures.papers import HARTENSTEIN


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
        ci=lambda m: m.speedup_ci,
    )
    return Section(
        "fig3",
        "Speedup vs pruning rate",
        body,
        HARTENSTEIN.cite("Fig. 3")
        + ": median speedup over the dense baseline per pruning geometry, with "
        "the 95% confidence interval stored with each measurement; the dashed line is "
        "break-even (1×). All panels share the y axis.",
    )
