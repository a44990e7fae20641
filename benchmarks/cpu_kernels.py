"""CPU benchmark: the bundled Numba kernels against MKL (torch) and dense on the same pruned weights.

    python benchmarks/cpu_kernels.py                   # the full grid (minutes; a quiet machine)
    python benchmarks/cpu_kernels.py --smoke           # tiny sizes, seconds: checks the script
    python benchmarks/cpu_kernels.py --rates 0.9 --groups 32 --ns 50   # one spot check

The fc grid of hartenstein-weight-pruning-gpus.md (W 4096×4096 · X 4096×50 fp32, row groups
1×g scored by RMS, rates 0.80–0.98, g ∈ {1, 2, 4, 8, 16, 32, 64}), and N ∈ {1, 8, 50, 256} at
90 %, g = 32. Variants of one point share the pruned weight and X: dense fp32 and dense bf16
(torch → MKL/oneDNN), MKL CSR (torch.sparse_csr), MKL BSR where it applies (torch runs square
blocks only: never for 1×g groups, so it is listed with the reason), the bundled row-group kernel
(g ≥ 2) and the bundled CSR kernel (harness backend `numba`, tuned through the kernel cache).

Method: every output is verified against the float64 product of the pruned weight first; then the
variants are timed interleaved (dense, A, B, …, dense, A, B, …; hot, the measurement core's CPU
sampler), and each speedup is the median of the per-round ratios. The machine's copy bandwidth
and dense matmul FLOP/s (fp32, bf16) are measured once with the same threads; each variant's
roofline bound is max(bytes / bandwidth, FLOPs / peak of its dtype); its fraction is bound / median.
JSON goes to --out (default benchmarks/results/cpu_kernels_cpu.json); a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a clone without installing


def _rel(path: Path) -> str:
    """A path as committed results show it: relative to the repository (else its name)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


FULL_RATES = [round(0.80 + 0.02 * i, 2) for i in range(10)]
FULL_GROUPS = [1, 2, 4, 8, 16, 32, 64]
FULL_NS = [1, 8, 50, 256]
BREAKEVEN_RATES = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
FULL_BLOCKS = [4, 8, 16]
TOL = {"float32": 1e-4, "bfloat16": 2e-2}


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--shape", default="4096x4096", help="M×K of the weight")
    p.add_argument("--n", type=int, default=50, help="N of the fc grid")
    p.add_argument("--rates", type=_floats, default=FULL_RATES)
    p.add_argument("--groups", type=_ints, default=FULL_GROUPS)
    p.add_argument("--ns", type=_ints, default=FULL_NS, help="N sweep at --sweep-rate, g=32")
    p.add_argument("--sweep-rate", type=float, default=0.9)
    p.add_argument("--sweep-group", type=int, default=32)
    p.add_argument("--blocks", type=_ints, default=FULL_BLOCKS,
                   help="b×b block pruning at --sweep-rate and --n: bundled BSR against MKL BSR")
    p.add_argument("--breakeven-rates", type=_floats, default=BREAKEVEN_RATES,
                   help="rates below the grid at --sweep-group and --n: where pruning starts to pay")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=15, help="interleaved rounds per point")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny sizes and few points")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cpu_kernels_cpu.json")
    args = sys.argv[1:] if argv is None else argv
    if "--smoke" in args:  # smoke sizes are defaults: explicit flags still win
        p.set_defaults(shape="256x256", n=50, rates=[0.9], groups=[1, 32], ns=[1, 50], reps=3,
                       breakeven_rates=[0.5], blocks=[8])
    return p.parse_args(args)


# ----------------------------------------------------------------------------- variants

