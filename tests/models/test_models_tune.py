"""The model suite loader, the per-layer search on a tiny model and its dispatch by harness tune."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.models.suite import DENSE, Option, load_suite, loads_suite
from harness.tune.model import Candidate, fastest_at, is_model_suite, pareto_front

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
model: {model}
batch: 4
threads: 1
trials: 3
seed: 1
choices:
  formats:
    - {{format: row_group, backend: numba, pattern: row_group, group_sizes: [8, 16]}}
    - {{format: csr, backend: numba, pattern: unstructured}}
  rates: [0.9, 0.5]
measure: {{warmup: 1, min_samples: 3, min_time_s: 0.001, max_time_s: 0.05, rounds: 2}}
"""

FACTORY = """
from torch import nn

def tiny():
    # two 64x64 layers: one shape group of two layers
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 32))
"""


@pytest.fixture
def tiny_model(tmp_path, make_user_package):
    module = make_user_package("userpkg_tune_test", FACTORY)
    suite = tmp_path / "tiny.yaml"
    suite.write_text(GOOD.format(model=f"{module}:tiny") + "in_shape: [64]\n")
    return suite


def test_a_suite_is_parsed_into_options_rates_and_timing_rules():
    s = loads_suite(GOOD.format(model="llama_mlp"), "m.yaml")
    assert [o.label for o in s.layer_options] == [
        "row_group/numba row_group g=8", "row_group/numba row_group g=16",
        "csr/numba unstructured", "dense"]
    assert s.rates == (0.5, 0.9)
    assert (s.batch, s.threads, s.trials, s.seed, s.target_rate) == (4, 1, 3, 1, 0.9)
    assert (s.measure.mode, s.measure.max_time_s, s.measure.rounds) == ("hot", 0.05, 2)
    assert s.name == "m"


@pytest.mark.parametrize(("change", "path", "says"), [
    ("model: no_such_model", "model", "a built-in model name or a factory"),
    ("batch: 0", "batch", "an integer ≥ 1"),
    ("colour: red", "colour", "unknown key 'colour'"),
    ("target_rate: 1.5", "target_rate", "a number in (0, 1]"),
    ("sampler: annealing", "sampler", "one of "),
    ("device: tpu", "device", "one of cpu, cuda"),
    ("measure: {mode: lukewarm}", "measure.mode", "one of hot, cold"),
    ("measure: {max_time_s: -1}", "measure.max_time_s", "a positive number"),
    ("choices: {formats: [{format: nope, backend: numba}], rates: [0.5]}",
     "choices.formats[0].format", "one of "),
    ("choices: {formats: [{format: csr, backend: nope}], rates: [0.5]}",
     "choices.formats[0].backend", "one of "),
    ("choices: {formats: [{format: csr, backend: numba, pattern: zigzag}], rates: [0.5]}",
     "choices.formats[0].pattern", "one of "),
    ("choices: {formats: [{format: csr, backend: numba}], rates: [1.0]}",
     "choices.rates[0]", "a number in (0, 0.999]"),
    ("choices: {formats: [{format: csr, backend: numba}], rates: []}",
     "choices.rates", "a non-empty list"),
    ("choices: {formats: [{format: csr, backend: numba}], rates: [0.5], dense: maybe}",
     "choices.dense", "true or false"),
])
def test_bad_input_names_file_key_and_expected_value(change, path, says):
    key = change.split(":", 1)[0]
    lines = [ln for ln in GOOD.format(model="llama_mlp").splitlines()
             if not ln.startswith(f"{key}:")]
    if key == "choices":  # drop the block under it too
        start = next(i for i, ln in enumerate(lines) if ln.startswith("measure:"))
        lines = [ln for ln in lines[:start] if ln.startswith(("model", "batch", "threads",
                                                              "trials", "seed"))] + lines[start:]
    text = "\n".join([*lines, change]) + "\n"
    with pytest.raises(InputError) as err:
        loads_suite(text, "bad.yaml")
    msg = str(err.value)
    assert msg.startswith("bad.yaml:"), msg
    assert f"{path}:" in msg and says in msg, msg


def test_a_suite_without_batch_is_refused():
    text = "\n".join(ln for ln in GOOD.format(model="fc").splitlines()
                     if not ln.startswith("batch"))
    with pytest.raises(InputError, match=r"batch: expected an integer ≥ 1, got None"):
        loads_suite(text, "x.yaml")


