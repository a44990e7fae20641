"""`harness check` lists the points that can run here and why the rest cannot; `bench --points`
draws only from those. Both use the tuner's rule (harness.tune.feasible.why_not)."""

from __future__ import annotations

from fake_peaks import fake_peaks

from harness.cli.main import main
from harness.config.suite import loads_suite
from harness.tune.feasible import why_not

# csr and coo run on CPU; 2:4 semi-structured does not; one constraint excludes coo at 0.9
SUITE = """\
name: feas
device: cpu
dtype: float32
seed: 0
threads: 1
space:
  shape: [64, 64, 8]
  pruning_rate: [0.5, 0.9]
  pattern: nm
  nm: [2, 4]
  group_size: 1
  format: [csr, coo, semi_structured]
constraints:
  - when: {format: coo}
    exclude: {device: cpu}
    reason: coo is slow on this CPU
measure: {warmup: 1, min_samples: 2, min_time_s: 0.0, max_time_s: 0.02, rounds: 2, mode: hot}
"""


def test_check_lists_feasible_points_and_groups_the_rest_by_reason(tmp_path, capsys):
    path = tmp_path / "feas.yaml"
    path.write_text(SUITE)
    assert main(["check", str(path), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    suite = loads_suite(SUITE)
    grid = list(suite.grid("cpu"))
    feasible = [p for p in grid if why_not(suite.space, p) is None]
    assert [p.format for p in feasible] == ["csr"]  # nm fixes the rate: one point per format
    assert lines[1] == f"    on cpu: 1 of {len(grid)} grid points can run"
    assert lines[2] == f"      {feasible[0].label()}"
    assert lines[3] == "    1 grid points no backend runs here:"
    assert lines[4].split(None, 1) == ["1", "semi_structured runs on cuda, not cpu"]
    assert lines[5] == "    1 more combinations excluded by the suite's constraints:"
    assert lines[6].split(None, 1) == ["1", "coo is slow on this CPU"]


def test_check_lists_at_most_twenty_points_unless_all(tmp_path, capsys):
    text = SUITE.replace("pattern: nm", "pattern: unstructured").replace(
        "pruning_rate: [0.5, 0.9]", "pruning_rate: {low: 0.5, high: 0.74, step: 0.01}")
    path = tmp_path / "many.yaml"
    path.write_text(text)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on cpu: 25 of 50 grid points can run" in out
    assert sum(line.startswith("      64x64x8") for line in out.splitlines()) == 20
    assert "… and 5 more (--all lists them)" in out
    assert main(["check", str(path), "--all"]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("      64x64x8") for line in out.splitlines()) == 25


def test_check_bad_device_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "feas.yaml"
    path.write_text(SUITE)
    assert main(["check", str(path), "--device", "tpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--device: expected cpu, cuda or cuda:N, got 'tpu'" in err and "\n" not in err


def test_bench_points_draws_feasible_points_only_and_says_when_fewer(tmp_path, capsys,
                                                                      monkeypatch):
    fake_peaks(monkeypatch)
    path = tmp_path / "feas.yaml"
    path.write_text(SUITE.replace("pattern: nm", "pattern: unstructured"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["bench", str(path), "--points", "3", "--storage", url]) == 0
    out = capsys.readouterr()
    # csr at 0.5 and 0.9 can run; coo is excluded, semi_structured has no CPU backend
    assert "harness bench: only 2 of the 4 grid points can run on cpu; measuring those 2, " \
           "not 3" in out.err
    from harness.store import open_store

    with open_store(url) as store:
        ms = [sm.measurement for sm in store.measurements()]
    assert sorted((m.point.format, m.status) for m in ms) == [("csr", "ok"), ("csr", "ok")]


def test_bench_points_where_nothing_can_run_is_one_line(tmp_path, capsys):
    path = tmp_path / "none.yaml"
    path.write_text(SUITE.replace("format: [csr, coo, semi_structured]",
                                  "format: semi_structured"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["bench", str(path), "--points", "2", "--storage", url]) == 2
    err = capsys.readouterr().err.strip()
    assert "none of the 1 grid points can run on cpu" in err and "\n" not in err
