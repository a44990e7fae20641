"""The Pareto front of a finished study, as rows for the terminal table and the training stage.

The objectives' names and directions are read from the study itself (Optuna stores both), and
the front is `harness.pareto.front`: the same function the report uses, fed the same directions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.point import Point
from harness.pareto import direction_name, front


@dataclass(frozen=True)
class FrontRow:
    trial: int
    label: str
    values: tuple[float, ...]
    measurement_id: int | None
    point: dict[str, Any]
    names: tuple[str, ...] = ()  # the objectives of `values`, in the study's order

    def value(self, name: str) -> float | None:
        """This row's value of objective `name`; None when the study did not optimise it."""
        return self.values[self.names.index(name)] if name in self.names else None


def completed(study: Any) -> list[Any]:
    import optuna

    return [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if t.values is not None]


def stored_objectives(study: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, directions) of the study's objectives, as the study stored them. A study made
    before its metric names were set names them value_0, value_1, …"""
    import optuna

    directions = tuple(direction_name(d) for d in study.directions)
    with warnings.catch_warnings():  # metric_names is flagged experimental in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        names = study.metric_names
    return tuple(names or (f"value_{i}" for i in range(len(directions)))), directions


def front_rows(study: Any) -> list[FrontRow]:
    """Non-dominated completed trials under the study's stored directions, each compared with the
    trials of its own problem (the same dense baseline: speedups over different baselines do not
    compare), best first in the first objective; duplicates of one point (reused measurements)
    appear once."""
    names, directions = stored_objectives(study)
    rows, seen = [], set()
    for t in front(completed(study), directions, values=lambda t: t.values, problem=_problem):
        key = t.user_attrs.get("point_key", t.number)
        if key in seen:
            continue
        seen.add(key)
        rows.append(FrontRow(t.number, t.user_attrs.get("label", ""), tuple(t.values),
                             t.user_attrs.get("measurement_id"), t.user_attrs.get("point", {}),
                             names))
    return rows


def _problem(trial: Any) -> Any:
    """The dense baseline of a trial's point: the problem its values belong to."""
    point = trial.user_attrs.get("point")
    return Point.from_dict(point).baseline() if point else None


def format_table(rows: Sequence[FrontRow], names: Sequence[str]) -> str:
    if not rows:
        return "Pareto front: empty (no completed trial)"
    head = ["trial", *names, "configuration"]
    body = [[str(r.trial), *(f"{v:.4g}" for v in r.values), r.label] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [head, *body]]
    return "Pareto front:\n" + "\n".join("  " + ln for ln in lines)
