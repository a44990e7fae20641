"""The keys of a measurement's counters, as they are stored (`Measurement.counters`).

Every module that writes or reads a counter names it through these constants, so a key cannot be
spelled two ways. The values are the stored form: renaming one breaks every stored database,
so a rename needs a migration. Keys are prefixed by who writes them: `timer.` (the measurement
core), `nvml.` and `cpu.` (the counters), `numba.` (the bundled CPU kernels),
`roofline.` and `dense_alt.` (the runner).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# --- timer: how the samples were taken (harness.measure.runner)
TIMER_MODE = "timer.mode"  # "cold" (cache flushed before each sample) | "hot"
TIMER_FLUSH_BYTES = "timer.flush_bytes"
TIMER_PROBE = "timer.probe"  # the contention probe that judged the rounds (absent: none did)
TIMER_TOTAL_ROUNDS = "timer.total_rounds"  # clean + disturbed
TIMER_DISTURBED_ROUNDS = "timer.disturbed_rounds"
TIMER_DISTURBED = "timer.disturbed"  # the first few disturbed rounds' reasons
TIMER_DISCARDED_SAMPLES = "timer.discarded_samples"
TIMER_BLOCK = "timer.block"  # calls per sample
TIMER_ROUNDS = "timer.rounds"  # clean rounds
TIMER_STOPPED = "timer.stopped"  # "converged" | "max_time"
TIMER_TIMED_S = "timer.timed_s"
TIMER_WALL_S = "timer.wall_s"
TIMER_SETUP_S = "timer.setup_s"
TIMER_SAMPLES_PER_ROUND = "timer.samples_per_round"
TIMER_BASELINE_MEDIAN_S = "timer.baseline_median_s"  # the dense baseline's median in this group
TIMER_BASELINE_DRIFT = "timer.baseline_drift"  # against the problem's first baseline

# --- roofline: the measurement's bound (harness.measure.roofline, stored by the runner)
ROOFLINE_BOUND_S = "roofline.bound_s"
ROOFLINE_LIMIT = "roofline.limit"  # which peak bounds it: bandwidth or FLOP/s
ROOFLINE_PEAK_GBS = "roofline.peak_gbs"
ROOFLINE_PEAK_GFLOPS = "roofline.peak_gflops"

# --- dense_alt: the dense product in the device's cheaper dtypes (harness.measure.alternatives)
DENSE_ALT_PREFIX = "dense_alt."
DENSE_ALT_FASTEST = "dense_alt.fastest"  # the fastest verified cheaper dtype (absent: none won)
DENSE_ALT_FASTEST_SPEEDUP = "dense_alt.fastest_speedup"  # over the same-dtype dense


def dense_alt_speedup(dtype: str) -> str:
    """The key of one cheaper dtype's dense speedup over the same-dtype dense."""
    return f"{DENSE_ALT_PREFIX}{dtype}.speedup"


# --- nvml: the GPU counter (harness.counters.nvml)
NVML_AVAILABLE = "nvml.available"  # why NVML could not be read
NVML_POWER_W = "nvml.power_w"
NVML_POWER_KIND = "nvml.power_kind"
NVML_SM_CLOCK_MHZ = "nvml.sm_clock_mhz"
NVML_MEM_CLOCK_MHZ = "nvml.mem_clock_mhz"
NVML_TEMPERATURE_C = "nvml.temperature_c"
NVML_CLOCK_EVENT_REASONS = "nvml.clock_event_reasons"
NVML_THROTTLED = "nvml.throttled"
NVML_UTIL_GPU_PCT = "nvml.util_gpu_pct"
NVML_UTIL_MEM_PCT = "nvml.util_mem_pct"
NVML_MEM_USED_MIB = "nvml.mem_used_mib"
NVML_ENERGY = "nvml.energy"  # why energy could not be measured
NVML_IDLE_POWER_W = "nvml.idle_power_w"
NVML_ENERGY_J_PER_CALL = "nvml.energy_j_per_call"
NVML_ENERGY_CALLS = "nvml.energy_calls"
NVML_ENERGY_PHASE_S = "nvml.energy_phase_s"
NVML_ENERGY_PHASE_REASONS = "nvml.energy_phase.clock_event_reasons"
NVML_ENERGY_PHASE_THROTTLED = "nvml.energy_phase.throttled"
NVML_ENERGY_PHASE_MIN_SM_CLOCK_MHZ = "nvml.energy_phase.min_sm_clock_mhz"

# --- cpu: the CPU counter (harness.counters.cpu)
CPU_PEAK_RSS_MB = "cpu.peak_rss_mb"
CPU_FREQ_MHZ = "cpu.freq_mhz"
CPU_ENERGY_J = "cpu.energy_j"
CPU_RAPL = "cpu.rapl"  # why RAPL could not be read
CPU_ENERGY_J_PER_CALL = "cpu.energy_j_per_call"
CPU_ENERGY_CALLS = "cpu.energy_calls"
CPU_ENERGY_PHASE_S = "cpu.energy_phase_s"

# --- numba: the bundled CPU kernels (harness.kernels.cpu, harness.backends.numba_cpu)
NUMBA_COMPILE_S = "numba.compile_s"  # first-call compile (or cache load) time
NUMBA_CACHE_HIT = "numba.cache_hit"
NUMBA_CONFIG = "numba.config"
NUMBA_THREADS = "numba.threads"
NUMBA_TUNED_FROM_CACHE = "numba.tuned_from_cache"

THROTTLED_SUFFIX = ".throttled"  # any counter's "measured while throttled" flag ends so


def disturbed_rounds(counters: Mapping[str, Any] | None) -> tuple[int, int]:
    """(disturbed, total) rounds a measurement's counters record; (0, 0) when not recorded."""
    c = counters or {}
    return int(c.get(TIMER_DISTURBED_ROUNDS) or 0), int(c.get(TIMER_TOTAL_ROUNDS) or 0)
