"""Bad input found by `harness check` (and so at the start of every command), not at run time:
sampler options, seeds, threads, time bounds, data paths, and what a suite file may be."""

from __future__ import annotations

import inspect
import os
import threading

import pytest

from harness.cli.main import main
from harness.config import limits
from harness.config.sampler_options import RULES

SUITE = """\
name: t
device: cpu
seed: 0
space: {shape: [8, 8, 4], pruning_rate: [0.5], format: csr}
tuner: {sampler: SAMPLER, options: {OPTIONS}}
"""


def _check(tmp_path, text, capsys, name="s.yaml") -> str:
    (tmp_path / name).write_text(text)
    assert main(["check", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(("sampler", "options", "where", "says"), [
    ("nsga2", "population_size: 1", "options.population_size", "an integer ≥ 2, got 1"),
    ("nsga2", "mutation_prob: 2", "options.mutation_prob", "in [0, 1] or null, got 2"),
    ("nsga2", "crossover_prob: -0.1", "options.crossover_prob", "in [0, 1], got -0.1"),
    ("nsga2", "swapping_prob: true", "options.swapping_prob", "got True"),
    ("qmc", "qmc_type: foo", "options.qmc_type", "one of sobol, halton, got 'foo'"),
    ("qmc", "scramble: 1", "options.scramble", "true or false, got 1"),
    ("tpe", "n_startup_trials: abc", "options.n_startup_trials", "an integer ≥ 0, got 'abc'"),
    ("tpe", "n_startup_trials: 2.5", "options.n_startup_trials", "got 2.5"),
    ("tpe", "n_ei_candidates: 0", "options.n_ei_candidates", "an integer ≥ 1, got 0"),
    ("tpe", "prior_weight: -1", "options.prior_weight", "got -1"),
    ("tpe", "group: true", "options.group", "unless multivariate is true"),
    ("gp", "n_startup_trials: -3", "options.n_startup_trials", "got -3"),
    ("random", "seed: 4294967296", "options.seed", "[0, 4.29497e+09] or null, got 4294967296"),
    ("grid", "seed: -1", "options.seed", "got -1"),
])
def test_sampler_options_are_checked_against_types_and_ranges(tmp_path, capsys, sampler,
                                                               options, where, says):
    err = _check(tmp_path, SUITE.replace("SAMPLER", sampler).replace("OPTIONS", options), capsys)
    assert f"tuner.{where}: expected" in err and says in err, err


def test_valid_options_pass(tmp_path, capsys):
    text = SUITE.replace("SAMPLER", "nsga2").replace(
        "OPTIONS", "population_size: 2, mutation_prob: null, crossover_prob: 1, seed: 4294967295")
    (tmp_path / "s.yaml").write_text(text)
    assert main(["check", str(tmp_path / "s.yaml")]) == 0, capsys.readouterr().err


def test_the_option_rules_mirror_each_optuna_sampler_signature():
    import optuna

    from harness.config.names import SAMPLER_OPTIONS

    classes = {"tpe": "TPESampler", "nsga2": "NSGAIISampler", "gp": "GPSampler",
               "random": "RandomSampler", "qmc": "QMCSampler", "grid": "GridSampler"}
    not_yaml = {"gamma", "weights", "constraints_func", "mutation", "crossover",
                "independent_sampler", "elite_population_selection_strategy",
                "child_generation_strategy", "after_trial_strategy", "search_space"}
    for name, cls in classes.items():
        params = set(inspect.signature(getattr(optuna.samplers, cls)).parameters) - not_yaml
        assert set(RULES[name]) == params == set(SAMPLER_OPTIONS[name]), name


@pytest.mark.parametrize(("line", "where", "says"), [
    ("seed: 4294967296", "seed", "an integer in [0, 4294967295]"),
    ("threads: 100000", "threads", "expected at most"),
    ("measure: {max_time_s: 1.0e300}", "measure.max_time_s", "≤ 3600"),
    ("measure: {min_time_s: 1.0e5, max_time_s: 1}", "measure.min_time_s", "3600"),
    ("measure: {rounds: 100000}", "measure.rounds", "at most 1000, got 100000"),
    ("measure: {warmup: 100000}", "measure.warmup", "at most 10000"),
    ("measure: {min_samples: 1000000000}", "measure.min_samples", "at most 1000000"),
    ("train: {pretrain_epochs: 1000000000}", "train.pretrain_epochs", "at most 10000"),
    ("train: {candidates: 5000}", "train.candidates", "at most 1000"),
])
def test_suite_values_are_bounded(tmp_path, capsys, line, where, says):
    text = SUITE.replace("seed: 0\n", "").replace("SAMPLER", "random").replace("OPTIONS", "")
    err = _check(tmp_path, text + line + "\n", capsys)
    assert f": {where}: expected" in err and says in err, err


def test_threads_bound_follows_the_machine(tmp_path, capsys):
    assert limits.max_threads() == 4 * (os.cpu_count() or 1)
    ok = SUITE.replace("SAMPLER", "random").replace("OPTIONS", "") + \
        f"threads: {limits.max_threads()}\n"
    (tmp_path / "s.yaml").write_text(ok)
    assert main(["check", str(tmp_path / "s.yaml")]) == 0


def test_study_and_training_time_bounds(tmp_path, capsys):
    base = SUITE.replace("SAMPLER", "random").replace("OPTIONS", "")
    err = _check(tmp_path, base.replace("options: {}", "options: {}, timeout_s: 1.0e300"),
                 capsys)
    assert "tuner.timeout_s: expected a positive number of seconds ≤ 2.592e+06" in err
    err = _check(tmp_path, base + "train: {budget_s: 1.0e300}\n", capsys)
    assert "train.budget_s: expected" in err


def test_a_missing_data_path_is_found_before_the_study(tmp_path, capsys):
    base = SUITE.replace("SAMPLER", "random").replace("OPTIONS", "")
    err = _check(tmp_path, base + "train: {dataset: mnist, data_path: nowhere/mnist}\n", capsys)
    assert "train.data_path: expected an existing file or folder, got 'nowhere/mnist'" in err
    (tmp_path / "mnist").mkdir()
    (tmp_path / "s.yaml").write_text(base + f"train: {{dataset: mnist, data_path: "
                                             f"{tmp_path / 'mnist'}}}\n")
    assert main(["check", str(tmp_path / "s.yaml")]) == 0


def test_files_must_be_regular_and_small(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "#" * limits.MAX_INPUT_BYTES)
    assert main(["check", str(big)]) == 2
    assert "file too large" in capsys.readouterr().err
    assert main(["check", "/dev/zero"]) == 2
    assert "expected a regular file" in capsys.readouterr().err


def test_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("rc", main(["check", str(fifo)])),
                         daemon=True)
    t.start()
    t.join(10)
    assert result.get("rc") == 2, "check blocked on a FIFO"
    assert "expected a regular file (not a pipe" in capsys.readouterr().err


@pytest.mark.parametrize(("url", "says"), [
    ("sqlite://", "is an in-memory database"),
    ("postgresql://u:pa@ss@h/db", "unencoded '@'"),
    ("mysql://h/db", "unsupported database"),
])
def test_a_profile_storage_url_is_checked_without_creating_anything(tmp_path, monkeypatch,
                                                                   capsys, url, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(f'sampler: random\nstorage: "{url}"\n')
    err = _check(tmp_path, (tmp_path / "p.yaml").read_text(), capsys, "p.yaml")
    assert "p.yaml:2: storage: " in err and says in err and "ss@h/db" not in err
    (tmp_path / "q.yaml").write_text('sampler: random\nstorage: "sqlite:///new/dir/h.db"\n')
    assert main(["check", "q.yaml"]) == 0
    assert not (tmp_path / "new").exists()
