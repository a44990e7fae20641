"""Device peaks fixed for tests that run a real Bench: no 128 MiB copy and no large matmul
(the real measurements are tested on their own in tests/measure/test_measure_verify_roofline.py)."""

from __future__ import annotations

from typing import Any


def fake_peaks(monkeypatch: Any, *, bandwidth: float = 1e10, flops: float = 1e10) -> None:
    from harness.measure import roofline

    monkeypatch.setattr(roofline, "_peaks", {})
    monkeypatch.setattr(roofline, "measure_peak", lambda *a, **k: bandwidth)
    monkeypatch.setattr(roofline, "measure_peak_flops", lambda *a, **k: flops)


class QuickSettings:
    """MeasureSettings' fields for a short real measurement (hot, three rounds)."""

    warmup, min_samples, min_time_s, max_time_s = 1, 3, 0.0, 0.5
    target_rel_noise, rounds, mode, verify, counters = 0.5, 3, "hot", True, ()
