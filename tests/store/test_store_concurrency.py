"""Several writers on one database lose nothing: threads with their own Store objects (SQLite
and PostgreSQL) and separate processes on one SQLite file, all starting on an empty database, so
they also race to create the schema."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from store_samples import ok_measurement, point

from harness.store import open_store
from harness.tune.storage import optuna_storage

WRITERS, PER_WRITER = 4, 15


def _write(url: str, writer: int, n: int) -> list[int]:
    with open_store(url) as store:
        run = store.begin_run("tune", "fc", config={"writer": writer},
                              provenance={"host": "shared"}, study="concurrent")
        ids = [store.add_measurement(run, ok_measurement(point(rate=i / 100, seed=writer)),
                                     context_key=f"w{writer}")
               for i in range(n)]
        store.end_run(run)
        return ids


def test_threads_with_separate_stores_lose_nothing(store_url):
    # No store opened first: the writers also race to create the schema.
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            results[w] = _write(store_url, w, PER_WRITER)
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    _check(store_url, results)


def test_processes_on_one_sqlite_file_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # not created yet: the workers race to create it
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, as separate workers are
    with ctx.Pool(2) as pool:
        done = pool.starmap(_write, [(url, w, PER_WRITER) for w in range(2)], chunksize=1)
    _check(url, dict(enumerate(done)))


def _check(url: str, results: dict[int, list[int]]) -> None:
    all_ids = [i for ids in results.values() for i in ids]
    assert len(all_ids) == len(set(all_ids)) == len(results) * PER_WRITER
    with open_store(url) as store:
        stored = store.measurements(study="concurrent")
        assert sorted(s.id for s in stored) == sorted(all_ids)
        for w, ids in results.items():
            mine = [s for s in stored if s.context_key == f"w{w}"]
            assert [s.id for s in mine] == ids
            assert all(s.measurement == ok_measurement(point(rate=i / 100, seed=w))
                       for i, s in enumerate(mine))
        assert store.count("provenance") == 2  # the runs' and the measurements' records
        assert [r.status for r in store.runs()] == ["finished"] * len(results)


def test_sqlite_connections_use_wal_and_a_busy_timeout(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'w.db'}") as store:
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_racing_workers_create_optunas_tables_once(store_url):
    """Independent workers on a new database all get a working Optuna storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with open_store(store_url) as store:
                study = optuna.create_study(storage=optuna_storage(store), study_name="race",
                                            load_if_exists=True)
                study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(optuna.load_study(study_name="race", storage=store_url).trials) == 2 * WRITERS


class _LockedCursor:
    """A sqlite3 cursor stand-in whose journal-mode change meets another process's lock."""

    def __init__(self, locked_times: int, error: str = "database is locked") -> None:
        self.locked_times, self.error, self.mode, self.calls = locked_times, error, "delete", []

    def execute(self, sql: str):
        import sqlite3

        self.calls.append(sql)
        if sql == "PRAGMA journal_mode=WAL":
            if self.locked_times:
                self.locked_times -= 1
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return self

    def fetchone(self):
        return (self.mode,)


def test_wal_switch_waits_out_a_racing_process_lock(monkeypatch):
    from harness.store import dialects

    monkeypatch.setattr("time.sleep", lambda s: None)
    cur = _LockedCursor(locked_times=3)
    dialects._enable_wal(cur)  # SQLite does not busy-wait on this pragma: we must retry
    assert cur.mode == "wal" and cur.calls.count("PRAGMA journal_mode=WAL") == 4
    done = _LockedCursor(locked_times=0)
    done.mode = "wal"  # a file another process already switched: nothing to change
    dialects._enable_wal(done)
    assert done.calls == ["PRAGMA journal_mode"]


def test_wal_switch_raises_other_errors_at_once():
    import sqlite3

    from harness.store import dialects

    cur = _LockedCursor(locked_times=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        dialects._enable_wal(cur)
    assert cur.calls.count("PRAGMA journal_mode=WAL") == 1
