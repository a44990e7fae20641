"""The report against the real SQL store (SQLite in a temporary folder)."""

from __future__ import annotations

from report_synth import PROVENANCE, fc_measurements, fc_train

from harness.cli.main import main
from harness.report import from_store, render


def test_report_from_sqlite_store(tmp_path, capsys):
    from harness.store import open_store

    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = open_store(url)
    try:
        run = store.begin_run("tune", "fc", config={}, provenance=PROVENANCE, study="fc")
        for m in fc_measurements():
            store.add_measurement(run, m)
        for t in fc_train():
            store.add_train_result(run, t)
        store.end_run(run)
        data = from_store(store, study="fc")
    finally:
        store.close()
    assert len(data.measurements) == len(fc_measurements()) and len(data.train) == len(fc_train())
    assert len(data.timed) == 80
    page = render(data)
    assert '<section id="fig5">' in page and "hunter2" not in page

    out = tmp_path / "reports" / "fc"
    assert main(["report", "--study", "fc", "--storage", url, "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    assert main(["report", "--run", "99", "--storage", url]) == 2
    assert "--run: expected one of the stored run ids: 1, got 99" in capsys.readouterr().err
