"""`harness export` and `harness.export.frames`: a finished fc study (measured, searched,
trained, decided) read back with pandas gives the numbers the report draws."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from harness.cli.main import main
from harness.export import frames
from harness.report.data import from_store
from harness.store import open_store

# the fc suite's experiment (row groups, CSR, rates, group sizes, training on the seed's FC
# net and a decision), shrunk to run in seconds
FC = """\
name: fc
device: cpu
dtype: float32
seed: 0
threads: 1
space:
  shape: [64, 96, 8]
  pruning_rate: [0.5, 0.9]
  group_size: [1, 4]
  pattern: row_group
  format: [csr]
objectives: [speedup, pruning_rate]
measure: {warmup: 1, min_samples: 3, min_time_s: 0.002, max_time_s: 0.05, rounds: 2, mode: hot}
tuner: {sampler: random, trials: 3, options: {seed: 0}}
train: {model: fc, dataset: synthetic, pretrain_epochs: 1, finetune_epochs: 1, candidates: 2}
"""
STUDY = "fc-cpu"
READ = {
    "csv": pd.read_csv,
    "parquet": pd.read_parquet,
    "json": lambda p: pd.read_json(p, orient="records", precise_float=True),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A store holding one finished `harness tune` of the fc suite, with training."""
    tmp = tmp_path_factory.mktemp("fc")
    (tmp / "fc.yaml").write_text(FC)
    url = f"sqlite:///{tmp / 'h.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        mp.setenv("HARNESS_CACHE_DIR", str(tmp / "cache"))
        assert main(["tune", "fc.yaml", "--storage", url, "--quiet", "-o", str(tmp / "rep")]) == 0
    return url, tmp


def _export(url: str, out: Path, fmt: str, *extra: str) -> dict[str, pd.DataFrame]:
    args = ["export", "--storage", url, "--study", STUDY, "--format", fmt, "-o", str(out)]
    assert main([*args, *extra]) == 0
    return {p.stem: READ[fmt](p) for p in out.glob(f"*.{fmt}")}


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    return a == b


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_export_reads_back_the_numbers_the_report_shows(finished, tmp_path, fmt):
    url, _ = finished
    tables = _export(url, tmp_path / fmt, fmt)
    assert set(tables) == {"measurements", "trials", "models", "decision"}
    store = open_store(url)
    try:
        data = from_store(store, study=STUDY)
    finally:
        store.close()
    assert data.timed and data.train and data.decision, "the study has no results to compare"

    ms = tables["measurements"].set_index("point_key")
    assert len(ms) == len(data.measurements)
    for m in data.timed:  # every speedup, CI and median the report draws
        row = ms.loc[m.point.key()]
        assert row["speedup"] == m.speedup
        assert (row["speedup_ci_lo"], row["speedup_ci_hi"]) == m.speedup_ci
        assert row["median_s"] == m.stats.median
        assert row["status"] == "ok" and row["label"] == m.point.label()
        assert (row["rate"], row["group_size"]) == (m.point.prune.rate, m.point.prune.group_size)

    models = tables["models"].set_index("id")
    assert sorted(models.index) == sorted(t["id"] for t in data.train)
    assert "decision" not in set(models["kind"])
    for t in data.train:  # accuracies and kernel speedups of the accuracy–speedup figure
        row = models.loc[t["id"]]
        assert row["accuracy"] == t["accuracy"]
        assert _same(t.get("speedup"), row["speedup"])
        assert bool(row["dense"]) == bool(t["dense"])

    decision = tables["decision"]
    rows = data.decision["rows"]
    assert any(r.get("speedup_ci") for r in rows), "no decision row carries a speedup CI"
    assert list(decision["label"]) == [r["label"] for r in rows]
    for (_, got), want in zip(decision.iterrows(), rows, strict=True):
        assert _same(want["speedup"], got["speedup"])
        assert _same(want["accuracy"], got["accuracy"])
        ci = want.get("speedup_ci") or (None, None)  # the CI as the measurements' two columns
        assert _same(ci[0], got["speedup_ci_lo"]) and _same(ci[1], got["speedup_ci_hi"])
        assert _same(want["within"], None if pd.isna(got["within"]) else bool(got["within"]))
    rec = data.decision["recommended"]
    assert list(decision.loc[decision["recommended"].astype(bool), "label"]) == (
        [rec["label"]] if rec else [])


def test_trials_link_to_the_measurements_they_scored(finished):
    url, _ = finished
    f = frames(url, study=STUDY)
    trials, ms = f["trials"], f["measurements"].set_index("id")
    done = trials[trials["state"] == "COMPLETE"]
    assert len(done) >= 3 and {"value.speedup", "value.pruning_rate"} <= set(trials.columns)
    assert set(trials["study"]) == {STUDY}
    for _, t in done.iterrows():
        m = ms.loc[t["measurement_id"]]
        assert t["point_key"] == m["point_key"]
        assert t["value.speedup"] == m["speedup"]
        assert t["value.pruning_rate"] == m["rate"]
        assert t["param.group_size"] == m["group_size"]


