"""Re-measure points in a fresh Python process (asv measures in several processes too).

Some run-to-run noise lives in the process, not in the machine: where the allocator placed a
problem's tensors, what the library cached. It persists for the whole run, so a re-measurement
in the same process repeats it (seen here: COO and BSR kernels of 0.1-1 ms on CPU shifted by
12-25 % between unchanged runs, and stayed there when re-measured in-process). A real slowdown
persists in a new process; process-bound noise does not.

Protocol: the parent writes {"suite", "device", "points": [Point.as_dict()]} to the child's
stdin; the child prints one JSON line per measurement (point, status, reason, samples, the
median of the dense baseline timed in the same rounds).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from harness.core import counter_keys as ck
from harness.core.measurement import Measurement
from harness.core.point import Point

DENSE_KEY = ck.TIMER_BASELINE_MEDIAN_S


def remeasure(suite_path: str, device: str, points: Sequence[Point],
              timeout_s: float = 900) -> list[Measurement]:
    request = json.dumps({"suite": suite_path, "device": device,
                          "points": [p.as_dict() for p in points]})
    out = subprocess.run([sys.executable, "-m", "harness.regress.fresh"], input=request,
                         capture_output=True, text=True, timeout=timeout_s, check=False)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"re-measurement in a fresh process failed: {tail}")
    return [_decode(json.loads(line)) for line in out.stdout.splitlines() if line.strip()]


def _decode(d: dict[str, Any]) -> Measurement:
    counters = {DENSE_KEY: d["dense_median"]} if d.get("dense_median") else {}
    return Measurement(Point.from_dict(d["point"]), d["status"], reason=d.get("reason", ""),
                       samples_s=tuple(d["samples"]), counters=counters)


def measure_here(suite_path: str, device: str, points: Sequence[Point]) -> list[Measurement]:
    from harness.config.suite import load_suite
    from harness.measure.runner import Bench

    suite = load_suite(suite_path)
    return Bench(suite.measure, device=device, threads=suite.threads).measure_many(list(points))


def main() -> int:
    req = json.loads(sys.stdin.read())
    points = [Point.from_dict(p) for p in req["points"]]
    for m in measure_here(req["suite"], req["device"], points):
        print(json.dumps({"point": m.point.as_dict(), "status": m.status, "reason": m.reason,
                          "samples": list(m.samples_s),
                          "dense_median": m.counters.get(DENSE_KEY)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
