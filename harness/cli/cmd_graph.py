"""`harness graph SUITE [--variants A,B] [--inputs N] [--repeats R] [--storage URL | --no-store]
[--json PATH] [--paper]`, `harness graph SUITE --tune [--trials T]` and `harness graph --list`

Runs the Sparse DNN Graph Challenge cases of a graph suite (suites/graph_challenge.yaml): builds
or loads each network, computes the SciPy reference's categories, verifies and times every
variant, prints the time and rate tables in the seed's layout, and stores each result as a
measurement (run kind "bench", study "graph:<suite name>"); `--json` also writes them to a file.
`--tune` searches the suite's `tune:` section with Optuna instead (harness.tune.graph, the same
search as `harness tune SUITE`).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError

if TYPE_CHECKING:
    from harness.graph.bench import Result
    from harness.graph.suite import GraphSuite
    from harness.store.api import Store

HELP = "run the Sparse DNN Graph Challenge cases of a graph suite (edges per second)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="?", help="graph suite YAML (suites/graph_challenge.yaml)")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument("--variants", help="comma-separated variant names (default: the suite's)")
    parser.add_argument("--inputs", type=int, metavar="N", help="number of inputs per case")
    parser.add_argument("--repeats", type=int, metavar="R", help="timed runs per variant")
    parser.add_argument("--storage", metavar="URL", help="SQLAlchemy URL of the store")
    parser.add_argument("--no-store", action="store_true", help="do not write to the store")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    parser.add_argument("--paper", action="store_true",
                        help="print the paper's published GPU figures for the same sizes")
    parser.add_argument("--tune", action="store_true",
                        help="search the suite's tune: section (variant, batch, threads)")
    parser.add_argument("--trials", type=int, metavar="T", help="trials for --tune")


def _positive(value: int | None, flag: str) -> None:
    if value is not None and value < 1:
        raise InputError(f"{flag}: expected a positive integer, got {value}")


def run(args: argparse.Namespace) -> int:
    from harness.graph.variants import VARIANTS

    if args.list:
        for name in VARIANTS.names():
            v = VARIANTS.get(name)
            why = v.available()
            print(f"{name:26} {v.device:5} {'available' if why is None else why}: "
                  f"{v.description}")
        return 0
    if not args.suite:
        raise InputError("suite: expected a graph suite YAML file (or --list), got none")
    from harness.graph.suite import load_suite

    suite = load_suite(args.suite)
    _positive(args.inputs, "--inputs")
    _positive(args.repeats, "--repeats")
    _positive(args.trials, "--trials")
    if args.tune:
        return _tune(args)
    if args.variants:
        names = tuple(n.strip() for n in args.variants.split(",") if n.strip())
        for n in names:
            if n not in VARIANTS:
                raise InputError(f"--variants: expected names among {', '.join(VARIANTS.names())}"
                                 f", got {n!r}")
        suite = replace(suite, variants=names)
    if args.repeats:
        suite = replace(suite, repeats=args.repeats)
    store = None if args.no_store else _open_store(args.storage)
    try:
        results = run_suite(suite, inputs=args.inputs, store=store)
    finally:
        if store is not None:
            store.close()
    from harness.graph.table import paper_table, results_table

    by_inputs: dict[int, list[Any]] = {}
    for r in results:
        by_inputs.setdefault(r.inputs, []).append(r)
    for group in by_inputs.values():
        print(results_table(group))
        print()
    if args.paper:
        print(paper_table({(r.neurons, r.layers) for r in results}))
    if args.json:
        _write_json(Path(args.json), suite, results)
    return 0


def _tune(args: argparse.Namespace) -> int:
    from harness.tune.graph import format_trials, tune_graph

    store = None if args.no_store else _open_store(args.storage)
    try:
        result = tune_graph(args.suite, trials=args.trials, store=store, inputs=args.inputs)
    finally:
        if store is not None:
            store.close()
    print(format_trials(result))
    return 0 if result.best is not None else 1


def _open_store(url: str | None) -> Store:
    from harness.store import open_store

    return open_store(url)


def run_suite(suite: GraphSuite, *, inputs: int | None = None,
              store: Store | None = None) -> list[Result]:
    """Every case of `suite`; results are stored as they come when `store` is given."""
    import numpy as np

    from harness.graph import tsv
    from harness.graph.bench import run_case, to_measurement
    from harness.graph.network import reference_categories
    from harness.graph.search import build_case
    from harness.measure.provenance import collect

    device = "cuda" if suite.device == "cuda" else "cpu"
    provenance = collect(device, suite.threads, suite.seed)
    run_id = None
    if store is not None:
        run_id = store.begin_run("bench", suite.name, config=_config(suite),
                                 provenance=provenance, study=f"graph:{suite.name}")
    results: list[Result] = []
    status = "failed"
    try:
        for case in suite.cases:
            net, y0 = build_case(suite, case, inputs or case.inputs or suite.count)
            t0 = time.perf_counter()
            truth = reference_categories(y0, net)
            print(f"{case.neurons}x{case.layers}, {y0.shape[0]} inputs: reference "
                  f"{len(truth)} categories in {time.perf_counter() - t0:.1f} s", flush=True)
            if suite.categories_path:
                path = Path(suite.categories_path)
                if path.is_dir():
                    path = tsv.categories_path(path, case.neurons, case.layers)
                official = tsv.load_categories(path)
                official = official[official < y0.shape[0]]
                if not np.array_equal(official, truth):
                    raise InputError(f"the reference finds {len(truth)} categories, this file "
                                     f"{len(official)}; expected the same (network or inputs "
                                     "are not the official ones)", file=str(path))
            for r in run_case(net, y0, suite.variants, truth=truth, repeats=suite.repeats,
                              batch=suite.batch, threads=suite.threads,
                              max_time_s=suite.max_time_s):
                rate = f"{r.rate:.3e} edges/s" if r.rate else f"{r.status}: {r.reason}"
                print(f"  {r.variant:26} {rate}", flush=True)
                results.append(r)
                if store is not None and run_id is not None:  # a run is begun with a store
                    store.add_measurement(run_id, to_measurement(
                        r, seed=suite.seed, source=net.source,
                        provenance={**provenance, "device": r.device}))
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if store is not None and run_id is not None:
            store.end_run(run_id, status)
    return results


def _config(suite: GraphSuite) -> dict[str, Any]:
    d = asdict(suite)
    d["cases"] = [asdict(c) for c in suite.cases]
    d["variants"] = list(suite.variants)
    d["workload"] = "graph_challenge"
    return d


def _write_json(path: Path, suite: GraphSuite, results: list[Result]) -> None:
    rows = [{**{k: v for k, v in asdict(r).items() if k != "extra"},
             "samples_s": list(r.samples_s), "time_s": r.time_s, "rate_edges_per_s": r.rate,
             "time_per_layer_s": r.time_per_layer_s} for r in results]
    from harness.core.paths import write_text

    write_text(path, json.dumps({"suite": suite.name, "results": rows}, indent=2))
