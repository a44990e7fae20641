"""The CNN's second convolution (16 → 32 channels, 3×3, padding 1) at batch 50, pruned to row
groups and exported as its im2col GEMM (harness.models.export.BackendConv2d), timed interleaved
in one process against the dense Conv2d and against the same layer unrolled the earlier way
(F.unfold, transpose, copy into the backend's buffer).

    python benchmarks/conv_im2col.py [--g 4] [--rate 0.8] [--rounds 40] [--threads 2]

Prints the median time of each and its ratio to the dense Conv2d (one run: ratios only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--g", type=int, default=4)
    ap.add_argument("--rate", type=float, default=0.8)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch
    from torch import nn
    from torch.nn import functional

    from harness.core.point import PruneSpec
    from harness.models.export import LayerChoice, pruned_layer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3, padding=1).eval()
    x = torch.randn(50, 16, 28, 28)
    choice = LayerChoice("row_group", "numba", PruneSpec("row_group", args.rate, args.g))
    layer = pruned_layer(conv, choice, name="conv2", n=50 * 28 * 28, dtype="float32",
                         device="cpu")

    def unfolded() -> torch.Tensor:  # the earlier im2col: unfold, transpose, copy
        cols = functional.unfold(x, (3, 3), padding=(1, 1))
        y = layer.gemm(cols.transpose(0, 1).reshape(layer.in_features, -1))
        return y.reshape(32, 50, 28, 28).transpose(0, 1) + layer.bias.reshape(1, -1, 1, 1)

    variants = {"dense Conv2d": lambda: conv(x), "exported, F.unfold": unfolded,
                "exported, strided copy": lambda: layer(x)}
    with torch.no_grad():
        torch.testing.assert_close(unfolded(), layer(x))
        for f in variants.values():
            for _ in range(3):
                f()
        samples: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.rounds):  # interleaved rounds
            for k, f in variants.items():
                t0 = time.perf_counter()
                f()
                samples[k].append(time.perf_counter() - t0)
    dense = statistics.median(samples["dense Conv2d"])
    for k, v in samples.items():
        m = statistics.median(v)
        print(f"{k:24s} {m * 1e3:8.3f} ms  {dense / m:5.2f}x the dense Conv2d")
    return 0


if __name__ == "__main__":
    sys.exit(main())
