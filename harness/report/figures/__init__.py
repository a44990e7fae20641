"""Report figures and tables: a registry of section builders, each `ReportData -> Section | None`
(pure), one module per figure family. Importing this package registers every builder.

Figures follow the seed paper: Fig. 3 (speedup vs pruning rate), Fig. 4 (accuracy per group
size) and Fig. 5 (accuracy vs speedup), plus a heatmap, Pareto fronts, a roofline view, energy,
provenance and the best-configurations table.
"""

from __future__ import annotations

# each module registers its sections on import
from harness.report.figures import (  # noqa: F401
    accuracy_group,
    accuracy_speedup,
    best,
    hardware,
    heatmap,
    model,
    pareto,
    provenance,
    speedup,
)
from harness.report.figures.base import (
    FIGURES,
    Figure,
    Section,
    build_sections,
    figure,
    grid,
    table,
)
from harness.report.figures.labels import fmt_time, geometry
from harness.report.figures.lines import break_even
from harness.report.figures.provenance import redact

__all__ = [
    "FIGURES",
    "Figure",
    "Section",
    "break_even",
    "build_sections",
    "figure",
    "fmt_time",
    "geometry",
    "grid",
    "redact",
    "table",
]
