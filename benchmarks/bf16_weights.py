"""An experiment, not a product path: does storing the row-group weights in 16 bits (bf16 bits in
uint16, widened to fp32 in registers by a shift and a bitcast; fp32 X, fp32 accumulation) make
the bundled panel kernel faster than keeping them in fp32?

    python benchmarks/bf16_weights.py [--n 1 8 50 256] [--rounds 60] [--threads 2]

The bf16 kernel is the shipped panel kernel's source with its four weight loads widened (a copy
compiled from a temporary folder, so the product is untouched). W 4096×4096, 90 %, g = 32, rows
scored by RMS; each N timed interleaved with the fp32 kernel and dense fp32 in one process.
Prints times, bf16/fp32 time and the relative error of each against float64.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clone

INTRINSIC = '''
from harness.kernels.cpu.cache import configure
configure()
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def bf16(typingctx, u):
    """uint16 bf16 bits -> float32: zero-extend, shift left 16, bitcast."""
    if not isinstance(u, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        v = builder.zext(args[0], ir.IntType(32))
        v = builder.shl(v, ir.Constant(ir.IntType(32), 16))
        return builder.bitcast(v, ir.FloatType())

    return types.float32(u), codegen
'''


def bf16_kernel(folder: Path):
    """The panel kernel with every weight read widened from bf16 bits."""
    src = (ROOT / "harness" / "kernels" / "cpu" / "panel_kernel.py").read_text()
    src = src.replace("from harness.kernels.cpu.intrinsics import prefetch, stack",
                      "from harness.kernels.cpu.intrinsics import prefetch, stack\n"
                      "from bf16_intrinsic import bf16")
    for a in "0123":
        src = src.replace(f"w{a} = v{a}[j]", f"w{a} = bf16(v{a}[j])")
    src = src.replace("acc[lane] += v[j + lane] * xr[j + lane]",
                      "acc[lane] += bf16(v[j + lane]) * xr[j + lane]")
    src = src.replace("s += v[j] * xr[j]", "s += bf16(v[j]) * xr[j]")
    src = src.replace("cache=True", "cache=False")
    if src.count("bf16(") < 7:
        raise SystemExit("the panel kernel's weight reads changed: update this experiment")
    (folder / "bf16_intrinsic.py").write_text(INTRINSIC)
    (folder / "panel_bf16.py").write_text(src)
    sys.path.insert(0, str(folder))
    return importlib.import_module("panel_bf16").row_group_panel_kernel


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1, 8, 50, 256])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import numba
    import numpy as np
    import torch

    from harness.core.point import PruneSpec
    from harness.formats.base import get_format
    from harness.kernels.cpu.config import CpuConfig, panel_rows, tile_for
    from harness.kernels.cpu.launch import bind, entry_point
    from harness.pruning.base import prune_mask

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    m = k = 4096
    w = torch.randn(m, k)
    w = torch.where(prune_mask(w, PruneSpec("row_group", 0.9, 32)), w, torch.zeros(()))
    op = get_format("row_group").encode(w, group_size=32)
    with tempfile.TemporaryDirectory() as tmp:
        kernel16 = bf16_kernel(Path(tmp))
        for n in args.n:
            x = torch.randn(k, n)
            ref = w.double() @ x.double()
            fp32 = bind(op, x, config=CpuConfig("panel", panel_rows(m, args.threads),
                                                tile_for(n, "float32")), threads=args.threads)
            a = list(fp32.args)
            bits = a[2].view(np.uint32)  # round to nearest even, keep the top 16 bits
            a[2] = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
            a[5] = out16 = np.empty_like(a[5])
            kernel16(*a)  # compiles
            call16 = entry_point(kernel16, tuple(a))

            def bf16(call16=call16, a=a) -> None:
                numba.set_num_threads(args.threads)
                call16(*a)

            variants = {"fp32 weights": fp32, "bf16 weights": bf16,
                        "dense fp32": lambda x=x: torch.mm(w, x)}
            for f in variants.values():
                for _ in range(3):
                    f()
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, f in variants.items():
                    t0 = time.perf_counter()
                    f()
                    samples[name].append(time.perf_counter() - t0)
            med = {name: statistics.median(v) for name, v in samples.items()}
            err32 = float((fp32.result.double() - ref).norm() / ref.norm())
            err16 = float((torch.from_numpy(out16).double() - ref).norm() / ref.norm())
            print(f"N={n}: " + " | ".join(f"{name} {v * 1e3:.3f} ms" for name, v in med.items())
                  + f" | bf16/fp32 time {med['bf16 weights'] / med['fp32 weights']:.2f}"
                  + f" | rel error fp32 {err32:.1e}, bf16 {err16:.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