def variants(w: Any, x: Any, g: int, block: int | None = None
             ) -> tuple[dict[str, Callable[[], Any]], dict[str, dict]]:
    """name → timed callable, and name → facts (bytes, flops, config or why it does not apply).
    Row groups of 1×g by default; with `block`, the weight's b×b blocks run as BSR (MKL through
    torch, and the bundled kernel) instead of the row-group kernel."""
    import warnings

    import torch

    from harness.backends.base import all_backends
    from harness.formats.base import get_format

    warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")

    m, k = w.shape
    n = x.shape[1]
    nnz = int((w != 0).sum())
    act = (k * n + m * n) * 4
    runs: dict[str, Callable[[], Any]] = {}
    facts: dict[str, dict] = {"dense_fp32": {"bytes": m * k * 4 + act, "flops": 2 * m * k * n}}
    runs["dense_fp32"] = lambda: w @ x
    wb, xb = w.bfloat16(), x.bfloat16()
    runs["dense_bf16"] = lambda: wb @ xb
    facts["dense_bf16"] = {"bytes": (m * k + k * n + m * n) * 2, "flops": 2 * m * k * n}
    csr = get_format("csr").encode(w)
    sizes = get_format("csr").nbytes(csr)
    t = torch.sparse_csr_tensor(csr.arrays["crow_indices"].long(),
                                csr.arrays["col_indices"].long(), csr.arrays["values"], (m, k))
    runs["mkl_csr"] = lambda: t @ x
    facts["mkl_csr"] = {"bytes": sum(sizes.values()) + act, "flops": 2 * nnz * n}
    bundled: tuple[tuple[str, str, dict[str, Any]], ...] = (("numba_csr", "csr", {}),)
    if block is None:
        facts["mkl_bsr"] = {"skipped": f"torch runs square BSR blocks only; the 1×{g} groups "
                                       "are not"}
        bundled += (("numba_row_group", "row_group", {"group_size": g}),)
    else:
        bsr = get_format("bsr").encode(w, block=(block, block))
        tb = w.to_sparse_bsr((block, block))
        runs["mkl_bsr"] = lambda: tb @ x
        facts["mkl_bsr"] = {"bytes": sum(get_format("bsr").nbytes(bsr).values()) + act,
                            "flops": 2 * nnz * n}
        bundled += (("numba_bsr", "bsr", {"block": (block, block)}),)
    numba = all_backends().get("numba")
    for name, fmt, geo in bundled:
        if fmt == "row_group" and g < 2:
            facts[name] = {"skipped": "g = 1 bundles nothing (the CSR kernel is that case)"}
            continue
        op = get_format(fmt).encode(w, **geo)
        prepared = numba.prepare(op, x)
        runs[name] = prepared.run
        facts[name] = {"bytes": sum(get_format(fmt).nbytes(op).values()) + act,
                       "flops": 2 * nnz * n, **prepared.run.counters}
    return runs, facts


def verify(runs: dict[str, Callable[[], Any]], w: Any, x: Any) -> dict[str, float]:
    import torch

    ref = w.double() @ x.double()
    out = {}
    for name, fn in runs.items():
        y = fn()
        err = float(torch.linalg.norm(y.double() - ref) / torch.linalg.norm(ref))
        tol = TOL["bfloat16" if name.endswith("bf16") else "float32"]
        if not err <= tol:
            raise SystemExit(f"{name}: rel_error {err:.3g} > {tol} — not timed")
        out[name] = err
    return out


def interleaved(runs: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    from harness.measure.clock import make_sampler

    sampler = make_sampler("cpu", hot=True)
    for fn in runs.values():  # warm-up: caches, thread pools, packing buffers
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            times[name].append(sampler.sample(fn))
    return times


def ratio(times: dict[str, list[float]], num: str, den: str) -> float | None:
    if num not in times or den not in times:
        return None
    return statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))


