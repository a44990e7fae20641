"""The dense product in a cheaper dtype, timed with each problem (harness.measure.alternatives)."""

from __future__ import annotations

import pytest
from test_measure_runner import FakeClock, Settings

from harness.backends import base as backends_base
from harness.backends.base import Backend, Prepared
from harness.core.point import Point, PruneSpec
from harness.core.registry import Registry
from harness.measure import alternatives
from harness.measure.runner import Bench


def _backend(name, formats, seconds_by_dtype, clock, calls, wrong_dtype=None):
    class Fake(Backend):
        def __init__(self) -> None:
            self.name, self.formats = name, frozenset(formats)
            self.devices = frozenset({"cpu"})
            self.dtypes = frozenset({"float32", "float64", "bfloat16"})

        def prepare(self, operand, x):
            from harness.formats.base import get_format

            w = get_format(operand.format).decode(operand)
            dtype = str(x.dtype).removeprefix("torch.")

            def run():
                calls[dtype] = calls.get(dtype, 0) + 1
                clock.t += seconds_by_dtype[dtype]
                out = w @ x
                return out * 3 if dtype == wrong_dtype else out

            return Prepared(run=run, to_torch=lambda t: t)

    return Fake()


def _world(monkeypatch, bf16_s=0.001, wrong_dtype=None):
    clock, calls = FakeClock(), {}
    reg: Registry = Registry("backend")
    reg.register("torch", _backend("torch", {"dense"}, {"float32": 0.004, "bfloat16": bf16_s,
                                                        "float64": 0.008}, clock, calls,
                                   wrong_dtype))
    reg.register("fast", _backend("fast", {"csr"}, {"float32": 0.002, "float64": 0.004},
                                  clock, calls))
    monkeypatch.setattr(backends_base, "all_backends", lambda: reg)
    return clock, calls


def _point(dtype="float32", seed=0):
    return Point(16, 32, 4, format="csr", backend="fast", dtype=dtype,
                 prune=PruneSpec("row_group", 0.5, 4), seed=seed)


def test_candidates_are_the_devices_cheaper_dtypes():
    names = lambda p: [c.dtype for c in alternatives.candidates(p)]  # noqa: E731
    assert names(_point()) == ["bfloat16"]
    assert names(_point("float64")) == ["float32", "bfloat16"]
    assert names(_point("bfloat16")) == []
    cuda = Point(16, 32, 4, format="csr", device="cuda", dtype="float32")
    assert names(cuda) == ["bfloat16", "float16"]
    assert all(c.format == "dense" and c.prune.rate == 0 for c in alternatives.candidates(cuda))


def test_the_fastest_cheaper_dense_is_timed_once_per_problem_and_stored(monkeypatch):
    clock, calls = _world(monkeypatch)
    bench = Bench(Settings(), device="cpu", clock=clock, dense_alternatives=True)
    m = bench.measure(_point())
    assert m.status == "ok" and m.speedup == pytest.approx(2.0)
    assert m.counters["dense_alt.bfloat16.speedup"] == pytest.approx(4.0)
    assert m.counters[alternatives.FASTEST] == "bfloat16"
    assert alternatives.against_fastest(m.speedup, m.counters) == pytest.approx(0.5)
    timed = calls["bfloat16"]
    again = bench.measure(_point(seed=0))
    assert calls["bfloat16"] == timed  # not timed again for the same problem
    assert again.counters[alternatives.FASTEST] == "bfloat16"


def test_a_cheaper_dtype_that_is_slower_or_wrong_is_never_the_fastest(monkeypatch):
    clock, _ = _world(monkeypatch, bf16_s=0.008)
    m = Bench(Settings(), device="cpu", clock=clock, dense_alternatives=True).measure(_point())
    assert m.counters["dense_alt.bfloat16.speedup"] == pytest.approx(0.5)
    assert alternatives.FASTEST not in m.counters
    assert alternatives.against_fastest(m.speedup, m.counters) == pytest.approx(m.speedup)

    clock, _ = _world(monkeypatch, wrong_dtype="bfloat16")
    m = Bench(Settings(), device="cpu", clock=clock, dense_alternatives=True).measure(_point())
    assert m.counters["dense_alt.bfloat16.speedup"] is None and alternatives.FASTEST not in \
        m.counters


def test_off_by_default_with_an_injected_clock(monkeypatch):
    clock, calls = _world(monkeypatch)
    m = Bench(Settings(), device="cpu", clock=clock).measure(_point())
    assert "bfloat16" not in calls and not any(k.startswith("dense_alt.") for k in m.counters)
    assert alternatives.against_fastest(m.speedup, m.counters) is None

