"""`harness tune` on a graph suite: the `tune:` section, the search, the stored trials."""

from __future__ import annotations

import pytest

from harness.cli.main import main
from harness.core.errors import InputError
from harness.graph.search import GraphObjective, GraphPoint, choices
from harness.graph.suite import load_suite, loads_suite

TUNED = """\
name: gtune
inputs: {source: digits, count: 60}
cases:
  - {neurons: 1024, layers: 6}
measure: {repeats: 1}
tune:
  case: {neurons: 1024, layers: 12}
  variants: [scipy, scipy-filter, numba_kernels-filter]
  batch: [null, 20]
  threads: [1]
  sampler: grid
  trials: 6
"""


def test_shipped_suite_has_a_search_space():
    t = load_suite("suites/graph_challenge.yaml").tune
    assert t is not None and (t.case.neurons, t.case.layers) == (1024, 120)
    assert "scipy-filter" in t.variants and None in t.batches and t.threads == (1, 2)


@pytest.mark.parametrize(("edit", "message"), [
    (("batch: [null, 20]", "batch: [0]"), "x.yaml:9: tune.batch[0]: expected an integer ≥ 1"),
    (("sampler: grid", "sampler: annealing"), "x.yaml:11: tune.sampler: expected one of "),
    (("layers: 12}", "layers: -1}"), "x.yaml:7: tune.case.layers: expected an integer ≥ 1"),
    (("  trials: 6\n", "  trial: 6\n"), "x.yaml:12: tune.trial: unknown key 'trial'"),
])
def test_bad_tune_sections_are_one_line_errors(edit, message):
    with pytest.raises(InputError) as info:
        loads_suite(TUNED.replace(*edit), "x.yaml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_objective_verifies_and_measures_each_point_once():
    obj = GraphObjective(loads_suite(TUNED, "x.yaml"))
    assert obj.net.depth == 12 and obj.y0.shape[0] == 60
    r = obj.measure(GraphPoint("scipy-filter", 20, 1))
    assert r.status == "ok" and r.rate and r.batch == 20 and r.layers == 12
    assert obj.measure(GraphPoint("scipy-filter", 20, 1)) is r  # not measured again
    assert choices(obj.space)["variant"] == ["scipy", "scipy-filter", "numba_kernels-filter"]


def test_tune_grid_covers_the_space_and_stores_every_trial(tmp_path):
    from harness.store import open_store
    from harness.tune.graph import format_trials, is_graph_suite, tune_graph

    path = tmp_path / "g.yaml"
    path.write_text(TUNED)
    assert is_graph_suite(path) and not is_graph_suite("suites/fc.yaml")
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        result = tune_graph(path, store=store, quiet=True)
        runs = store.runs(kind="tune", suite="gtune")
        stored = store.measurements(run_id=runs[0].id)
    finally:
        store.close()
    points = {tuple(p.values()) for p, _ in result.results}
    assert points == {(v, b, 1) for v in ("scipy", "scipy-filter", "numba_kernels-filter")
                      for b in (None, 20)}  # the grid: every point once
    assert len(stored) == 6 and all(s.measurement.point.backend.startswith("graph:")
                                 for s in stored)
    best = result.best
    assert best is not None and best[1].rate == max(r.rate or 0 for _, r in result.results)
    table = format_trials(result)
    assert table.splitlines()[2].startswith(best[0]["variant"])


def test_cli_tune_runs_without_a_store(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(TUNED.replace("trials: 6", "trials: 2"))
    assert main(["graph", str(path), "--tune", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("study graph-gtune: 2 points")


def test_run_cli_is_what_harness_tune_dispatches_to(tmp_path, capsys):
    import argparse

    from harness.tune.graph import run_cli

    path = tmp_path / "g.yaml"
    path.write_text(TUNED)
    args = argparse.Namespace(suite=str(path), storage=f"sqlite:///{tmp_path / 'h.db'}",
                              trials=3, timeout_s=None, study=None, fresh=False, quiet=True)
    assert run_cli(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("study graph-gtune: 3 points")
    assert run_cli(args) == 0  # the same study resumes on the store: the grid's other 3 points
    second = capsys.readouterr().out

    def rows(out: str) -> set[str]:
        return {" ".join(line.split()[:3]) for line in out.splitlines()[2:5]}

    assert len(rows(first) | rows(second)) == 6


def test_harness_tune_on_a_graph_suite_runs_the_graph_search(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(TUNED)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", str(path), "--storage", url, "--trials", "2", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("study graph-gtune: 2 points")
