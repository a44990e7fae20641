"""Accuracy side of hartenstein-weight-pruning-gpus.md, Fig. 4, on the bundled digits data (CPU).

Measures (fixed seeds, averaged over --seeds):
  1. dense fc (Table 2 widths) test accuracy and training time;
  2. accuracy at 90 % row-group pruning + fine-tuning for g in {1, 2, 4, 8, 16, 32, 64}
     (g = 1 is unstructured);
  3. ADMM (zhang-adam-admm-structured-pruning.md) vs one-shot magnitude pruning at the same
     structured sparsity, one-shot also given ADMM's total epoch count.

    python benchmarks/train_fig4.py [--seeds 0 1 2] [--finetune 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--pretrain", type=int, default=30)
    ap.add_argument("--finetune", type=int, default=15)
    ap.add_argument("--rate", type=float, default=0.9)
    ap.add_argument("--groups", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    ap.add_argument("--admm-group", type=int, default=16)
    ap.add_argument("--admm-iters", type=int, default=10)
    ap.add_argument("--rhos", type=float, nargs="+", default=[3e-3, 3e-2])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--schedules-group", type=int, default=0,
                    help="also compare oneshot / iterative / gradual at this g (0: skip)")
    ap.add_argument("--speed", action="store_true",
                    help="model-level CPU speedup (export_sparse) of each g's pruned model")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import os

    import torch

    torch.set_num_threads(args.threads)  # tiny models: one thread is fastest on a shared CPU
    os.environ.setdefault("HARNESS_CACHE_DIR", tempfile.mkdtemp(prefix="harness-fig4-"))

    from harness.core.point import PruneSpec
    from harness.train.data import load_dataset
    from harness.train.schedules import SCHEDULES
    from harness.train.trainer import TrainConfig, pretrain

    results: dict = {"args": vars(args), "dense": [], "fig4": {}, "admm": {}, "schedules": {},
                     "speed": {}}
    ft = TrainConfig(epochs=args.finetune, batch_size=32, lr=0.01)
    for seed in args.seeds:
        data = load_dataset("digits", seed=seed)
        cfg = TrainConfig(epochs=args.pretrain, batch_size=32, lr=0.02, seed=seed)
        t0 = time.perf_counter()
        dense, rec = pretrain("fc", data, cfg, cache=False)
        rec["wall_s"] = time.perf_counter() - t0
        results["dense"].append(rec)
        print(f"seed {seed}: dense acc {rec['accuracy']:.4f} in {rec['time_s']:.1f}s", flush=True)
        ftc = TrainConfig(**{**ft.__dict__, "seed": seed})
        for g in args.groups:
            spec = PruneSpec(pattern="row_group", rate=args.rate, group_size=g, seed=seed)
            res = SCHEDULES.get("oneshot")(copy.deepcopy(dense), data, spec, ftc)
            results["fig4"].setdefault(g, []).append(res.as_record())
            if args.speed:
                from harness.train.speed import model_speedup

                sp = model_speedup(res.model, res.masks, data.x_test[:50], repeats=20)
                results["speed"].setdefault(g, []).append(sp)
            print(f"  g={g:2d}: acc {res.accuracy:.4f} sparsity {res.sparsity:.4f} "
                  f"({res.time_s:.1f}s)", flush=True)
        if args.schedules_group:
            sg = args.schedules_group
            spec = PruneSpec(pattern="row_group", rate=args.rate, group_size=sg, seed=seed)
            for name in ("oneshot", "iterative", "gradual"):
                res = SCHEDULES.get(name)(copy.deepcopy(dense), data, spec, ftc)
                results["schedules"].setdefault(name, []).append(res.as_record())
                print(f"  g={sg} {name}: acc {res.accuracy:.4f} sparsity {res.sparsity:.4f} "
                      f"epochs {res.epochs}", flush=True)
        g = args.admm_group
        spec = PruneSpec(pattern="row_group", rate=args.rate, group_size=g, seed=seed)
        total = args.admm_iters + args.finetune
        long = TrainConfig(**{**ftc.__dict__, "epochs": total})
        runs = {f"oneshot {args.finetune} ep": ("oneshot", ftc, {}),
                f"oneshot {total} ep": ("oneshot", long, {})}
        for rho in args.rhos:
            runs[f"admm rho={rho:g} ({args.admm_iters}+{args.finetune} ep)"] = (
                "admm", ftc, {"rho": rho, "iters": args.admm_iters})
        for label, (name, c, opts) in runs.items():
            res = SCHEDULES.get(name)(copy.deepcopy(dense), data, spec, c, options=opts)
            results["admm"].setdefault(label, []).append(res.as_record())
            print(f"  g={g} {label}: acc {res.accuracy:.4f} ({res.time_s:.1f}s)", flush=True)

    mean = lambda rs, k: statistics.fmean(r[k] for r in rs)  # noqa: E731
    sd = lambda rs, k: statistics.pstdev(r[k] for r in rs)  # noqa: E731
    d = results["dense"]
    print(f"\nDense fc on digits: test accuracy {mean(d, 'accuracy'):.4f} ± {sd(d, 'accuracy'):.4f}"
          f", training time {mean(d, 'time_s'):.1f} s ({args.pretrain} epochs, seeds {args.seeds})")
    print(f"\n| g | accuracy at {args.rate:.0%} (mean ± sd) | Δ vs dense | sparsity |")
    print("|---|---|---|---|")
    for g, rs in results["fig4"].items():
        print(f"| {g} | {mean(rs, 'accuracy'):.4f} ± {sd(rs, 'accuracy'):.4f} | "
              f"{100 * (mean(rs, 'accuracy') - mean(d, 'accuracy')):+.2f} pt | "
              f"{mean(rs, 'sparsity'):.4f} |")
    print(f"\n| g={args.admm_group}, {args.rate:.0%} | accuracy (mean ± sd) | time s |")
    print("|---|---|---|")
    for label, rs in results["admm"].items():
        print(f"| {label} | {mean(rs, 'accuracy'):.4f} ± {sd(rs, 'accuracy'):.4f} | "
              f"{mean(rs, 'time_s'):.1f} |")
    if results["schedules"]:
        print(f"\n| schedule (g={args.schedules_group}, {args.rate:.0%}, {args.finetune} ep) | "
              "accuracy (mean ± sd) |")
        print("|---|---|")
        for name, rs in results["schedules"].items():
            print(f"| {name} | {mean(rs, 'accuracy'):.4f} ± {sd(rs, 'accuracy'):.4f} |")
    if results["speed"]:
        print("\n| g | model-level CPU speedup, torch_sparse vs dense (batch 50, median) |")
        print("|---|---|")
        for g, rs in results["speed"].items():
            vals = [r["speedup"] for r in rs if r["valid"]]
            print(f"| {g} | {statistics.median(vals):.3f} |" if vals else f"| {g} | invalid |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=str)
    return results


if __name__ == "__main__":
    main()
