"""Clocks and per-device samplers: how *one* call is timed.

`Clock` is injectable so the stopping rule and interleaving are testable with a fake clock.
A `Sampler` times one call of a callable on its device:

* CPU: `perf_counter_ns` (through the clock) around one call, or around a block of calls for
  calls too short for the clock (`block`); torch/MKL compute synchronously, so no
  synchronisation is needed. Cold mode writes a buffer of the last-level cache's size (read from
  sysfs, at most `FLUSH_MAX_BYTES`) before each sample, outside the timed region, as the GPU's L2
  flush does; hot mode repeats the call on warm caches. A block is cold before its first call.
* CUDA: a pair of CUDA events recorded on the current stream around one call, `synchronize` on the
  end event; before each *cold* sample the L2 cache is flushed by writing a buffer of
  `L2_cache_size` bytes (outside the timed region, as nvbench does); hot mode skips the flush.
  Before the start event a short spin kernel (`torch.cuda._sleep`, nvbench's "blocking kernel")
  holds the stream, so the host has queued the call's launches by the time the start event
  fires: the sample is the GPU's time for the call, not the host's launch overhead (cuSPARSE
  descriptor set-up, Python) — which a synchronous CPU timing would include, and which differs
  between libraries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol


class Clock(Protocol):
    def now_s(self) -> float: ...


class PerfClock:
    """The default clock: `time.perf_counter_ns`, in seconds."""

    def now_s(self) -> float:
        return time.perf_counter_ns() * 1e-9


class Sampler(Protocol):
    """Times `block` calls of `fn`; returns seconds per call. `sync()` waits for queued work."""

    def sample(self, fn: Callable[[], Any], block: int = 1) -> float: ...

    def sync(self) -> None: ...


FLUSH_MAX_BYTES = 512 << 20  # a VM may report its host's whole L3 (480 MiB seen): bound the cost
FLUSH_FALLBACK_BYTES = 32 << 20  # when sysfs does not say


def last_level_cache_bytes(root: str = "/sys/devices/system/cpu/cpu0/cache") -> int | None:
    """Size of the highest-level data or unified cache of CPU 0, from sysfs (None if unknown)."""
    import glob
    import os

    best: tuple[int, int] | None = None
    for d in glob.glob(os.path.join(root, "index*")):
        try:
            with open(os.path.join(d, "level")) as f:
                level = int(f.read())
            with open(os.path.join(d, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(d, "size")) as f:
                text = f.read().strip()
        except (OSError, ValueError):
            continue
        if kind == "Instruction" or not text:
            continue
        unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1].upper(), 1)
        try:
            size = int(text.rstrip("KMGkmg")) * unit
        except ValueError:
            continue
        if best is None or level > best[0]:
            best = (level, size)
    return best[1] if best else None


class CpuSampler:
    """Wall time of synchronous calls, read from `clock`; the last-level cache flushed before
    each sample when `flush_bytes` > 0 (cold mode)."""

    def __init__(self, clock: Clock | None = None, *, flush_bytes: int = 0) -> None:
        self.clock = clock or PerfClock()
        self.flush_bytes = int(flush_bytes)
        self._buf: Any = None

    @property
    def mode(self) -> str:
        return "cold" if self.flush_bytes > 0 else "hot"

    def prepare(self) -> None:
        """Allocate and touch the flush buffer (first touch of 512 MiB takes ~1 s: not a
        sample's cost, nor the time budget's)."""
        if self.flush_bytes > 0 and self._buf is None:
            import torch

            self._buf = torch.empty(self.flush_bytes // 4, dtype=torch.int32)
            self._buf.fill_(0)

    def flush(self) -> None:
        if self.flush_bytes <= 0:
            return
        self.prepare()
        self._buf.fill_(1)  # a write: dirty lines of the previous call are evicted too

    def sample(self, fn: Callable[[], Any], block: int = 1) -> float:
        self.flush()
        t0 = self.clock.now_s()
        for _ in range(block):
            fn()
        return (self.clock.now_s() - t0) / block

    def sync(self) -> None:
        return None


BLOCK_CYCLES = 200_000  # ≈ 100 µs at H100 clocks: longer than any call's host-side launch work


class CudaSampler:
    """CUDA events on the current stream; L2 flushed before each sample unless `hot`; the stream
    held by a spin kernel while the call is queued."""

    def __init__(self, device: str, *, hot: bool = False) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.hot = hot
        self.stream = torch.cuda.current_stream(self.device)
        self.start = torch.cuda.Event(enable_timing=True)
        self.end = torch.cuda.Event(enable_timing=True)
        l2 = int(getattr(torch.cuda.get_device_properties(self.device), "L2_cache_size", 0) or 0)
        # Writing a buffer of L2's size evicts the operands of the previous call (nvbench's flush).
        self.flush_buf = (torch.empty(max(l2, 1) // 4 + 1, dtype=torch.int32, device=self.device)
                          if l2 and not hot else None)
        sleep = getattr(torch.cuda, "_sleep", None)  # private but long-standing; optional
        self.block: Callable[[], None] | None = None
        if sleep is not None:
            dev = self.device

            def block() -> None:
                with torch.cuda.device(dev):  # _sleep launches on the current device's stream
                    sleep(BLOCK_CYCLES)

            self.block = block

    def flush(self) -> None:
        if self.flush_buf is not None:
            self.flush_buf.fill_(0)  # a write, so dirty lines of the previous call are evicted too

    @property
    def mode(self) -> str:
        return "hot" if self.hot else "cold"

    def sample(self, fn: Callable[[], Any], block: int = 1) -> float:
        self.flush()
        if self.block is not None:
            self.block()
        self.start.record(self.stream)
        for _ in range(block):
            fn()
        self.end.record(self.stream)
        self.end.synchronize()
        return self.start.elapsed_time(self.end) * 1e-3 / block  # ms → s per call

    def sync(self) -> None:
        self.torch.cuda.synchronize(self.device)


def cpu_flush_bytes() -> int:
    """Bytes a CPU cold sample writes first: the last-level cache, bounded."""
    return min(last_level_cache_bytes() or FLUSH_FALLBACK_BYTES, FLUSH_MAX_BYTES)


def make_sampler(device: str, *, hot: bool = False, clock: Clock | None = None) -> Sampler:
    """The sampler of a device type ('cpu' or 'cuda[:i]'). An injected clock forces CPU timing
    without a flush (fake clocks in tests)."""
    if device.split(":", 1)[0] == "cuda" and clock is None:
        return CudaSampler(device, hot=hot)
    return CpuSampler(clock, flush_bytes=0 if hot or clock is not None else cpu_flush_bytes())
