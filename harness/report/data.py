"""What a report shows: `ReportData`, a frozen snapshot of stored results.

`from_store` is the only function of the report package that touches the store; everything after
it (figures, HTML) is a pure function of a `ReportData`.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from harness.answers import DECISION, stored_decision
from harness.core.measurement import Measurement
from harness.pareto import direction_name, front
from harness.train.identity import MODEL_IDENTITY, identity

if TYPE_CHECKING:
    from harness.store.api import RunRow, Store, StoredMeasurement, StoredVerdict


# The objectives of a selection without a stored tune run (e.g. `bench` results): the objective
# registry's defaults of a kernel study, faster at a lower pruning rate.
DEFAULT_OBJECTIVES: tuple[tuple[str, str], ...] = (("speedup", "maximize"),
                                                   ("pruning_rate", "minimize"))


@dataclass(frozen=True)
class HistoryPoint:
    """One point's result in one regression run: a dot on the point's trend chart."""

    run_id: int
    started_at: str  # the run's start, ISO 8601 UTC
    git_sha: str  # of the measured code ("" when unknown)
    point_key: str  # Point.key()
    label: str  # Point.label()
    median_s: float | None  # None when the point was not timed (status other than ok)
    status: str


@dataclass(frozen=True)
class ReportData:
    title: str
    measurements: tuple[Measurement, ...] = ()
    train: tuple[Mapping[str, Any], ...] = ()  # training records (accuracy, group_size, dense, …)
    runs: tuple[RunRow, ...] = ()
    source: str = ""  # the store's url_redacted: never a URL with a password
    scope: str = ""  # what was selected, e.g. "study fc"
    generated_at: str = ""  # ISO time, set by the caller so rendering stays pure
    history: tuple[HistoryPoint, ...] = ()  # regression runs' results, in run order
    # the stored answer of the latest training stage (harness.answers), drawn as it is
    decision: Mapping[str, Any] | None = None
    # (name, direction) of the objectives the front is taken in, as the latest tune run stored
    # them with its study
    objectives: tuple[tuple[str, str], ...] = DEFAULT_OBJECTIVES
    # the verdicts `harness regress` stored with the selected regression runs (trend charts mark
    # them as regress judged them, not as the report would judge again)
    verdicts: tuple[StoredVerdict, ...] = ()
    # whole-model study records (harness.tune.model_record), oldest first
    models: tuple[Mapping[str, Any], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.measurements and not self.train and not self.history and not self.models

    @cached_property  # frozen dataclass: cached_property writes __dict__ directly, which is allowed
    def timed(self) -> tuple[Measurement, ...]:
        """Verified measurements with a finite positive speedup, excluding the dense baselines."""
        return tuple(
            m
            for m in self.measurements
            if m.status == "ok"
            and m.speedup is not None
            and math.isfinite(m.speedup)
            and m.speedup > 0
            and m.point != m.point.baseline()
        )

    @cached_property
    def front(self) -> tuple[Measurement, ...]:
        """The timed measurements on the Pareto front of the stored objectives, each compared
        with those of its own problem (the same dense baseline), best first: `harness.pareto.front`
        with the study's stored directions, as the terminal's front table takes it."""
        from harness.tune.objectives import objective_values

        names = [n for n, _ in self.objectives]
        directions = [d for _, d in self.objectives]
        return tuple(front(self.timed, directions,
                           values=lambda m: objective_values(m, names)[0],
                           problem=lambda m: m.point.baseline()))

    def on_front(self, m: Measurement) -> bool:
        """Whether `m` (one of `timed`) is on `front`."""
        return id(m) in self._front_ids

    @cached_property
    def _front_ids(self) -> frozenset[int]:
        return frozenset(id(m) for m in self.front)

    @cached_property
    def not_timed(self) -> tuple[Measurement, ...]:
        return tuple(m for m in self.measurements if m.status != "ok")


def from_store(
    store: Store,
    *,
    study: str | None = None,
    run_id: int | None = None,
    suite: str | None = None,
    title: str | None = None,
    now: _dt.datetime | None = None,
) -> ReportData:
    """Snapshot of the results selected by study, run id and/or suite."""
    selectors = {"study": study, "run": run_id, "suite": suite}
    scope = ", ".join(f"{k} {v}" for k, v in selectors.items() if v is not None) or "all results"
    stored = store.measurements(run_id=run_id, study=study, suite=suite)
    measurements = [sm.measurement for sm in stored]
    runs = _select_runs(store.runs(study=study, suite=suite), run_id)
    if suite is not None and run_id is None and study is None:
        # train_results has no suite filter: gather it run by run
        train: list[dict[str, Any]] = []
        for r in runs:
            train.extend(store.train_results(run_id=r.id))
    else:
        train = list(store.train_results(run_id=run_id, study=study))
    stamp = (now or _dt.datetime.now(_dt.UTC)).replace(microsecond=0).isoformat()
    return ReportData(
        title=title or _default_title(study, run_id, suite),
        measurements=tuple(measurements),
        train=latest_models(t for t in train if t.get("kind") != DECISION),
        decision=stored_decision(train),
        objectives=stored_objectives(runs),
        runs=tuple(runs),
        source=getattr(store, "url_redacted", ""),
        scope=scope,
        generated_at=stamp,
        # one run has no trend: history only for a selection of several runs
        history=tuple(_history(runs, stored)) if run_id is None else (),
        verdicts=tuple(v for r in runs if r.kind == "regress" and run_id is None
                       for v in store.verdicts(run_id=r.id)),
        models=tuple(store.model_results(run_id=run_id, study=study, suite=suite)),
    )


# a re-run that trains a model again replaces it (harness.train.identity)
def latest_models(train: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """One record per trained model (MODEL_IDENTITY), in stored order: the latest that trained
    ("ok"), else the latest; so every model appears once however often it was trained again."""
    chosen: dict[tuple, dict[str, Any]] = {}
    for t in train:
        key = identity(t, MODEL_IDENTITY)
        if key not in chosen or t.get("status") == "ok" or chosen[key].get("status") != "ok":
            chosen.pop(key, None)  # re-insert: the order follows the record kept
            chosen[key] = dict(t)
    return tuple(chosen.values())


def stored_objectives(runs: Sequence[RunRow]) -> tuple[tuple[str, str], ...]:
    """(name, direction) of the objectives stored with the latest tune run among `runs` (its
    config keeps the study's objectives and directions); the defaults when none stored any."""
    tuned = [r for r in runs if r.kind == "tune" and r.config.get("objectives")
             and r.config.get("directions")]
    if not tuned:
        return DEFAULT_OBJECTIVES
    latest = max(tuned, key=lambda r: (r.started_at, r.id))
    names, directions = latest.config["objectives"], latest.config["directions"]
    return tuple((str(n), direction_name(d)) for n, d in zip(names, directions, strict=True))


def _select_runs(runs: Sequence[RunRow], run_id: int | None) -> list[RunRow]:
    return [r for r in runs if run_id is None or r.id == run_id]


def _history(runs: Sequence[RunRow], stored: Sequence[StoredMeasurement]) -> list[HistoryPoint]:
    """The measurements of the `regress` runs among `runs`, ordered by run (start, id)."""
    regress = {r.id: r for r in runs if r.kind == "regress"}
    order = {
        rid: i for i, rid in enumerate(sorted(regress, key=lambda i: (regress[i].started_at, i)))
    }
    out = []
    for sm in stored:
        run = regress.get(sm.run_id)
        if run is None:
            continue
        m = sm.measurement
        median = m.stats.median if m.status == "ok" and m.stats is not None else None
        sha = run.provenance.get("git_sha") or m.provenance.get("git_sha") or ""
        out.append(
            HistoryPoint(
                run_id=run.id,
                started_at=run.started_at,
                git_sha=str(sha),
                point_key=m.point.key(),
                label=m.point.label(),
                median_s=median,
                status=m.status,
            )
        )
    out.sort(key=lambda h: order[h.run_id])  # stable: store order within a run
    return out


def _default_title(study: str | None, run_id: int | None, suite: str | None) -> str:
    name = study or suite or (f"run {run_id}" if run_id is not None else "all results")
    return f"harness report: {name}"