def test_the_shipped_model_suites_load_and_are_told_apart_from_gemm_suites():
    llama = load_suite(ROOT / "suites/llama_mlp.yaml")
    assert (llama.model, llama.batch, llama.target_rate) == ("llama_mlp", 16, 0.9)
    assert {o.group_size for o in llama.options if o.format == "row_group"} == {8, 16, 32, 64}
    assert any(o.format == "csr" for o in llama.options)
    assert min(llama.rates) == 0.5 and max(llama.rates) == 0.95
    fc = load_suite(ROOT / "suites/fc_model.yaml")
    assert (fc.model, fc.batch) == ("fc", 50)
    assert is_model_suite(ROOT / "suites/llama_mlp.yaml")
    shipped = {load_suite(p).model for p in sorted((ROOT / "suites").glob("*.yaml"))
               if is_model_suite(p)}
    from harness.models.builtin import BUILTINS

    assert shipped == set(BUILTINS.names())  # a suite for every built-in model
    assert not is_model_suite(ROOT / "suites/fc.yaml")
    assert not is_model_suite(ROOT / "suites/graph_challenge.yaml")


def _cand(time_s: float, rate: float, uniform: bool = False) -> Candidate:
    return Candidate((("k", DENSE, 0.0),), time_s, rate, uniform)


def test_the_front_keeps_what_nothing_beats_and_the_target_picks_the_fastest_above_it():
    a, b, c, d = _cand(1.0, 0.5), _cand(2.0, 0.9), _cand(2.5, 0.8), _cand(3.0, 0.95)
    assert pareto_front([d, c, b, a]) == (a, b, d)
    assert fastest_at([a, b, c, d], 0.9) is b
    assert fastest_at([a, c], 0.9) is None


def test_the_search_on_a_tiny_model_exports_the_fastest_config_at_the_target(tiny_model):
    from harness.tune.model import format_result, tune_model

    r = tune_model(tiny_model, quiet=True)
    # 2 shape groups (64x64 twice, 32x64); 3 options x 2 rates uniform + 3 trials
    uniforms = [c for c in r.candidates if c.uniform]
    assert len(uniforms) == 6 and len(r.candidates) == 9
    assert all(len(c.choices) == 2 for c in r.candidates)
    for c in uniforms:  # a uniform rate is the model's rate (every layer is prunable)
        assert c.rate == pytest.approx(c.choices[0][2])
    assert r.chosen is not None and r.chosen.rate >= 0.9 - 1e-9
    assert r.chosen.time_s == min(c.time_s for c in r.candidates if c.rate >= 0.9 - 1e-9)
    assert r.best_uniform is not None and r.best_uniform.uniform
    res = r.chosen_result
    assert res is not None and res.check.ok
    assert [lay.name for lay in res.layers] == ["0", "2", "4"]
    assert res.pruning_rate == pytest.approx(r.chosen.rate, abs=0.02)
    text = format_result(r, 0.9)
    assert "layer" in text and "share" in text and "64x64x4" in text and "32x64x4" in text
    assert "predicted " in text and " / measured " in text
    layered = r.best_per_layer
    if layered is not None:  # the search's best mixed configuration, compared in the output
        assert not layered.uniform and layered.rate >= 0.9 - 1e-9
        assert "best per-layer (search)" in text
    for front in r.front:
        assert not any(o.time_s < front.time_s and o.rate > front.rate for o in r.candidates)
    # the prediction adds up the exported layers' times (not the bare kernels'), once per layer
    times = {(t["group"], t["option"], t["rate"]): t for t in r.layer_times}
    assert len(times) == 12 and all(t["kernel_s"] and t["layer_s"] for t in times.values())
    for c in uniforms:
        per_layer = [times[(r.layer_groups[lay.name], c.choices[0][1].label, c.choices[0][2])]
                     ["layer_s"] for lay in r.shares.layers]
        assert c.time_s == pytest.approx(r.shares.rest_s + sum(per_layer))


