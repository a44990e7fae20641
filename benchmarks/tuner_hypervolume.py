"""Does the default multi-objective tuner find the front cheaply? (issue 6)

Question: on a suite's runnable space, does the suite's tuner (fc: NSGA-II, `tuners/nsga2.yaml`)
reach at least 90 % of the exhaustive grid's hypervolume with at most 30 % of the grid's trials?

Method — every sampler is compared on the *same* stored measurements, so timing noise between
runs cannot favour one of them:
1. The runnable grid (`runnable_space`, as `harness tune` builds it) is measured once with `Bench`
   and kept as compact JSON (`--grid-json`; `--measure` measures again and rewrites it).
2. Each study replays it: the real tune objective (`make_objective`) runs with a `TrialContext`
   whose `measure` looks the point up in the stored grid and whose store is an in-memory fake,
   on an in-memory Optuna study, with the sampler built as `harness tune` builds it
   (`make_sampler(profile.sampler, profile.options, grid, seed)`), for
   floor(budget × grid size) trials. A repeated proposal of one point counts as a trial: it is
   free in `harness tune` (the stored measurement is reused) but uses the budget. With
   `--unit measurements` the budget counts distinct points instead (trials go on until that many
   distinct points were measured, at most 10× as many trials): what a tune that did not charge
   reused measurements to its budget would get.
3. Hypervolume of the completed trials' values ÷ hypervolume of the whole grid's front, both
   against one reference point computed from every grid value (`harness.pareto`).
Repeated over `--seeds` sampler seeds for the suite's tuner, `--variants` of its options, and
`--compare` samplers (same budget).

Run from the repository root:

    python benchmarks/tuner_hypervolume.py --measure            # measure the grid, then replay
    python benchmarks/tuner_hypervolume.py                      # replay the stored grid
    python benchmarks/tuner_hypervolume.py --budget 0.3 0.5 --unit trials measurements \\
        --variants '{"population_size": 6}' '{"sampler": "tpe", "n_startup_trials": 5}'

CPU timings on a shared machine move a lot between runs, so which points form the grid's front
does too: compare samplers within one stored grid, never across grids.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

RESULTS = Path("benchmarks") / "results"  # relative: run from the repository root


# -- step 1: the measured grid ---------------------------------------------------------------

def runnable_suite(suite_path: str, device: str) -> tuple[Any, list[str]]:
    """The suite with its space reduced to what can run on `device` (as `harness tune` does)."""
    from harness.config.suite import load_suite
    from harness.tune.feasible import runnable_space

    suite = load_suite(suite_path)
    space, notes = runnable_space(suite.space, device=device, dtypes=suite.dtypes,
                                  seed=suite.seed)
    return replace(suite, space=space), notes


def measure_grid(suite: Any, device: str, say: Any = print) -> dict[str, Any]:
    """Measure every runnable grid point once; compact records plus provenance."""
    from harness.core import counter_keys as ck
    from harness.measure.provenance import collect
    from harness.measure.runner import Bench

    points = list(suite.grid(device))
    t0 = time.perf_counter()
    bench = Bench(suite.measure, device=device, threads=suite.threads,
                  progress=lambda s: say(f"[{time.perf_counter() - t0:6.0f}s] {s}"))
    results = bench.measure_many(points)
    prov = collect(device, suite.threads, suite.seed)
    base = bench.baseline(points[0]) if points else None
    rows = [{"key": p.key(), "label": p.label(), "point": p.as_dict(), "status": m.status,
             "reason": m.reason, "median_s": m.stats.median if m.stats else None,
             "speedup": m.speedup, "speedup_ci": list(m.speedup_ci) if m.speedup_ci else None,
             # how the contention probe judged its rounds (re-timed rounds, contended points)
             "rounds": m.counters.get(ck.TIMER_ROUNDS),
             "total_rounds": m.counters.get(ck.TIMER_TOTAL_ROUNDS),
             "disturbed_rounds": m.counters.get(ck.TIMER_DISTURBED_ROUNDS),
             "block": m.counters.get(ck.TIMER_BLOCK), "mode": m.counters.get(ck.TIMER_MODE)}
            for p, m in zip(points, results, strict=True)]
    return {
        "suite": suite.path, "suite_name": suite.name, "device": device,
        "measure": asdict(suite.measure), "wall_s": round(time.perf_counter() - t0, 1),
        "dense_median_s": base.stats.median if base is not None and base.stats else None,
        "provenance": {k: prov.get(k) for k in ("cpu_model", "device_name", "threads",
                                                "torch_version", "scipy_version", "git_sha",
                                                "harness_version", "hostname")},
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "points": rows,
    }


# -- step 2: replay ----------------------------------------------------------------------------

class _MemoryStore:
    """The two store calls the tune objective makes: nothing is stored, nothing reused."""

    def __init__(self) -> None:
        self.added = 0

    def find_measurement(self, context_key: str, point_key: str) -> None:
        return None

    def add_measurement(self, run_id: int, m: Any, *, context_key: str = "") -> int:
        self.added += 1
        return self.added

    def runs(self, **_: Any) -> list[Any]:
        return []  # no other worker's run: no trial waits for a sibling


def _stored(grid: Mapping[str, Any]) -> dict[str, Any]:
    """point key → Measurement rebuilt from the stored record (status, speedup, CI)."""
    from harness.core.measurement import Measurement
    from harness.core.point import Point

    out = {}
    for r in grid["points"]:
        ci = tuple(r["speedup_ci"]) if r.get("speedup_ci") else None
        out[r["key"]] = Measurement(Point.from_dict(r["point"]), r["status"],
                                    reason=r.get("reason") or "",
                                    speedup=r["speedup"] if r["status"] == "ok" else None,
                                    speedup_ci=ci)
    return out


@dataclass(frozen=True)
class Problem:
    """What every replay shares: the space, objectives, stored measurements and the yardstick."""

    suite: Any
    names: list[str]
    directions: list[str]
    stored: dict[str, Any]
    reference: Any  # numpy array
    grid_hv: float
    size: int


def make_problem(suite: Any, grid: Mapping[str, Any]) -> Problem:
    from harness.pareto import hypervolume, reference_point
    from harness.tune.objectives import objective_values

    names = [o.name for o in (suite.tuner.objectives or suite.objectives)]
    directions = [o.direction for o in (suite.tuner.objectives or suite.objectives)]
    stored = _stored(grid)
    keys = {p.key() for p in suite.grid(grid["device"])}
    missing = keys - set(stored)
    if missing:
        raise SystemExit(f"the stored grid lacks {len(missing)} of the suite's {len(keys)} "
                         "runnable points (different suite, device or harness?); use --measure")
    values = [v for m in (stored[k] for k in keys) if m.status == "ok"
              for v, _ in [objective_values(m, names)] if v is not None]
    ref = reference_point(values, directions)
    return Problem(suite=suite, names=names, directions=directions, stored=stored,
                   reference=ref, grid_hv=hypervolume(values, directions, ref), size=len(keys))


def _measured(trials: Sequence[Any]) -> int:
    """Distinct points that reached the measurement (a constraint-pruned trial did not)."""
    return len({t.user_attrs["point_key"] for t in trials if "measurement_id" in t.user_attrs})


def replay(prob: Problem, sampler: str, options: Mapping[str, Any], seed: int,
           n_trials: int, unit: str = "trials") -> dict[str, Any]:
    """One in-memory study of `n_trials` trials (or distinct measured points, for unit
    "measurements") on the stored grid; its hypervolume fraction."""
    import optuna

    from harness.pareto import hypervolume
    from harness.tune.feasible import feasible_assignments
    from harness.tune.objective import TrialContext, TrialFailed, make_objective, search_grid
    from harness.tune.samplers import make_sampler
    from harness.tune.unmeasured import steer

    suite = prob.suite
    device = next(iter(prob.stored.values())).point.device
    grid = search_grid(suite.space, suite.dtypes) if sampler == "grid" else {}
    opts = {**dict(options), "seed": seed}  # the profile's seed option is what varies
    study = optuna.create_study(directions=prob.directions,
                                sampler=make_sampler(sampler, opts, grid, suite.seed))
    # as harness tune builds it: only values a feasible point completes (the grid prunes), and
    # no point the study has measured while others remain
    feasible = None if sampler == "grid" else feasible_assignments(
        suite.space, device=device, dtypes=suite.dtypes, seed=suite.seed)
    ctx = TrialContext(space=suite.space, dtypes=suite.dtypes, device=device, seed=suite.seed,
                       objectives=prob.names, context_key="replay", run_id=0,
                       store=_MemoryStore(), measure=lambda p: prob.stored[p.key()],
                       feasible=feasible)
    steer(study, ctx)  # no repeat proposals
    callbacks, cap = [], n_trials
    if unit == "measurements":
        cap = 10 * n_trials  # a sampler that only repeats itself must still end

        def enough(study: Any, trial: Any) -> None:
            if _measured(study.trials) >= n_trials:
                study.stop()

        callbacks.append(enough)
    study.optimize(make_objective(ctx), n_trials=cap, catch=(TrialFailed,), callbacks=callbacks)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    values = [t.values for t in done]
    hv = hypervolume(values, prob.directions, prob.reference) if values else 0.0
    return {"seed": seed, "trials": len(study.trials), "complete": len(done),
            "distinct": _measured(study.trials),
            "hv_fraction": hv / prob.grid_hv if prob.grid_hv > 0 else float("nan")}


def summarize(runs: Sequence[Mapping[str, Any]], target: float) -> dict[str, Any]:
    fr = [r["hv_fraction"] for r in runs]
    return {"seeds": len(runs), "mean": statistics.fmean(fr), "median": statistics.median(fr),
            "min": min(fr), "max": max(fr),
            "reach_target": sum(f >= target for f in fr) / len(fr),
            "distinct_mean": statistics.fmean(r["distinct"] for r in runs)}


# -- CLI -------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="suites/fc.yaml")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--grid-json", default=str(RESULTS / "fc_grid_cpu.json"),
                    help="stored grid measurements (read; written with --measure)")
    ap.add_argument("--measure", action="store_true", help="measure the grid again first")
    ap.add_argument("--out", default=str(RESULTS / "tuner_hypervolume_cpu.json"))
    ap.add_argument("--seeds", type=int, default=50, help="sampler seeds per row (0..N-1)")
    ap.add_argument("--budget", type=float, nargs="+", default=[0.3],
                    help="trials as a fraction of the grid (several: one table each)")
    ap.add_argument("--unit", nargs="+", choices=("trials", "measurements"),
                    default=["trials"], help="what the budget counts (several: one table each)")
    ap.add_argument("--target", type=float, default=0.9, help="hypervolume fraction to reach")
    ap.add_argument("--compare", nargs="*",
                    default=["tuners/tpe.yaml", "tpe", "random", "grid", "qmc"],
                    help="other samplers (default options) or tuner profile files, same "
                         "budget; grid = random order without repeats")
    ap.add_argument("--variants", nargs="*", default=[],
                    help='JSON option overrides of the suite\'s tuner, one row each; '
                         '"sampler" switches the sampler')
    return ap.parse_args(argv)


def tuner_rows(profile: Any, variants: Sequence[str],
               compare: Sequence[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, sampler, options) per row: the suite's tuner, its variants, the comparisons.
    Options are checked against what a tuner profile may set."""
    from harness.config.names import SAMPLER_OPTIONS
    from harness.config.tuner import load_tuner

    rows = [(profile.name, profile.sampler, dict(profile.options))]
    for v in variants:
        over = json.loads(v)
        sampler = over.pop("sampler", profile.sampler)
        base = dict(profile.options) if sampler == profile.sampler else {}
        rows.append((f"{profile.name} {v}" if sampler == profile.sampler else v, sampler,
                     {**base, **over}))
    for c in compare:
        if c.endswith((".yaml", ".yml")):
            t = load_tuner(c)
            rows.append((f"{t.name} ({c})", t.sampler, dict(t.options)))
        else:
            rows.append((c, c, {}))
    for label, sampler, options in rows:
        bad = set(options) - set(SAMPLER_OPTIONS[sampler])
        if bad:
            raise SystemExit(f"{label}: options {sorted(bad)} are not valid for {sampler}")
    return rows


