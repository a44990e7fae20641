"""Sparse DNN Graph Challenge, 1024 neurons × 120 layers, on this machine: rate of every variant.

The challenge's rate is inputs × connections / time (edges per second); the target on a 2-core
CPU is the seed's GTX 1080 rate with cuSPARSE and a buffer, 2.40488e10 edges/s (Table VII of
"Performance of Training Sparse Deep Neural Networks on GPUs", 60 000 inputs). Every variant is
verified against the SciPy reference's categories before it is rated.

    python benchmarks/graph_challenge.py                         # 60 000 MNIST inputs, best variants
    python benchmarks/graph_challenge.py --inputs 6000 --variants all --layers 120 480
    python benchmarks/graph_challenge.py --threads 2 --batch 10000 --out reports/graph_cpu.json
    python benchmarks/graph_challenge.py --layers 1920 --variants numba_fused-filter --repeats 1

The generated network follows the official files (first radix cycle bare, later cycles' rows
relabelled) and the MNIST inputs the official pixel order and density: 1914 of the 60 000 inputs
stay alive through 1024 x 120, where the earlier pipeline (every boundary relabelled, pixels
row by row, threshold 0.5) kept 64. `--permute every-layer` selects that relabelling. Layers are built on access, so a
1920-layer network is generated in moments; a variant then holds its converted weights of every
layer (about 0.5 GB for 1024 x 1920) and the reference streams through them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

TARGET_RATE = 2.40488e10  # the paper's GTX 1080, cuSPARSE with buffer, 1024 × 120
FAST = ("numba_tiled-filter", "numba_fused-filter", "scipy-filter", "scipy-buffer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=1024)
    ap.add_argument("--layers", type=int, nargs="+", default=[120])
    ap.add_argument("--inputs", type=int, default=60_000)
    ap.add_argument("--source", default="mnist", help="mnist | digits | tsv")
    ap.add_argument("--path", default=None, help="official sparse images (source tsv)")
    ap.add_argument("--variants", nargs="+", default=list(FAST),
                    help="variant names, or 'all' for every one available here")
    ap.add_argument("--device", default="cpu", help="variants of this device for 'all'")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-time", type=float, default=120.0, help="seconds of timed runs per variant")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--permute", default="challenge",
                    help="challenge | every-layer | none (harness.graph.radixnet)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness.graph.bench import run_case
    from harness.graph.inputs import load_inputs
    from harness.graph.network import challenge_network, edges, reference_categories
    from harness.graph.table import paper_table, results_table
    from harness.graph.variants import VARIANTS, variants_for

    names = ([v.name for v in variants_for(args.device)] if args.variants == ["all"]
             else args.variants)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"graph_challenge: error: --variants: expected names among "
              f"{', '.join(VARIANTS.names())}, got {unknown[0]!r}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    y0 = load_inputs(args.source, args.neurons, args.inputs, args.path)
    print(f"{y0.shape[0]} inputs ({args.source}, {y0.nnz / max(1, y0.shape[0]):.1f} pixels on "
          f"per image) in {time.perf_counter() - t0:.1f} s", flush=True)
    results = []
    reference_s: dict[int, float] = {}
    for layers in args.layers:
        net = challenge_network(args.neurons, layers, seed=args.seed, permute=args.permute)
        t0 = time.perf_counter()
        truth = reference_categories(y0, net)
        ref_s = time.perf_counter() - t0
        reference_s[layers] = ref_s
        print(f"{args.neurons}x{layers}: reference (SciPy float64) {len(truth)} categories in "
              f"{ref_s:.1f} s ({edges(y0.shape[0], net) / ref_s:.3e} edges/s)", flush=True)
        for r in run_case(net, y0, names, truth=truth, repeats=args.repeats, batch=args.batch,
                          threads=args.threads, max_time_s=args.max_time):
            rate = f"{r.rate:.3e} edges/s ({r.time_s:.3f} s)" if r.rate else r.status
            print(f"  {r.variant:26} {rate} {r.reason}", flush=True)
            results.append(r)
    print()
    print(results_table(results))
    print()
    print(paper_table([(args.neurons, n) for n in args.layers]))
    best = max((r for r in results if r.rate and r.layers == 120), key=lambda r: r.rate or 0.0,
               default=None)
    if best is not None and best.rate is not None:
        verdict = "meets" if best.rate >= TARGET_RATE else "is below"
        print(f"\nbest at 120 layers: {best.variant} {best.rate:.3e} edges/s, which {verdict} "
              f"the paper's GTX 1080 rate {TARGET_RATE:.3e} (on {best.inputs} inputs)")
    if args.out:
        from dataclasses import asdict

        from harness.core.paths import write_text

        doc = {"benchmark": "benchmarks/graph_challenge.py",
               "command": "python benchmarks/graph_challenge.py " + " ".join(argv or sys.argv[1:]),
               "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": machine(args.threads, args.seed),
               "inputs": {"source": args.source, "count": int(y0.shape[0])},
               "reference_s": reference_s,
               "results": [{**asdict(r), "rate": r.rate, "time_s": r.time_s} for r in results]}
        write_text(args.out, json.dumps(doc, indent=2))
    return 0


def machine(threads: int | None, seed: int) -> dict:
    """What the figures were measured on: the measurement core's provenance (CPU model, library
    versions, threads, git SHA), with the core count and the load average at the end."""
    import os

    from harness.measure.provenance import collect

    return {**collect("cpu", threads, seed), "cores": os.cpu_count(),
            "load_avg": os.getloadavg()}


if __name__ == "__main__":
    sys.exit(main())
