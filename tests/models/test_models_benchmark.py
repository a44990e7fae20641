"""benchmarks/model_e2e.py: its markdown table from stored results."""

from __future__ import annotations

from tests.benchmark_scripts import load


def _config(**kw):
    base = {"measured_speedup": 2.0, "measured_ci": [1.8, 2.2], "predicted_speedup": 2.5,
            "pruning_rate": 0.9, "dense_model_s": 0.02, "exported_model_s": 0.01, "rounds": 7,
            "contended": None}
    return {**base, **kw}


def test_the_table_shows_measured_beside_predicted_and_flags_contended_runs():
    bench = load("model_e2e")
    cases = [{"model": "llama_mlp", "batch": 16, "configs": {
        "csr 90%": _config(),
        "row_group g=8 90%": _config(measured_ci=None, contended="contended: 3 of 3 rounds"),
        "bad": _config(measured_speedup=None, measured_ci=None, predicted_speedup=None,
                       dense_model_s=None, exported_model_s=None, rounds=0)}}]
    lines = bench.table(cases).splitlines()
    assert lines[2] == ("| llama_mlp | 16 | csr 90% | 90.0% | 20 ms | 10 ms | 2.00× [1.80, 2.20] | "
                        "2.50× | 0.80 | 7 | no |")
    assert lines[3].endswith("| 2.00× | 2.50× | 0.80 | 7 | yes |")
    assert lines[4] == "| llama_mlp | 16 | bad | 90.0% | - | - | - | - | - | 0 | no |"


def test_fig5_runs_every_group_size_of_the_seed_on_the_fc_net():
    bench = load("model_e2e")
    labels = list(bench.configs(bench.FIG5_GROUPS))
    assert labels == [f"row_group g={g} 90%" for g in (1, 2, 4, 8, 16, 32, 64)] + ["csr 90%"]
    assert all(c.prune.rate == 0.9 for c in bench.configs(bench.FIG5_GROUPS).values())
    assert bench.parse_args(["--fig5"]).fig5 and bench.parse_args([]).out is None
