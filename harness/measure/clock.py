"""Clocks and per-device samplers: how *one* call is timed.

`Clock` is injectable so the stopping rule and interleaving are testable with a fake clock.
A `Sampler` times one call of a callable on its device:

* CPU: `perf_counter_ns` (through the clock) around one call; the callable's result is computed
  synchronously by torch/MKL, so no synchronisation is needed. No cache flush on the CPU: cold
  and hot mode time the same way there (interleaving already evicts most of the previous
  variant's operands at the sizes that matter).
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
    """Times one call of `fn`; returns seconds. `sync()` waits for queued work of the device."""

    def sample(self, fn: Callable[[], Any]) -> float: ...

    def sync(self) -> None: ...


class CpuSampler:
    """Wall time of one synchronous call, read from `clock`."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or PerfClock()

    def sample(self, fn: Callable[[], Any]) -> float:
        t0 = self.clock.now_s()
        fn()
        return self.clock.now_s() - t0

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
        device = self.device

        def block() -> None:
            with torch.cuda.device(device):  # _sleep launches on the current device's stream
                sleep(BLOCK_CYCLES)

        self.block = block if sleep is not None else None

    def flush(self) -> None:
        if self.flush_buf is not None:
            self.flush_buf.fill_(0)  # a write, so dirty lines of the previous call are evicted too

    def sample(self, fn: Callable[[], Any]) -> float:
        self.flush()
        if self.block is not None:
            self.block()
        self.start.record(self.stream)
        fn()
        self.end.record(self.stream)
        self.end.synchronize()
        return self.start.elapsed_time(self.end) * 1e-3  # ms → s

    def sync(self) -> None:
        self.torch.cuda.synchronize(self.device)


def make_sampler(device: str, *, hot: bool = False, clock: Clock | None = None) -> Sampler:
    """The sampler of a device type ('cpu' or 'cuda[:i]'). An injected clock forces CPU timing."""
    if device.split(":", 1)[0] == "cuda" and clock is None:
        return CudaSampler(device, hot=hot)
    return CpuSampler(clock)
