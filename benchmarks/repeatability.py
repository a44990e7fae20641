"""Repeatability of one point within one run, and the measurement's own overhead.

Measures the same point `--repeats` times in one process, as `harness bench`/`tune` would
(`Bench.measure`, each an interleaved group with the problem's dense baseline; the converted
operand is cached after the first), and reports per measurement: the variant's median, the
dense baseline's median measured in the same group, the speedup with its CI, and the work outside
the timed calls as a fraction of the measurement's wall time, conversions excluded:
(wall − setup − timed) / wall. The summary gives the largest spread of the medians
(max/min − 1), of the dense medians, and of the speedups.

The dense medians show how much the machine itself moved between measurements: on a shared
machine whose speed drifts, the variant's medians move with them, and interleaving keeps only the
ratio (speedup) steady.

    python benchmarks/repeatability.py                      # fc point: 4096² csr, 90 %, g = 32
    python benchmarks/repeatability.py --repeats 5 --max-time 2 --out reports/repeat_cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shape", type=int, nargs=3, default=(4096, 4096, 50),
                    metavar=("M", "K", "N"))
    ap.add_argument("--rate", type=float, default=0.9)
    ap.add_argument("--group", type=int, default=32)
    ap.add_argument("--format", default="csr")
    ap.add_argument("--backend", default="torch_sparse")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-samples", type=int, default=10)
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls")
    ap.add_argument("--max-time", type=float, default=4.0, help="seconds per variant")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--target", type=float, default=None, help="relative noise target")
    ap.add_argument("--out", default=None, help="output path without extension (.json)")
    return ap.parse_args(argv)


def spread(xs: list[float]) -> float:
    return max(xs) / min(xs) - 1.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness.config.settings import MeasureSettings
    from harness.core import counter_keys as ck
    from harness.core.point import Point, PruneSpec
    from harness.measure.runner import Bench

    m, k, n = args.shape
    settings = MeasureSettings(warmup=args.warmup, min_samples=args.min_samples,
                               min_time_s=args.min_time, max_time_s=args.max_time,
                               target_rel_noise=args.target, rounds=args.rounds, mode="cold",
                               verify=True)
    point = Point(m, k, n, dtype=args.dtype, device=args.device, format=args.format,
                  backend=args.backend, seed=0,
                  prune=PruneSpec("row_group", args.rate, args.group, aggregation="rms", seed=0))
    bench = Bench(settings, device=args.device, threads=args.threads)
    rows = []
    t0 = time.perf_counter()
    for i in range(args.repeats):
        r = bench.measure(point)
        if r.status != "ok":
            print(f"measurement {i}: {r.status}: {r.reason}", file=sys.stderr)
            return 1
        c = r.counters
        outside = r.wall_s - c[ck.TIMER_SETUP_S] - c[ck.TIMER_TIMED_S]
        rows.append({"at_s": round(time.perf_counter() - t0, 2), "median_ms": r.stats.median * 1e3,
                     "dense_median_ms": c[ck.TIMER_BASELINE_MEDIAN_S] * 1e3,
                     "speedup": r.speedup, "ci": list(r.speedup_ci), "n": r.stats.n,
                     "rounds": c[ck.TIMER_ROUNDS], "stopped": c[ck.TIMER_STOPPED],
                     "wall_s": r.wall_s, "setup_s": c[ck.TIMER_SETUP_S],
                     "timed_s": c[ck.TIMER_TIMED_S], "outside_frac": outside / r.wall_s,
                     "outside_frac_no_setup": outside / (r.wall_s - c[ck.TIMER_SETUP_S])})
    print(f"{args.repeats} measurements of {args.format} ({args.backend}) {m}x{k}·{k}x{n} "
          f"{args.dtype}, rate {args.rate}, g={args.group} on {args.device}, "
          f"threads {args.threads or 'default'}")
    print(f"{'t/s':>6} {'median ms':>10} {'dense ms':>9} {'speedup':>8} {'CI':>13} {'n':>4} "
          f"{'outside':>8}")
    for row in rows:
        print(f"{row['at_s']:6.1f} {row['median_ms']:10.3f} {row['dense_median_ms']:9.3f} "
              f"{row['speedup']:8.3f} {row['ci'][0]:6.3f}–{row['ci'][1]:6.3f} {row['n']:4d} "
              f"{100 * row['outside_frac']:7.1f}%")
    summary = {
        "median_spread": spread([r["median_ms"] for r in rows]),
        "dense_median_spread": spread([r["dense_median_ms"] for r in rows]),
        "speedup_spread": spread([r["speedup"] for r in rows]),
        "max_outside_frac": max(r["outside_frac"] for r in rows),
        "max_outside_frac_repeat": max((r["outside_frac"] for r in rows[1:]), default=None),
    }
    print("spread (max/min − 1): median {median_spread:.1%}, dense median "
          "{dense_median_spread:.1%}, speedup {speedup_spread:.1%}; outside the timed calls ≤ "
          "{max_outside_frac:.1%} of wall".format(**summary))
    if args.out:
        out = Path(args.out).with_suffix(".json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"args": vars(args), "settings": asdict(settings),
                                   "rows": rows, "summary": summary}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
