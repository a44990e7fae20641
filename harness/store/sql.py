"""The `Store` implementation on SQLAlchemy 2 Core: one URL, SQLite or PostgreSQL.

Every write is one transaction (`engine.begin()`): an interrupted process never leaves a
half-written run, measurement or training result. The raw URL (it may hold a password) stays
private; messages and `repr` use `url_redacted`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from harness.core.errors import InputError
from harness.core.measurement import Measurement
from harness.store import codec, dialects, liveness, migrate, schema, urls
from harness.store import provenance as prov
from harness.store.api import RunRow, StoredMeasurement, StoredVerdict, VerdictRecord

RUN_KINDS = ("bench", "tune", "regress", "train", "model")
# killed: left "running" by a process that is gone (marked when the store is next opened)
RUN_STATUSES = ("running", "finished", "interrupted", "failed", "killed")

ATTACH_ATTEMPTS = 5  # creation races lost by an attached object before giving up


def _public(run: RunRow) -> RunRow:
    """The run as callers see it: the owner process record is the store's own business."""
    if isinstance(run.config, Mapping) and liveness.KEY in run.config:
        config = {k: v for k, v in run.config.items() if k != liveness.KEY}
        return dataclasses.replace(run, config=config)
    return run


def _one_line(exc: BaseException, url: str) -> str:
    """The first line of a driver's message, with every secret of `url` cut out."""
    line = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    return urls.cut_secrets(line, url)


