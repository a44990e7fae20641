"""Contention: the rule, the /proc probe, discarded rounds, and a real CPU hog beside a Bench."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.measure.clock import CpuSampler
from harness.measure.contention import ContentionRule, Load, NullProbe, ProcProbe, default_probe
from harness.measure.timer import Policy, run_interleaved


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        return self.t


class ScriptedProbe:
    """Round i is disturbed when script[i] is True (cycled after its end)."""

    def __init__(self, script: list[bool]) -> None:
        self.script = script
        self.i = 0

    def snapshot(self):
        return None

    def load(self, before, after):
        bad = self.script[min(self.i, len(self.script) - 1)]
        self.i += 1
        return Load(wall_s=1.0, wait_s=0.9 if bad else 0.0)


def test_rule_flags_run_queue_wait_and_steal_only_beyond_their_limits():
    rule = ContentionRule()
    assert rule.disturbed(None) is None
    assert rule.disturbed(Load(wall_s=1.0, wait_s=0.05, steal_s=0.0, ncpu=2)) is None
    assert "waited" in rule.disturbed(Load(wall_s=1.0, wait_s=0.5, ncpu=2))
    assert "steal" in rule.disturbed(Load(wall_s=1.0, wait_s=0.0, steal_s=0.4, ncpu=2))
    assert rule.disturbed(Load(wall_s=1.0, wait_s=0.0, steal_s=0.04, ncpu=2)) is None


def test_rule_falls_back_to_cpu_time_without_schedstat():
    rule = ContentionRule()
    assert rule.disturbed(Load(wall_s=1.0, cpu_s=1.9), typical_cpu_ratio=2.0) is None
    assert "CPU time" in rule.disturbed(Load(wall_s=1.0, cpu_s=1.0), typical_cpu_ratio=2.0)
    # with schedstat readable, its answer stands (a single-threaded variant is not a loss)
    assert rule.disturbed(Load(wall_s=1.0, cpu_s=1.0, wait_s=0.0), typical_cpu_ratio=2.0) is None


def test_proc_probe_reads_schedstat_and_steal(tmp_path):
    for tid, wait in (("1", 10_000_000), ("2", 5_000_000)):
        (tmp_path / tid).mkdir()
        (tmp_path / tid / "schedstat").write_text(f"123 {wait} 4\n")
    stat = tmp_path / "stat"
    stat.write_text("cpu  10 0 10 100 0 0 0 7 0 0\ncpu0 1 2 3\n")
    probe = ProcProbe(str(tmp_path / "*" / "schedstat"), str(stat))
    before = probe.snapshot()
    (tmp_path / "1" / "schedstat").write_text("123 60000000 4\n")  # +50 ms of waiting
    (tmp_path / "3").mkdir()  # a thread started during the interval counts from zero
    (tmp_path / "3" / "schedstat").write_text("1 20000000 1\n")
    stat.write_text("cpu  10 0 10 100 0 0 0 27 0 0\n")  # +20 ticks of steal
    load = probe.load(before, probe.snapshot())
    assert load.wait_s == pytest.approx(0.07)
    assert load.steal_s == pytest.approx(20 * probe.tick_s)


def test_proc_probe_without_proc_files_reads_only_cpu_time(tmp_path):
    probe = ProcProbe(str(tmp_path / "none" / "*"), str(tmp_path / "nostat"))
    load = probe.load(probe.snapshot(), probe.snapshot())
    assert load.wait_s is None and load.steal_s is None and load.cpu_s is not None


def test_default_probe_is_off_by_environment_and_on_cpu_only(monkeypatch):
    monkeypatch.delenv("HARNESS_CONTENTION", raising=False)
    assert isinstance(default_probe("cpu"), ProcProbe)
    assert isinstance(default_probe("cuda:0"), NullProbe)
    monkeypatch.setenv("HARNESS_CONTENTION", "off")
    assert isinstance(default_probe("cpu"), NullProbe)


def _timed(script, *, rounds=3, max_time_s=1e9):
    clock = FakeClock()

    def fn():
        clock.t += 0.01

    pol = Policy(min_time_s=0.0, warmup=0, min_samples=3, rounds=rounds, target_rel_noise=0.5,
                 max_time_s=max_time_s)
    return run_interleaved({"a": fn, "b": fn}, pol, CpuSampler(clock), clock,
                           probe=ScriptedProbe(script)), pol


def test_disturbed_rounds_are_discarded_and_retimed():
    res, pol = _timed([False, True, True, False, False])
    assert res.n_rounds == 3 and len(res.disturbed) == 2 and res.total_rounds == 5
    assert len(res.samples["a"]) == 3 and len(res.discarded["a"]) == 2
    assert res.rounds_of["a"] == [0, 1, 2]  # clean rounds, renumbered: ratios still pair
    assert res.contended(pol) is None  # 2 of 5 disturbed, enough clean rounds


def test_a_measurement_that_stays_disturbed_is_contended():
    res, pol = _timed([True], max_time_s=0.2)
    assert res.n_rounds == 0 and res.stopped == "max_time"
    assert res.contended(pol).startswith("contended: ")
    res, pol = _timed([True, False] * 10, rounds=3)  # enough clean rounds, but half disturbed…
    assert res.contended(pol) is None  # …is at the limit (0.5), not above it
    res, pol = _timed([True, True, False] * 10, rounds=3)
    assert res.n_rounds >= 3 and "contended" in res.contended(pol)


def _hogs(n: int, seconds: float = 60.0) -> list[subprocess.Popen]:
    code = f"import time\nt = time.time()\nwhile time.time() - t < {seconds}: pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.timeout(120)
def test_a_cpu_hog_beside_a_bench_is_detected_never_stored_clean(monkeypatch):
    """A busy-looping process per core competes with a real 2-thread Bench: its rounds must be
    flagged (discarded and re-timed, or the measurement stored as contended)."""
    import os

    import torch
    from fake_peaks import fake_peaks

    from harness.core.point import Point, PruneSpec
    from harness.measure.runner import Bench

    fake_peaks(monkeypatch)  # no real copy or matmul beside the hogs
    threads = torch.get_num_threads()

    class S:
        warmup, min_samples, min_time_s, max_time_s = 1, 6, 0.0, 1.0
        target_rel_noise, rounds, mode, verify, counters = 0.05, 3, "hot", True, ()

    p = Point(512, 512, 64, format="csr", backend="torch_sparse",
              prune=PruneSpec("unstructured", 0.9))
    hogs = _hogs(os.cpu_count() or 2)
    try:
        time.sleep(0.3)  # let the scheduler spread them
        m = Bench(S(), device="cpu", threads=2, probe=ProcProbe()).measure(p)
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()
        torch.set_num_threads(threads)
    disturbed = m.counters.get("timer.disturbed_rounds", 0)
    assert m.status in ("ok", "contended")
    assert m.counters["timer.probe"] == "ProcProbe"
    assert disturbed > 0, "a CPU hog on every core went unnoticed"
    if m.status == "ok":  # clean rounds were found between the disturbed ones
        assert m.counters["timer.total_rounds"] > m.counters["timer.rounds"]
    else:
        assert m.speedup is None and "rounds disturbed" in m.reason
