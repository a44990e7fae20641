"""The Optuna objective of the kernel stage: one trial = one Point, measured or reused.

A trial's outcome:
  COMPLETE  a verified measurement: objective values from the objective registry;
  PRUNED    the point is rejected before any work (a suite constraint, an unsupported
            combination) — the reason is in the trial's user attribute "reason", and the
            trial is marked infeasible (`set_constraint`) so TPE, NSGA-II and GP learn to
            avoid the region;
  FAIL      the measurement ran but gave no usable value (invalid output, an error, a missing
            objective such as energy without NVML) — reason recorded, the study goes on.
Every trial that reached the store links to it by the user attribute "measurement_id".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.core.measurement import Measurement
from harness.core.point import Point
from harness.tune import siblings
from harness.tune.objectives import objective_values

if TYPE_CHECKING:
    from harness.config.space import Space
    from harness.store.api import Store
    from harness.tune.feasible import FeasibleGrid


class TrialFailed(Exception):
    """Raised for a measured-but-unusable trial; Optuna records it as FAIL and goes on."""


@dataclass
class TrialContext:
    space: Space
    dtypes: tuple[str, ...]
    device: str
    seed: int
    objectives: list[str]
    context_key: str
    run_id: int
    store: Store
    measure: Callable[[Point], Measurement]
    fresh: bool = False
    on_trial: Callable[[int, Point, Measurement | None, str], None] | None = None
    # why a stored measurement may not stand in for a new one today (None: reuse it)
    reuse_refusal: Callable[[Measurement], str | None] = lambda m: None
    # the feasible assignments of the parameters (feasible.feasible_assignments): the search
    # is offered only values a feasible point completes (None: the whole space, pruned after)
    feasible: FeasibleGrid | None = None


def suggest(trial: Any, param: Any) -> Any:
    if param.kind == "categorical":
        return trial.suggest_categorical(param.name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high),
                                 step=int(param.step or 1), log=param.log)
    return trial.suggest_float(param.name, param.low, param.high, step=param.step, log=param.log)


def search_grid(space: Space, dtypes: tuple[str, ...]) -> dict[str, list[Any]]:
    """The categorical grid GridSampler needs (float ranges need a step)."""
    from harness.config.space import FloatRange

    grid: dict[str, list[Any]] = {}
    for p in space.params():
        if p.kind == "categorical":
            grid[p.name] = list(p.choices)
        elif p.step is not None and p.low is not None and p.high is not None:
            # the same exact grid the suite's FloatRange enumerates
            grid[p.name] = list(FloatRange(p.low, p.high, p.step).values())
        else:
            raise ValueError(f"grid search needs a step for {p.name}")
    if len(dtypes) > 1:
        grid["dtype"] = list(dtypes)
    return grid


def point_of(trial: Any, ctx: TrialContext) -> Point:
    chosen: dict[str, Any] = {}
    feasible = ctx.feasible
    for p in ctx.space.params():
        chosen[p.name] = _within(trial, p.name, feasible, chosen, partial(suggest, trial, p))
    if len(ctx.dtypes) > 1:
        chosen["dtype"] = _within(trial, "dtype", feasible, chosen,
                                  partial(trial.suggest_categorical, "dtype", list(ctx.dtypes)))
    return point_of_assignment(ctx, chosen)


def point_of_assignment(ctx: TrialContext, assignment: dict[str, Any]) -> Point:
    """The Point of parameter values (the space's names; "dtype" when the suite has several)."""
    chosen = dict(assignment)
    dtype = chosen.pop("dtype", ctx.dtypes[0])
    return ctx.space.point(chosen, device=ctx.device, dtype=dtype, seed=ctx.seed)


def _within(trial: Any, name: str, feasible: FeasibleGrid | None, chosen: dict[str, Any],
            whole: Callable[[], Any]) -> Any:
    """The value of parameter `name`: from the whole range (`whole`) when every value of it has
    a feasible completion given the values `chosen` so far, else from the values that have,
    as a parameter of its own (named by that subset, so the sampler keeps one distribution per
    subset and the unrestricted parameter keeps its own)."""
    if not feasible or not feasible.points:
        return whole()
    fits = [a for a in feasible.points if all(same_value(a[k], v) for k, v in chosen.items())]
    allowed = list(dict.fromkeys(a[name] for a in fits))
    if not allowed or len(allowed) == len(feasible.grid[name]):
        return whole()
    return trial.suggest_categorical(f"{name}{NARROWED}{allowed}", allowed)


NARROWED = " in "  # "format in ['csr']": a parameter offered a subset of its values


def base_name(param: str) -> str:
    """The space's name of a trial parameter ("format in ['csr']" → "format")."""
    return param.split(NARROWED, 1)[0]


def same_value(a: Any, b: Any) -> bool:
    """Equal parameter values (floats of a stepped range within rounding)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def make_objective(ctx: TrialContext) -> Callable[[Any], list[float] | float]:
    import optuna

    def objective(trial: Any) -> list[float] | float:
        retried = siblings.is_retry(trial)
        siblings.announce_run(trial, ctx.run_id)  # first: siblings tell live trials from dead
        point = point_of(trial, ctx)
        trial.set_user_attr("point", point.as_dict())
        trial.set_user_attr("point_key", point.key())
        trial.set_user_attr("label", point.label())

        reason = ctx.space.violation(point)
        if reason:
            trial.set_constraint("runnable", 1.0)
            _finish(ctx, trial, point, None, f"constraint: {reason}")
            raise optuna.TrialPruned(reason)

        # wait for workers ahead on this point, then look: what they measured is in the study
        siblings.wait_for_siblings(trial, point.key(), lambda: _live_runs(ctx, trial), retried)
        repeat = _measured_in_study(trial, point)
        if repeat is not None:  # the study has this point already: not a new trial
            _finish(ctx, trial, point, None, f"repeat of trial {repeat}")
            raise optuna.TrialPruned(f"repeat of trial {repeat}")
        stored = None if ctx.fresh else _reusable(ctx, point)
        if stored is not None:
            m, mid, reused = stored.measurement, stored.id, True
        else:
            m = ctx.measure(point)
            mid, reused = ctx.store.add_measurement(ctx.run_id, m, context_key=ctx.context_key), False
        trial.set_user_attr("measurement_id", mid)
        trial.set_user_attr("reused", reused)
        trial.set_user_attr("new", not reused)  # what `--trials N` counts
        trial.set_user_attr("status", m.status)

        if m.status == "unsupported":
            trial.set_constraint("runnable", 1.0)
            _finish(ctx, trial, point, m, f"unsupported: {m.reason}")
            raise optuna.TrialPruned(m.reason)
        if m.status != "ok":
            _finish(ctx, trial, point, m, f"{m.status}: {m.reason}")
            raise TrialFailed(f"{m.status}: {m.reason}")
        values, why = objective_values(m, ctx.objectives)
        if values is None:
            _finish(ctx, trial, point, m, why)
            raise TrialFailed(why)
        _finish(ctx, trial, point, m, "reused" if reused else "")
        return values if len(values) > 1 else values[0]

    return objective


def _measured_in_study(trial: Any, point: Point) -> int | None:
    """The number of a finished trial of this study that already has `point` (None if none)."""
    from optuna.trial import TrialState

    study = getattr(trial, "study", None)
    if study is None:
        return None
    done = (TrialState.COMPLETE, TrialState.FAIL)
    for t in study.get_trials(deepcopy=False, states=done):
        if t.number != trial.number and t.user_attrs.get("point_key") == point.key() \
                and "measurement_id" in t.user_attrs:
            return t.number
    return None


class Budget:
    """Optuna callback: stop after `trials` newly measured points, when `done(study)` says no
    feasible unmeasured point is left, or after `cap` proposals (a last guard)."""

    def __init__(self, trials: int | None, cap_factor: int = 10,
                 done: Callable[[Any], bool] | None = None) -> None:
        self.trials = trials
        self.cap = None if trials is None else cap_factor * trials + 20
        self.done = done
        self.new = 0
        self.proposed = 0
        self.exhausted = False

    def __call__(self, study: Any, trial: Any) -> None:
        self.proposed += 1
        self.new += bool(trial.user_attrs.get("new"))
        if self.trials is not None and self.new >= self.trials:
            study.stop()
        elif self.done is not None and self.done(study):
            self.exhausted = self.trials is not None
            study.stop()
        elif self.trials is not None and self.proposed >= (self.cap or 0):
            self.exhausted = True
            study.stop()


def _reusable(ctx: TrialContext, point: Point) -> Any:
    """The stored measurement of `point` in this context if today's rules let it stand in."""
    stored = ctx.store.find_measurement(ctx.context_key, point.key())
    if stored is None or ctx.reuse_refusal(stored.measurement) is not None:
        return None  # it fails today's rules (contended, …): measure again
    return stored


def _live_runs(ctx: TrialContext, trial: Any) -> set[int]:
    return {r.id for r in ctx.store.runs(study=trial.study.study_name) if r.status == "running"}


def _finish(ctx: TrialContext, trial: Any, point: Point, m: Measurement | None,
            note: str) -> None:
    if note and note != "reused":
        trial.set_user_attr("reason", note)
    if ctx.on_trial is not None:
        ctx.on_trial(trial.number, point, m, note)
