"""Hardware figures: achieved fraction of the peak bandwidth, and energy per call.
"""

from __future__ import annotations

from harness.report.data import ReportData
from harness.report.figures.base import Section, figure
from harness.report.figures.lines import line_panels
from harness.report.figures.training import num

ENERGY_KEY = "nvml.energy_j_per_call"


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
        lambda m: None if m.peak_fraction is None else m.peak_fraction * 100,
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
