"""Pure conversions between the core records (Measurement, RunRow) and table rows.

A Measurement written and read back is equal to the original (floats bit-exact), with two
documented limits: JSON has no tuples, so tuples nested in `counters` come back as lists; and
SQLite stores a NaN in a float column as NULL, so a NaN `rel_error` (or other scalar) reads back
as None there (PostgreSQL keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.measurement import Measurement, Stats
from harness.core.point import Point
from harness.store.api import RunRow

_STATS = ("n", "median", "iqr", "mean", "stdev", "min", "rel_noise")


def measurement_columns(m: Measurement) -> dict[str, Any]:
    """The measurement's own columns (not run_id, context_key, provenance_id, created_at)."""
    stats = {name: (getattr(m.stats, name) if m.stats is not None else None) for name in _STATS}
    lo, hi = m.speedup_ci if m.speedup_ci is not None else (None, None)
    return {
        "point_key": m.point.key(),
        "point": m.point.as_dict(),
        "status": m.status,
        "reason": m.reason,
        "samples": list(m.samples_s),
        **stats,
        "verified": bool(m.verified),
        "rel_error": m.rel_error,
        "speedup": m.speedup,
        "speedup_lo": lo,
        "speedup_hi": hi,
        "baseline_key": m.baseline_key,
        "bytes": dict(m.bytes),
        "flops": int(m.flops),
        "bandwidth_gbs": m.bandwidth_gbs,
        "peak_fraction": m.peak_fraction,
        "counters": dict(m.counters),
        "throttled": bool(m.throttled),
        "wall_s": m.wall_s,
    }


def measurement_from_row(row: Any, provenance: Mapping[str, Any] | None) -> Measurement:
    """Inverse of `measurement_columns` (row: a SQLAlchemy Row of the measurements table)."""
    stats = None if row.n is None else Stats(**{name: getattr(row, name) for name in _STATS})
    ci = None if row.speedup_lo is None and row.speedup_hi is None else (row.speedup_lo,
                                                                         row.speedup_hi)
    return Measurement(
        point=Point.from_dict(row.point),
        status=row.status,
        reason=row.reason,
        samples_s=tuple(row.samples),
        stats=stats,
        verified=bool(row.verified),
        rel_error=row.rel_error,
        speedup=row.speedup,
        speedup_ci=ci,
        baseline_key=row.baseline_key,
        bytes=dict(row.bytes),
        flops=int(row.flops),
        bandwidth_gbs=row.bandwidth_gbs,
        peak_fraction=row.peak_fraction,
        counters=dict(row.counters),
        throttled=bool(row.throttled),
        provenance=dict(provenance or {}),
        wall_s=row.wall_s,
    )


def run_from_row(row: Any, provenance: Mapping[str, Any] | None) -> RunRow:
    return RunRow(id=row.id, kind=row.kind, suite=row.suite, study=row.study,
                  context_key=row.context_key, status=row.status, started_at=row.started_at,
                  finished_at=row.finished_at, config=row.config,
                  provenance=dict(provenance or {}))


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def train_columns(record: Mapping[str, Any]) -> dict[str, Any]:
    """Indexed copies of a training record's common fields: accuracy, rate, group_size, pattern.

    Looked up at the top level first, then under `prune`, then under `point.prune` (a stored
    Point's layout); a field that is absent or of the wrong type is NULL.
    """
    point = record.get("point")
    candidates = [record, record.get("prune"),
                  point.get("prune") if isinstance(point, Mapping) else None]
    scopes = [s for s in candidates if isinstance(s, Mapping)]

    def find(*names: str) -> Any:
        return next((s[n] for s in scopes for n in names if n in s), None)

    group = find("group_size")
    pattern = find("pattern")
    return {
        "accuracy": _number(find("accuracy")),
        "rate": _number(find("rate", "pruning_rate")),
        "group_size": group if isinstance(group, int) and not isinstance(group, bool) else None,
        "pattern": pattern if isinstance(pattern, str) else None,
    }
