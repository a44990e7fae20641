"""A sampler wrapper that never proposes a point the study has measured while others remain.

Optuna's samplers know nothing of which points a study already holds: TPE and NSGA-II propose
the same good point again and again once the space is small, and each such proposal used to
become a free "repeat" trial. `Unmeasured` filters the wrapped sampler's proposals parameter by
parameter against the feasible assignments (harness.tune.feasible.FeasibleGrid) minus the
assignments of the study's measured trials:

- a value is *open* when some feasible assignment that extends the values chosen so far with it
  names a point the study has not measured (by point key: assignments that differ only in a
  parameter the point ignores, such as g under block pruning, are one point);
- an independent proposal that is not open is drawn again from the wrapped sampler (up to TRIES
  times, so its model still decides), then replaced by a uniform draw among the open values;
- a relative (multivariate) proposal keeps its longest open prefix in the space's order; the
  rest is proposed independently, and so filtered.

The distributions the wrapped sampler learns from are untouched (the parameter names and their
ranges stay the same), so only the proposals change. When nothing is open any more (every
feasible point measured), proposals pass through unfiltered and the tuner's budget callback
ends the study.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harness.tune.objective import base_name, point_of_assignment, same_value

if TYPE_CHECKING:
    from harness.tune.feasible import FeasibleGrid
    from harness.tune.objective import TrialContext

TRIES = 8  # draws from the wrapped sampler before a uniform draw among the open values


class Unmeasured:
    """Wraps an Optuna sampler; see the module docstring. `keys[i]` is the point key of
    `feasible.points[i]`; `order` is the parameters' order of suggestion (space order, then
    "dtype"); `base` maps a trial's parameter name to the space's (narrowed names such as
    "format in ['csr']" → "format")."""

    def __init__(self, inner: Any, feasible: FeasibleGrid, keys: Sequence[str],
                 order: Sequence[str], base: Callable[[str], str],
                 seed: int | None = None) -> None:
        self.inner = inner
        self.feasible = feasible
        self.keys = list(keys)
        self.order = list(order)
        self.base = base
        self.rng = random.Random(seed)
        self._measured: tuple[int | None, set[str]] = (None, set())

    # --- what is open -------------------------------------------------------------------
    def measured(self, study: Any, trial: Any = None) -> set[str]:
        """The point keys of the study's measured trials: read from the storage once per trial
        being sampled (each of its parameters asks), afresh when `trial` is None."""
        from optuna.trial import TrialState

        number = None if trial is None else trial.number
        if number is not None and self._measured[0] == number:
            return self._measured[1]
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
        keys = {t.user_attrs["point_key"] for t in done
                if "measurement_id" in t.user_attrs and "point_key" in t.user_attrs}
        self._measured = (number, keys)
        return keys

    def is_open(self, chosen: dict[str, Any], measured: set[str]) -> bool:
        return any(key not in measured for a, key in zip(self.feasible.points, self.keys,
                                                         strict=True)
                   if all(same_value(a.get(k), v) for k, v in chosen.items()))

    def exhausted(self, study: Any) -> bool:
        return not self.is_open({}, self.measured(study))

    def _chosen(self, trial: Any) -> dict[str, Any]:
        return {self.base(k): v for k, v in trial.params.items()}

    # --- the sampler protocol -----------------------------------------------------------
    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict:
        proposal = self.inner.sample_relative(study, trial, search_space)
        if not proposal or not self.feasible.points:
            return proposal
        measured = self.measured(study, trial)
        if not self.is_open({}, measured):
            return proposal
        keep: dict[str, Any] = {}
        chosen = self._chosen(trial)
        ranked = sorted(proposal, key=lambda name: self._rank(name))
        for name in ranked:
            candidate = {**chosen, self.base(name): proposal[name]}
            if not self.is_open(candidate, measured):
                break  # this and what follows are proposed independently, and filtered
            chosen = candidate
            keep[name] = proposal[name]
        return keep

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        value = self.inner.sample_independent(study, trial, param_name, param_distribution)
        if not self.feasible.points:
            return value
        measured = self.measured(study, trial)
        chosen = self._chosen(trial)
        name = self.base(param_name)
        if not self.is_open(chosen, measured):
            return value  # nothing open below these choices (or at all): pass through
        for _ in range(TRIES):
            if self.is_open({**chosen, name: value}, measured):
                return value
            value = self.inner.sample_independent(study, trial, param_name, param_distribution)
        values = _values(param_distribution, self.feasible.grid.get(name, []))
        open_values = [v for v in values if self.is_open({**chosen, name: v}, measured)]
        return self.rng.choice(open_values) if open_values else value

    def before_trial(self, study: Any, trial: Any) -> None:
        self.inner.before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()
        self.rng = random.Random()

    def _rank(self, name: str) -> int:
        base = self.base(name)
        return self.order.index(base) if base in self.order else len(self.order)

    def __getattr__(self, name: str) -> Any:  # anything else the study asks of its sampler
        return getattr(self.inner, name)


def _values(distribution: Any, grid: Sequence[Any]) -> list[Any]:
    """The values a distribution can take, as Optuna would return them: the categorical's
    choices, else the grid's values inside the range (stepped ranges only)."""
    choices = getattr(distribution, "choices", None)
    if choices is not None:
        return list(choices)
    low, high = getattr(distribution, "low", None), getattr(distribution, "high", None)
    if low is None or high is None:
        return []
    return [v for v in grid if low - 1e-12 <= v <= high + 1e-12]


def steer(study: Any, ctx: TrialContext) -> Callable[[Any], bool] | None:
    """Wrap `study`'s sampler in `Unmeasured` for the objective's context (the tuner and its
    benchmark both build studies so) and return the test "no feasible unmeasured point is
    left" for the budget. None, and nothing wrapped, without feasible assignments (the grid
    sampler enumerates each point once by itself)."""
    feasible = ctx.feasible
    if feasible is None or not feasible.points:
        return None
    keys = [point_of_assignment(ctx, a).key() for a in feasible.points]
    several = len(ctx.dtypes) > 1
    order = [p.name for p in ctx.space.params()] + (["dtype"] if several else [])
    sampler = Unmeasured(study.sampler, feasible, keys, order, base_name, seed=ctx.seed)
    study.sampler = sampler
    return sampler.exhausted
