"""The Pareto front of a finished study, as rows for the terminal table and the training stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.pareto import non_dominated


@dataclass(frozen=True)
class FrontRow:
    trial: int
    label: str
    values: tuple[float, ...]
    measurement_id: int | None
    point: dict


def completed(study: Any) -> list[Any]:
    import optuna

    return [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if t.values is not None]


def front_rows(study: Any, directions: Sequence[str]) -> list[FrontRow]:
    """Non-dominated completed trials; duplicates of one point (reused) appear once."""
    trials = completed(study)
    if not trials:
        return []
    idx = non_dominated([t.values for t in trials], directions)
    rows, seen = [], set()
    for i in sorted(idx, key=lambda i: [-v if d == "maximize" else v for v, d in
                                        zip(trials[i].values, directions, strict=True)]):
        t = trials[i]
        key = t.user_attrs.get("point_key", t.number)
        if key in seen:
            continue
        seen.add(key)
        rows.append(FrontRow(t.number, t.user_attrs.get("label", ""), tuple(t.values),
                             t.user_attrs.get("measurement_id"), t.user_attrs.get("point", {})))
    return rows


def format_table(rows: Sequence[FrontRow], names: Sequence[str]) -> str:
    if not rows:
        return "Pareto front: empty (no completed trial)"
    head = ["trial", *names, "configuration"]
    body = [[str(r.trial), *(f"{v:.4g}" for v in r.values), r.label] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [head, *body]]
    return "Pareto front:\n" + "\n".join("  " + ln for ln in lines)
