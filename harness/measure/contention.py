"""Contention: was this process kept off the CPU while it was being timed?

Interleaving cancels drift that slows every call alike, not a stall of some calls: another
process that takes a core from one of our threads for 20 ms turns a 1 ms call into a 24 ms one
(an OpenMP barrier waits for the preempted thread). So every interleaved round is judged by what
the operating system says happened during it, and a disturbed round is discarded and re-timed.

What a probe reads over a round (Linux; every part optional):

* `wait_s` — the time our threads were runnable but waiting for a CPU (the run-queue delay,
  second field of `/proc/self/task/*/schedstat`, nanoseconds). This is the direct signal: another
  process (a busy loop, a compiler, a test run) competing for our cores shows up here at once,
  whatever our thread count. Measured on the 2-core development VM with 2 MKL threads: ≤ 0.03 s
  of wait per second of wall time when quiet, 1.0–1.4 with one busy-looping process beside it
  (and the calls 3× slower).
* `steal_s` — steal time of the whole machine (`/proc/stat`, in clock ticks): the hypervisor ran
  another guest on our virtual CPUs. Coarse (10 ms ticks), so it only flags large steal.
* `cpu_s` — this process's CPU time. Where schedstat is unreadable it is the fallback: a round
  whose CPU time per wall second falls well below the typical round's lost CPUs to someone.

Memory-bandwidth or cache contention from a co-tenant of the host is invisible to the guest:
no probe removes it (see benchmarks/results/repeatability_cpu.json).
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from typing import Any, Protocol

from harness.core import counter_keys as ck

SCHEDSTAT_GLOB = "/proc/self/task/*/schedstat"
PROC_STAT = "/proc/stat"


@dataclass(frozen=True)
class Load:
    """What happened during one interval, as far as the OS tells (None: not readable)."""

    wall_s: float
    cpu_s: float | None = None
    wait_s: float | None = None
    steal_s: float | None = None
    ncpu: int = 1


@dataclass(frozen=True)
class ContentionRule:
    """When a round counts as disturbed, and when a measurement counts as contended.

    max_wait        run-queue wait of our threads per second of wall time (summed over threads)
    max_steal       steal time per second of wall time and CPU
    min_cpu_ratio   fallback without schedstat: a round's CPU time per wall second against the
                    median round's
    max_disturbed_share   a measurement with more disturbed rounds than this share (or fewer
                    clean rounds than the policy's minimum) is stored as 'contended'
    """

    max_wait: float = 0.10
    max_steal: float = 0.05
    min_cpu_ratio: float = 0.7
    max_disturbed_share: float = 0.5

    def disturbed(self, load: Load | None, typical_cpu_ratio: float | None = None) -> str | None:
        """The reason a round is disturbed, or None (also when nothing could be read)."""
        if load is None or load.wall_s <= 0:
            return None
        if load.wait_s is not None and load.wait_s / load.wall_s > self.max_wait:
            return (f"threads waited {load.wait_s / load.wall_s:.2f} s per s for a CPU "
                    f"(limit {self.max_wait:g})")
        if load.steal_s is not None and load.steal_s / (load.wall_s * load.ncpu) > self.max_steal:
            return (f"steal {load.steal_s / (load.wall_s * load.ncpu):.0%} of the CPUs "
                    f"(limit {self.max_steal:.0%})")
        if (load.wait_s is None and load.cpu_s is not None and typical_cpu_ratio
                and load.cpu_s / load.wall_s < self.min_cpu_ratio * typical_cpu_ratio):
            return (f"CPU time {load.cpu_s / load.wall_s:.2f} s per s against a typical "
                    f"{typical_cpu_ratio:.2f}")
        return None


class Probe(Protocol):
    def snapshot(self) -> Any: ...

    def load(self, before: Any, after: Any) -> Load | None: ...


class NullProbe:
    """Reads nothing: every round is clean (fake clocks in tests, devices judged otherwise)."""

    def snapshot(self) -> Any:
        return None

    def load(self, before: Any, after: Any) -> Load | None:
        return None


def _read_waits(pattern: str) -> dict[str, int] | None:
    out: dict[str, int] = {}
    for path in glob.glob(pattern):
        try:
            with open(path) as f:
                out[path] = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended between glob and open
    return out or None


def _read_steal(path: str) -> int | None:
    try:
        with open(path) as f:
            fields = f.readline().split()
        return int(fields[8]) if fields and fields[0] == "cpu" and len(fields) > 8 else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Snap:
    wall_s: float
    cpu_s: float
    waits: dict[str, int] | None
    steal: int | None


class ProcProbe:
    """Linux /proc readings of this process and machine (anything unreadable is left out)."""

    def __init__(self, schedstat_glob: str = SCHEDSTAT_GLOB, proc_stat: str = PROC_STAT) -> None:
        self.schedstat_glob = schedstat_glob
        self.proc_stat = proc_stat
        self.ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        try:
            self.tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
        except (ValueError, OSError, AttributeError):
            self.tick_s = 0.01

    def snapshot(self) -> _Snap:
        return _Snap(time.perf_counter(), time.process_time(), _read_waits(self.schedstat_glob),
                     _read_steal(self.proc_stat))

    def load(self, before: _Snap, after: _Snap) -> Load:
        wait = None
        if before.waits is not None and after.waits is not None:
            # threads started during the interval count from zero; ended ones drop out
            wait = sum(max(0, v - before.waits.get(k, 0)) for k, v in after.waits.items()) * 1e-9
        steal = None
        if before.steal is not None and after.steal is not None:
            steal = max(0, after.steal - before.steal) * self.tick_s
        return Load(wall_s=after.wall_s - before.wall_s, cpu_s=after.cpu_s - before.cpu_s,
                    wait_s=wait, steal_s=steal, ncpu=self.ncpu)


OFF_ENV = "HARNESS_CONTENTION"  # "off": no probe (tests of other mechanics on a busy machine)


def default_probe(device: str) -> Probe:
    """CPU timings are judged by the OS's view of this process; CUDA samples are GPU event times,
    which a host-side wait does not lengthen, so only the CPU gets a probe. `HARNESS_CONTENTION=off`
    turns it off (the test suite does, except in the tests of contention itself); every
    measurement records which probe judged it (counter `timer.probe`)."""
    if os.environ.get(OFF_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return NullProbe()
    return ProcProbe() if device.split(":", 1)[0] == "cpu" else NullProbe()


def contended_note(measurements: Any) -> str | None:
    """One line for the terminal when some measurements were contended (None otherwise)."""
    bad = [m for m in measurements if getattr(m, "status", None) == "contended"]
    if not bad:
        return None
    disturbed = sum(ck.disturbed_rounds(m.counters)[0] for m in bad)
    return (f"note: {len(bad)} measurement(s) contended — {disturbed} rounds disturbed "
            f"({bad[-1].reason.removeprefix('contended: ')}); stored without a speedup and "
            "never reused: measure them again on a quieter machine")
