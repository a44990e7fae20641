"""Accuracy as a single Optuna objective (pattern, group size, rate → validation accuracy), with
Optuna's pruning: the training side (harness.train.stage.trial_objective) stays free of Optuna."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def objective_for_optuna(spec: Any, **kwargs: Any) -> Callable[[Any], float]:
    """`harness.train.stage.trial_objective` raising optuna.TrialPruned for pruned trials."""
    import optuna

    from harness.train.stage import trial_objective

    return trial_objective(spec, pruned=optuna.TrialPruned, **kwargs)
