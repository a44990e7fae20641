"""Verification tolerances, provenance and roofline figures."""

from __future__ import annotations

import math

import pytest
import torch

from harness.core.point import Point, PruneSpec
from harness.measure import roofline, verify
from harness.measure.provenance import collect


def test_rel_error_and_tolerances():
    ref = torch.ones(4, 3, dtype=torch.float64)
    assert verify.rel_error(ref.float(), ref) == 0.0
    assert verify.rel_error(ref * 1.01, ref) == pytest.approx(0.01)
    bad = ref.clone()
    bad[0, 0] = math.nan
    err = verify.rel_error(bad, ref)
    assert not verify.passes(err, "float32")
    assert verify.rel_error(torch.ones(3, 4), ref) == math.inf
    assert verify.passes(5e-5, "float32") and not verify.passes(5e-4, "float32")
    assert verify.passes(5e-3, "float16") and not verify.passes(2e-2, "float16")
    assert verify.passes(2e-2, "bfloat16") and not verify.passes(1e-9, "float64")
    assert verify.rel_error(torch.zeros(2, 2), torch.zeros(2, 2, dtype=torch.float64)) == 0.0


def test_an_output_left_unwritten_after_poison_fails_verification():
    """poison leaves a NaN block where the output will be allocated; whatever a kernel leaves
    unwritten there must fail the check (NaN never passes a tolerance)."""
    ref = torch.ones(4, 4, dtype=torch.float64)
    verify.poison((4, 4), torch.float32, "cpu")
    unwritten = torch.full((4, 4), float("nan"))
    err = verify.rel_error(unwritten, ref)
    assert not verify.passes(err, "float32", "cpu")
    assert verify.passes(verify.rel_error(ref.float(), ref), "float32", "cpu")


def test_provenance_fields_and_cache():
    import harness

    info = collect("cpu", 2, 7)
    for key in ("device_name", "torch_version", "harness_version", "schema_version", "git_sha",
                "hostname", "python", "numpy_version"):
        assert key in info
    assert info["seed"] == 7 and info["threads"] == 2
    assert info["schema_version"] == harness.SCHEMA_VERSION
    info["seed"] = 99
    assert collect("cpu", 2, 7)["seed"] == 7  # callers may not corrupt the cache


def test_roofline_bytes_and_flops():
    p = Point(8, 16, 4, format="csr", prune=PruneSpec("unstructured", 0.5))
    r = roofline.roofline(p, {"values": 256, "indices": 256, "pointers": 36}, 64, 1e-6, 2e9)
    assert r["bytes"] == {"values": 256, "indices": 256, "pointers": 36,
                          "activations": 16 * 4 * 4, "output": 8 * 4 * 4}
    assert r["flops"] == 2 * 64 * 4
    total = 256 + 256 + 36 + 256 + 128
    assert r["bandwidth_gbs"] == pytest.approx(total / 1e-6 / 1e9)
    assert r["peak_fraction"] == pytest.approx(total / 1e-6 / 2e9)
    assert roofline.flops(p.baseline(), 64) == 2 * 8 * 16 * 4


def test_peak_is_measured_once_and_stored(monkeypatch):
    calls = []
    monkeypatch.setattr(roofline, "_peaks", {})
    monkeypatch.setattr(roofline, "measure_peak", lambda device: calls.append(device) or 5e9)

    class Store:
        def __init__(self):
            self.peaks = {}

        def get_peak(self, key):
            return self.peaks.get(key)

        def set_peak(self, key, bps, method):
            self.peaks[key] = bps

    st = Store()
    assert roofline.peak_bandwidth("cpu", 1, st) == 5e9
    assert roofline.peak_bandwidth("cpu", 1, st) == 5e9
    assert calls == ["cpu"] and list(st.peaks.values()) == [5e9]
    assert next(iter(st.peaks)).startswith("cpu:")


def test_measure_peak_small_copy_is_positive():
    assert roofline.measure_peak("cpu", nbytes=1 << 20, reps=2) > 0


def test_measure_peak_is_the_best_sample_of_the_measurement_sampler(monkeypatch):
    from harness.measure import clock

    times = iter([4e-3, 2e-3, 3e-3])

    class Fake:
        def sample(self, fn):
            fn()
            return next(times)

        def sync(self):
            pass

    made = []
    monkeypatch.setattr(clock, "make_sampler", lambda device, hot: made.append(hot) or Fake())
    bps = roofline.measure_peak("cpu", nbytes=1 << 20, reps=3)
    assert made == [True]  # hot: the copy itself is what evicts the caches
    assert bps == pytest.approx(2 * (1 << 20) / 2e-3)


