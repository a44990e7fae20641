"""`harness graph`: suite validation (one line, exit 2), a small run stored through the Store
protocol and written as JSON, the table layout."""

from __future__ import annotations

import json

import pytest

from harness.cli.main import main
from harness.core.errors import InputError
from harness.graph.suite import load_suite, loads_suite

SMALL = """\
name: gsmall
inputs: {source: digits, count: 40}
cases:
  - {neurons: 1024, layers: 6}
  - {neurons: 1024, layers: 24}
variants: [scipy, scipy-filter]
measure: {repeats: 1, threads: 1}
"""


def test_shipped_suite_parses():
    s = load_suite("suites/graph_challenge.yaml")
    assert [(c.neurons, c.layers) for c in s.cases] == [(1024, 120), (1024, 480)]
    assert s.input_source == "mnist" and "scipy" in s.variants and all(
        not v.startswith(("cupy", "dense_cuda")) and "cuda" not in v for v in s.variants)


@pytest.mark.parametrize(("edit", "message"), [
    (("layers: 6}", "layers: 0}"), "x.yaml:4: cases[0].layers: expected an integer ≥ 1, got 0"),
    (("neurons: 1024, layers: 24", "neurons: 1000, layers: 24"),
     "x.yaml:5: cases[1].neurons: expected one of 1024, 4096, 16384, 65536, got 1000"),
    (("[scipy, scipy-filter]", "[scipy, nope]"), "x.yaml:6: variants[1]: expected one of "),
    (("source: digits", "source: cifar"), "x.yaml:2: inputs.source: expected one of digits, "
                                          "mnist, tsv, got 'cifar'"),
    (("repeats: 1", "repeat: 1"), "x.yaml:7: measure.repeat: unknown key 'repeat'"),
    (("source: digits", "source: tsv"), "x.yaml:2: inputs.path: expected sparse-images"),
])
def test_bad_suite_is_one_line_naming_file_line_and_key(edit, message):
    with pytest.raises(InputError) as err:
        loads_suite(SMALL.replace(*edit), "x.yaml")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_cli_bad_suite_exits_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(SMALL.replace("layers: 6}", "layers: -1}"))
    assert main(["graph", str(path), "--no-store"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"harness graph: error: {path}:4: cases[0].layers:")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_runs_stores_and_writes_json(tmp_path, monkeypatch, capsys):
    from harness.store import open_store

    monkeypatch.setenv("HARNESS_GRAPH_CACHE", str(tmp_path / "cache"))
    suite = tmp_path / "g.yaml"
    suite.write_text(SMALL)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    out = tmp_path / "r.json"
    assert main(["graph", str(suite), "--storage", url, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Time (s), 40 inputs" in text and "Rate (edges/s" in text
    assert "1024     24" in text
    rows = json.loads(out.read_text())["results"]
    assert {(r["layers"], r["variant"]) for r in rows} == {
        (6, "scipy"), (6, "scipy-filter"), (24, "scipy"), (24, "scipy-filter")}
    assert all(r["status"] == "ok" and r["rate_edges_per_s"] > 0 for r in rows)
    store = open_store(url)
    try:
        ms = store.measurements(study="graph:gsmall")
        (run,) = store.runs(study="graph:gsmall")
    finally:
        store.close()
    assert run.status == "finished" and len(ms) == 4
    got = {m.measurement.point.backend: m.measurement for m in ms if
           m.measurement.counters["graph"]["layers"] == 24}
    assert set(got) == {"graph:scipy", "graph:scipy-filter"}
    assert all(m.verified and m.counters["graph"]["edges"] == 40 * 1024 * 32 * 24
               for m in got.values())
    assert got["graph:scipy"].provenance.get("seed") == 0


def test_results_table_layout():
    from harness.graph.bench import Result
    from harness.graph.table import paper_table, results_table

    def res(variant, layers, t, status="ok"):
        return Result(variant, "cpu", 1024, layers, 100, status, reason="why" if status != "ok"
                      else "", samples_s=(t,) if status == "ok" else (), connections=32 * 1024
                      * layers)

    text = results_table([res("a", 120, 2.0), res("b", 120, 1.0, "invalid"), res("a", 480, 6.0)])
    lines = text.splitlines()
    assert lines[0] == "Time (s), 100 inputs"
    assert lines[1].split() == ["neurons", "layers", "a", "b"]
    assert lines[3].split() == ["1024", "120", "2", "invalid"]
    assert "120→480  3.00" in text and "b 1024x120: invalid: why" in text
    assert "9.81 s / 2.405e+10" in paper_table([(1024, 120)])


def _official_files(root, layers, count):
    """A network, images and truth in the official TSV layout, written from generated data."""
    from harness.graph import tsv
    from harness.graph.inputs import load_inputs
    from harness.graph.network import challenge_network, reference_categories

    net = challenge_network(1024, layers, seed=7, cache=root / "cache")
    for k, w in enumerate(net.layers, 1):
        tsv.write_triples(tsv.layer_path(root, 1024, k), w)
    y0 = load_inputs("digits", 1024, count)
    tsv.write_triples(tsv.images_path(root, 1024), y0)
    truth = reference_categories(y0, net)
    tsv.categories_path(root, 1024, layers).write_text("".join(f"{i + 1}\n" for i in truth))
    return truth


def test_cli_runs_the_official_files_and_checks_their_categories(tmp_path, capsys):
    truth = _official_files(tmp_path, 6, 30)
    assert 0 < len(truth) < 30
    suite = tmp_path / "g.yaml"
    suite.write_text(f"""\
name: official
network: {{source: tsv, path: {tmp_path}}}
inputs: {{source: tsv, path: {tmp_path}, categories: {tmp_path}}}
cases: [{{neurons: 1024, layers: 6}}]
variants: [scipy-filter]
measure: {{repeats: 1}}
""")
    assert main(["graph", str(suite), "--no-store"]) == 0
    assert f"reference {len(truth)} categories" in capsys.readouterr().out
    cats = tmp_path / "neuron1024-l6-categories.tsv"
    cats.write_text("".join(f"{i + 1}\n" for i in truth[1:]))  # one category lost
    assert main(["graph", str(suite), "--no-store"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"harness graph: error: {cats}: the reference finds {len(truth)} "
                          f"categories, this file {len(truth) - 1}")
