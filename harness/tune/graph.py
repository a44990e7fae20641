"""`harness tune` on a graph suite: an Optuna search over the Sparse DNN Graph Challenge's
variants, input batch and threads (the suite's `tune:` section), maximising the verified rate.

The case, the space and the measurement of a point are harness.graph.search's; this module adds
the study (on the store's database, beside the GEMM studies, or in memory with no store), the
sampler (harness tune's registry) and the stored measurements (run kind "tune", study
"graph:<suite>"). A point whose categories differ from the reference, or that cannot run here,
is a pruned trial with its reason: it never gets a rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError

if TYPE_CHECKING:
    from harness.graph.bench import Result
    from harness.store.api import Store


@dataclass(frozen=True)
class GraphTuneResult:
    study: str
    results: list[tuple[dict[str, Any], Result]] = field(default_factory=list)  # per trial

    @property
    def best(self) -> tuple[dict[str, Any], Result] | None:
        rated = [(p, r) for p, r in self.results if r.rate]
        return max(rated, key=lambda pr: pr[1].rate or 0.0, default=None)


def is_graph_suite(path: str | Path) -> bool:
    """A graph suite lists `cases:` (networks); a GEMM suite has a `space:` instead."""
    from harness.config.yamlload import load

    data = load(path).data
    return isinstance(data, dict) and "cases" in data and "space" not in data


def tune_graph(path: str | Path, *, trials: int | None = None, timeout_s: float | None = None,
               store: Store | None = None, study: str | None = None, fresh: bool = False,
               inputs: int | None = None, quiet: bool = False) -> GraphTuneResult:
    """Search the graph suite's `tune:` space; every trial is stored when `store` is given."""
    import optuna

    from harness.graph.bench import to_measurement
    from harness.graph.search import PARAMS, GraphObjective, GraphPoint, choices
    from harness.graph.suite import load_suite
    from harness.measure.provenance import collect
    from harness.tune.progress import quiet_optuna
    from harness.tune.samplers import make_sampler
    from harness.tune.storage import optuna_storage

    suite = load_suite(path)
    if suite.tune is None:
        raise InputError("tune: expected a tune: section (case, variants, batch, threads) to "
                         "search with harness tune", file=str(path))
    space = suite.tune
    grid = choices(space)
    sampler = make_sampler(space.sampler, {}, grid, suite.seed, source=str(path))
    objective = GraphObjective(suite, inputs=inputs)
    case = space.case
    _say(quiet, f"harness tune: {suite.name}: {case.neurons}x{case.layers}, "
                f"{objective.y0.shape[0]} inputs, reference {len(objective.truth)} categories")
    quiet_optuna()
    name = study or f"graph-{suite.name}"
    if fresh and not study:
        name += dt.datetime.now(dt.UTC).strftime("-%Y%m%d-%H%M%S")
    storage = optuna_storage(store) if store is not None else None
    opt_study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                    sampler=sampler, load_if_exists=True)
    device = "cuda" if suite.device == "cuda" else "cpu"
    provenance = collect(device, None, suite.seed)
    run_id = None
    if store is not None:
        run_id = store.begin_run("tune", suite.name, provenance=provenance,
                                 study=f"graph:{suite.name}",
                                 config={"workload": "graph_challenge", "study": name,
                                         "space": grid, "case": [case.neurons, case.layers]})
    out = GraphTuneResult(name)

    def trial_fn(trial: Any) -> float:
        params = {k: trial.suggest_categorical(k, grid[k]) for k in PARAMS}
        r = objective.measure(GraphPoint(**params))
        out.results.append((params, r))
        if store is not None and run_id is not None:
            store.add_measurement(run_id, to_measurement(
                r, seed=suite.seed, source=objective.net.source,
                provenance={**provenance, "device": r.device, "threads": r.threads}))
        shown = f"{r.rate:.3e} edges/s" if r.rate else f"{r.status}: {r.reason}"
        _say(quiet, f"  trial {trial.number}: {params} {shown}")
        if r.rate is None:
            raise optuna.TrialPruned(f"{r.status}: {r.reason}")
        return r.rate

    status = "failed"
    try:
        opt_study.optimize(trial_fn, n_trials=trials if trials is not None else space.trials,
                           timeout=timeout_s)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if store is not None and run_id is not None:
            store.end_run(run_id, status)
    return out


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def run_cli(args: argparse.Namespace) -> int:
    """`harness tune GRAPH_SUITE` (the flags of harness.cli.cmd_tune that apply)."""
    from harness.store import open_store

    started = time.monotonic()
    store = open_store(getattr(args, "storage", None))
    try:
        result = tune_graph(args.suite, trials=getattr(args, "trials", None),
                            timeout_s=getattr(args, "timeout_s", None), store=store,
                            study=getattr(args, "study", None),
                            fresh=getattr(args, "fresh", False),
                            quiet=getattr(args, "quiet", False))
    finally:
        store.close()
    print(format_trials(result))
    print(f"({time.monotonic() - started:.0f} s)")
    if result.best is None:
        print("harness tune: error: nothing was measured: no trial gave a verified rate",
              file=sys.stderr)
        return 1
    return 0


def format_trials(result: GraphTuneResult) -> str:
    """One line per distinct point, best rate first; unrated points last with their reason."""
    seen: dict[tuple[Any, ...], tuple[dict[str, Any], Result]] = {}
    for params, r in result.results:
        seen[tuple(params.values())] = (params, r)
    rows = sorted(seen.values(), key=lambda pr: -(pr[1].rate or 0.0))
    lines = [f"study {result.study}: {len(rows)} points",
             f"{'variant':26} {'batch':>6} {'threads':>7} {'rate (edges/s)':>15} {'time (s)':>9}"]
    for p, r in rows:
        rate = f"{r.rate:.3e}" if r.rate else r.status
        t = f"{r.time_s:.3f}" if r.time_s else "-"
        lines.append(f"{p['variant']:26} {p['batch'] or 'all':>6} {p['threads'] or '-':>7} "
                     f"{rate:>15} {t:>9}")
    return "\n".join(lines)


__all__ = ["GraphTuneResult", "format_trials", "is_graph_suite", "run_cli", "tune_graph"]
