"""CPU counters: current frequency, process peak RSS, RAPL package energy where readable.

Keys: cpu.freq_mhz (mean over cores, from /sys cpufreq or /proc/cpuinfo), cpu.peak_rss_mb
(`resource.getrusage`, ru_maxrss is KiB on Linux), cpu.energy_j (RAPL delta over the timed
region, summed over packages, wrap-around handled with max_energy_range_uj), and
cpu.energy_j_per_call from the separate energy phase (`energy`). Without readable RAPL files the
energy keys are replaced by cpu.rapl = "unavailable: <reason>".
"""

from __future__ import annotations

import glob
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from harness.core import counter_keys as ck
from harness.counters.base import Counter

RAPL_GLOB = "/sys/class/powercap/intel-rapl:*/energy_uj"
ENERGY_MIN_S = 1.0


def freq_mhz() -> float | None:
    """Mean current frequency over cores, or None when the OS does not expose it."""
    vals: list[float] = []
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq"):
        try:
            with open(path) as f:
                vals.append(int(f.read().strip()) / 1000.0)  # kHz → MHz
        except (OSError, ValueError):
            continue
    if not vals:
        try:
            with open("/proc/cpuinfo") as f:
                vals = [float(line.split(":", 1)[1]) for line in f if line.startswith("cpu MHz")]
        except (OSError, ValueError):
            return None
    return sum(vals) / len(vals) if vals else None


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def rapl_domains(pattern: str = RAPL_GLOB) -> tuple[list[str], str | None]:
    """Readable package-level RAPL energy files (sub-domains would double count), or a reason."""
    files = [p for p in sorted(glob.glob(pattern)) if p.count("intel-rapl:") == 1
             and os.path.basename(os.path.dirname(p)).count(":") == 1]
    if not files:
        return [], "unavailable: no RAPL powercap files (/sys/class/powercap/intel-rapl:*)"
    readable = [p for p in files if os.access(p, os.R_OK)]
    if not readable:
        return [], "unavailable: RAPL energy files not readable (needs root)"
    return readable, None


def _read_uj(path: str) -> int:
    with open(path) as f:
        return int(f.read().strip())


def _max_uj(path: str) -> int:
    try:
        return _read_uj(os.path.join(os.path.dirname(path), "max_energy_range_uj"))
    except (OSError, ValueError):
        return 2**32


class RaplReader:
    def __init__(self, pattern: str = RAPL_GLOB) -> None:
        self.files, self.reason = rapl_domains(pattern)

    def read(self) -> list[int]:
        return [_read_uj(p) for p in self.files]

    def joules(self, before: list[int], after: list[int]) -> float:
        total = 0
        for p, a, b in zip(self.files, before, after, strict=True):
            total += b - a if b >= a else b + _max_uj(p) - a
        return total * 1e-6


class CpuCounter(Counter):
    name = "cpu"

    def __init__(self, rapl_glob: str = RAPL_GLOB) -> None:
        self.rapl = RaplReader(rapl_glob)
        self._e0: list[int] | None = None

    def available(self, device: str = "cpu") -> str | None:
        return None  # frequency and RSS are always there; RAPL reports its own reason

    def start(self, device: str) -> None:
        self._e0 = self._safe_read()

    def _safe_read(self) -> list[int] | None:
        if self.rapl.reason:
            return None
        try:
            return self.rapl.read()
        except (OSError, ValueError):
            return None

    def stop(self) -> dict[str, float | int | str | bool]:
        out: dict[str, float | int | str | bool] = {ck.CPU_PEAK_RSS_MB: round(peak_rss_mb(), 1)}
        f = freq_mhz()
        out[ck.CPU_FREQ_MHZ] = (round(f, 1) if f is not None
                                else "unavailable: no cpufreq or cpuinfo")
        e1 = self._safe_read()
        if self._e0 is not None and e1 is not None:
            out[ck.CPU_ENERGY_J] = self.rapl.joules(self._e0, e1)
        else:
            out[ck.CPU_RAPL] = self.rapl.reason or "unavailable: RAPL read failed"
        return out

    def energy(self, run: Callable[[], Any], sync: Callable[[], None], device: str,
               min_s: float = ENERGY_MIN_S) -> dict[str, float | int | str | bool]:
        """Package energy per call over ≥ min_s of back-to-back calls (separate phase)."""
        e0 = self._safe_read()
        if e0 is None:
            return {ck.CPU_RAPL: self.rapl.reason or "unavailable: RAPL read failed"}
        calls, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_s:
            run()
            calls += 1
        sync()
        e1 = self._safe_read()
        if e1 is None:
            return {ck.CPU_RAPL: "unavailable: RAPL read failed"}
        joules = self.rapl.joules(e0, e1)
        return {ck.CPU_ENERGY_J_PER_CALL: joules / calls, ck.CPU_ENERGY_CALLS: calls,
                ck.CPU_ENERGY_PHASE_S: time.perf_counter() - t0}
