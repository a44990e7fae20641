"""The seeds' accuracy claims on real MNIST (CPU), one command per claim, several seeds.

    python benchmarks/train_seeds.py fig4         # hartenstein Fig. 4: accuracy per g at 90 %
    python benchmarks/train_seeds.py aggregation  # hartenstein §6: rms / mean / median / random
    python benchmarks/train_seeds.py ouyang       # one-shot vs iterative, L1 vs random, both scopes
    python benchmarks/train_seeds.py zhang        # ADMM vs one-shot, CNN, equal structured sparsity
    python benchmarks/train_seeds.py zhang --model fc --structures row_group:0.9:8  # … at g=8
    python benchmarks/train_seeds.py lym          # group lasso: sparsity, accuracy, training FLOPs

Common options: --seeds (default 0 1 2), --pretrain / --finetune epochs, --ft-optimizer /
--ft-lr (fine-tuning and ADMM's W-steps; default SGD at --lr), --threads,
--input-layer {true,false} (the reading of hartenstein Table 2), --train-subset N (first N
training images only: a smoke run), --json PATH (default
benchmarks/results/train_seeds_<claim>_cpu.json). Dense models are cached
($HARNESS_CACHE_DIR), so the claims share one pretraining per seed.

Every record carries accuracy before and after fine-tuning and the signal_died flag; each claim
prints a markdown table of means ± sd over the seeds.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CLAIMS: dict[str, Callable[..., list[dict]]] = {}


def claim(name: str):
    def deco(fn):
        CLAIMS[name] = fn
        return fn
    return deco


# --- shared -------------------------------------------------------------------------------------

def _data(args, seed: int):
    from dataclasses import replace

    from harness.train.data import load_dataset

    data = load_dataset(args.dataset, seed=seed)
    if args.train_subset:
        n = args.train_subset
        data = replace(data, name=f"{data.name}[:{n}]", x_train=data.x_train[:n],
                       y_train=data.y_train[:n])
    return data


def _dense(args, model: str, data, seed: int, options: dict | None = None):
    from harness.train.trainer import TrainConfig, pretrain

    cfg = TrainConfig(epochs=args.pretrain, batch_size=args.batch, lr=args.lr, seed=seed)
    return pretrain(model, data, cfg, options=options)


def _ft(args, seed: int, epochs: int | None = None):
    from harness.train.trainer import TrainConfig

    return TrainConfig(epochs=args.finetune if epochs is None else epochs,
                       batch_size=args.batch, lr=args.ft_lr or args.lr,
                       optimizer=args.ft_optimizer, seed=seed)


def _run(schedule: str, dense, data, spec, cfg, *, options=None, prune_kw=None) -> dict:
    from harness.train.schedules import SCHEDULES

    res = SCHEDULES.get(schedule)(copy.deepcopy(dense), data, spec, cfg, options=options or {},
                                  prune_kw=prune_kw or {})
    return res.as_record()


def _fc_options(args) -> dict:
    return {"input_layer": args.input_layer}


def _row(label: dict, rec: dict, seed: int) -> dict:
    out = dict(label, seed=seed, **{k: v for k, v in rec.items() if not isinstance(v, list)})
    for k in ("admm_rel_residuals", "admm_rhos", "admm_lrs", "epoch_flops", "epoch_s",
              "hidden_widths"):
        if k in rec:
            out[k] = rec[k]
    return out


def _say(row: dict) -> None:
    keys = ("accuracy_before", "accuracy", "sparsity", "signal_died", "time_s")
    label = {k: v for k, v in row.items() if k in (*LABEL_KEYS, "seed")}
    vals = " ".join(f"{k}={row[k]:.4f}" if isinstance(row.get(k), float) else f"{k}={row.get(k)}"
                    for k in keys if k in row)
    print(f"  {label}: {vals}", flush=True)


# --- claims -------------------------------------------------------------------------------------

@claim("fig4")
def fig4(args) -> list[dict]:
    """hartenstein Fig. 4: dense accuracy, then 90 % row-group pruning + fine-tuning per g."""
    from harness.core.point import PruneSpec

    rows = []
    for seed in args.seeds:
        data = _data(args, seed)
        dense, rec = _dense(args, "fc", data, seed, _fc_options(args))
        rows.append(_row({"case": "dense", "g": 0}, rec, seed))
        _say(rows[-1])
        for g in args.groups:
            spec = PruneSpec(pattern="row_group", rate=args.rate, group_size=g, seed=seed)
            for scope in args.scopes:
                r = _run("oneshot", dense, data, spec, _ft(args, seed), prune_kw={"scope": scope})
                rows.append(_row({"case": "oneshot", "g": g, "scope": scope}, r, seed))
                _say(rows[-1])
    return rows


@claim("aggregation")
def aggregation(args) -> list[dict]:
    """hartenstein §6: rms, mean, median and random group selection at 90 % give similar
    accuracy; g in --groups (default 1 8 32), in each scope. --rescale: each also with the kept
    weights rescaled after pruning (oneshot's `rescale`; not in the seed), case "oneshot rescaled"."""
    from harness.core.point import PruneSpec

    rows = []
    for seed in args.seeds:
        data = _data(args, seed)
        dense, rec = _dense(args, "fc", data, seed, _fc_options(args))
        rows.append(_row({"case": "dense"}, rec, seed))
        for g in args.groups:
            for agg in args.aggregations:
                spec = PruneSpec(pattern="row_group", rate=args.rate, group_size=g,
                                 aggregation=agg, seed=seed)
                for scope, rescale in itertools.product(args.scopes, args.rescale):
                    r = _run("oneshot", dense, data, spec, _ft(args, seed),
                             prune_kw={"scope": scope}, options={"rescale": rescale})
                    case = "oneshot rescaled" if rescale else "oneshot"
                    rows.append(_row({"case": case, "g": g, "aggregation": agg,
                                      "scope": scope}, r, seed))
                    _say(rows[-1])
    return rows


@claim("ouyang")
def ouyang(args) -> list[dict]:
    """ouyang survey: iterative beats one-shot; L1 magnitude beats random selection; per layer
    and global, unstructured at --rate."""
    from harness.core.point import PruneSpec

    rows = []
    for seed in args.seeds:
        data = _data(args, seed)
        dense, rec = _dense(args, "fc", data, seed, _fc_options(args))
        rows.append(_row({"case": "dense"}, rec, seed))
        for agg in ("l1", "random"):
            spec = PruneSpec(pattern="unstructured", rate=args.rate, aggregation=agg, seed=seed)
            for schedule in ("oneshot", "iterative"):
                for scope in args.scopes:
                    r = _run(schedule, dense, data, spec, _ft(args, seed),
                             prune_kw={"scope": scope})
                    rows.append(_row({"case": schedule, "aggregation": agg,
                                      "scope": scope}, r, seed))
                    _say(rows[-1])
    return rows


def _structure(text: str) -> tuple[str, float, int]:
    """'pattern:rate[:g]' → (pattern, rate, group size)."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"--structures {text!r}: expected pattern:rate[:g]")
    return parts[0], float(parts[1]), int(parts[2]) if len(parts) == 3 else 1


@claim("zhang")
def zhang(args) -> list[dict]:
    """zhang ADMM vs one-shot at equal structured sparsity: --model (cnn) at --structures
    (75 % filters, 80 % shapes; `--model fc --structures row_group:0.9:8` for row groups of 8);
    the classifier's output layer is left dense. One-shot also gets ADMM's epochs ("oneshot N
    ep": as many epochs as ADMM's W-steps and retraining together)."""
    from harness.core.point import PruneSpec

    rows = []
    options = _fc_options(args) if args.model == "fc" else None
    for seed in args.seeds:
        data = _data(args, seed)
        dense, rec = _dense(args, args.model, data, seed, options)
        rows.append(_row({"case": "dense"}, rec, seed))
        for pattern, rate, g in args.structures:
            spec = PruneSpec(pattern=pattern, rate=rate, group_size=g, seed=seed)
            label = {"pattern": pattern, "rate": rate, **({"g": g} if g > 1 else {})}
            kw = {"skip_last": True}
            admm = _run("admm", dense, data, spec, _ft(args, seed), prune_kw=kw,
                        options={} if args.admm_iters is None else {"iters": args.admm_iters})
            rows.append(_row({"case": "admm", **label}, admm, seed))
            _say(rows[-1])
            total = admm["admm_epochs"] + args.finetune
            for case, cfg in (("oneshot", _ft(args, seed)),
                              (f"oneshot {total} ep", _ft(args, seed, total))):
                r = _run("oneshot", dense, data, spec, cfg, prune_kw=kw)
                rows.append(_row({"case": case, **label}, r, seed))
                _say(rows[-1])
    return rows


@claim("lym")
def lym(args) -> list[dict]:
    """lym PruneTrain: group lasso from scratch at penalty ratios 0.2 and 0.25 — neurons
    removed, accuracy vs dense, training FLOPs vs dense. As many epochs as the dense model
    (--pretrain), at --lasso-lr (the paper's 0.1) with the schedule's step decay."""
    from dataclasses import replace

    from harness.core.point import PruneSpec
    from harness.train.models import build_model

    rows = []
    for seed in args.seeds:
        data = _data(args, seed)
        _, rec = _dense(args, "fc", data, seed, _fc_options(args))
        rows.append(_row({"case": "dense"}, rec, seed))
        for ratio in (0.2, 0.25):
            model = build_model("fc", data.in_shape, data.n_classes, seed, _fc_options(args))
            cfg = replace(_ft(args, seed, args.pretrain), lr=args.lasso_lr)
            r = _run("group_lasso", model, data, PruneSpec(), cfg,
                     options={"ratio": ratio, "interval": args.interval})
            rows.append(_row({"case": "group_lasso", "ratio": ratio}, r, seed))
            _say(rows[-1])
    return rows


# --- summary ------------------------------------------------------------------------------------

LABEL_KEYS = ("case", "pattern", "rate", "g", "aggregation", "scope", "schedule", "ratio")
SUMMARY_KEYS = ("epochs", "accuracy_before", "accuracy", "sparsity", "neurons_removed",
                "train_flops_ratio", "admm_rel_residual")


def summarise(rows: list[dict]) -> list[dict]:
    """Mean ± sd over seeds of every case (rows with equal labels)."""
    groups: dict[tuple, list[dict]] = {}
    label_keys = LABEL_KEYS
    for row in rows:
        if row.get("admm_rel_residuals"):
            row["admm_rel_residual"] = row["admm_rel_residuals"][-1]
        groups.setdefault(tuple((k, row.get(k)) for k in label_keys if k in row), []).append(row)
    out = []
    for label, rs in groups.items():
        item: dict[str, Any] = dict(label, seeds=len(rs),
                                    signal_died=sum(bool(r.get("signal_died")) for r in rs))
        for k in SUMMARY_KEYS:
            vals = [r[k] for r in rs if isinstance(r.get(k), int | float)]
            if vals:
                item[k] = statistics.fmean(vals)
                item[k + "_sd"] = statistics.pstdev(vals)
        out.append(item)
    return out


def table(summary: list[dict]) -> str:
    labels = [k for k in LABEL_KEYS if any(k in s for s in summary)]
    keys = [k for k in SUMMARY_KEYS if any(k in s for s in summary)]
    head = "| " + " | ".join(labels + keys + ["signal died"]) + " |"
    lines = [head, "|" + "---|" * (len(labels) + len(keys) + 1)]
    for s in summary:
        cells = [str(s.get(k, "")) for k in labels]
        cells += [f"{s[k]:.4f} ± {s[k + '_sd']:.4f}" if k in s else "" for k in keys]
        cells.append(f"{s['signal_died']}/{s['seeds']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("claim", choices=sorted(CLAIMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--pretrain", type=int, default=20)
    ap.add_argument("--finetune", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--ft-optimizer", default="sgd", choices=["sgd", "adam"],
                    help="optimizer after pretraining (fine-tuning, ADMM's W-steps): zhang's "
                         "W-step is Adam's")
    ap.add_argument("--ft-lr", type=float, default=None, help="lr after pretraining (--lr)")
    ap.add_argument("--rate", type=float, default=0.9)
    ap.add_argument("--groups", type=int, nargs="+", default=None,
                    help="fig4: 1 2 4 8 16 32 64; aggregation: 1 8 32")
    ap.add_argument("--scopes", nargs="+", default=["layer", "global"])
    ap.add_argument("--input-layer", type=lambda s: s.lower() == "true", default=True)
    ap.add_argument("--admm-iters", type=int, default=None,
                    help="zhang: ADMM iterations at most (default: the schedule's)")
    ap.add_argument("--interval", type=int, default=2, help="lym: epochs between reconfigurations")
    ap.add_argument("--lasso-lr", type=float, default=0.1, help="lym: lr (the paper's 0.1)")
    ap.add_argument("--model", default="cnn", choices=["cnn", "fc"], help="zhang: the model")
    ap.add_argument("--structures", type=_structure, nargs="+",
                    default=[("filter", 0.75, 1), ("shape", 0.8, 1)],
                    help="zhang: pattern:rate[:g] (default filter:0.75 shape:0.8)")
    ap.add_argument("--rescale", type=lambda s: s.lower() == "true", nargs="+", default=[False],
                    help="aggregation: oneshot's rescale option, e.g. --rescale false true")
    ap.add_argument("--aggregations", nargs="+", default=["rms", "mean", "median", "random"],
                    help="aggregation: the group selections compared")
    ap.add_argument("--train-subset", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.groups is None:
        args.groups = [1, 2, 4, 8, 16, 32, 64] if args.claim == "fig4" else [1, 8, 32]

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    rows = CLAIMS[args.claim](args)
    summary = summarise(rows)
    print(f"\n{args.claim}: {args.dataset}, seeds {args.seeds}, pretrain {args.pretrain} ep, "
          f"fine-tune {args.finetune} ep, {time.perf_counter() - t0:.0f} s\n")
    print(table(summary))
    from datetime import UTC, datetime

    from harness.measure.provenance import git_sha

    out = {"claim": args.claim, "args": vars(args), "wall_s": time.perf_counter() - t0,
           "utc": datetime.now(UTC).isoformat(timespec="seconds"), "git_sha": git_sha(),
           "torch_threads": torch.get_num_threads(), "summary": summary, "rows": rows}
    path = Path(args.json) if args.json else RESULTS / f"train_seeds_{args.claim}_cpu.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1, default=str))
    tmp.replace(path)
    print(f"\nwritten {path}")
    return out


if __name__ == "__main__":
    main()