def test_harness_tune_stores_a_model_study_and_draws_its_report(tiny_model, tmp_path,
                                                               monkeypatch, capsys):
    from harness.cli.main import main
    from harness.store import open_store

    monkeypatch.chdir(tmp_path)  # the default store and report folder
    monkeypatch.delenv("HARNESS_STORAGE", raising=False)
    rc = main(["tune", str(tiny_model), "--trials", "2", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "front (" in out and "fastest at >= 90%" in out
    assert "shape (MxKxN)" in out and "end to end" in out
    with open_store(f"sqlite:///{tmp_path / 'runs' / 'harness.db'}") as store:
        (run,) = store.runs(kind="model")
        assert (run.suite, run.study, run.status) == ("tiny", "tiny-cpu", "finished")
        (rec,) = store.model_results(study="tiny-cpu")
        points = {m.measurement.point.key() for m in store.measurements(run_id=run.id)}
    # every (shape, choice) the uniform baselines needed: 2 shapes x 3 options x 2 rates
    assert len(points) >= 12
    chosen = rec["candidates"][rec["chosen"]]
    assert chosen["rate"] >= 0.9 - 1e-9 and rec["chosen_result"]["verified"]
    assert len(rec["candidates"]) == 6 + 2 and rec["trials"] == 2
    assert [t["name"] for t in rec["layers"]] == ["0", "2", "4"]
    html = (tmp_path / "reports" / "tiny" / "index.html").read_text()
    assert "Whole model: tiny" in html and "Per layer (the exported configuration)" in html
    measured = rec["chosen_result"]["measured_speedup"]
    assert f"{measured:.2f}×" in html
    assert f"report: {Path('reports') / 'tiny' / 'index.html'}" in out


def test_an_unwritable_report_folder_stops_a_model_tune_before_any_work(tiny_model, tmp_path,
                                                                       monkeypatch, capsys):
    from harness.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_STORAGE", raising=False)
    (tmp_path / "a_file").write_text("x")
    rc = main(["tune", str(tiny_model), "-o", "a_file", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "--report-dir" in err and "a folder" in err
    assert not (tmp_path / "runs").exists()  # nothing measured, nothing stored
    rc = main(["tune", str(tiny_model), "--workers", "2", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "--workers" in err and "1 for a model suite" in err
    assert not (tmp_path / "runs").exists()


def test_an_option_label_names_its_group_size():
    assert Option("row_group", "numba", "row_group", 32).label == "row_group/numba row_group g=32"
    assert Option("csr", "numba").spec(0.9).rate == 0.9
    assert DENSE.spec(0.9).rate == 0.0


def test_the_best_per_layer_configuration_is_compared_at_the_chosen_rate():
    from harness.tune.model import ModelTuneResult, format_result

    u90 = _cand(2.0, 0.9, uniform=True)
    mixed = Candidate((("a", Option("csr", "numba"), 0.95), ("b", DENSE, 0.0)), 1.5, 0.9)
    slow_low = Candidate((("a", DENSE, 0.0), ("b", Option("csr", "numba"), 0.5)), 1.0, 0.3)
    r = ModelTuneResult("s", 4.0, (u90, mixed, slow_low), pareto_front([u90, mixed, slow_low]),
                        mixed, u90)
    assert r.best_per_layer is mixed  # slow_low is faster but prunes less than the target
    text = format_result(r, 0.9)
    assert "best per-layer (search): a: csr/numba unstructured 95%; b: dense at 90.0%" in text
    assert "predicted 2.67x, model time 0.75 of the best uniform's (90.0%)" in text
    assert "uniform baselines (fastest option per rate):\n   90.0%    2.00x  uniform dense" in text


def test_per_layer_and_uniform_are_compared_at_equal_model_rate():
    from harness.tune.model import ModelTuneResult, at_equal_rates, format_result

    u90 = _cand(2.0, 0.9, uniform=True)
    u50 = _cand(1.0, 0.5, uniform=True)
    near = Candidate((("a", Option("csr", "numba"), 0.95), ("b", DENSE, 0.0)), 1.6, 0.905)
    above_band = Candidate((("a", Option("csr", "numba"), 0.95),), 1.2, 0.95)  # prunes more
    below = Candidate((("b", Option("csr", "numba"), 0.5),), 0.5, 0.85)
    cands = (u90, u50, near, above_band, below)
    by_rate = {c.rate: c for c in at_equal_rates(cands)}
    assert by_rate[0.9].per_layer is near and by_rate[0.9].time_ratio == pytest.approx(0.8)
    assert by_rate[0.5].per_layer is None  # nothing within one point above 50 %
    r = ModelTuneResult("s", 4.0, cands, pareto_front(list(cands)), above_band, u90)
    text = format_result(r, 0.9)
    assert "per-layer against uniform at equal model rate" in text
    assert "   90.0%  0.80 (faster; per-layer at 90.5%: a: csr/numba unstructured 95%" in text
    assert "   50.0%  no per-layer configuration found at this rate" in text


TRAINED = """\
model: lenet300
in_shape: [64]
batch: 4
threads: 1
trials: 2
seed: 0
target_rate: 0.5
choices:
  formats: [{format: row_group, backend: numba, pattern: row_group, group_sizes: [4]}]
  rates: [0.5, 0.9]
measure: {warmup: 1, min_samples: 3, min_time_s: 0.001, max_time_s: 0.02, rounds: 2}
train: {dataset: digits, pretrain_epochs: 3, finetune_epochs: 1, batch_size: 64, lr: 0.05,
        candidates: 2, max_accuracy_drop: 1.0}
"""


def test_a_train_section_is_parsed_and_refused_where_it_cannot_apply():
    s = loads_suite(TRAINED, "t.yaml")
    assert (s.train.dataset, s.train.candidates, s.train.max_accuracy_drop) == ("digits", 2, 1.0)
    assert s.train.min_accuracy is None and s.train.model == "lenet300"
    with pytest.raises(InputError, match=r"train: expected a model the training stage builds"):
        loads_suite(TRAINED.replace("model: lenet300", "model: llama_mlp"), "t.yaml")
    with pytest.raises(InputError, match=r"train\.lr: expected a positive number, got -1"):
        loads_suite(TRAINED.replace("lr: 0.05", "lr: -1"), "t.yaml")
    with pytest.raises(InputError, match=r"train\.dataset: expected one of digits"):
        loads_suite(TRAINED.replace("dataset: digits", "dataset: cifar"), "t.yaml")
    with pytest.raises(InputError, match=r"train\.epochs"):
        loads_suite(TRAINED.replace("candidates: 2", "epochs: 2"), "t.yaml")


@pytest.fixture
def trained_suite(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))  # the dense model's cache
    def write(text: str = TRAINED):
        path = tmp_path / "trained.yaml"
        path.write_text(text)
        return path
    return write


def test_the_answer_is_the_fastest_configuration_within_the_accuracy_budget(trained_suite):
    from harness.tune.model import fastest_at, format_result, tune_model

    r = tune_model(trained_suite(), quiet=True)
    stage = r.accuracy
    assert stage is not None and 0.5 < stage.dense_accuracy <= 1.0
    picked = {t.candidate for t in stage.trained}
    assert 2 <= len(picked) <= 4 and all(r.candidates[i].rate >= 0.5 for i in picked)
    assert {r.candidates[i].rate for i in picked if r.candidates[i].uniform} >= {0.5, 0.9}
    assert r.candidates.index(fastest_at(r.candidates, 0.5)) in picked
    assert all(t.within_budget for t in stage.trained)  # a drop of up to 100 points is allowed
    assert r.chosen is fastest_at(r.candidates, 0.5)
    assert r.chosen_result is not None and r.chosen_result.check.ok  # fine-tuned, exported
    text = format_result(r, 0.5)
    assert "accuracy (digits, fine-tuned; dense" in text
    assert "fastest at >= 50% within the accuracy budget" in text
    # an impossible floor: nothing is within the budget, nothing is exported as the answer
    strict = tune_model(trained_suite(TRAINED.replace("max_accuracy_drop: 1.0",
                                                      "min_accuracy: 1.0")), quiet=True)
    assert strict.chosen is None and strict.chosen_result is None
    assert not any(t.within_budget for t in strict.accuracy.trained)
    text = format_result(strict, 0.5)
    assert "is within the accuracy budget (at most 1 percentage point(s) below dense and " \
        "accuracy at least 1)" in text


def test_the_accuracy_stage_picks_distinct_fastest_and_the_fastest_uniform_per_rate():
    from harness.tune.model_train import pick

    csr, g8 = Option("csr", "numba"), Option("row_group", "numba", "row_group", 8)
    u90 = Candidate((("a", g8, 0.9), ("b", g8, 0.9)), 2.0, 0.9, uniform=True)
    u95 = Candidate((("a", g8, 0.95), ("b", g8, 0.95)), 1.0, 0.95, uniform=True)
    slow95 = Candidate((("a", csr, 0.95), ("b", csr, 0.95)), 3.0, 0.95, uniform=True)
    mixed = Candidate((("a", csr, 0.95), ("b", DENSE, 0.0)), 1.5, 0.92)
    again = Candidate(mixed.choices, 1.5, 0.92, trial=7)  # a trial that repeats `mixed`
    low = Candidate((("a", g8, 0.5), ("b", g8, 0.5)), 0.1, 0.5, uniform=True)
    cands = [u90, u95, slow95, mixed, again, low]
    # k = 2: u95 and mixed (its repeat once); then the fastest uniform at 90 %
    assert pick(cands, 0.9, 2) == [1, 3, 0]
    assert pick(cands, 0.9, 1) == [1, 0]
    assert pick(cands, 0.99, 3) == []


def test_a_dataset_that_does_not_fit_the_served_model_stops_before_any_timing(trained_suite):
    from harness.tune.model import tune_model

    with pytest.raises(InputError, match=r"digits samples have shape \(1, 8, 8\), the model "
                                         r"serves samples of shape \(784,\)"):
        tune_model(trained_suite(TRAINED.replace("in_shape: [64]\n", "")), quiet=True)
