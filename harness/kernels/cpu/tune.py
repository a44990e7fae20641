"""Autotuning of the CPU kernels through the Triton kernels' mechanism and cache
(harness.kernels.autotune): the same `TuneCache` JSON files in the same folder, the same
injectable `time_fn(callable) -> seconds` (default: the measurement core's CPU sampler in hot
mode, median of fixed reps: flushing a last-level cache of up to 512 MiB before every sample would
cost more than tuning small problems is worth, and only the ranking matters), the fastest legal
candidate kept.

Keyed by the CPU model and thread count (the cache file: one per device, as one per GPU) and the
shape class (kind, M×K, N bucket, geometry, dtype, nnz half-octave): tuned results survive small
changes of N and rate. The file records numba's version and a hash of the kernel source, so a new
compiler or a changed kernel discards the tuned results.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.kernels.cpu.config import CpuConfig, candidates, validate

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand
    from harness.kernels.autotune import TuneCache

TimeFn = Callable[[Callable[[], Any]], float]


def versions() -> dict[str, str]:
    import numba

    src = b"".join((Path(__file__).with_name(f)).read_bytes()
                   for f in ("jit.py", "panel_kernel.py", "config.py"))
    return {"numba": numba.__version__, "kernels": hashlib.sha256(src).hexdigest()[:16]}


def n_bucket(n: int) -> int:
    """N rounded up to a power of two: the shape class of the activations."""
    return 1 << max(0, (int(n) - 1).bit_length())


def hot_time(fn: Callable[[], Any], *, warmup: int = 1, reps: int = 5) -> float:
    """Median seconds per call of `fn` over `reps` hot samples."""
    import statistics

    from harness.measure.clock import make_sampler

    sampler = make_sampler("cpu", hot=True)
    for _ in range(warmup):
        fn()
    return statistics.median(sampler.sample(fn) for _ in range(reps))


def tune_key(op: Operand, x: torch.Tensor) -> str:
    m, k = op.shape
    geo = f"g{op.meta['group_size']}" if op.format == "row_group" else \
        "b{}x{}".format(*op.meta["block"]) if op.format == "bsr" else "e"
    nnz = op.arrays["values"].numel()
    dtype = str(op.dtype).removeprefix("torch.")
    return (f"cpu:{op.format}|{m}x{k}xN{n_bucket(x.shape[1])}|{geo}|{dtype}"
            f"|nnz{round(2 * math.log2(nnz + 1))}")


def open_cache(threads: int, directory: Path | str | None = None) -> TuneCache:
    from harness.kernels.autotune import TuneCache
    from harness.measure.provenance import cpu_model

    return TuneCache(f"cpu-{cpu_model()}-threads{threads}", directory=directory,
                     versions=versions(), config_type=CpuConfig)


def autotune(op: Operand, x: torch.Tensor, *, threads: int, time_fn: TimeFn | None = None,
             configs: Iterable[CpuConfig] | None = None, cache: TuneCache | None = None,
             use_cache: bool = True) -> tuple[CpuConfig, bool]:
    """(fastest config, answered from the cache?) for this operand and X with `threads`."""
    from harness.kernels.cpu.launch import bind, dtype_name, stored_width

    key = tune_key(op, x)
    if use_cache and cache is None:
        cache = open_cache(threads)
    if use_cache and cache is not None:
        hit = cache.get(key)
        if hit is not None and validate(op.format, hit) is None:
            return hit, True
    pool = [c for c in (configs if configs is not None else
                        candidates(op.format, x.shape[1], dtype=dtype_name(x.dtype),
                                   width=stored_width(op), m=op.shape[0], threads=threads))
            if validate(op.format, c) is None]
    if not pool:
        raise ValueError(f"no legal CPU config to tune for key {key}")
    timer = time_fn or hot_time
    out = None
    best: tuple[float, CpuConfig] | None = None
    for cfg in pool:
        bound = bind(op, x, config=cfg, out=out, threads=threads)
        out = bound.result  # one output buffer for every candidate
        t = float(timer(bound))
        if best is None or t < best[0]:
            best = (t, cfg)
    assert best is not None
    if use_cache and cache is not None:
        cache.put(key, best[1], best[0])
    return best[1], False
