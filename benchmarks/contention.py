"""Does harness store a contended CPU measurement as clean? (issue: measurements to trust)

Ten measurements of one point, each in its own process, alternating quiet and contended: for a
contended one, a busy-looping process per CPU runs beside the measuring process for the whole
measurement (started before it, stopped after it). Every measurement is taken as `harness tune`
takes it — the suite's measure settings, its threads, the default contention probe.

A run is an *unflagged outlier* if it was stored `ok` and its speedup is more than 10 % from the
median speedup of the quiet `ok` runs. The target is 0: under contention a measurement is either
still right (the probe discarded the disturbed rounds and re-timed them) or flagged `contended`.

    python benchmarks/contention.py                       # fc: 4096²·50 csr g=32 at 98 %, MKL
    python benchmarks/contention.py --runs 4 --backend numba --out benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HOG = "import time\nt = time.time()\nwhile time.time() - t < {s}: pass\n"
TOLERANCE = 0.10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="suites/fc.yaml", help="measure settings and threads")
    ap.add_argument("--shape", type=int, nargs=3, default=(4096, 4096, 50),
                    metavar=("M", "K", "N"))
    ap.add_argument("--rate", type=float, default=0.98)
    ap.add_argument("--group", type=int, default=32)
    ap.add_argument("--format", default="csr")
    ap.add_argument("--backend", default="torch_sparse",
                    help="default: MKL CSR through torch (OpenMP threads, as in the issue)")
    ap.add_argument("--runs", type=int, default=10, help="half quiet, half with the hogs")
    ap.add_argument("--hogs", type=int, default=None, help="busy processes (default: CPUs)")
    ap.add_argument("--out", default="benchmarks/results/contention_cpu.json")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def child(args: argparse.Namespace) -> int:
    """One measurement in this process; one JSON line on stdout."""
    from harness.config.suite import load_suite
    from harness.core import counter_keys as ck
    from harness.core.point import Point, PruneSpec
    from harness.measure.runner import Bench

    suite = load_suite(args.suite)
    m_, k_, n_ = args.shape
    point = Point(m_, k_, n_, format=args.format, backend=args.backend,
                  prune=PruneSpec("row_group", args.rate, args.group), seed=suite.seed)
    m = Bench(suite.measure, device="cpu", threads=suite.threads).measure(point)
    c = m.counters
    print(json.dumps({"status": m.status, "reason": m.reason, "speedup": m.speedup,
                      "median_s": m.stats.median if m.stats else None,
                      "rounds": c.get(ck.TIMER_ROUNDS),
                      "total_rounds": c.get(ck.TIMER_TOTAL_ROUNDS),
                      "disturbed_rounds": c.get(ck.TIMER_DISTURBED_ROUNDS),
                      "disturbed": c.get(ck.TIMER_DISTURBED), "probe": c.get(ck.TIMER_PROBE),
                      "threads": m.provenance.get("threads")}))
    return 0


def one_run(args: argparse.Namespace, hogged: bool) -> dict:
    hogs = []
    if hogged:
        n = args.hogs or os.cpu_count() or 2
        hogs = [subprocess.Popen([sys.executable, "-c", HOG.format(s=600)]) for _ in range(n)]
        time.sleep(0.5)
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_CONTENTION"}
    cmd = [sys.executable, __file__, "--child", "--suite", args.suite, "--shape",
           *map(str, args.shape), "--rate", str(args.rate), "--group", str(args.group),
           "--format", args.format, "--backend", args.backend]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900,
                             check=False)
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()
    if out.returncode != 0:
        raise SystemExit(f"measurement failed: {out.stderr.strip().splitlines()[-1:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["hogged"] = hogged
    return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    t0 = time.perf_counter()
    rows = []
    for i in range(args.runs):
        row = one_run(args, hogged=bool(i % 2))
        rows.append(row)
        print(f"run {i + 1}/{args.runs} {'hog  ' if row['hogged'] else 'quiet'} "
              f"{row['status']:9s} speedup {row['speedup'] or float('nan'):7.2f} "
              f"rounds {row['rounds']}/{row['total_rounds']} "
              f"disturbed {row['disturbed_rounds']}", flush=True)
    quiet = [r["speedup"] for r in rows if not r["hogged"] and r["status"] == "ok"]
    ref = statistics.median(quiet) if quiet else None
    for r in rows:
        r["within_10pct"] = (ref is not None and r["speedup"] is not None
                             and abs(r["speedup"] / ref - 1.0) <= TOLERANCE)
        r["unflagged_outlier"] = r["status"] == "ok" and not r["within_10pct"]
    summary = {
        "quiet_median_speedup": ref,
        "unflagged_outliers": sum(r["unflagged_outlier"] for r in rows),
        "contended_quiet": sum(r["status"] == "contended" and not r["hogged"] for r in rows),
        "contended_hogged": sum(r["status"] == "contended" and r["hogged"] for r in rows),
        "ok_hogged_within_10pct": sum(r["status"] == "ok" and r["hogged"] and r["within_10pct"]
                                      for r in rows),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    from harness.measure.provenance import collect

    prov = collect("cpu", rows[0].get("threads"), 0)
    result = {"point": {"shape": list(args.shape), "rate": args.rate, "group": args.group,
                        "format": args.format, "backend": args.backend, "suite": args.suite},
              "provenance": {k: prov.get(k) for k in ("cpu_model", "threads", "torch_version",
                                                      "git_sha", "measuring_code")},
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "summary": summary, "runs": rows}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary))
    return 0 if summary["unflagged_outliers"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
