"""`harness tune SUITE`: search the suite's space with Optuna, measure, train, report."""

from __future__ import annotations

import argparse

HELP = "search a suite's space with Optuna, measure, train, report"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", help="suite YAML file, e.g. suites/fc.yaml")
    p.add_argument("--tuner", help="tuner profile YAML (default: the suite's `tuner:`)")
    p.add_argument("--trials", type=_positive_int,
                   help="trials for this process (default: the tuner profile's budget)")
    p.add_argument("--timeout", type=_seconds, dest="timeout_s", help="stop after S seconds")
    p.add_argument("--storage", help="database URL (default: $HARNESS_STORAGE or "
                   "sqlite:///runs/harness.db); postgresql+psycopg://… for many workers")
    p.add_argument("--study", help="study name (default: <suite>-<device>); several processes "
                   "with the same --study and --storage cooperate")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="start K local worker processes sharing the study")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: the suite's)")
    p.add_argument("--fresh", action="store_true",
                   help="new study; measure every point again instead of reusing stored results")
    p.add_argument("--reuse-any-code", action="store_true",
                   help="reuse stored timings even if the measuring code changed since (the "
                   "reuse key then ignores the code digest)")
    p.add_argument("-o", "--report-dir", help="report folder (default: reports/<suite name>)")
    p.add_argument("--no-post", action="store_true",
                   help="search only: no front table, training stage or report (for workers)")
    p.add_argument("--quiet", action="store_true", help="no per-trial progress lines")
    p.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from harness.tune import model as model_tune
    from harness.tune.graph import is_graph_suite, run_cli
    from harness.tune.run import TuneOptions, tune

    if is_graph_suite(args.suite):  # a Graph Challenge suite: its variants, batch and threads
        return run_cli(args)
    if model_tune.is_model_suite(args.suite):  # a model suite: its per-layer search
        return model_tune.run_cli(args)
    device = None if args.device in (None, "auto") else args.device
    result = tune(TuneOptions(
        started=time.monotonic(), suite=args.suite, tuner=args.tuner, trials=args.trials,
        timeout_s=args.timeout_s, storage=args.storage, study=args.study,
        workers=args.workers, device=device, fresh=args.fresh,
        reuse_any_code=args.reuse_any_code, report_dir=args.report_dir,
        post=not args.no_post, quiet=args.quiet, worker_index=args.worker_index))
    if result.stopped:
        return 130
    if not args.no_post and not result.front:
        # exit 1: the run produced nothing to act on (every trial was pruned or failed)
        print("harness tune: error: nothing was measured: no trial gave a verified, uncontended "
              "measurement (see the trials' reasons in the report)", file=sys.stderr)
        return 1
    return 0
