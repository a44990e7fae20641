"""The CUDA sampler's event logic, run on a CPU with a fake torch.cuda: what is recorded in which
order, and how event times become seconds per call."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import ClassVar

import pytest
import torch

from harness.measure import clock as clock_mod


class FakeEvent:
    log: ClassVar[list[str]] = []
    times: ClassVar[dict[int, float]] = {}

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing, "timing events are needed"

    def record(self, stream) -> None:
        FakeEvent.log.append(f"record:{id(self)}")
        FakeEvent.times[id(self)] = len(FakeEvent.log)  # "time" = position in the log (ms)

    def synchronize(self) -> None:
        FakeEvent.log.append(f"sync:{id(self)}")

    def elapsed_time(self, end: FakeEvent) -> float:
        return float(FakeEvent.times[id(end)] - FakeEvent.times[id(self)])


@pytest.fixture
def fake_cuda(monkeypatch):
    FakeEvent.log, FakeEvent.times = [], {}
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: "stream")
    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: SimpleNamespace(L2_cache_size=0))
    monkeypatch.setattr(torch.cuda, "_sleep", lambda cycles: FakeEvent.log.append("spin"),
                        raising=False)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    return FakeEvent.log


def test_one_sample_holds_the_stream_then_times_the_calls_between_two_events(fake_cuda):
    sampler = clock_mod.CudaSampler("cuda:0", hot=True)
    start, end = id(sampler.start), id(sampler.end)

    def fn():
        fake_cuda.append("call")

    seconds = sampler.sample(fn, 3)
    assert fake_cuda == ["spin", f"record:{start}", "call", "call", "call", f"record:{end}",
                         f"sync:{end}"]
    # end − start = 4 log positions = 4 "ms" for 3 calls: seconds per call
    assert seconds == pytest.approx(4e-3 / 3)
    assert sampler.mode == "hot" and sampler.flush_buf is None


def test_cold_samples_flush_l2_before_the_spin_and_the_start_event(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: SimpleNamespace(L2_cache_size=1024))
    real_empty = torch.empty
    monkeypatch.setattr(torch, "empty",
                        lambda *a, **k: real_empty(*a, **{**k, "device": "cpu"}))
    sampler = clock_mod.CudaSampler("cuda:0")
    assert sampler.mode == "cold" and sampler.flush_buf.numel() * 4 > 1024
    monkeypatch.setattr(sampler, "flush", lambda: fake_cuda.append("flush"))
    sampler.sample(lambda: fake_cuda.append("call"))
    assert fake_cuda[:3] == ["flush", "spin", f"record:{id(sampler.start)}"]


def test_make_sampler_picks_cuda_events_only_without_an_injected_clock(fake_cuda):
    assert isinstance(clock_mod.make_sampler("cuda:0", hot=True), clock_mod.CudaSampler)

    class Fixed:
        def now_s(self) -> float:
            return 0.0

    assert isinstance(clock_mod.make_sampler("cuda:0", clock=Fixed()), clock_mod.CpuSampler)