def measure_point(w32: Any, x: Any, rate: float, g: int, reps: int, peaks: dict,
                  block: int | None = None) -> dict:
    from harness.core.point import PruneSpec
    from harness.pruning.base import prune_mask

    spec = PruneSpec(pattern="row_group", rate=rate, group_size=g) if block is None else \
        PruneSpec(pattern="block", rate=rate, block=(block, block))
    mask = prune_mask(w32, spec)
    w = (w32 * mask).contiguous()
    runs, facts = variants(w, x, g, block)
    errors = verify(runs, w, x)
    times = interleaved(runs, reps)
    out: dict[str, Any] = {"m": w.shape[0], "k": w.shape[1], "n": x.shape[1], "rate": rate,
                           "g": g, "nnz": int(mask.sum()), "variants": {}}
    if block is not None:
        out["block"] = block
    for name, f in facts.items():
        row = dict(f)
        if name in times:
            med = statistics.median(times[name])
            dtype = "bfloat16" if name.endswith("bf16") else "float32"
            bound = max(f["bytes"] / peaks["bandwidth_Bps"], f["flops"] / peaks["flops"][dtype])
            row.update(median_s=med, samples_s=times[name], rel_error=errors[name],
                       speedup_vs_dense_fp32=ratio(times, "dense_fp32", name),
                       speedup_vs_mkl_csr=ratio(times, "mkl_csr", name),
                       roofline_bound_s=bound, roofline_fraction=bound / med)
        out["variants"][name] = row
    return out


def machine(threads: int) -> dict:
    import numba
    import torch

    from harness.measure import roofline
    from harness.measure.provenance import cpu_model

    t0 = time.perf_counter()
    bw = roofline.measure_peak("cpu")
    fl = {dt: roofline.measure_peak_flops("cpu", dt) for dt in ("float32", "bfloat16")}
    return {"cpu": cpu_model(), "threads": threads, "python": platform.python_version(),
            "torch": torch.__version__, "numba": numba.__version__,
            "bandwidth_Bps": bw, "flops": fl, "peaks_wall_s": time.perf_counter() - t0}


def table(points: list[dict], peaks: dict) -> str:
    cols = ["dense_bf16", "mkl_csr", "numba_csr", "numba_row_group"]
    lines = [f"CPU: {peaks['cpu']}, {peaks['threads']} threads; copy {peaks['bandwidth_Bps'] / 1e9:.1f} GB/s; "
             f"matmul fp32 {peaks['flops']['float32'] / 1e9:.0f} GFLOP/s, "
             f"bf16 {peaks['flops']['bfloat16'] / 1e9:.0f} GFLOP/s", "",
             "| M×K·N | rate | g | dense fp32 ms | " + " | ".join(f"{c} ×" for c in cols)
             + " | row_group × MKL CSR | row_group % roof | csr % roof |",
             "|---|---|---|---|" + "---|" * (len(cols) + 3)]
    def sp(v: dict, name: str) -> str:
        s = v.get(name, {}).get("speedup_vs_dense_fp32")
        return f"{s:.2f}" if s else "–"

    def frac(v: dict, name: str) -> str:
        f = v.get(name, {}).get("roofline_fraction")
        return f"{100 * f:.0f} %" if f else "–"

    for p in points:
        v = p["variants"]
        vs_mkl = v.get("numba_row_group", {}).get("speedup_vs_mkl_csr")
        lines.append(f"| {p['m']}×{p['k']}·{p['n']} | {p['rate']:.2f} | {p['g']} | "
                     f"{v['dense_fp32']['median_s'] * 1e3:.2f} | "
                     + " | ".join(sp(v, c) for c in cols)
                     + f" | {f'{vs_mkl:.2f}' if vs_mkl else '–'} | {frac(v, 'numba_row_group')} | "
                     f"{frac(v, 'numba_csr')} |")
    return "\n".join(lines)


