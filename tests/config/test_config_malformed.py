"""Malformed suites and tuner profiles: each gives exactly one line naming file, line and YAML
path, exit code 2 through the CLI, and nothing is written to the working directory."""

from __future__ import annotations

import os

import pytest

from harness.cli.main import main

SPACE = "space:\n  shape: [64, 64, 8]\n  pruning_rate: [0.5]\n  format: csr\n"

# (file, text, expected start of the error line, expected fragment of the rest)
CASES = [
    ("s.yaml", SPACE.replace("format: csr", "format: csr\n  group_size: -4"),
     "s.yaml:5: space.group_size: ", "expected a positive integer or a list of them, got -4"),
    ("s.yaml", SPACE.replace("format: csr", "format: csr\n  group_size: [1, 2,\n    -4]"),
     "s.yaml:6: space.group_size[2]: ", "expected a positive integer, got -4"),
    ("s.yaml", SPACE.replace("format: csr", "format: csr\n  grup_size: 4"),
     "s.yaml:5: space.grup_size: ", "unknown key 'grup_size'; valid: shape, pruning_rate,"),
    ("s.yaml", SPACE.replace("format: csr", "format: cssr"),
     "s.yaml:4: space.format: ", "unknown format 'cssr'; valid: dense, csr, csc, coo, bsr"),
    ("s.yaml", SPACE.replace("format: csr", "format:\n    - csr\n    - ellpack"),
     "s.yaml:6: space.format[1]: ", "unknown format 'ellpack'; valid:"),
    ("s.yaml", SPACE + "  pattern: diagonal\n",
     "s.yaml:5: space.pattern: ", "unknown pattern 'diagonal'; valid: unstructured, row_group"),
    ("s.yaml", SPACE + "  aggregation: [rms, avg]\n",
     "s.yaml:5: space.aggregation[1]: ", "unknown aggregation 'avg'; valid: rms, mean"),
    ("s.yaml", SPACE + "  backend: cusparse\n",
     "s.yaml:5: space.backend: ", "unknown backend 'cusparse'; valid: auto, torch"),
    ("s.yaml", "space:\n  shape:\n    - [64, 64, 8]\n    - [64, 64]\n  pruning_rate: 0.5\n"
     "  format: csr\n", "s.yaml:4: space.shape[1]: ", "expected [M, K, N]"),
    ("s.yaml", SPACE.replace("[0.5]", "1.5"),
     "s.yaml:3: space.pruning_rate: ", "got 1.5"),
    ("s.yaml", SPACE.replace("[0.5]", "[0.5, .nan]"),
     "s.yaml:3: space.pruning_rate[1]: ", "expected a finite number, got nan"),
    ("s.yaml", SPACE.replace("[0.5]", "{low: 0.1, high: 0.9, step: 1.0e-9}"),
     "s.yaml:3: space.pruning_rate.step: ", "expected a step giving at most 10000 rates"),
    ("s.yaml", SPACE.replace("[0.5]", "{low: 0.9, high: 0.8, step: 0.02}"),
     "s.yaml:3: space.pruning_rate.high: ", "expected at least low (0.9), got 0.8"),
    ("s.yaml", SPACE.replace("[0.5]", "{low: 0.1, high: 0.8, step: 0.1, log: true}"),
     "s.yaml:3: space.pruning_rate.log: ", "log and step cannot be combined"),
    ("s.yaml", "space:\n  shape: [64, 64, 8]\n  format: csr\n",
     "s.yaml:1: space.pruning_rate: ", "missing required key 'pruning_rate'"),
    ("s.yaml", "name: x\nspace: [64, 64, 8]\n", "s.yaml:2: space: ",
     "expected a mapping, got [64, 64, 8]"),
    ("s.yaml", SPACE + "  nm: [4, 2]\n", "s.yaml:5: space.nm: ", "expected N < M"),
    ("s.yaml", SPACE + "  block: [16, 0]\n", "s.yaml:5: space.block[1]: ",
     "expected a positive integer, got 0"),
    ("s.yaml", SPACE + "device: gpu\n", "s.yaml:5: device: ",
     "expected a device: auto, cpu, cuda or cuda:N, got 'gpu'"),
    ("s.yaml", SPACE + "dtype: [fp16, int8]\n", "s.yaml:5: dtype[1]: ",
     "unknown dtype 'int8'; valid: float32, float16, bfloat16"),
    ("s.yaml", SPACE + "seed: -1\n", "s.yaml:5: seed: ", "got -1"),
    ("s.yaml", SPACE + "objectives: [speedup, latency]\n", "s.yaml:5: objectives[1]: ",
     "unknown objective 'latency'; valid: speedup, pruning_rate, energy, bytes, accuracy"),
    ("s.yaml", SPACE + "objectives:\n  - speedup\n  - {name: energy, direction: lower}\n",
     "s.yaml:7: objectives[1].direction: ", "unknown direction 'lower'; valid: maximize"),
    ("s.yaml", SPACE + "objectives: [speedup, speedup]\n", "s.yaml:5: objectives[1]: ",
     "objective 'speedup' is listed twice"),
    ("s.yaml", SPACE + "objectives: [accuracy]\n", "s.yaml:5: objectives: ",
     "objective 'accuracy' needs a 'train:' section"),
    ("s.yaml", SPACE + "constraints:\n  - when: {fromat: bsr}\n    require: {pattern: block}\n",
     "s.yaml:6: constraints[0].when.fromat: ", "unknown parameter 'fromat'; valid: m, k, n"),
    ("s.yaml", SPACE + "constraints:\n  - when: {format: bsr}\n",
     "s.yaml:6: constraints[0]: ", "a constraint needs 'require' or 'exclude'"),
    ("s.yaml", SPACE + "constraints:\n  - exclude: {format: bsr, pattern: blocky}\n",
     "s.yaml:6: constraints[0].exclude.pattern: ", "unknown pattern 'blocky'; valid:"),
    ("s.yaml", SPACE + "constraints:\n  - require: {format: {max: 3}}\n",
     "s.yaml:6: constraints[0].require.format: ", "{min, max} is only for"),
    ("s.yaml", SPACE + "measure:\n  warmup: 2\n  mode: warm\n", "s.yaml:7: measure.mode: ",
     "unknown mode 'warm'; valid: cold, hot"),
    ("s.yaml", SPACE + "measure:\n  min_time_s: 3\n  max_time_s: 1\n",
     "s.yaml:6: measure.min_time_s: ", "expected at most max_time_s (1), got 3"),
    ("s.yaml", SPACE + "train:\n  model: resnet50\n", "s.yaml:6: train.model: ",
     "unknown model 'resnet50'; valid: fc, lenet300, cnn"),
    ("s.yaml", SPACE + "train:\n  schedule: admm\n  options: {rho: [1, 2]}\n",
     "s.yaml:7: train.options.rho: ", "expected a scalar"),
    ("s.yaml", SPACE + "train:\n  batch_size: 0\n", "s.yaml:6: train.batch_size: ",
     "expected a positive integer, got 0"),
    ("s.yaml", SPACE + "tuner: tuners/missing.yaml\n", "s.yaml:5: tuner: ",
     "tuner profile 'tuners/missing.yaml' not found"),
    ("s.yaml", SPACE + "tuner:\n  sampler: cmaes\n", "s.yaml:6: tuner.sampler: ",
     "unknown sampler 'cmaes'; valid: tpe, nsga2, gp, random, grid, qmc"),
    ("s.yaml", SPACE + "tuner:\n  sampler: nsga2\n  options: {popsize: 10}\n",
     "s.yaml:7: tuner.options.popsize: ", "unknown option 'popsize' for sampler nsga2; valid:"),
    ("s.yaml", SPACE.replace("[0.5]", "{low: 0.1, high: 0.9}") + "tuner: {sampler: grid}\n",
     "s.yaml:3: space.pruning_rate: ", "the grid sampler needs a finite space"),
    ("s.yaml", SPACE + "space: {}\n", "s.yaml:5: space: ", "duplicate key 'space'"),
    ("s.yaml", SPACE + "name: !!python/object/apply:os.system ['touch pwned']\n",
     "s.yaml:5: name: ", "is not allowed"),
    ("s.yaml", "", "s.yaml:1: ", "empty file"),
    ("s.yaml", "- space\n- shape\n", "s.yaml:1: ", "the top level must be a mapping"),
    ("s.yaml", "space:\n  shape: [64, 64, 8\n  format: csr\n", "s.yaml:3: ", "invalid YAML"),
    ("s.yaml", "shape: [1, 2, 3]\n", "s.yaml:1: ", "neither a suite"),
    ("tuners/t.yaml", "sampler: tpe\ntrials: 0\n", "tuners/t.yaml:2: trials: ",
     "expected a positive integer or null"),
    ("tuners/t.yaml", "sampler: tpe\ntimeout: 60\n", "tuners/t.yaml:2: timeout: ",
     "unknown key 'timeout'; valid: name, description, sampler, options, trials, timeout_s"),
    ("tuners/t.yaml", "name: t\ntrials: 5\n", "tuners/t.yaml:1: sampler: ",
     "missing required key 'sampler'"),
    ("tuners/t.yaml", "sampler: qmc\noptions:\n  qmc_type: sobol\n  n_startup_trials: 3\n",
     "tuners/t.yaml:4: options.n_startup_trials: ", "unknown option 'n_startup_trials' for "
     "sampler qmc"),
    ("tuners/t.yaml", "sampler: nsga2\nobjectives: [speedup, {name: bytes, dir: min}]\n",
     "tuners/t.yaml:2: objectives[1].dir: ", "unknown key 'dir'; valid: name, direction"),
    ("p.yaml", "sampler: random\noptions: {seed: [1, {a: 2}]}\n", "p.yaml:2: options.seed[1]: ",
     "expected a scalar"),
]