def test_roofline_bound_is_the_slower_of_memory_and_compute():
    p = Point(8, 16, 4, format="csr", prune=PruneSpec("unstructured", 0.5))
    nbytes = {"values": 256, "indices": 256, "pointers": 36}
    total = 256 + 256 + 36 + 256 + 128
    work = 2 * 64 * 4
    # compute-bound: 512 FLOP at 1e8 FLOP/s = 5.12 µs > 1204 B at 2e9 B/s = 0.602 µs
    r = roofline.roofline(p, nbytes, 64, 1e-5, 2e9, 1e8)
    assert r["limit"] == "compute"
    assert r["bound_s"] == pytest.approx(work / 1e8)
    assert r["peak_fraction"] == pytest.approx(work / 1e8 / 1e-5)
    assert r["bandwidth_gbs"] == pytest.approx(total / 1e-5 / 1e9)  # still reported
    # memory-bound with a fast compute roof
    r = roofline.roofline(p, nbytes, 64, 1e-5, 2e9, 1e15)
    assert r["limit"] == "memory" and r["bound_s"] == pytest.approx(total / 2e9)
    # no peaks at all (fake clocks): no bound, no fraction
    r = roofline.roofline(p, nbytes, 64, 1e-5, None, None)
    assert r["bound_s"] is None and r["peak_fraction"] is None and r["limit"] is None
    # only the compute roof known
    r = roofline.roofline(p, nbytes, 64, 1e-5, None, 1e8)
    assert r["limit"] == "compute" and r["peak_fraction"] == pytest.approx(work / 1e8 / 1e-5)


def test_peak_flops_measured_once_per_dtype_and_stored(monkeypatch):
    calls = []
    monkeypatch.setattr(roofline, "_peaks", {})
    monkeypatch.setattr(roofline, "measure_peak_flops",
                        lambda device, dtype: calls.append(dtype) or {"float32": 1e11,
                                                                      "float64": 5e10}[dtype])

    class Store:
        def __init__(self):
            self.peaks = {}

        def get_peak(self, key):
            return self.peaks.get(key)

        def set_peak(self, key, value, method):
            self.peaks[key] = value

    st = Store()
    for _ in range(2):
        assert roofline.peak_flops("cpu", "float32", 1, st) == 1e11
        assert roofline.peak_flops("cpu", "float64", 1, st) == 5e10
    assert calls == ["float32", "float64"]
    assert sorted(st.peaks.values()) == [5e10, 1e11]
    assert all(":flops:" in key for key in st.peaks)
    monkeypatch.setattr(roofline, "_peaks", {})  # a new process: the store answers
    assert roofline.peak_flops("cpu", "float64", 1, st) == 5e10 and len(calls) == 2


def test_measure_peak_flops_grows_the_product_until_a_call_is_long(monkeypatch):
    from harness.measure import clock

    sizes = []

    class Fake:
        def sample(self, fn):
            n = fn().shape[0]
            sizes.append(n)
            return (n / 1024) ** 3 * 0.02  # 1024³ takes 20 ms

        def sync(self):
            pass

    monkeypatch.setattr(clock, "make_sampler", lambda device, hot: Fake())
    fps = roofline.measure_peak_flops("cpu", "float32", reps=3)
    assert sizes == [256, 512, 1024, 1024, 1024]
    assert fps == pytest.approx(2 * 1024 ** 3 / 0.02)


def test_measure_peak_flops_real_small_product_is_positive():
    assert roofline.measure_peak_flops("cpu", "float32", size=128, reps=2) > 0


def test_bench_reports_the_roofline_bound_and_fraction(monkeypatch):
    """A real (briefly timed) measurement: peak_fraction is bound / median, the bound and the
    peaks are in the counters."""
    from fake_peaks import QuickSettings as Settings
    from fake_peaks import fake_peaks

    from harness.measure.runner import Bench

    fake_peaks(monkeypatch, bandwidth=1e10, flops=1e9)

    threads = torch.get_num_threads()
    try:
        point = Point(64, 64, 8, format="csr", backend="torch_sparse",
                      prune=PruneSpec("unstructured", 0.5))
        m = Bench(Settings(), device="cpu", threads=1).measure(point)
    finally:
        torch.set_num_threads(threads)
    assert m.status == "ok", m.reason
    c = m.counters
    bound = max(sum(m.bytes.values()) / 1e10, m.flops / 1e9)
    assert c["roofline.bound_s"] == pytest.approx(bound)
    assert c["roofline.limit"] == ("compute" if m.flops / 1e9 > sum(m.bytes.values()) / 1e10
                                   else "memory")
    assert c["roofline.peak_gbs"] == pytest.approx(10.0)
    assert c["roofline.peak_gflops"] == pytest.approx(1.0)
    assert m.peak_fraction == pytest.approx(bound / m.stats.median)
