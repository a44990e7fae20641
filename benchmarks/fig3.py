"""Reproduce Fig. 3 of hartenstein-weight-pruning-gpus.md: speedup of the row-group-pruned CSR
product over the dense one, 4096×4096 · 4096×50, rates 0.80–0.98 (step 0.02),
g ∈ {1, 2, 4, 8, 16, 32, 64}, RMS aggregation.

CPU: torch_sparse (MKL CSR) vs torch (MKL dense); CUDA: torch_sparse (cuSPARSE) vs torch (cuBLAS)
— the same code with `--device`. Each speedup is the median of per-round dense/sparse ratios
from interleaved rounds (harness.measure.timer). Prints the table (rows = rate, columns = g) and
writes `<out>.csv` and `<out>.json`.

    python benchmarks/fig3.py --device cpu --out reports/fig3_cpu
    python benchmarks/fig3.py --device cuda --out reports/fig3_cuda
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

RATES = tuple(round(0.80 + 0.02 * i, 2) for i in range(10))
GROUPS = (1, 2, 4, 8, 16, 32, 64)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", required=True, help="output path without extension")
    ap.add_argument("--shape", type=int, nargs=3, default=(4096, 4096, 50), metavar=("M", "K", "N"))
    ap.add_argument("--rates", type=float, nargs="+", default=RATES)
    ap.add_argument("--groups", type=int, nargs="+", default=GROUPS)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--backend", default="torch_sparse")
    ap.add_argument("--format", default="csr")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-samples", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-time", type=float, default=1.0, help="seconds per variant")
    ap.add_argument("--target", type=float, default=None, help="relative noise target")
    ap.add_argument("--mode", default="cold", choices=("cold", "hot"))
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness.config.settings import MeasureSettings
    from harness.core import counter_keys as ck
    from harness.core.point import Point, PruneSpec
    from harness.measure.runner import Bench

    m, k, n = args.shape
    settings = MeasureSettings(warmup=args.warmup, min_samples=args.min_samples, min_time_s=0.0,
                               max_time_s=args.max_time, target_rel_noise=args.target,
                               rounds=args.rounds, mode=args.mode, verify=True)
    points = [Point(m, k, n, dtype=args.dtype, device=args.device, format=args.format,
                    backend=args.backend, seed=args.seed,
                    prune=PruneSpec("row_group", rate, g, aggregation="rms", seed=args.seed))
              for rate in args.rates for g in args.groups]
    t0 = time.perf_counter()
    bench = Bench(settings, device=args.device, threads=args.threads,
                  progress=lambda s: print(f"\r[{time.perf_counter() - t0:6.1f}s] {s}   ",
                                           end="", file=sys.stderr, flush=True))
    results = bench.measure_many(points)
    base = bench.baseline(points[0])
    print(file=sys.stderr)
    if base.status != "ok":  # e.g. out of memory: no speedup can be computed
        print(f"fig3.py: dense baseline {base.status}: {base.reason}", file=sys.stderr)
        return 1
    rows = []
    for p, r in zip(points, results, strict=True):
        rows.append({"rate": p.prune.rate, "g": p.prune.group_size, "status": r.status,
                     "reason": r.reason, "speedup": r.speedup,
                     "ci_lo": r.speedup_ci[0] if r.speedup_ci else None,
                     "ci_hi": r.speedup_ci[1] if r.speedup_ci else None,
                     "median_s": r.stats.median if r.stats else None,
                     "rounds": r.counters.get(ck.TIMER_ROUNDS), "rel_error": r.rel_error,
                     "bandwidth_gbs": r.bandwidth_gbs})
    print(f"speedup dense/{args.format} ({args.backend}) {m}x{k}·{k}x{n} {args.dtype} "
          f"on {args.device}; dense median {base.stats.median * 1e3:.2f} ms")
    print("rate  " + "".join(f"{'g=' + str(g):>8}" for g in args.groups))
    for rate in args.rates:
        cells = []
        for g in args.groups:
            r = next(x for x in rows if x["rate"] == rate and x["g"] == g)
            cells.append(f"{r['speedup']:8.2f}" if r["speedup"] is not None
                         else f"{r['status'][:7]:>8}")
        print(f"{rate:4.2f}  " + "".join(cells))
    print(f"wall {time.perf_counter() - t0:.0f}s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    meta = {"settings": asdict(settings), "args": vars(args), "dense_median_s": base.stats.median,
            "provenance": dict(base.provenance), "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