def _listing(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


@pytest.mark.parametrize(("file", "text", "where", "detail"), CASES,
                         ids=[f"{i}-{c[2].split(': ', 1)[-1][:30]}" for i, c in enumerate(CASES)])
def test_malformed_input_is_one_line_with_location(file, text, where, detail, tmp_path,
                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / file).write_text(text, encoding="utf-8")
    before = _listing(tmp_path)
    assert main(["check", file]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith(where), lines[0]
    assert detail in lines[0], lines[0]
    assert _listing(tmp_path) == before  # nothing written (and nothing executed)


def test_at_least_25_distinct_cases():
    assert len({(c[0], c[1]) for c in CASES}) >= 25


def test_error_in_referenced_profile_names_the_profile(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tuners").mkdir()
    (tmp_path / "tuners" / "bad.yaml").write_text("sampler: tpe\noptions:\n  gamma: 3\n")
    (tmp_path / "s.yaml").write_text(SPACE + "tuner: tuners/bad.yaml\n")
    assert main(["check", "s.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tuners/bad.yaml:3: options.gamma: unknown option 'gamma'"), err


def test_every_bad_file_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(SPACE.replace("csr", "cssr"))
    (tmp_path / "b.yaml").write_text(SPACE)
    (tmp_path / "c.yaml").write_text("sampler: tpe\ntrials: -1\n")
    assert main(["check", "a.yaml", "b.yaml", "c.yaml", "missing.yaml"]) == 2
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[:2] == ["ok  b.yaml (suite: 1 grid points; tuner tpe, 1 objective(s))",
                         "    on cpu: 1 of 1 grid points can run"]
    assert not any("a.yaml" in x or "c.yaml" in x for x in lines)  # bad files only on stderr
    err = out.err.splitlines()
    assert [e.split(":")[0] for e in err] == ["a.yaml", "c.yaml", "missing.yaml"]
    assert err[2] == "missing.yaml: file not found"
