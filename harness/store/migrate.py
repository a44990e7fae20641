"""Schema versions: create a new database at the current version, migrate older ones step by
step, refuse newer ones.

The version lives in `meta` (key `schema_version`). Migrations are a registry from the version
they start at to a function that brings a database one version up, inside the caller's
transaction, so a migration either completes or leaves the database as it was (both SQLite and
PostgreSQL have transactional DDL). Several processes opening one database at once are
serialised by `dialects.lock_schema`.

Versions:
  0  the pre-release layout: `runs` kept its provenance inline (a JSON column `provenance`);
     `measurements` had only median/iqr/rel_noise/n as statistics and no speedup interval,
     bandwidth, peak fraction, counters, throttle flag, provenance link or wall time; there were
     no `provenance`, `device_peaks` or `train_results` tables.
  1  as 2, without the `verdicts` table.
  2  as 3, without the `model_results` table.
  3  the layout of `harness.store.schema`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Table, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateColumn

from harness import SCHEMA_VERSION
from harness.core.errors import InputError
from harness.store import provenance, schema
from harness.store.dialects import integrity_problem, lock_schema, upsert

VERSION_KEY = "schema_version"

Migration = Callable[[Connection], None]
MIGRATIONS: dict[int, Migration] = {}


def migration(from_version: int) -> Callable[[Migration], Migration]:
    """Register `fn` as the step from `from_version` to `from_version + 1`."""

    def deco(fn: Migration) -> Migration:
        if from_version in MIGRATIONS:
            raise ValueError(f"migration from schema version {from_version} registered twice")
        MIGRATIONS[from_version] = fn
        return fn

    return deco


def read_version(conn: Connection, where: str) -> int | None:
    """The database's schema version; None for a database without harness tables.

    Other tables (Optuna's, an application's) are fine; a harness table name without a version
    means the database belongs to something else, and we refuse to write into it.
    """
    names = set(inspect(conn).get_table_names())
    if schema.meta.name not in names:
        clash = sorted(names & set(schema.TABLE_NAMES))
        if clash:
            raise InputError(f"database {where} has table(s) {', '.join(clash)} but no harness "
                             f"schema version; it is not a harness database")
        return None
    bad = InputError(f"database {where} has a table 'meta' without a harness schema version; "
                     f"it is not a harness database")
    try:
        value = conn.execute(select(schema.meta.c.value)
                             .where(schema.meta.c.key == VERSION_KEY)).scalar_one_or_none()
    except DBAPIError:
        value = None
    if value is None or not str(value).isdigit():
        damage = integrity_problem(conn)  # a corrupt harness database is not a foreign one
        if damage:
            raise InputError(f"database {where} is corrupt: {damage}")
        raise bad
    return int(value)


def _check_not_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise InputError(f"database {where} has schema version {version}, this harness knows "
                         f"{SCHEMA_VERSION}; upgrade harness")


def _write_version(conn: Connection, version: int) -> None:
    conn.execute(upsert(conn, schema.meta, ["key"], {"key": VERSION_KEY, "value": str(version)}))


def ensure_schema(engine: Engine, writer: Engine, where: str) -> int | None:
    """Bring the database at `engine` to SCHEMA_VERSION; returns the version it was found at
    (None: a new database, now created). `writer` opens writing transactions; `where` is the
    redacted URL for messages."""
    with engine.connect() as conn:  # fast path, no lock: the usual case is "already current"
        found = read_version(conn, where)
    if found == SCHEMA_VERSION:
        return found
    if found is not None:
        _check_not_newer(found, where)
    with writer.begin() as conn:
        lock_schema(conn)
        found = read_version(conn, where)  # another process may have got here first
        if found is None:
            schema.metadata.create_all(conn, checkfirst=True)
            _write_version(conn, SCHEMA_VERSION)
            return None
        _check_not_newer(found, where)
        migrate(conn, found)
        return found


def migrate(conn: Connection, version: int) -> None:
    """Apply the registered steps version → … → SCHEMA_VERSION (inside `conn`'s transaction)."""
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise RuntimeError(f"no migration registered from schema version {version}")
        step(conn)
        version += 1
        _write_version(conn, version)


# --- helpers for migration steps --------------------------------------------------------------


def add_missing_columns(conn: Connection, table: Table) -> list[str]:
    """ALTER TABLE … ADD COLUMN for each column of `table` the database lacks (defaults kept)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    added = []
    for column in table.columns:
        if column.name not in have:
            _add_column(conn, table.name, column)
            added.append(column.name)
    return added


def _add_column(conn: Connection, table_name: str, column: Column) -> None:
    ddl = CreateColumn(column).compile(dialect=conn.dialect)
    quoted = conn.dialect.identifier_preparer.quote(table_name)
    conn.execute(text(f"ALTER TABLE {quoted} ADD COLUMN {ddl}"))


def create_missing(conn: Connection) -> None:
    """Create the current layout's missing tables and indexes (existing ones are left alone)."""
    schema.metadata.create_all(conn, checkfirst=True)
    insp = inspect(conn)
    for table in schema.metadata.sorted_tables:
        have = {ix["name"] for ix in insp.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(conn)


# --- the steps ---------------------------------------------------------------------------------


@migration(0)
def _v0_to_v1(conn: Connection) -> None:
    """Provenance moves out of `runs` into its deduplicated table; measurements gain columns."""
    schema.metadata.create_all(conn, tables=[schema.provenance, schema.device_peaks,
                                             schema.train_results], checkfirst=True)
    add_missing_columns(conn, schema.measurements)
    add_missing_columns(conn, schema.runs)
    run_columns = {c["name"] for c in inspect(conn).get_columns("runs")}
    if "provenance" in run_columns:
        rows = conn.execute(text("SELECT id, provenance FROM runs WHERE provenance IS NOT NULL"))
        for run_id, blob in rows.all():
            record = schema.JSONText().process_result_value(blob, conn.dialect)
            conn.execute(update(schema.runs).where(schema.runs.c.id == run_id)
                         .values(provenance_id=provenance.intern(conn, record)))
        conn.execute(text("ALTER TABLE runs DROP COLUMN provenance"))
    create_missing(conn)


@migration(1)
def _v1_to_v2(conn: Connection) -> None:
    """Regression verdicts get their table (nothing else changes)."""
    schema.metadata.create_all(conn, tables=[schema.verdicts], checkfirst=True)
    create_missing(conn)


@migration(2)
def _v2_to_v3(conn: Connection) -> None:
    """Whole-model studies get their table (nothing else changes)."""
    schema.metadata.create_all(conn, tables=[schema.model_results], checkfirst=True)
    create_missing(conn)
