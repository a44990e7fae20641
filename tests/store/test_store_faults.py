"""Runs of killed processes, foreign and corrupt databases, store faults: one line, no change."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from harness.cli.main import main
from harness.core.errors import InputError
from harness.store import open_store


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_whose_process_was_killed_is_marked_killed_on_next_open(store_url):
    url = store_url
    code = ("import os, sys; from harness.store import open_store\n"
            f"s = open_store({url!r})\n"
            "s.begin_run('tune', 'tiny', config={'x': 1}, provenance={}, study='st')\n"
            "os._exit(0)  # like kill -9: no end_run, no close\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    with open_store(url) as store:
        mine = store.begin_run("bench", "tiny", config={}, provenance={})
        runs = {r.id: r for r in store.runs()}
        assert store.killed_runs == [1]
        assert runs[1].status == "killed" and runs[1].finished_at is not None
        assert runs[1].config == {"x": 1}  # the owner record stays the store's business
        assert runs[mine].status == "running"  # this process is alive: untouched
    with open_store(url) as again:
        assert again.killed_runs == []
        assert {r.id: r.status for r in again.runs()} == {1: "killed", mine: "running"}


def test_a_run_of_another_host_is_left_alone(tmp_path, monkeypatch):
    from harness.store import liveness

    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setattr(liveness, "identity",
                        lambda: {"host": "elsewhere", "pid": 999999999, "start": 1})
    with open_store(url) as store:
        store.begin_run("tune", "t", config={}, provenance={})
    monkeypatch.undo()
    with open_store(url) as store:
        assert [r.status for r in store.runs()] == ["running"]


def test_a_foreign_sqlite_file_is_refused_unmodified(tmp_path, capsys):
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)")
        conn.execute("INSERT INTO runs (what) VALUES ('theirs')")
    conn.close()
    before = _sha(db)
    assert main(["report", "--study", "x", "--storage", f"sqlite:///{db}",
                 "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "has table(s) runs but no harness schema version" in err and err.count("\n") == 1
    assert _sha(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]  # no -wal, -shm, report
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_harness_database_is_switched_to_wal(tmp_path):
    db = tmp_path / "h.db"
    with open_store(f"sqlite:///{db}"):
        pass
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_file_that_is_not_a_database_is_one_line(tmp_path, capsys):
    db = tmp_path / "notes.db"
    db.write_text("just some text, not SQLite " * 200)
    before = _sha(db)
    assert main(["report", "--study", "x", "--storage", f"sqlite:///{db}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness report: error: cannot open database sqlite:///")
    assert "file is not a database" in err and err.count("\n") == 1
    assert _sha(db) == before


def test_corrupt_pages_are_one_line_without_traceback(tmp_path):
    db = tmp_path / "h.db"
    url = f"sqlite:///{db}"
    with open_store(url) as store:
        for i in range(200):
            store.begin_run("bench", f"suite-{i}", config={"pad": "x" * 500}, provenance={},
                            study="st")
    data = bytearray(db.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):  # scribble over every page after the 2nd
        data[offset + 8: offset + 64] = b"\xff" * 56
    db.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "harness", "report", "--study", "st",
                           "--storage", url, "-o", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (1, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert any(w in proc.stderr for w in ("is corrupt: ", "malformed", "not a database"))


@pytest.mark.postgres
def test_a_foreign_postgresql_schema_is_refused_unmodified(pg_url):
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE runs (id SERIAL PRIMARY KEY, what TEXT)")
            conn.exec_driver_sql("INSERT INTO runs (what) VALUES ('theirs')")
        with pytest.raises(InputError, match=r"has table\(s\) runs but no harness schema version"):
            open_store(pg_url)
        with engine.connect() as conn:
            assert sorted(sqlalchemy.inspect(conn).get_table_names()) == ["runs"]
            assert conn.exec_driver_sql("SELECT what FROM runs").scalars().all() == ["theirs"]
    finally:
        engine.dispose()
