"""Pruning + format conversion cost of a 4096×4096 fp32 weight (median of 5 runs per case).

    python benchmarks/prune_convert.py [--size 4096] [--runs 5] [--device cpu]

Each run prunes a fresh copy of the same seeded weight (mask, then torch.where), then encodes it.
Target: every case under 1 s on a CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from harness.core.point import PruneSpec
from harness.formats.base import get_format
from harness.pruning.base import prune_mask

CASES = [  # label, spec, format, encode kwargs
    ("row_group g=32 rate 0.9 → csr", PruneSpec("row_group", 0.9, group_size=32), "csr", {}),
    ("row_group g=32 rate 0.9 → row_group", PruneSpec("row_group", 0.9, group_size=32),
     "row_group", {"group_size": 32}),
    ("block 32×32 rate 0.9 → bsr", PruneSpec("block", 0.9, block=(32, 32)), "bsr",
     {"block": (32, 32)}),
    ("unstructured rate 0.9 → csr", PruneSpec("unstructured", 0.9), "csr", {}),
    ("nm 2:4 → semi_structured", PruneSpec("nm", nm=(2, 4)), "semi_structured", {}),
]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    w = torch.randn(args.size, args.size, generator=torch.Generator().manual_seed(0))
    w = w.to(args.device)
    print(f"{args.size}x{args.size} float32 on {args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.runs} runs (seconds)")
    print(f"{'case':40s} {'prune':>8s} {'convert':>8s} {'total':>8s}")
    for label, spec, fmt_name, kw in CASES:
        fmt = get_format(fmt_name)
        prune_s, conv_s, total_s = [], [], []
        for _ in range(args.runs):
            _sync(args.device)
            t0 = time.perf_counter()
            mask = prune_mask(w, spec)
            pruned = torch.where(mask, w, 0.0)
            _sync(args.device)
            t1 = time.perf_counter()
            fmt.encode(pruned, **kw)
            _sync(args.device)
            t2 = time.perf_counter()
            prune_s.append(t1 - t0)
            conv_s.append(t2 - t1)
            total_s.append(t2 - t0)
        med = statistics.median
        print(f"{label:40s} {med(prune_s):8.3f} {med(conv_s):8.3f} {med(total_s):8.3f}")


if __name__ == "__main__":
    main()
