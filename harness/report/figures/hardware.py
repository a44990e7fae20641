"""Hardware figures: achieved fraction of the peak bandwidth, and energy per call.
"""

from __future__ import annotations

from harness.report.data import ReportData
from harness.report.figures.base import Section, figure
from harness.report.figures.lines import line_panels
from harness.report.figures.training import num

ENERGY_KEY = "nvml.energy_j_per_call"


TITLE = "Achieved fraction of the roofline"


@figure("roofline", 50)
def roofline(data: ReportData) -> Section | None:
    """`peak_fraction` is the roofline bound over the median time (harness.measure.roofline)."""
    ms = [m for m in data.measurements if m.status == "ok" and m.peak_fraction is not None]
    if not ms:
        if not data.measurements:
            return None
        return Section(
            "roofline",
            TITLE,
            "",
            "No measurement recorded a roofline fraction (the device peaks were not measured).",
        )
    body = line_panels(
        ms,
        lambda m: None if m.peak_fraction is None else m.peak_fraction * 100,
        ylabel="% of the roofline bound",
        unit="%",
        ref=100.0,
        ref_label="roofline",
        cls="roofline",
    )
    return Section(
        "roofline",
        TITLE,
        body,
        "The roofline bound of a call, max(bytes / peak bandwidth, FLOPs / peak FLOP/s), over its "
        "median time: bytes a kernel must move (values, indices, pointers, activations, output) "
        "and its FLOPs against the device's measured copy bandwidth and dense matmul FLOP/s. "
        "Above 100 % a kernel beat the stored peaks: they were measured low (a busy machine) or "
        "its operands stayed in cache.",
    )


@figure("energy", 60)
def energy(data: ReportData) -> Section | None:
    ms = [
        m
        for m in data.measurements
        if m.status == "ok" and num(m.counters.get(ENERGY_KEY)) is not None
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
