"""Registers the built-in counters in COUNTERS: 'cpu' and 'nvml'."""

from __future__ import annotations

from harness.counters.base import COUNTERS
from harness.counters.cpu import CpuCounter
from harness.counters.nvml import NvmlCounter

COUNTERS.register("cpu", CpuCounter)
COUNTERS.register("nvml", NvmlCounter)
