"""Objectives a study optimises, each with a direction (defaults in `names.OBJECTIVES`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.config import names
from harness.config.yamlload import Document, join


@dataclass(frozen=True)
class Objective:
    name: str  # speedup | pruning_rate | energy | bytes | accuracy
    direction: str  # 'maximize' | 'minimize'


def default_objectives() -> tuple[Objective, ...]:
    return (Objective("speedup", "maximize"),)


def parse_objectives(doc: Document, raw: list[Any], base: str) -> tuple[Objective, ...]:
    """Schema-validated entries (a name or {name, direction}) → Objectives; no duplicates."""
    out: list[Objective] = []
    for i, item in enumerate(raw):
        name = item if isinstance(item, str) else item["name"]
        direction = names.OBJECTIVES[name] if isinstance(item, str) \
            else item.get("direction", names.OBJECTIVES[name])
        if any(o.name == name for o in out):
            raise doc.error(join(base, i), f"objective {name!r} is listed twice")
        out.append(Objective(name, direction))
    return tuple(out)
