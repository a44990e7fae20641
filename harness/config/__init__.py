"""Suites and tuner profiles: YAML → validated, frozen config objects.

`load_suite(path)` and `load_tuner(path)` are the entry points; raw dicts never travel further
than this package. Every bad input is an `InputError` naming file, line, YAML path and value.
"""

from __future__ import annotations

from harness.config.constraints import Condition, Constraint, point_params
from harness.config.objectives import Objective
from harness.config.settings import MeasureSettings, TrainSpec
from harness.config.space import FloatRange, Param, Space, canonical_point
from harness.config.suite import Suite, load_suite, loads_suite
from harness.config.tuner import TunerProfile, load_tuner

__all__ = [
    "Condition", "Constraint", "FloatRange", "MeasureSettings", "Objective", "Param", "Space",
    "Suite", "TrainSpec", "TunerProfile", "canonical_point", "load_suite", "load_tuner",
    "loads_suite", "point_params",
]
