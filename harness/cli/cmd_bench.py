"""`harness bench SUITE [--grid | --points N] [--device DEV] [--storage URL] [--seed S]`

Measures the suite's grid (or N points drawn with a seeded RNG from its points that can run
here: `harness.tune.feasible`, the tuner's own rule) through `harness.measure.runner.Bench`,
stores each measurement (run kind "bench") and prints a table.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.core.measurement import STATUSES

if TYPE_CHECKING:
    from harness.config.suite import Suite

HELP = "measure points of a suite without searching"
DRIFT_NOTE = 0.05  # a baseline moving more than this within one run is worth telling the user


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="suite YAML file")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--grid", action="store_true", help="measure every point (default)")
    how.add_argument("--points", type=int, metavar="N",
                     help="measure N points drawn with a seeded RNG from the grid points "
                     "that can run on this device (`harness check` lists them)")
    parser.add_argument("--device", help="cpu | cuda | cuda:N (default: the suite's)")
    parser.add_argument("--storage", metavar="URL", help="SQLAlchemy URL of the store")
    parser.add_argument("--seed", type=int, help="problem and sampling seed (default: suite's)")


def select_points(grid: Sequence[Any], n: int | None, seed: int) -> list[Any]:
    """All points, or n of them drawn with random.Random(seed), kept in grid order."""
    if n is None or n >= len(grid):
        return list(grid)
    picked = sorted(random.Random(seed).sample(range(len(grid)), n))
    return [grid[i] for i in picked]


def _feasible(suite: Suite, grid: list[Any], asked: int, device: str) -> list[Any]:
    """The grid points a search could measure here; one line on stderr if fewer than asked."""
    from harness.tune.feasible import why_not

    feasible = [p for p in grid if why_not(suite.space, p) is None]
    if not feasible:
        raise InputError(f"{suite.path}: none of the {len(grid)} grid points can run on "
                         f"{device} (`harness check {suite.path}` says why)")
    if len(feasible) < asked:
        print(f"harness bench: only {len(feasible)} of the {len(grid)} grid points can run on "
              f"{device}; measuring those {len(feasible)}, not {asked}", file=sys.stderr)
    return feasible


def format_row(m: Any) -> list[str]:
    p = m.point
    geo = {"row_group": str(p.prune.group_size), "block": "x".join(map(str, p.prune.block)),
           "nm": ":".join(map(str, p.prune.nm))}.get(p.prune.pattern, "-")
    median = f"{m.stats.median * 1e3:.4g} ms" if m.stats else "-"
    if m.speedup is not None:
        lo, hi = m.speedup_ci or (m.speedup, m.speedup)
        speed = f"{m.speedup:.3f} [{lo:.3f}, {hi:.3f}]"
    else:
        speed = "-"
    status = "verified" if m.status == "ok" and m.verified else m.status
    if m.status != "ok" and m.reason:
        status += f": {m.reason[:60]}"
    return [f"{p.m}x{p.k}x{p.n}", p.dtype, f"{p.format}/{p.backend}", p.prune.pattern, geo,
            f"{p.prune.rate:g}", median, speed, status]


HEADER = ["shape", "dtype", "format/backend", "pattern", "group", "rate", "median",
          "speedup [CI]", "status"]


def table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def run(args: argparse.Namespace) -> int:
    from harness.config import load_suite
    from harness.measure.contention import contended_note
    from harness.measure.recording import recording
    from harness.measure.runner import Bench
    from harness.store import open_store

    if args.points is not None and args.points < 1:
        raise InputError(path="--points", value=args.points, expected="a positive integer")
    if args.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        raise InputError(path="--device", value=args.device, expected="cpu, cuda or cuda:N")
    suite = load_suite(args.suite)
    device = args.device or suite.resolved_device()
    seed = suite.seed if args.seed is None else args.seed
    try:
        grid = list(suite.space.grid(device=device, dtypes=suite.dtypes, seed=seed))
    except ValueError as exc:
        raise InputError(str(exc), file=args.suite, path="space.pruning_rate") from None
    if args.points is not None:
        grid = _feasible(suite, grid, args.points, device)
    points = select_points(grid, args.points, seed)
    store = open_store(args.storage)
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if time.perf_counter() - t0 > 2.0:  # quiet on short runs
            print(f"\r[{time.perf_counter() - t0:6.1f}s] {msg}", end="", file=sys.stderr,
                  flush=True)

    config = {"suite": suite.path, "device": device, "seed": seed, "points": len(points),
              "measure": asdict(suite.measure)}
    try:
        # each measurement is stored as it is made: an interrupt loses only the group in flight
        with recording(store, "bench", suite.name, measure=suite.measure, device=device,
                       threads=suite.threads, seed=seed, config=config) as rec:
            bench = Bench(suite.measure, device=device, threads=suite.threads, store=store,
                          progress=progress, sink=rec.add)
            results = bench.measure_many(points)
        run_id = rec.run_id
    finally:
        store.close()
    if time.perf_counter() - t0 > 2.0:
        print(file=sys.stderr)
    print(table([format_row(m) for m in results]))
    drift = max(bench.baseline_drift().values(), default=0.0)
    if drift > DRIFT_NOTE:
        print(f"note: a dense baseline's median moved by {drift:.0%} between its measurements in "
              "this run (the machine's speed changed): compare speedups, which are interleaved "
              "with their baseline, rather than times")
    note = contended_note(results)
    if note:
        print(note)
    counts = {s: sum(m.status == s for m in results) for s in STATUSES}
    print(f"{len(results)} points on {device} in {time.perf_counter() - t0:.1f}s "
          f"({', '.join(f'{k} {v}' for k, v in counts.items() if v)}); run {run_id} in "
          f"{store.url_redacted}")
    return 0
