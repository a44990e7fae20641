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


def test_a_model_trained_again_by_a_second_run_appears_once(tmp_path):
    from harness.report.data import latest_models
    from harness.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        for i in range(2):  # the same tune twice: every model trained twice
            run = store.begin_run("tune", "fc", config={}, provenance=PROVENANCE, study="fc")
            for m in fc_measurements() if i == 0 else []:
                store.add_measurement(run, m)
            for t in fc_train():
                store.add_train_result(run, t)
            store.end_run(run)
        data = from_store(store, study="fc")
        once = from_store(store, run_id=1)
    finally:
        store.close()
    assert len(data.train) == len(fc_train())

    def fig5_points(d):
        fig5 = render(d).split('<section id="fig5">')[1].split("</section>")[0]
        return fig5.count('class="pt front"') + fig5.count('class="pt dominated"')

    assert fig5_points(data) == fig5_points(once) > 0

    ok = {"model": "fc", "pattern": "row_group", "group_size": 8, "pruning_rate": 0.9,
          "status": "ok", "accuracy": 0.95}
    skipped = dict(ok, status="skipped: training budget exhausted", accuracy=None)
    other_epochs = dict(ok, epochs=20, accuracy=0.96)
    kept = latest_models([ok, skipped, other_epochs])
    assert kept == (ok, other_epochs)  # a later skip never hides a trained model
    assert latest_models([ok, dict(ok, accuracy=0.97)]) == (dict(ok, accuracy=0.97),)
