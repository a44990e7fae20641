"""Roofline figures of a measurement: bytes that must move, FLOPs, bandwidth, fraction of peak.

Bytes: the operand's `nbytes` (values + indices + pointers), activations K×N read once and the
output M×N written once. FLOPs: 2·nnz·N for sparse formats, 2·M·K·N for dense (which multiplies
the zeros too). The device's peak bandwidth is measured once by a large copy (read + write bytes
counted; CPU with the suite's threads), kept in the store through `set_peak`/`get_peak`, or in
memory when no store is given.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.core.point import Point
    from harness.store.api import Store

PEAK_METHOD = "copy"
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


def measure_peak(device: str, *, nbytes: int = 128 * 2**20, reps: int = 3) -> float:
    """Bytes/s of the best of `reps` copies of an `nbytes` tensor (read + write counted).

    128 MiB per buffer is several times any last-level cache slice a core sees, so the copy
    streams from memory; the best of a few copies filters out interference.
    """
    import torch

    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    cuda = device.split(":", 1)[0] == "cuda"
    best = float("inf")
    for _ in range(reps + 1):  # the first copy pages the destination in
        if cuda:
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        dst.copy_(src)
        if cuda:
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - t0)
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
