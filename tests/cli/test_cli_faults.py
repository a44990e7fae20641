"""Faults of the environment during the work: one line, exit 1, nothing half-written."""

from __future__ import annotations

import errno
import os

from harness.cli.main import main
from harness.store import open_store


def test_disk_full_while_writing_a_report_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with open_store(url) as store:
        store.begin_run("tune", "t", config={}, provenance={}, study="st")
    out = tmp_path / "r"
    assert main(["report", "--study", "st", "--storage", url, "-o", str(out)]) == 0
    old = (out / "index.html").read_text()
    capsys.readouterr()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert main(["report", "--study", "st", "--storage", url, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == "harness report: I/O error: [Errno 28] No space left on device\n"
    assert (out / "index.html").read_text() == old
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_a_store_lost_during_the_work_is_one_line(tmp_path, monkeypatch, capsys):
    from sqlalchemy.exc import OperationalError

    from harness.store.sql import SqlStore

    def lost(self, *a, **k):
        raise OperationalError("SELECT", {}, Exception("server closed the connection "
                                                       "unexpectedly\n\tThis probably means"))

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with open_store(url) as store:
        store.begin_run("tune", "t", config={}, provenance={}, study="st")
    monkeypatch.setattr(SqlStore, "measurements", lost)
    assert main(["report", "--study", "st", "--storage", url, "-o", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == \
        "harness report: store fault: server closed the connection unexpectedly\n"
    assert not (tmp_path / "r").exists()


def test_a_database_that_is_full_is_one_line(tmp_path, monkeypatch, capsys):
    import sqlite3

    from harness.store.sql import SqlStore

    def full(self, *a, **k):
        raise sqlite3.OperationalError("database or disk is full")

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with open_store(url) as store:
        store.begin_run("tune", "t", config={}, provenance={}, study="st")
    monkeypatch.setattr(SqlStore, "train_results", full)
    assert main(["report", "--study", "st", "--storage", url, "-o", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == "harness report: store fault: database or disk is full\n"


def test_optunas_storage_errors_are_store_faults(tmp_path, monkeypatch, capsys):
    import optuna

    from harness.cli import cmd_report

    def broken(*a, **k):
        raise optuna.exceptions.StorageInternalError("An exception is raised during the commit")

    monkeypatch.setattr(cmd_report, "check_selection", broken)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["report", "--study", "x", "--storage", url, "-o", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == \
        "harness report: store fault: An exception is raised during the commit\n"