def test_samples_in_long_form_are_every_stored_raw_sample(finished):
    url, _ = finished
    store = open_store(url)
    try:
        stored = {sm.id: sm.measurement.samples_s for sm in store.measurements(study=STUDY)}
        f = frames(store, study=STUDY, samples=True)  # an open store is used and left open
        assert store.runs()
    finally:
        store.close()
    s = f["samples"]
    assert list(s.columns) == ["measurement_id", "i", "seconds"]
    for mid, samples in stored.items():
        mine = s[s["measurement_id"] == mid].sort_values("i")
        assert list(mine["seconds"]) == list(samples)
        assert list(mine["i"]) == list(range(len(samples)))
    counts = f["measurements"].set_index("id")["n_samples"]
    assert all(counts[mid] == len(samples) for mid, samples in stored.items())
    assert "samples" not in frames(url, study=STUDY)


def test_selection_by_run_and_suite_matches_the_study(finished):
    url, _ = finished
    by_study = frames(url, study=STUDY)
    run_id = int(by_study["measurements"]["run_id"].iloc[0])
    for sel in ({"run_id": run_id}, {"suite": "fc"}):
        f = frames(url, **sel)
        assert list(f["measurements"]["id"]) == list(by_study["measurements"]["id"])
        assert list(f["models"]["id"]) == list(by_study["models"]["id"])
        assert list(f["trials"]["number"]) == list(by_study["trials"]["number"])
    empty = frames(url, run_id=run_id + 100)
    assert all(df.empty for df in empty.values())
    assert "speedup" in empty["measurements"].columns  # documented columns even when empty


def test_files_are_written_atomically_and_a_symlink_is_replaced(finished, tmp_path):
    url, _ = finished
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / "models.csv").symlink_to(victim)
    _export(url, out, "csv", "--samples")
    assert victim.read_text() == "keep"
    assert not (out / "models.csv").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [
        "decision.csv", "measurements.csv", "models.csv", "samples.csv", "trials.csv"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--format", "xlsx", "-o", "{tmp}/o"], "--format"),
    (["--format", "csv"], "-o"),
    (["--format", "csv", "-o", "{tmp}/o", "--study", "nope"], "--study"),
    (["--format", "csv", "-o", "{tmp}/o", "--run", "999"], "--run"),
    (["--format", "csv", "-o", "{tmp}/o", "--study", STUDY, "--suite", "fc"], "--suite"),
    (["--format", "csv", "-o", "{tmp}/file.txt", "--study", STUDY], "-o"),
])
def test_bad_flags_get_one_line_and_exit_2(finished, tmp_path, capsys, args, needle):
    url, _ = finished
    (tmp_path / "file.txt").write_text("x")
    argv = ["export", "--storage", url, *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "o").exists()


def test_an_empty_store_is_one_line_and_exit_2(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["export", "--storage", url, "--format", "json", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--storage" in err and "has none" in err, err
    assert not (tmp_path / "o").exists()


def test_a_model_study_exports_one_row_per_configuration_and_reads_back(tmp_path):
    import sys
    from dataclasses import replace

    sys.path.insert(0, str(Path(__file__).parent / "report"))
    from test_report_model import SUITE, _result

    from harness.tune.model_record import build
    from harness.tune.model_train import AccuracyStage, Trained

    stage = AccuracyStage("mnist", 0.98, "at most 1 percentage point(s) below dense",
                          (Trained(2, 0.975, 0.9, 0.005, True, 2, 1.0),), {})
    rec = build(replace(_result(), accuracy=stage), SUITE, device="cpu", trials=3)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(url) as store:
        run = store.begin_run("model", "mlp", config={}, provenance={}, study="mlp-cpu")
        store.add_model_result(run, rec)
        store.end_run(run)
    df = frames(url, study="mlp-cpu")["model_configs"]
    assert list(df["index"]) == [0, 1, 2] and list(df["chosen"]) == [False, False, True]
    chosen = df[df["chosen"]].iloc[0]
    assert chosen["measured_speedup"] == 5.0 and chosen["measured_ci_lo"] == 4.8
    assert chosen["accuracy"] == 0.975 and bool(chosen["within_budget"])
    assert chosen["predicted_speedup"] == pytest.approx(8.0e-3 / 1.6e-3)
    assert pd.isna(df.iloc[0]["accuracy"])  # not trained
    out = tmp_path / "out"
    assert main(["export", "--storage", url, "--study", "mlp-cpu", "-o", str(out),
                 "--format", "csv"]) == 0
    back = pd.read_csv(out / "model_configs.csv")
    assert list(back["label"]) == list(df["label"])
    assert back["predicted_s"].tolist() == pytest.approx(df["predicted_s"].tolist())
