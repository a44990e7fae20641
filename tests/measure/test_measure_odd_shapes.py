"""Every CPU backend measures odd and tiny problems without an error: N = 1, K not a multiple
of g, M < 64, calls of a few microseconds (timed in blocks)."""

from __future__ import annotations

import pytest
import torch

from harness.backends.base import all_backends
from harness.core.point import Point, PruneSpec
from harness.measure.runner import Bench

SHAPES = [(100, 250, 1), (37, 70, 3), (5, 9, 1)]


class Quick:
    warmup, min_samples, min_time_s, max_time_s = 1, 4, 0.0, 0.05
    target_rel_noise, rounds, mode, verify, counters = 0.5, 2, "hot", True, ()


def _spec(fmt: str) -> PruneSpec:
    if fmt in ("bsr", "blocked_ell"):
        return PruneSpec("block", 0.5, block=(4, 4))
    if fmt == "semi_structured":
        return PruneSpec("nm", 0.5, nm=(2, 4))
    return PruneSpec("row_group", 0.5, 4)  # K = 250, 70, 9: not multiples of g = 4


def _cases():
    registry = all_backends()
    for name in registry.names():
        backend = registry.get(name)
        if "cpu" not in backend.devices:
            continue
        for fmt in sorted(backend.formats):
            yield name, fmt


@pytest.fixture(autouse=True)
def _no_peak(monkeypatch):
    from fake_peaks import fake_peaks

    fake_peaks(monkeypatch)
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize(("backend", "fmt"), list(_cases()))
def test_odd_and_microsecond_problems_measure_without_errors(backend, fmt):
    bench = Bench(Quick(), device="cpu", threads=1)
    points = [Point(m, k, n, format=fmt, backend=backend, prune=_spec(fmt))
              for m, k, n in SHAPES]
    for m in bench.measure_many(points):
        assert m.status in ("ok", "unsupported"), (m.point.label(), m.status, m.reason)
        if m.status == "ok":
            assert m.verified and m.speedup is not None and m.speedup > 0
            assert m.counters["timer.block"] >= 1 and all(x > 0 for x in m.samples_s)
