"""Whole models end to end: measured model speedup of the exported sparse model against the
predicted one, for uniform configurations (every Linear layer the same choice).

    python benchmarks/model_e2e.py            # Llama-7B MLP block at N = 16, FC net at batch 50
    python benchmarks/model_e2e.py --smoke    # tiny sizes, seconds: checks the script
    python benchmarks/model_e2e.py --fig5     # FC net at batch 50, g = 1 … 64 at 90 %

Models (harness.models.builtin): `llama_mlp` (4096/11008, gate/up/down, SiLU gating) at 16
tokens, and the FC net of hartenstein-weight-pruning-gpus.md (`fc`, 784-784-128-128-256-256-
512-512-10) at batch 50 — the seed's Fig. 5 (speedup per group size at 90 %) at model level.
Configurations: row_group g ∈ {8, 32} at 90 % and csr (unstructured) at 90 %, all on the bundled
CPU kernels (backend `numba`); Conv2d layers would stay dense (none here).

Method (harness.models.export.evaluate): prune with harness's patterns, export every Linear as a
backend-prepared sparse operand, verify the output against the float64 masked dense model, then
time in one interleaved run (hot, the measurement core's sampler and contention probe) the dense
model, the exported model, each shape's dense layer and each exported layer. Measured = median of
per-round ratios dense model / exported model; predicted = T_model / (T_rest + Σ T_sparse layer).
Each model's layer shares of the dense time come from a separate run (harness.models.share).
A run whose rounds the probe judged disturbed is marked `contended` (then the speedup is the ratio
of the medians of all samples, without an interval). JSON goes to --out, a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clone without installing

CASES = [("llama_mlp", 16), ("fc", 50)]
SMOKE_CASES = [("fc", 8)]


GROUPS = (8, 32)
FIG5_GROUPS = (1, 2, 4, 8, 16, 32, 64)  # the seed's Fig. 5 x-axis


def configs(groups: tuple[int, ...] = GROUPS) -> dict[str, Any]:
    from harness.core.point import PruneSpec
    from harness.models.export import LayerChoice

    out = {f"row_group g={g} 90%": LayerChoice("row_group", "numba",
                                               PruneSpec("row_group", 0.9, g)) for g in groups}
    out["csr 90%"] = LayerChoice("csr", "numba", PruneSpec("unstructured", 0.9))
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="the FC net at batch 8 only, short timing")
    p.add_argument("--fig5", action="store_true",
                   help="the FC net at batch 50 only, every g of the seed's Fig. 5 (1 … 64)")
    p.add_argument("--max-time", type=float, default=2.0,
                   help="timing limit per variant in seconds (measurement core's max_time_s)")
    p.add_argument("--rounds", type=int, default=5, help="minimum interleaved rounds")
    p.add_argument("--threads", type=int,
                   help="torch threads (the numba kernels follow torch's count; default: torch's)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON path (default benchmarks/results/model_e2e[_fig5]_cpu.json)")
    return p.parse_args(argv)


def _machine() -> dict[str, Any]:
    import torch

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "python": platform.python_version(),
            "load_avg": os.getloadavg()}


def run_case(name: str, batch: int, policy: Any, log: Any,
             groups: tuple[int, ...] = GROUPS) -> dict[str, Any]:
    from harness.models.builtin import load_model
    from harness.models.export import evaluate, uniform
    from harness.models.share import measure_shares

    t0 = time.perf_counter()
    model = load_model(name)
    x = model.sample(batch)
    shares = measure_shares(model.module, x, policy=policy)
    log(f"{name} N={batch}: dense {shares.model_s * 1e3:.3g} ms, layers "
        f"{shares.layers_s / shares.model_s:.0%} of it ({time.perf_counter() - t0:.0f} s)")
    out: dict[str, Any] = {"model": name, "batch": batch, "shares": {
        "model_s": shares.model_s, "rest_s": shares.rest_s, "rounds": shares.rounds,
        "contended": shares.contended,
        "layers": [{"name": s.name, "shape": s.shape, "time_s": s.time_s, "share": s.share}
                   for s in shares.layers]}, "configs": {}}
    for label, choice in configs(groups).items():
        t1 = time.perf_counter()
        result = evaluate(model.module, uniform(model.module, choice), x, policy=policy)
        out["configs"][label] = {**result.as_dict(), "wall_s": time.perf_counter() - t1}
        log(f"  {label}: measured {result.measured_speedup}, predicted "
            f"{result.predicted_speedup} ({time.perf_counter() - t1:.0f} s)")
    return out


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}×"


def table(cases: list[dict[str, Any]]) -> str:
    rows = ["| model | N | configuration | model pruning | dense model | exported model | "
            "measured [95 % CI] | predicted | measured/predicted | rounds | contended |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for case in cases:
        for label, r in case["configs"].items():
            ci = r["measured_ci"]
            measured = _x(r["measured_speedup"]) + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
            ratio = (f"{r['measured_speedup'] / r['predicted_speedup']:.2f}"
                     if r["predicted_speedup"] else "-")
            ms = lambda s: "-" if s is None else f"{s * 1e3:.3g} ms"  # noqa: E731
            rows.append(f"| {case['model']} | {case['batch']} | {label} | "
                        f"{r['pruning_rate']:.1%} | {ms(r['dense_model_s'])} | "
                        f"{ms(r['exported_model_s'])} | {measured} | "
                        f"{_x(r['predicted_speedup'])} | {ratio} | {r['rounds']} | "
                        f"{'yes' if r['contended'] else 'no'} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from harness.measure.timer import Policy

    args = parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    policy = Policy(warmup=2, min_samples=10, rounds=args.rounds,
                    max_time_s=0.2 if args.smoke else args.max_time)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    machine = _machine()
    todo = SMOKE_CASES if args.smoke else [("fc", 50)] if args.fig5 else CASES
    groups = FIG5_GROUPS if args.fig5 else GROUPS
    cases = [run_case(name, batch, policy, log, groups) for name, batch in todo]
    doc = {"benchmark": "model_e2e", "smoke": args.smoke, "machine": machine,
           "load_avg_after": os.getloadavg(), "policy": {"rounds": policy.rounds,
                                                         "max_time_s": policy.max_time_s,
                                                         "min_samples": policy.min_samples},
           "wall_s": time.perf_counter() - t0, "cases": cases}
    out = args.out or ROOT / f"benchmarks/results/model_e2e{'_fig5' if args.fig5 else ''}_cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=list) + "\n")
    tmp.replace(out)
    print(table(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
