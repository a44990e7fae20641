"""Self-contained HTML reports: stored results → `ReportData` → one HTML string (no network)."""

from __future__ import annotations

from harness.report import trends as _trends  # noqa: F401  (registers the "trends" figure)
from harness.report.data import ReportData, from_store
from harness.report.html import render, write

__all__ = ["ReportData", "from_store", "render", "write"]
