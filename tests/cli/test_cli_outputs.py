"""Writes only where the user asked: safe report folders, output paths checked before any work,
atomic writes that never follow a symlink out of the folder."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.core import paths
from harness.core.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tune"))
from tune_helpers import TINY, write_suite


def _listing(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


@pytest.mark.parametrize(("name", "problem"), [
    ("../../escaped", "path separator"),
    ("up..", "'..'"),
    ("/tmp/abs", "path separator"),
    ("a/b", "path separator"),
    ("a\\b", "path separator"),
    ("..", "'..'"),
    ("x\x00y", "NUL"),
    ("tab\there", "control character"),
])
def test_unsafe_suite_names_are_refused_by_check_and_tune(tmp_path, monkeypatch, capsys, name,
                                                          problem):
    monkeypatch.chdir(tmp_path)
    quoted = name.replace("\\", "\\\\").replace("\x00", "\\0").replace("\t", "\\t")
    write_suite(tmp_path, TINY.replace("name: tiny", f'name: "{quoted}"'), "s.yaml")
    before = _listing(tmp_path)
    assert main(["check", "s.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s.yaml:1: name:" in err and problem in err, err
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", "s.yaml", "--storage", url, "--quiet"]) == 2
    assert "name:" in capsys.readouterr().err
    assert _listing(tmp_path) == before  # no database, no report, nothing elsewhere either


@pytest.mark.parametrize(("name", "safe"), [
    ("fc", "fc"), ("../../x", "x"), ("/etc/passwd", "etc_passwd"), ("..", "report"),
    ("a b/c", "a_b_c"), ("x\x00y", "x_y"), ("", "report"),
])
def test_report_folders_are_one_safe_component(name, safe):
    assert paths.safe_component(name) == safe
    assert paths.report_dir(name) == Path("reports") / safe


def test_check_dir_and_check_file_refuse_what_cannot_be_written(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InputError, match=r"^-o: expected a folder \(it is an existing file\)"):
        paths.check_dir(f, "-o")
    with pytest.raises(InputError, match=r"^-o: expected a folder path .* is a file"):
        paths.check_dir(f / "sub", "-o")
    with pytest.raises(InputError, match=r"^--junit: expected a file path \(it is a folder\)"):
        paths.check_file(tmp_path, "--junit")
    with pytest.raises(InputError, match=r"^--json: expected a file path in a folder \(.* is a file"):
        paths.check_file(f / "out.json", "--json")
    paths.check_dir(tmp_path / "new" / "deeper", "-o")  # creatable: fine, and not created
    assert not (tmp_path / "new").exists()


def test_check_dir_refuses_a_folder_without_write_permission(tmp_path, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path
                        else real(p, mode))
    with pytest.raises(InputError, match="expected a writable folder"):
        paths.check_dir(tmp_path / "r", "-o")


def test_atomic_write_replaces_a_symlink_instead_of_following_it(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "rep"
    folder.mkdir()
    (folder / "index.html").symlink_to(outside)
    paths.write_text(folder / "index.html", "new")
    assert outside.read_text() == "precious"
    assert not (folder / "index.html").is_symlink()
    assert (folder / "index.html").read_text() == "new"
    assert _listing(folder) == {"index.html"}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("old report")
    real_fsync = os.fsync

    def full(fd):  # the disk fills up while the new file is flushed
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        paths.write_text(target, "new report " * 1000)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old report"
    assert _listing(tmp_path) == {"index.html"}


def _store_with_study(tmp_path: Path, study: str = "s1") -> str:
    from harness.store import open_store

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with open_store(url) as store:
        store.begin_run("tune", "tiny", config={}, provenance={}, study=study)
    return url


def test_report_o_never_follows_a_symlinked_index(tmp_path, capsys):
    url = _store_with_study(tmp_path)
    outside = tmp_path / "victim.html"
    outside.write_text("not yours")
    out = tmp_path / "rep"
    out.mkdir()
    (out / "index.html").symlink_to(outside)
    assert main(["report", "--study", "s1", "--storage", url, "-o", str(out)]) == 0
    assert outside.read_text() == "not yours"
    assert "<!DOCTYPE html>" in (out / "index.html").read_text()
    assert not (out / "index.html").is_symlink()


def test_report_o_onto_a_file_is_one_line_before_the_store_is_opened(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    url = f"sqlite:///{tmp_path / 'never.db'}"
    assert main(["report", "--study", "s1", "--storage", url, "-o", str(f)]) == 2
    err = capsys.readouterr().err
    assert err == f"harness report: error: -o: expected a folder (it is an existing file), " \
                  f"got '{f}'\n"
    assert not (tmp_path / "never.db").exists()


def test_report_default_folder_of_a_hostile_study_name_stays_under_reports(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = _store_with_study(tmp_path, study="../../../escape")
    assert main(["report", "--study", "../../../escape", "--storage", url]) == 0
    assert (tmp_path / "reports" / "escape" / "index.html").is_file()
    assert _listing(tmp_path) == {"h.db", "reports/escape/index.html"}


@pytest.mark.parametrize("flag", ["--junit", "--json", "--pytest-benchmark"])
def test_regress_outputs_are_checked_before_measuring(tmp_path, monkeypatch, capsys, flag):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    (tmp_path / "adir").mkdir()
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["regress", str(suite), "--storage", url, flag, "adir"]) == 2
    assert capsys.readouterr().err == \
        f"harness regress: error: {flag}: expected a file path (it is a folder), got 'adir'\n"
    assert not (tmp_path / "h.db").exists()


def test_tune_report_folder_is_checked_before_the_study(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    (tmp_path / "taken").write_text("x")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", str(suite), "--storage", url, "-o", "taken", "--quiet"]) == 2
    assert "--report-dir: expected a folder" in capsys.readouterr().err
    assert not (tmp_path / "h.db").exists()


def test_regress_writes_its_outputs_atomically_without_following_symlinks(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path, TINY.replace("pruning_rate: [0.5, 0.75, 0.9]",
                                               "pruning_rate: [0.9]"))
    outside = tmp_path / "victim.json"
    outside.write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "n.json").symlink_to(outside)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["regress", str(suite), "--storage", url, "--junit", "out/n.xml",
                 "--json", "out/n.json", "--confirm", "0"]) == 0
    assert outside.read_text() == "keep"
    assert '"points"' in (tmp_path / "out" / "n.json").read_text()
    assert "<testsuite" in (tmp_path / "out" / "n.xml").read_text()
    assert _listing(tmp_path / "out") == {"n.json", "n.xml"}