class SqlStore:
    """Results store on one SQLAlchemy URL (see `harness.store.api.Store`)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = urls.resolve(url)
        self.url_redacted = urls.redact(self._url)
        try:
            self._engine: Engine = dialects.create_engine(self._url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise InputError(f"storage URL {self.url_redacted}: {_one_line(exc, self._url)}; "
                             f"expected {urls.EXPECTED}") from None
        # Same pool; marks writing transactions (BEGIN IMMEDIATE on SQLite).
        self._writer = self._engine.execution_options(**{dialects.WRITE: True})
        self._attached: dict[str, tuple[Any, Callable[[Any], None]]] = {}
        try:
            self.found_version = migrate.ensure_schema(self._engine, self._writer,
                                                       self.url_redacted)
        except DBAPIError as exc:
            self._engine.dispose()
            raise InputError(f"cannot open database {self.url_redacted}: "
                             f"{_one_line(exc, self._url)}") from None
        except BaseException:
            self._engine.dispose()
            raise
        # only now, with the file known to be a harness database, may its journal mode change
        dialects.after_schema(self._engine)
        self.killed_runs = self._mark_killed_runs()

    def __repr__(self) -> str:
        return f"SqlStore({self.url_redacted!r})"

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------------------------

    def begin_run(self, kind: str, suite: str, *, config: Mapping[str, Any],
                  provenance: Mapping[str, Any], study: str | None = None,
                  context_key: str | None = None) -> int:
        if kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {RUN_KINDS}, got {kind!r}")
        config = {**urls.scrub_data(dict(config)), liveness.KEY: liveness.identity()}
        with self._writer.begin() as conn:
            prov_id = prov.intern(conn, provenance)
            return conn.execute(schema.runs.insert().values(
                kind=kind, suite=suite, study=study, context_key=context_key, status="running",
                started_at=schema.utcnow(), finished_at=None, config=config,
                provenance_id=prov_id).returning(schema.runs.c.id)).scalar_one()

    def end_run(self, run_id: int, status: str = "finished") -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        with self._writer.begin() as conn:
            done = conn.execute(update(schema.runs).where(schema.runs.c.id == run_id)
                                .values(status=status, finished_at=schema.utcnow()))
            if done.rowcount != 1:
                raise KeyError(f"no run with id {run_id}")

    def runs(self, *, kind: str | None = None, suite: str | None = None,
             study: str | None = None) -> list[RunRow]:
        t = schema.runs
        query = select(t).order_by(t.c.id)
        for column, value in ((t.c.kind, kind), (t.c.suite, suite), (t.c.study, study)):
            if value is not None:
                query = query.where(column == value)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
            records = prov.load(conn, {r.provenance_id for r in rows if r.provenance_id})
        return [_public(codec.run_from_row(r, records.get(r.provenance_id))) for r in rows]

    def _mark_killed_runs(self) -> list[int]:
        """Mark `killed` the runs left `running` by a process of this host that is gone."""
        t = schema.runs
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.c.id, t.c.config).where(t.c.status == "running")).all()
        gone = [r.id for r in rows
                if liveness.is_gone(r.config.get(liveness.KEY)
                                    if isinstance(r.config, Mapping) else None)]
        if gone:
            with self._writer.begin() as conn:
                conn.execute(update(t).where(t.c.id.in_(gone), t.c.status == "running")
                             .values(status="killed", finished_at=schema.utcnow()))
        return gone

    # --- measurements ------------------------------------------------------------------------

    def add_measurement(self, run_id: int, m: Measurement, *,
                        context_key: str | None = None) -> int:
        with self._writer.begin() as conn:
            prov_id = prov.intern(conn, m.provenance)
            t = schema.measurements
            # Values as parameters, not in the statement: the compiled INSERT is cached.
            return conn.execute(t.insert().returning(t.c.id), {
                "run_id": run_id, "context_key": context_key, "provenance_id": prov_id,
                "created_at": schema.utcnow(), **codec.measurement_columns(m)}).scalar_one()

    def find_measurement(self, context_key: str, point_key: str) -> StoredMeasurement | None:
        """The latest measurement of `point_key` stored under `context_key`, whatever its status
        (the caller decides whether e.g. an `error` is worth measuring again)."""
        t = schema.measurements
        query = (select(t).where(t.c.context_key == context_key, t.c.point_key == point_key)
                 .order_by(t.c.id.desc()).limit(1))
        found = self._select_measurements(query)
        return found[0] if found else None

    def get_measurement(self, measurement_id: int) -> StoredMeasurement:
        t = schema.measurements
        found = self._select_measurements(select(t).where(t.c.id == measurement_id))
        if not found:
            raise KeyError(f"no measurement with id {measurement_id}")
        return found[0]

    def measurements(self, *, run_id: int | None = None, study: str | None = None,
                     suite: str | None = None) -> list[StoredMeasurement]:
        t = schema.measurements
        return self._select_measurements(
            _of_runs(select(t).order_by(t.c.id), t, run_id, study, suite))

    def _select_measurements(self, query: Any) -> list[StoredMeasurement]:
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
            records = prov.load(conn, {r.provenance_id for r in rows if r.provenance_id})
        return [StoredMeasurement(id=r.id, run_id=r.run_id, context_key=r.context_key,
                                  measurement=codec.measurement_from_row(
                                      r, records.get(r.provenance_id)))
                for r in rows]

    # --- device peaks --------------------------------------------------------------------------

    def set_peak(self, device_key: str, bytes_per_s: float, method: str) -> None:
        with self._writer.begin() as conn:
            conn.execute(dialects.upsert(conn, schema.device_peaks, ["device_key"], {
                "device_key": device_key, "bytes_per_s": float(bytes_per_s), "method": method,
                "measured_at": schema.utcnow()}))

    def get_peak(self, device_key: str) -> float | None:
        t = schema.device_peaks
        with self._engine.connect() as conn:
            return conn.execute(select(t.c.bytes_per_s)
                                .where(t.c.device_key == device_key)).scalar_one_or_none()

    # --- training results ----------------------------------------------------------------------

    def add_train_result(self, run_id: int, record: Mapping[str, Any]) -> int:
        with self._writer.begin() as conn:
            return conn.execute(schema.train_results.insert().values(
                run_id=run_id, record=urls.scrub_data(dict(record)), created_at=schema.utcnow(),
                **codec.train_columns(record)).returning(schema.train_results.c.id)).scalar_one()

    def train_results(self, *, run_id: int | None = None,
                      study: str | None = None) -> list[dict[str, Any]]:
        """Stored records, oldest first, each with its own `id` and `run_id` keys added."""
        return self._records(schema.train_results, run_id, study, None)

    def _records(self, t: Any, run_id: int | None, study: str | None,
                 suite: str | None) -> list[dict[str, Any]]:
        """The JSON records of table `t` (id, run_id, record) for the selection, oldest first,
        each with its own `id` and `run_id` keys added."""
        query = _of_runs(select(t.c.id, t.c.run_id, t.c.record).order_by(t.c.id), t, run_id,
                         study, suite)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [{**row.record, "id": row.id, "run_id": row.run_id} for row in rows]

    # --- whole-model studies -------------------------------------------------------------------

    def add_model_result(self, run_id: int, record: Mapping[str, Any]) -> int:
        with self._writer.begin() as conn:
            t = schema.model_results
            return conn.execute(t.insert().values(
                run_id=run_id, record=urls.scrub_data(dict(record)),
                created_at=schema.utcnow()).returning(t.c.id)).scalar_one()

    def model_results(self, *, run_id: int | None = None, study: str | None = None,
                      suite: str | None = None) -> list[dict[str, Any]]:
        """Stored model-study records, oldest first, each with its `id` and `run_id` added."""
        return self._records(schema.model_results, run_id, study, suite)

    # --- regression verdicts ------------------------------------------------------------------

    def add_verdict(self, run_id: int, v: VerdictRecord) -> int:
        values = dataclasses.asdict(v)
        values["remeasured"] = [dict(r) for r in v.remeasured]
        with self._writer.begin() as conn:
            t = schema.verdicts
            return conn.execute(t.insert().returning(t.c.id), {
                "run_id": run_id, "created_at": schema.utcnow(), **values}).scalar_one()

    def verdicts(self, *, run_id: int | None = None,
                 suite: str | None = None) -> list[StoredVerdict]:
        """Stored verdicts, oldest first, of one run or of every run of a suite (or all)."""
        t, r = schema.verdicts, schema.runs
        query = select(t).order_by(t.c.id)
        if run_id is not None:
            query = query.where(t.c.run_id == run_id)
        if suite is not None:
            query = query.join(r, r.c.id == t.c.run_id).where(r.c.suite == suite)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        names = [f.name for f in dataclasses.fields(VerdictRecord)]
        return [StoredVerdict(row.id, row.run_id, VerdictRecord(**{
            **{n: getattr(row, n) for n in names}, "remeasured": tuple(row.remeasured or ())}))
            for row in rows]

    # --- misc ----------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (diagnostics and tests)."""
        t = schema.metadata.tables[table]
        with self._engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(t)).scalar_one()

    def attached(self, name: str, factory: Callable[[str], Any],
                 close: Callable[[Any], None]) -> Any:
        """An object built once per store from its raw URL (secrets included), closed with the
        store: how another role (Optuna's storage, in harness.tune) shares this database without
        the store knowing it.

        Several processes opening a new database at once would race to create that object's own
        tables (Optuna's `create_all` is not guarded): creation runs under the schema lock where
        the dialect has one, and is retried where it lost a race anyway.
        """
        if name not in self._attached:
            for attempt in range(ATTACH_ATTEMPTS):
                try:
                    with dialects.creation_lock(self._engine):
                        self._attached[name] = (factory(self._url), close)
                    break
                except DBAPIError:
                    if attempt == ATTACH_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * 2 ** attempt)
        return self._attached[name][0]

    def close(self) -> None:
        for obj, close in self._attached.values():
            close(obj)
        self._attached.clear()
        self._engine.dispose()


def _of_runs(query: Any, t: Any, run_id: int | None, study: str | None,
             suite: str | None) -> Any:
    """`query` on table `t` (with a run_id column) kept to one run and/or its study and suite."""
    r = schema.runs
    if run_id is not None:
        query = query.where(t.c.run_id == run_id)
    if study is not None or suite is not None:
        query = query.join(r, r.c.id == t.c.run_id)
        if study is not None:
            query = query.where(r.c.study == study)
        if suite is not None:
            query = query.where(r.c.suite == suite)
    return query
