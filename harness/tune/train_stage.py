"""The training stage of `harness tune`: close the accuracy–speedup front.

The kernel stage's Pareto candidates (format, pattern, group size, rate) are trained as pruned
models (the suite's `train:` section), followed by the seed's Fig. 4 series (every group size at
the rate nearest 90 %); each record is joined with its kernel speedup, where one was measured,
and stored as soon as it is trained (a run killed during training keeps what finished). The
report joins the rest with the best measured kernel of the same pruning.
The format and backend do not change accuracy, so candidates that differ only in them are
trained once and the fastest kernel speedup is attached.
A model that an earlier run of the study trained by the same settings is not trained again: its
record is copied into this run, marked `reused` (`harness.train.identity` says what "the same"
means); `--fresh` trains every configuration again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harness.core.point import Point, PruneSpec, pair
from harness.tune.front import FrontRow

if TYPE_CHECKING:
    from harness.config.space import Space
    from harness.config.suite import Suite
    from harness.store.api import Store


def _prune_key(spec: PruneSpec) -> tuple:
    return (spec.pattern, spec.rate, spec.group_size, tuple(spec.block), tuple(spec.nm),
            spec.aggregation)


def candidates(front: Sequence[FrontRow], limit: int
               ) -> list[tuple[PruneSpec, float | None, Any]]:
    """Unique pruning configurations of the front, fastest kernel first, at most `limit`. The
    speedup is read by its objective's name, wherever the suite listed it (a study without a
    speedup objective gives None here; `time_untimed` measures those afterwards)."""
    best: dict[tuple, tuple[PruneSpec, float | None, Any]] = {}
    for row in front:
        if not row.point:
            continue
        point = Point.from_dict(row.point)
        if point.prune.rate == 0.0:
            continue  # the dense baseline is trained anyway, as the reference
        speedup = row.value("speedup")  # None when the study did not optimise it
        key = _prune_key(point.prune)
        if key not in best or (speedup or 0) > (best[key][1] or 0):
            best[key] = (point.prune, speedup, row.measurement_id)
    ranked = sorted(best.values(), key=lambda c: -(c[1] or 0.0))
    return ranked[:limit]


FIG4_RATE = 0.9  # hartenstein Fig. 4: accuracy per group size at 90 % pruning


def fig4_series(space: Space) -> list[PruneSpec]:
    """Row-group configurations of every group size in the space at the rate nearest 90 %
    (the seed's Fig. 4), when the space prunes in row groups; else none."""
    if "row_group" not in space.pattern or len(space.group_size) < 2:
        return []
    rates = space.rates() if space.enumerable() else (FIG4_RATE,)
    rate = min(rates, key=lambda r: abs(r - FIG4_RATE))
    return [PruneSpec(pattern="row_group", rate=rate, group_size=g,
                      aggregation=space.aggregation[0]) for g in space.group_size]


def run_training(suite: Suite, store: Store, run_id: int, front: Sequence[FrontRow], *, device: str,
                 say: Callable[[str], None], study: str | None = None,
                 fresh: bool = False) -> list[dict]:
    """Train the chosen configurations and store each record as it finishes. A model that an
    earlier run of `study` trained by the same settings (`harness.train.identity`: the same
    configuration and `train_digest`, status "ok", not cut short by the time budget) is reused:
    its record is copied into this run with `reused: true` instead of training it again;
    `fresh` trains everything again."""
    from harness.train.curves import curve_lines
    from harness.train.stage import train_candidates

    spec = suite.train
    if spec is None:  # the caller runs the stage only for a suite with a train: section
        return []
    chosen = candidates(front, spec.candidates)
    known = {_prune_key(c[0]) for c in chosen}
    chosen += [(p, None, None) for p in fig4_series(suite.space) if _prune_key(p) not in known]
    if not chosen:
        say("training stage: no pruned candidate on the front")
        return []
    earlier = {} if fresh or study is None else reusable(store.train_results(study=study))
    found = {c[0]: earlier.get(_planned_identity(spec, c[0], suite.seed)) for c in chosen}
    todo = [c[0] for c in chosen if found[c[0]] is None]
    dense_earlier = earlier.get(_planned_identity(spec, None, suite.seed))
    say(f"training stage: {len(chosen)} configuration(s) (the front's best, then the Fig. 4 "
        f"series), model {spec.model} on {spec.dataset}, schedule {spec.schedule}"
        + (f"; {len(chosen) - len(todo)} reused from earlier runs (--fresh trains them again)"
           if len(todo) < len(chosen) else ""))

    joined = {_prune_key(c[0]): c for c in chosen}
    stored: dict[int, dict] = {}  # id(raw record) → its stored form

    def keep(raw: dict) -> dict:
        """Join the kernel speedup and store the record at once: a run killed during
        training keeps every candidate that had finished."""
        if id(raw) not in stored:
            rec = flatten(raw)
            if rec["dense"]:
                rec["speedup"] = 1.0
            else:
                match = joined.get(_rec_key(rec))
                if match is not None and match[1] is not None:
                    rec["speedup"], rec["measurement_id"] = match[1], match[2]
            store.add_train_result(run_id, rec)
            stored[id(raw)] = rec
        return stored[id(raw)]

    n = len(chosen)
    reused = [copy_reused(rec) for rec in (found[c[0]] for c in chosen) if rec is not None]
    for i, raw in enumerate(reused, 1):
        rec = keep(raw)
        say(f"  [{i}/{n}] {describe(rec)}: reused (run {raw['reused_from']['run_id']}), "
            f"accuracy {_fmt(rec.get('accuracy'))}")

    def progress(i: int, _n: int, raw: dict) -> None:
        rec = keep(raw)
        say(f"  [{len(reused) + i}/{n}] {describe(rec)}: {rec.get('status')}, accuracy "
            f"{_fmt(rec.get('accuracy'))}")

    if todo or dense_earlier is None:
        records = train_candidates(spec, todo, device=device, budget_s=spec.budget_s,
                                   seed=suite.seed, progress=progress)
    else:  # nothing left to train: the dense reference is the earlier run's too
        records = [copy_reused(dense_earlier)]
    out = [keep(raw) for raw in [records[0], *reused, *records[1:]]]  # dense first
    dense = next((r for r in out if r["dense"]), None)
    say(f"  dense: accuracy {_fmt(dense and dense.get('accuracy'))}"
        + (" (reused)" if dense and dense.get("reused") else ""))
    for line in curve_lines(out):  # signal died, ADMM residuals, PruneTrain's FLOPs per epoch
        say(line)
    return out


# keys of a stored record that belong to its run, not to the model: dropped when it is reused
_RUN_KEYS = ("id", "run_id", "speedup", "measurement_id", "point", "point_key", "reused",
             "reused_from")


def reusable(train: Sequence[dict]) -> dict[tuple, dict]:
    """Stored training records that can stand for a model trained again, by their
    CONFIG_IDENTITY: trained ("ok"), with a train digest, by this training code, not stopped
    early by the time budget; the latest of each model."""
    from harness.train.identity import CONFIG_IDENTITY, identity, training_code

    code = training_code()
    out: dict[tuple, dict] = {}
    for rec in train:
        if rec.get("kind") not in ("dense", "candidate") or rec.get("status") != "ok" \
                or not rec.get("train_digest") or rec.get("budget_cut") \
                or rec.get("training_code") != code:
            continue
        out[identity(flatten(rec), CONFIG_IDENTITY)] = rec
    return out


def copy_reused(rec: dict) -> dict:
    """An earlier run's record for this run: its model's keys, marked reused and where from (the
    run that trained it, also when that run's record was itself reused later)."""
    out = {k: v for k, v in rec.items() if k not in _RUN_KEYS}
    out["reused"] = True
    out["reused_from"] = rec.get("reused_from") or {"run_id": rec.get("run_id"),
                                                     "id": rec.get("id")}
    return out


def _planned_identity(spec: Any, prune: PruneSpec | None, seed: int) -> tuple:
    from harness.train.identity import CONFIG_IDENTITY, identity
    from harness.train.stage import planned

    return identity(flatten(planned(spec, prune, seed=seed)), CONFIG_IDENTITY)


def time_untimed(suite: Suite, store: Store, run_id: int, front: Sequence[FrontRow],
                 records: Sequence[dict], *, device: str, study: str | None,
                 measure: Callable[[list[Point]], list[Any]] | None = None) -> list[dict]:
    """Every trained configuration gets a kernel speedup: the best verified measurement of the
    same pruning over the suite's formats — stored in the study, or measured now for the formats
    not yet measured (through backend auto; stored with the run). The Fig. 4 series is trained
    without a front measurement, and an untimed model could never be recommended."""
    missing = [r for r in records if not r.get("dense") and r.get("speedup") is None
               and r.get("status") == "ok"]
    if not missing or not front or not front[0].point:
        return list(records)
    best: dict[tuple, tuple[float, int | None]] = {}
    seen: set[tuple] = set()  # (pruning, format) already measured in the study

    def offer(m: Any, mid: int | None) -> None:
        key = _prune_key(m.point.prune)
        seen.add((key, m.point.format))
        if m.status == "ok" and m.speedup is not None:
            if key not in best or m.speedup > best[key][0]:
                best[key] = (m.speedup, mid)

    for sm in store.measurements(study=study) if study else []:
        offer(sm.measurement, sm.id)
    template = Point.from_dict(front[0].point)
    todo = []
    for rec in missing:
        prune = _spec_of(rec, template.seed)
        for fmt in suite.space.format:  # every format of the suite, so the best kernel counts
            if fmt == "dense" or (fmt == "row_group" and prune.pattern != "row_group") \
                    or (_prune_key(prune), fmt) in seen:
                continue
            point = dataclasses.replace(template, format=fmt, backend="auto", prune=prune)
            if suite.space.violation(point) is None:
                todo.append(point)
    if todo:
        if measure is None:
            from harness.measure.runner import Bench

            bench = Bench(suite.measure, device=device, threads=suite.threads, store=store)
            measure = bench.measure_many
        for m in measure(todo):
            offer(m, store.add_measurement(run_id, m))
    out = []
    for rec in records:
        match = best.get(_rec_key(rec)) if rec in missing else None
        out.append(dict(rec, speedup=match[0], measurement_id=match[1]) if match else rec)
    return out


def _spec_of(rec: dict, seed: int) -> PruneSpec:
    return PruneSpec(pattern=rec["pattern"], rate=float(rec["pruning_rate"]),
                     group_size=int(rec.get("group_size") or 1),
                     block=pair(rec.get("block") or (1, 1)),
                     nm=pair(rec.get("nm") or (2, 4)),
                     aggregation=rec.get("aggregation") or "rms", seed=seed)


def decide_and_store(suite: Suite, store: Store, run_id: int, front: Sequence[FrontRow],
                     records: Sequence[dict]) -> dict:
    """The answer (harness.answers.decide) over the trained records, with the front's
    configurations that were not trained listed as such, each speedup with its measurement's
    95 % CI; stored with the run as one record."""
    from harness.answers import Budget, decide, label

    trained = {_rec_key(r) for r in records}
    untrained = []
    for row in front:
        if not row.point:
            continue
        prune = Point.from_dict(row.point).prune
        if prune.rate == 0.0:
            continue
        rec = flatten({"prune": {"pattern": prune.pattern, "rate": prune.rate,
                                 "group_size": prune.group_size, "block": list(prune.block),
                                 "nm": list(prune.nm), "aggregation": prune.aggregation}})
        if _rec_key(rec) not in trained:
            untrained.append((label(rec), row.value("speedup"), row.measurement_id))
    mids = [r.get("measurement_id") for r in records] + [u[2] for u in untrained]
    decision = decide(records, Budget.of(suite.train), untrained,
                      _dense_alternatives(store, records), _speedup_cis(store, mids))
    store.add_train_result(run_id, decision)
    return decision


def _speedup_cis(store: Store, mids: Sequence[int | None]) -> dict[int, tuple[float, float]]:
    """Per linked measurement: its speedup's 95 % CI, where it has one."""
    out: dict[int, tuple[float, float]] = {}
    for mid in dict.fromkeys(m for m in mids if m is not None):
        try:
            ci = store.get_measurement(mid).measurement.speedup_ci
        except KeyError:  # a record that points at nothing stored has no interval
            continue
        if ci is not None:
            out[mid] = (float(ci[0]), float(ci[1]))
    return out


def _dense_alternatives(store: Store, records: Sequence[dict]) -> dict[int, tuple[str, float]]:
    """Per linked measurement: the fastest cheaper dense dtype timed with its problem. One
    value per problem (the median over the problem's linked measurements, each Bench timed it
    once), so every row of a problem is compared with the same dense product."""
    import statistics

    from harness.core import counter_keys as ck

    timed: dict[int, tuple[str, str, float]] = {}  # mid → (problem, dtype, speedup)
    for rec in records:
        mid = rec.get("measurement_id")
        if mid is None or mid in timed:
            continue
        try:
            m = store.get_measurement(mid).measurement
        except KeyError:  # a record that points at nothing stored has no alternative
            continue
        c = m.counters
        if c.get(ck.DENSE_ALT_FASTEST) and c.get(ck.DENSE_ALT_FASTEST_SPEEDUP):
            timed[mid] = (m.point.baseline().key(), str(c[ck.DENSE_ALT_FASTEST]),
                          float(c[ck.DENSE_ALT_FASTEST_SPEEDUP]))
    per_problem: dict[str, list[tuple[str, float]]] = {}
    for problem, dtype, speedup in timed.values():
        per_problem.setdefault(problem, []).append((dtype, speedup))
    agreed = {problem: (statistics.mode(d for d, _ in found),
                        statistics.median(s for _, s in found))
              for problem, found in per_problem.items()}
    return {mid: agreed[problem] for mid, (problem, _, _) in timed.items()}


def flatten(rec: dict) -> dict:
    """The stage's record with the pruning configuration as flat keys (what reports read)."""
    out = dict(rec)
    out["dense"] = rec.get("kind") == "dense"
    prune = rec.get("prune") or {}
    out.update(pattern=prune.get("pattern"), pruning_rate=prune.get("rate", 0.0),
               group_size=prune.get("group_size"), aggregation=prune.get("aggregation"),
               block=prune.get("block"), nm=prune.get("nm"))
    return out


def _rec_key(rec: dict) -> tuple:
    return (rec.get("pattern"), rec.get("pruning_rate"), rec.get("group_size"),
            tuple(rec.get("block") or (1, 1)), tuple(rec.get("nm") or (2, 4)),
            rec.get("aggregation"))


def describe(rec: dict) -> str:
    if rec.get("dense"):
        return "dense"
    return f"{rec.get('pattern')} g={rec.get('group_size')} rate={rec.get('pruning_rate')}"


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.4f}"
