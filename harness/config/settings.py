"""Measurement settings and the training stage's spec, as written in a suite (MeasureSettings is
defined in harness.measure.settings, beside the timer that applies it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from harness.config.frozen import FrozenMap
from harness.config.yamlload import Document, join
from harness.measure.settings import MeasureSettings  # defined with the timer's rules


@dataclass(frozen=True)
class TrainSpec:
    """The training stage: which model, data and pruning schedule give the accuracy objective."""

    model: str = "fc"
    dataset: str = "digits"
    data_path: str | None = None
    schedule: str = "oneshot"
    pretrain_epochs: int = 20
    finetune_epochs: int = 10
    batch_size: int = 64
    lr: float = 0.05
    optimizer: str = "sgd"
    candidates: int = 6  # at most this many kernel-stage candidates are trained
    budget_s: float | None = None
    # the accuracy budget of the answer (harness.answers): the largest drop of test
    # accuracy against the dense model (a fraction: 0.01 = one point) and/or an absolute floor
    max_accuracy_drop: float | None = 0.01
    min_accuracy: float | None = None
    options: Mapping[str, Any] = field(default_factory=FrozenMap)  # schedule-specific scalars


def _kwargs(cls: type, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Field values with JSON-Schema numbers made exact Python types (the schema accepts 3.0 as
    an integer and 1 as a number; a Point key must not depend on how a value was written)."""
    types = {f.name: str(f.type) for f in fields(cls)}
    out = {}
    for key, value in raw.items():
        kind = types.get(key)  # the schema already refused unknown keys
        if value is None or kind is None:
            out[key] = value
        elif kind.startswith("int"):
            out[key] = int(value)
        elif kind.startswith("float"):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def parse_measure(doc: Document, raw: Mapping[str, Any], base: str) -> MeasureSettings:
    kw = _kwargs(MeasureSettings, raw)
    kw["counters"] = tuple(kw.get("counters", ()))
    m = MeasureSettings(**kw)
    if m.min_time_s > m.max_time_s:
        raise doc.error(join(base, "min_time_s"),
                        f"expected at most max_time_s ({m.max_time_s:g}), got {m.min_time_s:g}")
    return m


def parse_train(doc: Document, raw: Mapping[str, Any], base: str) -> TrainSpec:
    kw = _kwargs(TrainSpec, raw)
    kw["options"] = FrozenMap(kw.get("options") or {})
    return TrainSpec(**kw)
