"""GPU benchmark: bundled Triton kernels vs cuBLAS dense and cuSPARSE CSR on the same pruned weights.

    python benchmarks/triton_bench.py                      # full grid on a CUDA device
    python benchmarks/triton_bench.py --dry-run            # tiny shapes; CPU uses the interpreter
    python benchmarks/triton_bench.py --shapes 4096x4096x50 --rates 0.9 --groups 32 --dtypes float16

Shapes (hartenstein-weight-pruning-gpus.md, Fig. 3: 4096×4096 · 4096×50; and 16384² · N ∈ {1,16,64}),
pruning rates 0.8/0.9/0.95/0.98, row groups g ∈ {8,16,32,64} (RMS aggregation, exact rate:
round(rate × groups) groups removed), fp16 and fp32; optionally r×c blocks for the BSR kernel.

Per point: every variant's output is verified against the float64 product of the pruned weight
first (a wrong output is reported as invalid and not timed); then CUDA events time each call
(median of --reps samples, L2 flushed by a write of L2's size before each sample). Bandwidth
counts the bytes a variant must move: values + indices + pointers + X + output; the peak is
measured by a large device-to-device copy. Results go to --out (JSON) and the same stem .csv, with
device name, driver, CUDA, torch and triton versions.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOL = {"float32": 1e-4, "float16": 2e-3, "bfloat16": 1.6e-2}  # relative Frobenius error
FULL_SHAPES = "4096x4096x50,16384x16384x1,16384x16384x16,16384x16384x64"
DRY_SHAPES = "64x80x5,48x64x1"


def _parse_shapes(text: str) -> list[tuple[int, int, int]]:
    out = []
    for item in text.split(","):
        m, k, n = (int(v) for v in item.lower().split("x"))
        out.append((m, k, n))
    return out


def _parse_blocks(text: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in b.lower().split("x")) for b in text.split(",") if b]


# --------------------------------------------------------------------------- pruning

def prune_row_groups(w: Any, g: int, rate: float) -> Any:
    """Zero round(rate × groups) 1×g groups with the smallest RMS (hartenstein seed, Sec. 3)."""
    import torch

    m, k = w.shape
    ng = -(-k // g)
    padded = torch.nn.functional.pad(w.float(), (0, ng * g - k))
    rms = padded.view(m, ng, g).pow(2).mean(-1).sqrt().flatten()
    # Padding past K counts as zeros in a partial group's mean, like the format's zero padding.
    drop = round(rate * rms.numel())
    keep = torch.ones_like(rms, dtype=torch.bool)
    if drop:
        keep[torch.topk(rms, drop, largest=False).indices] = False
    mask = keep.view(m, ng, 1).expand(m, ng, g).reshape(m, ng * g)[:, :k]
    return w * mask


def prune_blocks(w: Any, block: tuple[int, int], rate: float) -> Any:
    import torch

    r, c = block
    m, k = w.shape
    mb, kb = -(-m // r), -(-k // c)
    padded = torch.nn.functional.pad(w.float(), (0, kb * c - k, 0, mb * r - m))
    rms = padded.view(mb, r, kb, c).pow(2).mean((1, 3)).sqrt().flatten()
    drop = round(rate * rms.numel())
    keep = torch.ones_like(rms, dtype=torch.bool)
    if drop:
        keep[torch.topk(rms, drop, largest=False).indices] = False
    mask = keep.view(mb, 1, kb, 1).expand(mb, r, kb, c).reshape(mb * r, kb * c)[:m, :k]
    return w * mask


# --------------------------------------------------------------------------- timing

class Timer:
    """Median of `reps` samples from the measurement core's sampler (harness.measure.clock):
    CUDA events with the L2 flushed and the stream held while the call is queued; perf_counter
    on the CPU."""

    def __init__(self, device: Any, reps: int, warmup: int = 3) -> None:
        from harness.measure.clock import make_sampler

        self.reps, self.warmup = reps, warmup
        self.sampler = make_sampler(str(device))

    def __call__(self, fn: Callable[[], Any]) -> float:
        for _ in range(self.warmup):
            fn()
        self.sampler.sync()
        return statistics.median(self.sampler.sample(fn) for _ in range(self.reps))


def peak_bandwidth(device: Any, dry: bool) -> float:
    """Bytes/s of a large device copy (read + write), the reference for 'fraction of peak' — the
    same measurement the harness stores per device (harness.measure.roofline)."""
    from harness.measure.roofline import measure_peak

    return measure_peak(str(device), nbytes=(4 << 20) if dry else None)


# --------------------------------------------------------------------------- variants

def _nbytes(tensors: list[Any]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def build_variants(w: Any, x: Any, pattern: str, geo: Any,
                   strategies: list[str]) -> dict[str, tuple[Any, int, str]]:
    """name → (callable, bytes moved, reason-if-unsupported)."""
    import torch

    from harness.formats.base import get_format
    from harness.kernels import bsr_mm, row_group_mm
    from harness.kernels.pack import pack_bsr

    m, n = w.shape[0], x.shape[1]
    io = _nbytes([x]) + m * n * x.element_size()
    out: dict[str, tuple[Callable, int, str]] = {}
    out["cublas_dense"] = (lambda: torch.matmul(w, x), _nbytes([w]) + io, "")
    try:
        csr = w.to_sparse_csr()
        csr = torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(),
                                      csr.values(), size=csr.shape)
        torch.matmul(csr, x)  # probe: some dtype/device pairs are unsupported
        csr_bytes = _nbytes([csr.values(), csr.col_indices(), csr.crow_indices()]) + io
        out["cusparse_csr"] = (lambda: torch.matmul(csr, x), csr_bytes, "")
    except Exception as e:  # reported as a reason, never a crash
        out["cusparse_csr"] = (lambda: None, 0, f"{type(e).__name__}: {str(e).splitlines()[0]}")
    if pattern == "row_group":
        op = get_format("row_group").encode(w, group_size=geo)
        for strategy in strategies:
            out[f"triton_rg_{strategy}"] = ((row_group_mm, op, "row_group", strategy),
                                            _nbytes(list(op.arrays.values())) + io, "")
    else:
        op = pack_bsr(w, geo)
        out["triton_bsr"] = ((bsr_mm, op, "bsr", None), _nbytes(list(op.arrays.values())) + io, "")
    return out


def run(args: argparse.Namespace) -> dict:
    import torch

    cuda = torch.cuda.is_available() and not args.cpu
    device = torch.device("cuda" if cuda else "cpu")
    if not cuda:
        # No GPU: the kernels run in Triton's interpreter (must be set before they are decorated).
        os.environ["TRITON_INTERPRET"] = "1"
    import triton

    from harness.kernels.autotune import TuneCache, device_name

    timer = Timer(device, reps=args.reps)
    peak = peak_bandwidth(device, args.dry_run)
    dev_name = device_name(device)
    prov = {"device": dev_name, "torch": torch.__version__, "triton": triton.__version__,
            "cuda": torch.version.cuda, "driver": _driver(), "python": platform.python_version(),
            "peak_copy_gbs": peak / 1e9, "reps": args.reps, "l2_flush": cuda,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    cache = None
    if cuda and not args.no_tune:
        cache = {s: TuneCache(f"{dev_name}-{s}") for s in (*args.strategies, "bsr")}
    rows: list[dict] = []
    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    geos = [("row_group", g) for g in args.groups] + [("block", b) for b in args.blocks]
    for (m, k, n) in args.shapes:
        w_full = torch.randn(m, k, generator=gen).to(device)
        x_full = torch.randn(k, n, generator=gen).to(device)
        for dtype_name in args.dtypes:
            dtype = getattr(torch, dtype_name)
            x = x_full.to(dtype)
            for rate in args.rates:
                for pattern, geo in geos:
                    w = (prune_row_groups(w_full, geo, rate) if pattern == "row_group"
                         else prune_blocks(w_full, geo, rate)).to(dtype)
                    ref = w.double() @ x.double()
                    base = {"m": m, "k": k, "n": n, "dtype": dtype_name, "rate": rate,
                            "pattern": pattern,
                            "geometry": geo if pattern == "row_group" else "x".join(map(str, geo)),
                            "density": float((w != 0).double().mean())}
                    variants = build_variants(w, x, pattern, geo, args.strategies)
                    results = _measure(variants, ref, x, timer, cache, dtype_name, args)
                    for name, res in results.items():
                        row = {**base, "variant": name, **res}
                        if res.get("time_s"):
                            row["gbs"] = res["bytes"] / res["time_s"] / 1e9
                            row["peak_fraction"] = res["bytes"] / res["time_s"] / peak
                        rows.append(row)
                    _speedups(rows[-len(results):])
                    del w, ref
    return {"provenance": prov, "rows": rows}


def _measure(variants: dict, ref: Any, x: Any, timer: Timer, cache: Any, dtype_name: str,
             args: argparse.Namespace) -> dict[str, dict]:
    from dataclasses import replace
    from functools import partial

    from harness.kernels.autotune import autotune, candidates
    from harness.kernels.launch import chunk_counts, default_config

    out: dict[str, dict] = {}
    for name, (spec, nbytes, reason) in variants.items():
        if reason:
            out[name] = {"status": "unsupported", "reason": reason}
            continue
        config = None
        if isinstance(spec, tuple):  # a bundled kernel: tune on the GPU, then bind the config
            fn, op, kind, strategy = spec
            geo = ({"group_size": op.meta["group_size"]} if kind == "row_group"
                   else {"block": op.meta["block"]})
            if cache is not None:
                pool = [c for c in candidates(kind, x.shape[1], **geo)
                        if strategy is None or c.strategy == strategy]
                # One cache per strategy: the table reports the best of each.
                config = autotune(kind, op, x, time_fn=timer, configs=pool,
                                  cache=cache[strategy or "bsr"])
            else:
                config = default_config(kind, x.shape[1], group_size=geo.get("group_size", 32),
                                        dtype=dtype_name)
                if strategy == "tile" and config.strategy != "tile":
                    config = replace(config, strategy="tile", block_m=16,
                                     block_n=max(16, config.block_n),
                                     block_k=max(16, geo["group_size"]))
                elif strategy == "row" and config.strategy != "row":
                    # the launcher's row-strategy default for this target (fp32 never tiles)
                    config = default_config(kind, x.shape[1], group_size=geo["group_size"],
                                            dtype="float32")
            if kind == "row_group" and config.strategy == "tile":
                nbytes += _nbytes([chunk_counts(op, config.block_k)])  # its extra index
            spec = partial(fn, op, x, config=config)
        try:
            y = spec()
            y = y.to_dense() if getattr(y, "is_sparse_csr", False) else y
            err = float((y.double() - ref).norm() / ref.norm().clamp_min(1e-30))
        except Exception as e:
            out[name] = {"status": "error", "reason": f"{type(e).__name__}: {e}"[:200]}
            continue
        if not err <= TOL[dtype_name]:
            out[name] = {"status": "invalid", "rel_error": err}
            continue
        out[name] = {"status": "ok", "rel_error": err, "time_s": timer(spec), "bytes": nbytes,
                     "config": config.as_dict() if config else None}
    return out


def _speedups(rows: list[dict]) -> None:
    times = {r["variant"]: r.get("time_s") for r in rows}
    for r in rows:
        t = r.get("time_s")
        for ref in ("cublas_dense", "cusparse_csr"):
            if t and times.get(ref):
                r[f"speedup_vs_{ref.split('_')[0]}"] = times[ref] / t


def _driver() -> str:
    try:
        from harness.kernels.autotune import driver_version

        return driver_version()
    except Exception:
        return "unknown"


# --------------------------------------------------------------------------- output

COLUMNS = ("m", "k", "n", "dtype", "rate", "pattern", "geometry", "variant", "status",
           "time_s", "speedup_vs_cublas", "speedup_vs_cusparse", "gbs", "peak_fraction",
           "rel_error", "bytes", "density", "config", "reason")


def print_table(result: dict) -> None:
    prov = result["provenance"]
    print(f"# {prov['device']}  torch {prov['torch']}  triton {prov['triton']}  "
          f"CUDA {prov['cuda']}  driver {prov['driver']}  peak copy {prov['peak_copy_gbs']:.0f} GB/s")
    head = f"{'shape':>18} {'dtype':>8} {'rate':>5} {'geo':>5} {'variant':>16} {'time us':>9} " \
           f"{'x dense':>7} {'x csr':>6} {'GB/s':>7} {'%peak':>6}"
    print(head)
    for r in result["rows"]:
        shape = f"{r['m']}x{r['k']}x{r['n']}"
        if r["status"] != "ok":
            print(f"{shape:>18} {r['dtype']:>8} {r['rate']:>5} {r['geometry']!s:>5} "
                  f"{r['variant']:>16} {r['status']}: {r.get('reason', r.get('rel_error'))}")
            continue

        def f(key: str, fmt: str, r: dict = r) -> str:
            v = r.get(key)
            return format(v, fmt) if v is not None else "-"

        print(f"{shape:>18} {r['dtype']:>8} {r['rate']:>5} {r['geometry']!s:>5} "
              f"{r['variant']:>16} {r['time_s'] * 1e6:>9.1f} {f('speedup_vs_cublas', '7.2f')} "
              f"{f('speedup_vs_cusparse', '6.2f')} {f('gbs', '7.1f')} "
              f"{(r['peak_fraction'] * 100 if 'peak_fraction' in r else 0):>5.1f}%")


def write(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    with out.with_suffix(".csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*COLUMNS, *(f"prov_{k}" for k in result["provenance"])],
                           extrasaction="ignore")
        w.writeheader()
        for r in result["rows"]:
            w.writerow({**r, **{f"prov_{k}": v for k, v in result["provenance"].items()}})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true",
                   help="tiny shapes, one rate/group/dtype, 2 reps: checks the pipeline anywhere")
    p.add_argument("--shapes", default=None, help=f"MxKxN list (default {FULL_SHAPES})")
    p.add_argument("--rates", default="0.8,0.9,0.95,0.98")
    p.add_argument("--groups", default="8,16,32,64", help="row-group sizes g")
    p.add_argument("--blocks", default=None, help="BSR blocks, e.g. 32x32,16x64 (empty: none)")
    p.add_argument("--dtypes", default="float16,float32")
    p.add_argument("--reps", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-tune", action="store_true", help="default kernel configs, no autotuning")
    p.add_argument("--strategies", default="row,tile", help="row_group kernel strategies to run")
    p.add_argument("--cpu", action="store_true", help="ignore CUDA (interpreter run)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON path (default benchmarks/results/triton_<device>.json); CSV beside it")
    a = p.parse_args(argv)
    if a.dry_run:
        a.shapes = a.shapes or DRY_SHAPES
        a.rates, a.groups, a.reps = "0.9", "8", 2
        a.blocks = "16x16" if a.blocks is None else a.blocks
        a.dtypes = "float32"
    a.shapes = _parse_shapes(a.shapes or FULL_SHAPES)
    a.rates = [float(v) for v in a.rates.split(",")]
    a.groups = [int(v) for v in a.groups.split(",") if v]
    a.blocks = _parse_blocks(a.blocks or "")
    a.dtypes = [v.strip() for v in a.dtypes.split(",")]
    bad = [d for d in a.dtypes if d not in TOL]
    if bad:
        p.error(f"--dtypes: expected some of {', '.join(TOL)}, got {', '.join(bad)}")
    a.strategies = [v.strip() for v in a.strategies.split(",") if v.strip()]
    return a


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", message=".*[Ss]parse.*")  # torch's CSR beta notices
    args = parse_args(argv)
    if not (args.dry_run or args.cpu):
        import torch

        if not torch.cuda.is_available():  # the interpreter would take hours on these shapes
            print("triton_bench.py: no CUDA device; the grid needs a GPU (use --dry-run, or --cpu "
                  "with small --shapes, for an interpreter pass)", file=sys.stderr)
            return 2
    result = run(args)
    print_table(result)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", result["provenance"]["device"]).strip("_")
    out = args.out or Path(__file__).resolve().parent / "results" / f"triton_{slug}.json"
    write(result, out)
    print(f"wrote {out} and {out.with_suffix('.csv').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
