from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from report_synth import fc_measurements, fc_runs, fc_train

from harness.cli import cmd_report
from harness.cli.main import main
from harness.report import from_store
from harness.store.api import RunRow, StoredMeasurement


@dataclass
class FakeStore:
    """Just the read side of the Store protocol the report uses."""

    runs_: list[RunRow] = field(default_factory=fc_runs)
    url_redacted: str = "postgresql://bench:***@db/harness"
    closed: bool = False
    calls: list = field(default_factory=list)

    def measurements(self, *, run_id=None, study=None, suite=None):
        self.calls.append(("measurements", run_id, study, suite))
        ids = {
            r.id
            for r in self.runs_
            if (study is None or r.study == study)
            and (suite is None or r.suite == suite)
            and (run_id is None or r.id == run_id)
        }
        return [
            StoredMeasurement(i, 1, "ctx1", m) for i, m in enumerate(fc_measurements()) if 1 in ids
        ]

    def runs(self, *, kind=None, suite=None, study=None):
        return [
            r
            for r in self.runs_
            if (suite is None or r.suite == suite)
            and (study is None or r.study == study)
            and (kind is None or r.kind == kind)
        ]

    def train_results(self, *, run_id=None, study=None):
        self.calls.append(("train", run_id, study))
        return fc_train() if run_id in (None, 1) and study in (None, "fc") else []

    def model_results(self, *, run_id=None, study=None, suite=None):
        self.calls.append(("models", run_id, study, suite))
        return []

    def close(self):
        self.closed = True


@pytest.fixture
def store(monkeypatch):
    s = FakeStore()
    monkeypatch.setattr(cmd_report, "_open_store", lambda url: s)
    return s


def test_report_by_study_writes_default_path(store, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--study", "fc"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("reports/fc/index.html")
    page = (tmp_path / "reports" / "fc" / "index.html").read_text()
    assert '<section id="fig3">' in page and '<section id="fig5">' in page
    assert "postgresql://bench:***@db/harness" in page
    assert store.closed


def test_report_by_run_with_output_dir(store, tmp_path, capsys):
    assert main(["report", "--run", "1", "-o", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "index.html").exists()
    assert capsys.readouterr().out.strip() == str(tmp_path / "x" / "index.html")


def test_report_by_suite_gathers_training_per_run(store):
    data = from_store(store, suite="fc")
    assert len(data.train) == len(fc_train())
    assert ("train", 1, None) in store.calls
    assert data.scope == "suite fc"


@pytest.mark.parametrize(
    ("argv", "listed"),
    [
        (["--study", "nope"], "--study: expected one of the stored studies: fc, got 'nope'"),
        (["--suite", "nope"], "--suite: expected one of the stored suites: fc, got 'nope'"),
        (["--run", "7"], "--run: expected one of the stored run ids: 1, got 7"),
    ],
)
def test_unknown_selection_lists_what_exists(store, tmp_path, capsys, argv, listed):
    assert main(["report", *argv, "-o", str(tmp_path / "r")]) == 2
    assert listed in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_empty_store_says_none_exist(monkeypatch, capsys, tmp_path):
    s = FakeStore(runs_=[])
    monkeypatch.setattr(cmd_report, "_open_store", lambda url: s)
    assert main(["report", "--study", "fc", "-o", str(tmp_path)]) == 2
    assert "has none" in capsys.readouterr().err


def test_selection_is_required(capsys):
    assert main(["report"]) == 2
    assert main(["report", "--study", "a", "--suite", "b"]) == 2


def test_default_dir_is_a_safe_name():
    assert str(cmd_report.default_dir(study="../a b", run_id=None, suite=None)) == "reports/a_b"
    assert str(cmd_report.default_dir(study=None, run_id=3, suite=None)) == "reports/run-3"
