"""Roofline figures of a measurement: bytes that must move, FLOPs, bandwidth, fraction of peak.

Bytes: the operand's `nbytes` (values + indices + pointers), activations K×N read once and the
output M×N written once. FLOPs: 2·nnz·N for sparse formats, 2·M·K·N for dense (which multiplies
the zeros too). The device's peak bandwidth is measured once by a large copy (read + write bytes
counted; CPU with the suite's threads), kept in the store through `set_peak`/`get_peak`, or in
memory when no store is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.core.point import Point
    from harness.store.api import Store

PEAK_METHOD = "copy, best of the sampler's samples"
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


def peak_bandwidth(device: str, threads: int | None = None,
                   store: Store | None = None) -> float:
    key = device_key(device, threads)
    if key in _peaks:
        return _peaks[key]
    bps = store.get_peak(key) if store is not None else None
    if bps is None:
        bps = measure_peak(device)
        if store is not None:
            store.set_peak(key, bps, PEAK_METHOD)
    _peaks[key] = bps
    return bps


def roofline(point: Point, operand_bytes: Mapping[str, int], nnz: int, median_s: float,
             peak_bytes_per_s: float | None) -> dict[str, Any]:
    """bytes (dict), flops, bandwidth_gbs, peak_fraction for a Measurement."""
    moved = traffic(point, operand_bytes)
    bw = sum(moved.values()) / median_s if median_s > 0 else None
    return {"bytes": moved, "flops": flops(point, nnz),
            "bandwidth_gbs": bw / 1e9 if bw is not None else None,
            "peak_fraction": bw / peak_bytes_per_s if bw is not None and peak_bytes_per_s else None}
