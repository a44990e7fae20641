"""`harness tune` refuses bad flags and combinations with one line, exit 2, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tune_helpers import TINY, write_suite

from harness.cli.main import main


def _listing(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


@pytest.mark.parametrize(("extra", "says"), [
    (["--timeout", "-1"], "--timeout: expected a positive number of seconds, got -1"),
    (["--timeout", "0"], "--timeout: expected a positive number of seconds, got 0"),
    (["--timeout", "nan"], "--timeout: expected a positive number of seconds, got nan"),
    (["--timeout", "abc"], "--timeout: expected a number of seconds, got 'abc'"),
    (["--timeout", "1e300"], "--timeout: expected a positive number of seconds ≤ 2.592e+06"),
    (["--trials", "x"], "--trials: expected a positive integer, got 'x'"),
    (["--storage", "sqlite://"], "is an in-memory database"),
    (["--storage", "sqlite:///:memory:"], "is an in-memory database"),
    (["--study", "a\x00b"], "--study: expected a non-empty name without NUL"),
    (["--study", ""], "--study: expected a non-empty name"),
    (["--workers", "100000", "--trials", "4"], "--workers: expected at most"),
    (["--tuner", "GRID", "--workers", "2"], "--workers: expected 1 with the grid sampler"),
    (["--tuner", "BADNSGA"], "options.population_size: expected an integer ≥ 2, got 1"),
    (["-o", "SUITE"], "--report-dir: expected a folder (it is an existing file)"),
])
def test_bad_flags_are_one_line_and_nothing_is_written(tmp_path, monkeypatch, capsys, extra,
                                                       says):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    (tmp_path / "grid.yaml").write_text("sampler: grid\n")
    (tmp_path / "bad.yaml").write_text("sampler: nsga2\noptions: {population_size: 1}\n")
    names = {"GRID": "grid.yaml", "BADNSGA": "bad.yaml", "SUITE": str(suite)}
    extra = [names.get(a, a) for a in extra]
    storage = [] if "--storage" in extra else ["--storage", f"sqlite:///{tmp_path / 'h.db'}"]
    before = _listing(tmp_path)
    assert main(["tune", str(suite), *storage, "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert says in err, err
    assert "Traceback" not in err and err.count("\n") <= 2  # argparse adds its usage line
    assert _listing(tmp_path) == before


def test_the_suite_seed_and_sampler_seed_are_bounded_at_tune_time_too(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path, TINY.replace("seed: 0\n", "seed: 4294967296\n", 1))
    assert main(["tune", str(suite), "--storage", f"sqlite:///{tmp_path / 'h.db'}"]) == 2
    assert "seed: expected an integer in [0, 4294967295]" in capsys.readouterr().err
    assert not (tmp_path / "h.db").exists()


@pytest.mark.parametrize("value", ["-1", "11", "x"])
def test_regress_confirm_is_bounded(tmp_path, capsys, value):
    assert main(["regress", "s.yaml", "--confirm", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness regress: error: argument --confirm: expected")
    assert err.count("\n") == 1


@pytest.mark.parametrize("baseline", ["/dev/zero", "FIFO", "DIR"])
def test_regress_baseline_must_be_a_regular_file(tmp_path, monkeypatch, capsys, baseline):
    monkeypatch.chdir(tmp_path)
    suite = write_suite(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    path = {"FIFO": "fifo", "DIR": "dir"}.get(baseline, baseline)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["regress", str(suite), "--storage", url, "--baseline", path]) == 2
    err = capsys.readouterr().err
    assert "--baseline: expected latest, a stored run id, or a regular JSON file" in err
    assert not (tmp_path / "h.db").exists()