def main(argv: list[str] | None = None) -> int:
    import optuna

    args = parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # Optuna's deprecation/experimental notices repeat once per study; they are not results
    for category in (FutureWarning, optuna.exceptions.ExperimentalWarning):
        warnings.filterwarnings("ignore", category=category)
    suite, notes = runnable_suite(args.suite, args.device)
    for note in notes:
        print(f"space: {note}", file=sys.stderr)
    path = Path(args.grid_json)
    if args.measure:
        grid = measure_grid(suite, args.device, say=lambda s: print(s, file=sys.stderr,
                                                                    flush=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(grid, indent=1))
        print(f"grid: {len(grid['points'])} points measured in {grid['wall_s']:.0f}s -> {path}",
              file=sys.stderr)
    else:
        grid = json.loads(path.read_text())
    prob = make_problem(suite, grid)
    ok = sum(m.status == "ok" for m in prob.stored.values())
    rows = tuner_rows(suite.tuner, args.variants, args.compare)
    print(f"{suite.name} on {args.device}: grid {prob.size} points ({ok} ok), target "
          f"{args.target:.0%} of grid hypervolume {prob.grid_hv:.4g} (reference "
          f"{[round(float(x), 4) for x in prob.reference]}), {args.seeds} seeds")
    table = []
    for unit, budget in itertools.product(args.unit, args.budget):
        n_trials = math.floor(budget * prob.size)
        print(f"\nbudget {n_trials} {unit} ({budget:.0%} of the grid)")
        print(f"{'tuner':<44} {'mean':>6} {'median':>6} {'min':>6} {'max':>6} "
              f"{'>=' + format(args.target, '.0%'):>6} {'distinct':>8}")
        for label, sampler, options in rows:
            runs = [replay(prob, sampler, options, seed, n_trials, unit)
                    for seed in range(args.seeds)]
            s = summarize(runs, args.target)
            table.append({"tuner": label, "sampler": sampler, "options": options,
                          "budget_unit": unit, "budget_fraction": budget,
                          "budget": n_trials, **s,
                          # per seed (0..N-1), compact: one list per field
                          "runs": {f: [round(r[f], 4) for r in runs]
                                   for f in ("hv_fraction", "distinct", "trials")}})
            print(f"{label:<44} {s['mean']:6.3f} {s['median']:6.3f} {s['min']:6.3f} "
                  f"{s['max']:6.3f} {s['reach_target']:6.0%} {s['distinct_mean']:8.1f}",
                  flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "suite": suite.path, "device": args.device, "grid_json": str(args.grid_json),
        "grid_size": prob.size, "grid_ok": ok, "seeds": args.seeds, "target": args.target,
        "grid_hv": prob.grid_hv, "reference": [float(x) for x in prob.reference],
        "objectives": prob.names, "directions": prob.directions,
        "grid_provenance": grid.get("provenance"), "grid_date": grid.get("date"),
        "optuna_version": optuna.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # one line per row keeps the per-seed lists readable and the file small
    head = json.dumps(meta, indent=1)[:-2]
    body = ",\n  ".join(json.dumps(row) for row in table)
    out.write_text(f'{head},\n "rows": [\n  {body}\n ]\n}}\n')
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
