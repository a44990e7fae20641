"""What a user could pick instead of pruning: the same dense product in a cheaper dtype.

On many CPUs and every recent GPU a lower-precision dense product is several times faster than
fp32 (bf16 is ~3.8× fp32 on an AVX-512/AMX Xeon), often more than a sparse kernel gains at
90 %. So each problem is also timed, once per Bench and in the same interleaved rounds as its
dense baseline, as a dense product in every lower-precision dtype the device offers; one that
passes its own dtype's verification against the float64 reference counts. The fastest one is
stored with every measurement of the problem, so the terminal and the report can show a
variant's speedup against the same-dtype dense and against the fastest dense.

TF32 (fp32 storage, tensor-core math on CUDA) is not among them yet: it is a math mode, not a
storage dtype, and the dense backend has no switch for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.core import counter_keys as ck
from harness.core.dtypes import canonical, itemsize

if TYPE_CHECKING:
    from harness.core.point import Point

# lower-precision dense dtypes worth trying, per device kind (registry: add a device here)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "cpu": ("float32", "bfloat16"),  # CPU fp16 GEMM has no fast path on most machines
    "cuda": ("float32", "bfloat16", "float16"),
}

PREFIX, FASTEST, FASTEST_SPEEDUP = ck.DENSE_ALT_PREFIX, ck.DENSE_ALT_FASTEST, \
    ck.DENSE_ALT_FASTEST_SPEEDUP


def candidates(point: Point) -> list[Point]:
    """Dense baselines of `point`'s problem in each cheaper dtype the device offers."""
    kind = point.device.split(":")[0]
    base = point.baseline()
    own = itemsize(base.dtype)
    return [replace(base, dtype=d) for d in CANDIDATES.get(kind, ())
            if d != canonical(base.dtype) and itemsize(d) < own]


def summary(speedups: Mapping[str, float | None]) -> dict[str, Any]:
    """Counters stored with every measurement of the problem, from each candidate dtype's
    speedup over the same-dtype dense (None: it could not run or failed verification)."""
    out: dict[str, Any] = {ck.dense_alt_speedup(d): s for d, s in speedups.items()}
    ran = {d: s for d, s in speedups.items() if s is not None}
    if ran:
        best = max(ran, key=lambda d: ran[d])
        if ran[best] > 1.0:
            out[FASTEST], out[FASTEST_SPEEDUP] = best, ran[best]
    return out


def against_fastest(speedup: float | None, counters: Mapping[str, Any]) -> float | None:
    """A variant's speedup over the fastest dense dtype (its own speedup when its own dtype is
    the fastest dense; None when it has no speedup or no cheaper dtype was timed with it)."""
    if speedup is None or not any(k.startswith(PREFIX) for k in counters):
        return None
    fastest = counters.get(FASTEST_SPEEDUP)
    return speedup / float(fastest) if fastest else speedup
