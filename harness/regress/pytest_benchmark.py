"""pytest-benchmark's JSON format, both ways.

Export: a harness run becomes a file that `pytest-benchmark compare` reads (one benchmark per
point; `stats.data` holds every raw sample, in seconds, as pytest-benchmark does).
Import: such a file (from harness or from pytest-benchmark itself) gives raw samples per name,
usable as a regression baseline (`harness regress --baseline FILE`).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.core.errors import InputError
from harness.core.measurement import Measurement

FORMAT_VERSION = "5.1.0"  # the pytest-benchmark JSON layout this writes


def bench_name(m: Measurement) -> str:
    return m.point.label()


def _stats(data: Sequence[float]) -> dict[str, Any]:
    xs = sorted(data)
    n = len(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive") if n > 1 else [xs[0]] * 3
    q1, q3 = q[0], q[2]
    iqr = q3 - q1
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs) if n > 1 else 0.0
    lo = next((x for x in xs if x >= q1 - 1.5 * iqr), xs[0])
    hi = next((x for x in reversed(xs) if x <= q3 + 1.5 * iqr), xs[-1])
    iqr_out = sum(1 for x in xs if x < q1 - 1.5 * iqr or x > q3 + 1.5 * iqr)
    sd_out = sum(1 for x in xs if x < mean - sd or x > mean + sd)
    return {"min": xs[0], "max": xs[-1], "mean": mean, "stddev": sd, "rounds": n,
            "median": statistics.median(xs), "iqr": iqr, "q1": q1, "q3": q3,
            "iqr_outliers": iqr_out, "stddev_outliers": sd_out,
            "outliers": f"{sd_out};{iqr_out}", "ld15iqr": lo, "hd15iqr": hi,
            "ops": 1.0 / mean if mean else 0.0, "total": sum(xs), "data": list(data),
            "iterations": 1}


def export(measurements: Sequence[Measurement], *, provenance: Mapping[str, Any] | None = None,
           group: str = "harness") -> dict[str, Any]:
    prov = dict(provenance or {})
    benches = []
    for m in measurements:
        if not m.samples_s:
            continue
        benches.append({
            "group": group, "name": bench_name(m), "fullname": f"{group}::{bench_name(m)}",
            "params": {"point_key": m.point.key()}, "param": m.point.key(),
            "extra_info": {"status": m.status, "speedup": m.speedup,
                           "point": m.point.as_dict()},
            "options": {"timer": "harness", "min_rounds": len(m.samples_s)},
            "stats": _stats(m.samples_s),
        })
    return {
        "machine_info": {"node": prov.get("hostname", ""), "processor": prov.get("cpu_model", ""),
                         "machine": prov.get("device_name", ""),
                         "python_version": prov.get("python", ""),
                         "harness": {k: v for k, v in prov.items() if isinstance(v, str | int | float)}},
        "commit_info": {"id": prov.get("git_sha"), "dirty": False, "project": "harness"},
        "benchmarks": benches,
        "datetime": dt.datetime.now(dt.UTC).isoformat(),
        "version": FORMAT_VERSION,
    }


def write(measurements: Sequence[Measurement], path: str | Path, **kw: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(export(measurements, **kw), indent=1))
    return path


def read_samples(path: str | Path) -> dict[str, list[float]]:
    """Raw samples by key: the harness point key where present, else the benchmark's name."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        benches = doc["benchmarks"]
    except FileNotFoundError:
        raise InputError("baseline file not found", file=str(path)) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a pytest-benchmark JSON file ({type(exc).__name__}: {exc})",
                         file=str(path)) from None
    out: dict[str, list[float]] = {}
    for i, b in enumerate(benches):
        try:
            data = [float(x) for x in b["stats"]["data"]]
        except (KeyError, TypeError, ValueError):
            raise InputError("expected stats.data with raw samples (save with "
                             "--benchmark-save-data)", file=str(path),
                             path=f"benchmarks[{i}]") from None
        key = (b.get("params") or {}).get("point_key") or b.get("fullname") or b.get("name")
        out[str(key)] = data
    return out
