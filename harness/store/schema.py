"""The store's tables at the current schema version (`harness.SCHEMA_VERSION`), SQLAlchemy Core.

Table names are plain (`runs`, `measurements`, …) and do not collide with Optuna's (`studies`,
`trials`, `version_info`, …), which live in the same database. JSON travels as text written by
Python's `json` (floats as their shortest repr, so they read back bit-exactly on SQLite and
PostgreSQL alike; NaN/±inf allowed); timestamps are ISO 8601 UTC strings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.types import TypeDecorator


def jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars that are not float/int subclasses
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True, default=jsonable, separators=(",", ":"))


class JSONText(TypeDecorator):
    """JSON stored as TEXT with our own codec (PostgreSQL's JSON type would reject NaN)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

provenance = Table(
    "provenance", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the canonical JSON
    Column("record", JSONText, nullable=False),
    Column("created_at", String(40), nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("suite", Text, nullable=False),
    Column("study", Text),
    Column("context_key", String(64)),
    Column("status", String(16), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40)),
    Column("config", JSONText, nullable=False),
    Column("provenance_id", Integer, ForeignKey("provenance.id")),
    Index("ix_runs_study", "study"),
    Index("ix_runs_suite", "suite"),
)

measurements = Table(
    "measurements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("context_key", String(64)),
    Column("point_key", String(64), nullable=False),
    Column("point", JSONText, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("samples", JSONText, nullable=False),  # every raw sample, seconds per call
    # Stats; n is NULL when the measurement has no stats (e.g. unsupported).
    Column("n", Integer),
    Column("median", Double),
    Column("iqr", Double),
    Column("mean", Double),
    Column("stdev", Double),
    Column("min", Double),
    Column("rel_noise", Double),
    Column("verified", Boolean, nullable=False, server_default=false()),
    Column("rel_error", Double),
    Column("speedup", Double),
    Column("speedup_lo", Double),
    Column("speedup_hi", Double),
    Column("baseline_key", String(64)),
    Column("bytes", JSONText, nullable=False),
    Column("flops", BigInteger, nullable=False, server_default="0"),
    Column("bandwidth_gbs", Double),
    Column("peak_fraction", Double),
    Column("counters", JSONText, nullable=False, server_default="{}"),
    Column("throttled", Boolean, nullable=False, server_default=false()),
    Column("provenance_id", Integer, ForeignKey("provenance.id")),
    Column("wall_s", Double, nullable=False, server_default="0"),
    Column("created_at", String(40), nullable=False),
    Index("ix_measurements_context_point", "context_key", "point_key"),
    Index("ix_measurements_run", "run_id"),
)

device_peaks = Table(
    "device_peaks", metadata,
    Column("device_key", String(255), primary_key=True),
    Column("bytes_per_s", Double, nullable=False),
    Column("method", String(64), nullable=False),
    Column("measured_at", String(40), nullable=False),
)

train_results = Table(
    "train_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("record", JSONText, nullable=False),
    # Copies of common record fields, for queries and indexes; the record is the truth.
    Column("accuracy", Double),
    Column("rate", Double),
    Column("group_size", Integer),
    Column("pattern", String(32)),
    Column("created_at", String(40), nullable=False),
    Index("ix_train_results_run", "run_id"),
)

# a regression run's verdict per point, with the numbers compared (harness.store.api.VerdictRecord)
verdicts = Table(
    "verdicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("point_key", String(64), nullable=False),
    Column("measurement_id", Integer, ForeignKey("measurements.id")),
    Column("verdict", String(32), nullable=False),
    Column("ratio", Double),
    Column("p_value", Double),
    Column("normalize", String(16), nullable=False),
    Column("factor", Double, nullable=False),
    Column("threshold", Double, nullable=False),
    Column("baseline_run_id", Integer),
    Column("baseline_median_s", Double),
    Column("current_median_s", Double),
    Column("n_baseline", Integer, nullable=False),
    Column("n_current", Integer, nullable=False),
    Column("confirmed", Integer, nullable=False, server_default="0"),
    Column("remeasured", JSONText, nullable=False, server_default="[]"),
    Column("created_at", String(40), nullable=False),
    Index("ix_verdicts_run", "run_id"),
)

# a whole-model study's outcome (harness.tune.model_record): its candidates, front, uniform
# baselines and the exported configurations timed end to end; the record is the truth
model_results = Table(
    "model_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("record", JSONText, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_model_results_run", "run_id"),
)

TABLE_NAMES = tuple(metadata.tables)
