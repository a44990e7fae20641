"""Roofline figures of a measurement: bytes that must move, FLOPs, its bound and the achieved
fraction of that bound.

Bytes: the operand's `nbytes` (values + indices + pointers), activations K×N read once and the
output M×N written once. FLOPs: 2·nnz·N for sparse formats, 2·M·K·N for dense (which multiplies
the zeros too). Two peaks per device, each measured once (CPU: with the suite's threads) and kept
in the store through `set_peak`/`get_peak` (or in memory when no store is given):
- bandwidth: a large copy, read + write bytes counted (key `device_key(...)`);
- dense matmul FLOP/s per dtype: torch matmul of a large square, best of a few (key
  `device_key(...) + ":flops:<dtype>"`; the store's value column then holds FLOP/s).
The bound of a measurement is max(bytes / bandwidth, FLOPs / peak FLOP/s) — the time the product
would take at the roofline — and `peak_fraction` is bound / median: 1.0 means at the roofline.
Small-N sparse products are usually compute-bound on a CPU, which a bandwidth-only fraction hides.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.core.point import Point
    from harness.store.api import Store

PEAK_METHOD = "copy, best of the sampler's samples"
FLOPS_METHOD = "torch matmul n×n·n×n, FLOP/s, best of the sampler's samples"
_peaks: dict[str, float] = {}


def traffic(point: Point, operand_bytes: Mapping[str, int]) -> dict[str, int]:
    from harness.core.dtypes import itemsize

    size = itemsize(point.dtype)
    out = {k: int(operand_bytes.get(k, 0)) for k in ("values", "indices", "pointers")}
    out["activations"] = point.k * point.n * size
    out["output"] = point.m * point.n * size
    return out


def flops(point: Point, nnz: int) -> int:
    if point.format == "dense":
        return 2 * point.m * point.k * point.n
    return 2 * int(nnz) * point.n


def device_key(device: str, threads: int | None = None) -> str:
    """Identity of a peak: the device model (and UUID on CUDA; thread count on CPU)."""
    from harness.measure.provenance import collect

    info = collect(device, threads, 0)
    if device.split(":", 1)[0] == "cuda":
        return f"cuda:{info['device_name']}:{info.get('device_uuid')}"
    return f"cpu:{info['device_name']}:threads={info['threads']}"


def measure_peak(device: str, *, nbytes: int | None = None, reps: int | None = None) -> float:
    """Bytes/s of the best of `reps` copies of an `nbytes` tensor (read + write counted), timed by
    the measurement core's own sampler (hot: the copy itself evicts the caches) — CUDA events on
    a GPU, so launch and synchronisation overhead stay out of a ~0.1 ms copy.

    CPU: 128 MiB, several times any last-level cache slice a core sees; CUDA: 1 GiB, 20× an H100's
    50 MB L2. The best of a few copies filters out interference.
    """
    import torch

    from harness.measure.clock import make_sampler

    cuda = device.split(":", 1)[0] == "cuda"
    nbytes = nbytes or (2**30 if cuda else 128 * 2**20)
    reps = reps or (10 if cuda else 3)
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    sampler = make_sampler(device, hot=True)
    dst.copy_(src)  # pages the destination in
    sampler.sync()
    best = min(sampler.sample(lambda: dst.copy_(src)) for _ in range(reps))
    return 2.0 * src.numel() * src.element_size() / best


def _peak(key: str, measure: Callable[[], float], method: str, store: Store | None) -> float:
    """A device peak: from memory, else the store, else measured once (and stored)."""
    if key in _peaks:
        return _peaks[key]
    value = store.get_peak(key) if store is not None else None
    if value is None:
        value = measure()
        if store is not None:
            store.set_peak(key, value, method)
    _peaks[key] = value
    return value


def peak_bandwidth(device: str, threads: int | None = None,
                   store: Store | None = None) -> float:
    # looked up at call time: tests replace measure_peak
    return _peak(device_key(device, threads), lambda: measure_peak(device), PEAK_METHOD, store)


def flops_key(device: str, threads: int | None, dtype: str) -> str:
    return f"{device_key(device, threads)}:flops:{dtype}"


def measure_peak_flops(device: str, dtype: str = "float32", *, size: int | None = None,
                       reps: int | None = None, min_call_s: float = 0.02) -> float:
    """FLOP/s of the best of `reps` dense n×n·n×n torch matmuls in `dtype`, timed by the
    measurement core's sampler (hot: the operands stay resident, as a GEMM's do).

    n doubles from 256 until one call takes `min_call_s` (so launch and threading overheads
    vanish) or reaches 4096 (CUDA 16384); `size` fixes n. The first call per size warms up
    (library handles, thread pools, packing buffers)."""
    import torch

    from harness.core.dtypes import to_torch
    from harness.measure.clock import make_sampler

    cuda = device.split(":", 1)[0] == "cuda"
    reps = reps or (10 if cuda else 3)
    dt = to_torch(dtype)
    sampler = make_sampler(device, hot=True)
    gen = torch.Generator(device=device).manual_seed(0)
    n = size or 256
    cap = size or (16384 if cuda else 4096)
    while True:
        a = torch.randn(n, n, device=device, generator=gen).to(dt)
        b = torch.randn(n, n, device=device, generator=gen).to(dt)
        a @ b  # warm-up
        sampler.sync()
        t = sampler.sample(functools.partial(torch.matmul, a, b))
        if t >= min_call_s or n >= cap:
            break
        n *= 2
    best = min([t] + [sampler.sample(functools.partial(torch.matmul, a, b))
                      for _ in range(reps - 1)])
    return 2.0 * n ** 3 / best


def peak_flops(device: str, dtype: str, threads: int | None = None,
               store: Store | None = None) -> float:
    """The device's dense matmul FLOP/s in `dtype`: memory, else the store, else measured once."""
    return _peak(flops_key(device, threads, dtype), lambda: measure_peak_flops(device, dtype),
                 FLOPS_METHOD, store)