def block_table(points: list[dict]) -> str:
    """b×b block pruning: each variant's speedup over dense fp32 (same run, interleaved)."""
    cols = ["dense_bf16", "mkl_csr", "mkl_bsr", "numba_csr", "numba_bsr"]
    lines = ["| M×K·N | rate | block | dense fp32 ms | " + " | ".join(f"{c} ×" for c in cols)
             + " |", "|---|---|---|---|" + "---|" * len(cols)]
    for p in points:
        v = p["variants"]
        cells = [f"{v[c]['speedup_vs_dense_fp32']:.2f}" if "median_s" in v.get(c, {}) else "–"
                 for c in cols]
        lines.append(f"| {p['m']}×{p['k']}·{p['n']} | {p['rate']:.2f} | {p['block']}×{p['block']}"
                     f" | {v['dense_fp32']['median_s'] * 1e3:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(points: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """The issue's targets, read off this run: the spot point (--sweep-rate, --sweep-group,
    --n), whether the row-group kernel beats every sparse library kernel at rates ≥ 0.80 and
    g ≥ 4, and the lowest rate at --sweep-group from which it beats dense fp32."""
    def rg(p: dict) -> dict:
        return p["variants"].get("numba_row_group", {})

    spot = next((p for p in points if (p["rate"], p["g"], p["n"]) ==
                 (args.sweep_rate, args.sweep_group, args.n)), None)
    libs = ("mkl_csr", "mkl_bsr")
    losses = [f"rate {p['rate']:.2f} g {p['g']}" for p in points
              if p["n"] == args.n and p["rate"] >= 0.8 - 1e-9 and p["g"] >= 4 and "median_s" in rg(p)
              and any(rg(p)["median_s"] >= p["variants"][lib]["median_s"]
                      for lib in libs if "median_s" in p["variants"].get(lib, {}))]
    curve = sorted((p["rate"], rg(p)["speedup_vs_dense_fp32"]) for p in points
                   if p["g"] == args.sweep_group and p["n"] == args.n and "median_s" in rg(p))
    paying = [r for r, s in curve if s > 1]
    return {"spot": None if spot is None else {
                "rate": spot["rate"], "g": spot["g"], "n": spot["n"],
                "speedup_vs_dense_fp32": rg(spot).get("speedup_vs_dense_fp32"),
                "speedup_vs_mkl_csr": rg(spot).get("speedup_vs_mkl_csr"),
                "roofline_fraction": rg(spot).get("roofline_fraction")},
            "row_group_loses_to_a_library_at": losses,
            "breakeven_curve": curve,
            "pays_from_rate": min(paying) if paying and all(
                s > 1 for r, s in curve if r >= min(paying)) else None}


def main(argv: list[str] | None = None) -> int:
    import torch

    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    m, k = (int(v) for v in a.shape.lower().split("x"))
    gen = torch.Generator().manual_seed(a.seed)
    w32 = torch.randn(m, k, generator=gen)
    xs = {n: torch.randn(k, n, generator=torch.Generator().manual_seed(a.seed + n))
          for n in sorted({a.n, *a.ns})}
    peaks = machine(a.threads)
    grid = [(r, g, a.n) for r in a.rates for g in a.groups]
    grid += [(a.sweep_rate, a.sweep_group, n) for n in a.ns if n != a.n or
             (a.sweep_rate, a.sweep_group, n) not in grid]
    grid += [(r, a.sweep_group, a.n) for r in a.breakeven_rates
             if (r, a.sweep_group, a.n) not in grid]
    points = []
    t0 = time.perf_counter()
    for i, (rate, g, n) in enumerate(grid):
        points.append(measure_point(w32, xs[n], rate, g, a.reps, peaks))
        print(f"[{i + 1}/{len(grid)}] rate {rate:.2f} g {g} N {n} "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    blocks = [measure_point(w32, xs[a.n], a.sweep_rate, 1, a.reps, peaks, block=b)
              for b in a.blocks]
    result = {"machine": peaks, "method": __doc__.split("Method: ", 1)[1].split("\n\n")[0],
              # paths relative to the repository: no machine's folders in committed results
              "args": {k: (_rel(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
              "points": points, "targets": targets(points, a), "block_points": blocks,
              "wall_s": time.perf_counter() - t0}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(a.out)
    print(table(points, peaks))
    print("\ntargets: " + json.dumps(result["targets"]))
    print("\n" + block_table(blocks))
    print(f"\nwrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
