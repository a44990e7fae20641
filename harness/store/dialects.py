"""What differs between SQLite and PostgreSQL: engine set-up, idempotent inserts, schema lock.

Kept as small per-dialect registries so the store itself is dialect-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.engine import Connection, Engine, make_url

SQLITE_TIMEOUT_S = 30  # busy timeout: how long a writer waits for another process's lock
WRITE = "harness_write"  # execution option marking a writing transaction (see _sqlite_begin)


def create_engine(url: str) -> Engine:
    """An engine for `url`, configured for several local worker processes on one database."""
    import sqlalchemy

    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = sqlalchemy.create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})
        _configure_sqlite(engine)
    else:
        engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Busy timeout, foreign keys and real transactions on every connection; WAL (readers never
    block the writer) once the schema is checked (`after_schema`).

    synchronous=NORMAL is SQLite's recommended setting under WAL: commits stay atomic and
    survive a crash of the process; only the last commits can be lost on a power cut, and it
    saves an fsync per write.

    Python's sqlite3 driver opens transactions lazily and not before DDL; SQLAlchemy's documented
    recipe takes over: driver autocommit off, and we emit BEGIN ourselves. Writing transactions
    use BEGIN IMMEDIATE, which takes the write lock up front: a deferred transaction that reads
    and then writes can fail at once with "database is locked" (no busy wait) under WAL.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            if engine.url.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA synchronous=NORMAL")  # per connection: the file is untouched
            cur.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def after_schema(engine: Engine) -> None:
    """Settings stored in the database file itself, applied once the file is known to be a
    harness database (a foreign file is refused before anything in it changes): SQLite's WAL."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        try:
            _enable_wal(cur)
        finally:
            cur.close()
    finally:
        raw.close()


def _enable_wal(cur: Any) -> None:
    """Switch the file to WAL (a persistent property: the first process does it for all).

    SQLite answers a journal-mode change that meets another connection's lock with "database is
    locked" at once, without its busy handler; workers racing to create one new file hit that
    (6 of 40 rounds of 4 processes here). So: skip when the file is WAL already, else retry with
    backoff for up to the busy timeout.
    """
    import sqlite3
    import time

    deadline, delay = time.monotonic() + SQLITE_TIMEOUT_S, 0.005
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.2)


def _sqlite_insert(table: Table) -> Any:
    from sqlalchemy.dialects.sqlite import insert

    return insert(table)


def _pg_insert(table: Table) -> Any:
    from sqlalchemy.dialects.postgresql import insert

    return insert(table)


_INSERTS: dict[str, Callable[[Table], Any]] = {"sqlite": _sqlite_insert,
                                               "postgresql": _pg_insert}


def insert_ignore(conn: Connection, table: Table, index: list[str]) -> Any:
    """INSERT … ON CONFLICT (index) DO NOTHING: safe when two writers race on a unique key."""
    return _INSERTS[conn.dialect.name](table).on_conflict_do_nothing(index_elements=index)


def upsert(conn: Connection, table: Table, index: list[str], values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT (index) DO UPDATE SET the other values."""
    stmt = _INSERTS[conn.dialect.name](table).values(**values)
    changed = {k: v for k, v in values.items() if k not in index}
    return stmt.on_conflict_do_update(index_elements=index, set_=changed)


_SCHEMA_LOCK_ID = 0x6861726E  # "harn": an arbitrary, fixed advisory-lock key


def _pg_lock(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_ID})


def _no_lock(conn: Connection) -> None:
    """SQLite: the writing transaction's BEGIN IMMEDIATE already serialises schema changes."""


_SCHEMA_LOCKS: dict[str, Callable[[Connection], None]] = {"sqlite": _no_lock,
                                                          "postgresql": _pg_lock}


def lock_schema(conn: Connection) -> None:
    """Serialise schema creation and migration between processes, until the transaction ends."""
    _SCHEMA_LOCKS[conn.dialect.name](conn)


@contextmanager
def creation_lock(engine: Engine) -> Iterator[None]:
    """Serialise another library's table creation (Optuna's) between processes, as far as the
    dialect allows. PostgreSQL: the schema advisory lock, held on a connection of our own while
    the body runs. SQLite: nothing can be held without blocking the library's own connection,
    so callers retry instead."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.begin() as conn:
        _pg_lock(conn)
        yield


def _sqlite_integrity(conn: Connection) -> str | None:
    try:
        found = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()
    except Exception as exc:  # the check itself may hit the corruption
        return (str(getattr(exc, "orig", None) or exc).splitlines() or ["corrupt"])[0]
    text = " ".join(str(found).replace("*** in database main ***", "").split())
    return None if text.lower() == "ok" else text[:200]


def _no_integrity_check(conn: Connection) -> str | None:
    return None  # a server checks its own pages


_INTEGRITY: dict[str, Callable[[Connection], str | None]] = {
    "sqlite": _sqlite_integrity, "postgresql": _no_integrity_check}


def integrity_problem(conn: Connection) -> str | None:
    """What is damaged in the database file (None: nothing found, or nothing to check)."""
    return _INTEGRITY.get(conn.dialect.name, _no_integrity_check)(conn)
