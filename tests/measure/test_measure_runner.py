"""Bench end to end with test-local fake backends (fake clock: deterministic speedups)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
import torch

from harness.backends import base as backends_base
from harness.backends.base import Backend, Prepared
from harness.core.point import Point, PruneSpec
from harness.core.registry import Registry
from harness.measure.runner import Bench


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        return self.t


@dataclass(frozen=True)
class Settings:
    warmup: int = 1
    min_samples: int = 4
    min_time_s: float = 0.0
    max_time_s: float = 100.0
    target_rel_noise: float | None = 0.5
    rounds: int = 4
    mode: str = "cold"
    verify: bool = True
    counters: tuple[str, ...] = field(default_factory=tuple)


def make_backend(name, formats, seconds, clock, *, wrong=False, explode=False):
    class Fake(Backend):
        def __init__(self) -> None:
            self.name = name
            self.formats = frozenset(formats)
            self.devices = frozenset({"cpu"})
            self.dtypes = frozenset({"float32", "float64", "float16", "bfloat16"})
            self.calls = 0
            self.prepared = 0

        def prepare(self, operand, x):
            self.prepared += 1
            if explode:
                raise RuntimeError("kernel\nexploded")
            from harness.formats.base import get_format

            w = get_format(operand.format).decode(operand)

            def run():
                self.calls += 1
                clock.t += seconds
                out = w @ x
                return out + 1 if wrong else out

            return Prepared(run=run, to_torch=lambda t: t)

    return Fake()


@pytest.fixture
def world(monkeypatch):
    clock = FakeClock()
    reg: Registry = Registry("backend")
    reg.register("torch", make_backend("torch", {"dense"}, 0.004, clock))
    reg.register("fast", make_backend("fast", {"csr"}, 0.001, clock))
    reg.register("half", make_backend("half", {"csr"}, 0.002, clock))
    reg.register("wrong", make_backend("wrong", {"csr"}, 0.001, clock, wrong=True))
    reg.register("boom", make_backend("boom", {"csr"}, 0.001, clock, explode=True))
    monkeypatch.setattr(backends_base, "all_backends", lambda: reg)
    return clock, reg


def point(backend="fast", fmt="csr", rate=0.5, g=4, seed=0):
    return Point(16, 32, 4, format=fmt, backend=backend,
                 prune=PruneSpec("row_group", rate, g), seed=seed)


def test_measure_ok_with_exact_speedup(world):
    clock, _ = world
    m = Bench(Settings(), device="cpu", clock=clock).measure(point())
    assert m.status == "ok" and m.verified and m.rel_error < 1e-6
    assert m.speedup == pytest.approx(4.0) and m.speedup_ci == (pytest.approx(4.0),) * 2
    assert m.samples_s == pytest.approx((0.001,) * 4) and m.stats.median == pytest.approx(0.001)
    assert m.baseline_key == point().baseline().key()
    assert m.flops == 2 * (16 * 32 // 2) * 4  # 2·nnz·N at rate 0.5
    assert m.bytes["activations"] == 32 * 4 * 4 and m.bytes["output"] == 16 * 4 * 4
    assert m.provenance["backend"] == "fast" and m.provenance["schema_version"] >= 1
    assert m.counters["timer.rounds"] == 4
    assert m.counters["timer.baseline_median_s"] == pytest.approx(0.004)


def test_measure_many_interleaves_one_group_per_problem(world):
    clock, reg = world
    bench = Bench(Settings(), device="cpu", clock=clock)
    pts = [point("fast"), point("half"), point("fast", seed=1)]
    ms = bench.measure_many(pts)
    assert [m.status for m in ms] == ["ok"] * 3
    assert [round(m.speedup, 6) for m in ms] == [4.0, 2.0, 4.0]
    base = bench.baseline(pts[0])
    assert base.status == "ok" and base.speedup == pytest.approx(1.0)
    calls = reg.get("torch").calls
    assert bench.baseline(pts[0]) is base and reg.get("torch").calls == calls  # reused


def test_large_problem_groups_are_chunked(world, monkeypatch):
    from harness.measure import runner

    clock, _reg = world
    monkeypatch.setattr(runner, "MAX_GROUP", 2)
    pts = [point("fast", rate=r) for r in (0.25, 0.5, 0.75)] + [point("half")]
    ms = Bench(Settings(), device="cpu", clock=clock).measure_many(pts)
    assert [round(m.speedup, 6) for m in ms] == [4.0, 4.0, 4.0, 2.0]
    assert [m.flops for m in ms[:3]] == [2 * n * 4 for n in (384, 256, 128)]


def test_conversions_and_baseline_are_cached_between_calls(world):
    clock, reg = world
    bench = Bench(Settings(), device="cpu", clock=clock)
    a = bench.measure(point())
    b = bench.measure(point())
    assert reg.get("fast").prepared == 1 and reg.get("torch").prepared == 1
    assert a.counters["timer.setup_s"] > 0 and b.counters["timer.setup_s"] == 0.0
    assert b.speedup == pytest.approx(4.0)  # the dense baseline is timed again, interleaved


def test_the_dense_baselines_drift_within_a_bench_is_recorded(world):
    clock, reg = world
    speed = {"s": 0.004}
    dense = reg.get("torch")
    prepare = dense.prepare

    def drifting_prepare(operand, x):
        inner = prepare(operand, x).run

        def run():
            clock.t -= 0.004  # undo the fixed duration, then take the current one
            clock.t += speed["s"]
            return inner()

        return Prepared(run=run, to_torch=lambda t: t)

    dense.prepare = drifting_prepare
    bench = Bench(Settings(), device="cpu", clock=clock)
    a = bench.measure(point())
    speed["s"] = 0.005  # the machine slowed down by 25 %
    b = bench.measure(point())
    assert a.counters["timer.baseline_drift"] == 0.0
    assert b.counters["timer.baseline_drift"] == pytest.approx(0.25)
    assert list(bench.baseline_drift().values()) == [pytest.approx(0.25)]
    assert b.speedup == pytest.approx(5.0)


def test_a_repeated_measurement_skips_the_warm_up_of_warm_variants(world):
    clock, reg = world
    bench = Bench(Settings(warmup=3), device="cpu", clock=clock)
    fast, dense = reg.get("fast"), reg.get("torch")
    bench.measure(point())
    first = (fast.calls, dense.calls)  # verification + 3 warm-up + 4 samples + check after
    bench.measure(point())
    # samples and the check after timing only
    assert (fast.calls - first[0], dense.calls - first[1]) == (4 + 1, 4 + 1)
    bench.measure(point("half"))  # a new variant warms up; the warm dense baseline does not
    assert reg.get("half").calls == 1 + 3 + 4 + 1 and dense.calls - first[1] == 10


def test_invalid_result_gets_no_speedup(world):
    clock, _ = world
    m = Bench(Settings(), device="cpu", clock=clock).measure(point("wrong"))
    assert m.status == "invalid" and m.speedup is None and m.rel_error > 1e-4
    assert "tolerance" in m.reason


def test_backend_exception_is_an_error_and_the_run_goes_on(world):
    clock, _ = world
    ms = Bench(Settings(), device="cpu", clock=clock).measure_many([point("boom"), point()])
    assert ms[0].status == "error" and "exploded" in ms[0].reason and "\n" not in ms[0].reason
    assert ms[1].status == "ok"


def test_unsupported_format_or_backend_is_a_reason(world):
    clock, _reg = world
    bench = Bench(Settings(), device="cpu", clock=clock)
    m = bench.measure(point("fast", fmt="bsr"))
    assert m.status == "unsupported" and "bsr" in m.reason
    m = bench.measure(replace(point(), dtype="float64", device="cuda"))
    assert m.status == "unsupported"
    m = bench.measure(point("no_such_backend"))
    assert m.status == "error" and "no_such_backend" in m.reason


def test_dense_point_is_its_own_baseline(world):
    clock, _ = world
    p = point().baseline()
    m = Bench(Settings(), device="cpu", clock=clock).measure(p)
    assert m.status == "ok" and m.speedup == pytest.approx(1.0) and m.flops == 2 * 16 * 32 * 4


def test_cpu_counter_values_are_recorded(world):
    clock, _ = world
    m = Bench(Settings(), device="cpu", clock=clock, counters=("cpu", "nvml")).measure(point())
    assert m.counters["cpu.peak_rss_mb"] > 0
    assert str(m.counters["nvml.available"]).startswith("unavailable")
    assert m.throttled is False


def test_problem_is_seeded_and_device_independent():
    from harness.measure.problem import make_problem, prune

    p = point()
    a, b = make_problem(p), make_problem(p)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.x, b.x)
    h = make_problem(replace(p, dtype="float16"))
    assert torch.equal(h.weight, a.weight.half())
    pr = prune(a, p.prune)
    assert pr.nnz == 16 * 32 // 2 and pr.reference.dtype == torch.float64
    assert torch.equal(pr.weight, a.weight * pr.mask)


def test_real_torch_dense_on_cpu(monkeypatch):
    """The real dense backend measured briefly (no speed asserted)."""
    from harness.measure import roofline

    monkeypatch.setattr(roofline, "_peaks", {})
    monkeypatch.setattr(roofline, "measure_peak", lambda device: 1e10)  # a real copy is slow
    # no compute roof (a real matmul peak is slow): the bound is the bandwidth one
    monkeypatch.setattr(roofline, "measure_peak_flops", lambda device, dtype: float("inf"))
    threads = torch.get_num_threads()
    try:
        s = Settings(warmup=1, min_samples=3, rounds=3, max_time_s=0.5)
        m = Bench(s, device="cpu", threads=1).measure(point("torch", "dense", rate=0.0))
    finally:
        torch.set_num_threads(threads)
    assert m.status == "ok" and m.verified and m.stats.median > 0 and m.bandwidth_gbs > 0
    assert m.peak_fraction == pytest.approx(m.bandwidth_gbs * 1e9 / 1e10)


def _register(reg, name, clock, *, wrong_after=None, emulated=None):
    class Custom(Backend):
        def __init__(self) -> None:
            self.name, self.formats = name, frozenset({"csr"})
            self.devices = frozenset({"cpu"})
            self.dtypes = frozenset({"float32"})

        def prepare(self, operand, x):
            from harness.formats.base import get_format

            w = get_format(operand.format).decode(operand)
            calls = [0]

            def run():
                calls[0] += 1
                clock.t += 0.001
                out = w @ x
                return out * 2 if wrong_after is not None and calls[0] > wrong_after else out

            return Prepared(run=run, to_torch=lambda t: t, emulated=emulated)

    reg.register(name, Custom())


def test_a_kernel_right_at_first_and_wrong_later_is_invalid(world):
    clock, reg = world
    _register(reg, "flaky", clock, wrong_after=1)
    m = Bench(Settings(), device="cpu", clock=clock).measure(point("flaky"))
    assert m.status == "invalid" and m.speedup is None and not m.verified
    assert m.reason.startswith("wrong after timing")


def test_emulated_kernels_are_verified_but_never_timed(world):
    clock, reg = world
    _register(reg, "emu", clock, emulated="an emulator")
    m = Bench(Settings(), device="cpu", clock=clock).measure(point("emu"))
    assert m.status == "unsupported" and m.speedup is None and m.samples_s == ()
    assert m.verified and "an emulator" in m.reason and "timings mean nothing" in m.reason


def test_contended_groups_get_no_speedup_and_the_sink_sees_every_measurement(world):
    from harness.measure.contention import Load

    clock, _ = world

    class Busy:
        def snapshot(self):
            return None

        def load(self, before, after):
            return Load(wall_s=1.0, wait_s=1.0)

    seen = []
    bench = Bench(Settings(max_time_s=0.05), device="cpu", clock=clock, probe=Busy(),
                  sink=seen.append)
    ms = bench.measure_many([point("fast"), point("half"), point("boom")])
    assert [m.status for m in ms] == ["contended", "contended", "error"]
    assert all(m.speedup is None and m.samples_s for m in ms[:2])
    assert ms[0].counters["timer.disturbed_rounds"] == ms[0].counters["timer.total_rounds"] > 0
    assert seen == ms
    assert bench.baseline(point("fast")).status == "contended"  # not cached as a clean baseline
