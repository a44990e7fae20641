"""Objective registry: name → (default direction, value of a stored Measurement).

A value of None means "not available for this measurement" (e.g. energy without NVML); the trial
then fails with that reason instead of feeding the sampler a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.core import counter_keys as ck
from harness.core.measurement import Measurement
from harness.core.registry import Registry


@dataclass(frozen=True)
class ObjectiveDef:
    direction: str
    value: Callable[[Measurement], float | None]
    unit: str = ""


OBJECTIVES: Registry[ObjectiveDef] = Registry("objective")

OBJECTIVES.register("speedup", ObjectiveDef("maximize", lambda m: m.speedup, "×"))
OBJECTIVES.register("pruning_rate", ObjectiveDef("minimize", lambda m: m.point.prune.rate))
OBJECTIVES.register("energy", ObjectiveDef(
    "minimize", lambda m: m.counters.get(ck.NVML_ENERGY_J_PER_CALL), "J/call"))
OBJECTIVES.register("bytes", ObjectiveDef(
    "minimize", lambda m: float(sum(m.bytes.values())) if m.bytes else None, "B"))
# accuracy is the training stage's objective; the kernel stage has no value for it
OBJECTIVES.register("accuracy", ObjectiveDef("maximize", lambda m: None))


def objective_values(m: Measurement, names: list[str]) -> tuple[list[float] | None, str]:
    """Values in order, or (None, reason) when one is missing."""
    values = []
    for name in names:
        v = OBJECTIVES.get(name).value(m)
        if v is None:
            return None, f"objective {name!r} has no value for this measurement"
        values.append(float(v))
    return values, ""