def roofline(point: Point, operand_bytes: Mapping[str, int], nnz: int, median_s: float,
             peak_bytes_per_s: float | None,
             peak_flops_per_s: float | None = None) -> dict[str, Any]:
    """bytes (dict), flops, bandwidth_gbs, bound_s, limit ('memory' | 'compute') and
    peak_fraction = bound_s / median_s for a Measurement. Either peak may be None (fake clocks,
    a failed measurement): the bound then uses the other; with neither, bound and fraction are
    None."""
    moved = traffic(point, operand_bytes)
    work = flops(point, nnz)
    bw = sum(moved.values()) / median_s if median_s > 0 else None
    t_mem = sum(moved.values()) / peak_bytes_per_s if peak_bytes_per_s else None
    t_cmp = work / peak_flops_per_s if peak_flops_per_s else None
    times = [t for t in (t_mem, t_cmp) if t is not None]
    bound = max(times) if times else None
    limit = None if bound is None else ("compute" if bound == t_cmp else "memory")
    return {"bytes": moved, "flops": work,
            "bandwidth_gbs": bw / 1e9 if bw is not None else None,
            "bound_s": bound, "limit": limit,
            "peak_fraction": bound / median_s if bound is not None and median_s > 0 else None}


class Peaks:
    """The device's peaks as one measurement needs them: the bandwidth (measured up front) and
    the FLOP/s of each dtype, measured on first use. `flops` never raises (None on failure)."""

    def __init__(self, device: str, threads: int | None = None, store: Store | None = None,
                 bandwidth: float | None = None) -> None:
        self.device, self.threads, self.store = device, threads, store
        self.bandwidth = bandwidth

    def flops(self, dtype: str) -> float | None:
        try:
            return peak_flops(self.device, dtype, self.threads, self.store)
        except Exception:  # e.g. a dtype the device cannot multiply: no compute roof
            return None
