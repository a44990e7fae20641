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


def test_poison_does_not_raise_on_cpu():
    verify.poison((4, 4), torch.float32, "cpu")


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
