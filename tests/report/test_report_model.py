"""A whole-model study's record (harness.tune.model_record) and its report section: the record
refers to its candidates by index, and the section draws the record's numbers as they are."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.models.export import Check, LayerResult, ModelResult
from harness.models.share import LayerTime, Shares
from harness.models.suite import DENSE, Option, loads_suite
from harness.report.data import ReportData
from harness.report.figures.model import headline, layer_rows, outcome_rows, uniform_rows
from harness.report.html import render
from harness.tune.model import Candidate, ModelTuneResult, pareto_front
from harness.tune.model_record import build, candidate

CSR, RG = Option("csr", "numba"), Option("row_group", "numba", "row_group", 32)
SUITE = loads_suite("""\
model: llama_mlp
batch: 16
choices:
  formats: [{format: csr, backend: numba, pattern: unstructured}]
  rates: [0.5, 0.9]
""", "mlp.yaml")


def _result(exported: bool = True) -> ModelTuneResult:
    u90 = Candidate((("up", CSR, 0.9), ("down", CSR, 0.9)), 2.0e-3, 0.9, uniform=True)
    u50 = Candidate((("up", CSR, 0.5), ("down", CSR, 0.5)), 5.0e-3, 0.5, uniform=True)
    mixed = Candidate((("up", RG, 0.95), ("down", DENSE, 0.0)), 1.6e-3, 0.905, trial=0)
    cands = (u90, u50, mixed)
    shares = Shares(8.0e-3, (LayerTime("up", (64, 32, 16), 5.0e-3, 0.625),
                             LayerTime("down", (32, 64, 16), 2.0e-3, 0.25)))
    layers = (LayerResult("up", (64, 32, 16), "row_group/numba row_group g=32 95%", 5.0e-3,
                          0.5e-3, 0.625),
              LayerResult("down", (32, 64, 16), "dense", 2.0e-3, 2.0e-3, 0.25))
    chosen = ModelResult(Check(1e-7, 1e-5), 0.905, layers, 8.0e-3, 1.6e-3, 5.0, (4.8, 5.2),
                         4.0, 40) if exported else None
    return ModelTuneResult("mlp", 8.0e-3, cands, pareto_front(cands), mixed, u90, chosen, None,
                           ("down csr 95%: unsupported",), 0.9, shares,
                           {"up": "up", "down": "down"})


def test_the_record_names_its_candidates_by_index_and_survives_json():
    rec = json.loads(json.dumps(build(_result(), SUITE, device="cpu", trials=3)))
    labels = [c["label"] for c in rec["candidates"]]
    assert candidate(rec, "chosen")["label"] == labels[2] == "up: row_group/numba row_group " \
        "g=32 95%; down: dense"
    assert candidate(rec, "best_uniform")["label"] == labels[0]
    assert rec["front"] == [2]  # mixed beats both uniform ones in time and rate
    assert [c["predicted_speedup"] for c in rec["candidates"]] == pytest.approx([4.0, 1.6, 5.0])
    assert rec["rest_s"] == pytest.approx(1.0e-3)
    assert [(t["name"], t["group"], t["shape"]) for t in rec["layers"]] == \
        [("up", "up", [64, 32, 16]), ("down", "down", [32, 64, 16])]
    eq = {e["rate"]: e for e in rec["equal_rates"]}
    assert eq[0.9]["per_layer"] == 2 and eq[0.9]["time_ratio"] == pytest.approx(0.8)
    assert eq[0.5]["per_layer"] is None
    assert rec["chosen_result"]["verified"] and rec["uniform_result"] is None
    assert rec["chosen_result"]["measured_ci"] == [4.8, 5.2]


def test_the_section_draws_the_stored_numbers():
    rec = json.loads(json.dumps(build(_result(), SUITE, device="cpu", trials=3)))
    (chosen, uniform) = outcome_rows(rec)
    assert chosen[0] == "fastest at the target rate" and chosen[3] == "5.00×"  # search
    assert chosen[4:8] == ("5.00× [4.80, 5.20]", "1.00", "4.00×", "1.25")  # measured; export run
    assert uniform[1].startswith("uniform csr") and uniform[4] == "not exported"
    layers = layer_rows(rec)
    assert layers[0][3:] == ("row_group/numba row_group g=32 95%", "5 ms", "0.5 ms", "10.00×")
    assert layers[-1][0] == "(rest of the model)" and layers[-1][2] == "12.5%"
    by_rate = {r[0]: r for r in uniform_rows(rec)}
    assert by_rate["90.0%"][3:] == ("up: row_group/numba row_group g=32 95%; down: dense",
                                    "90.5%", "5.00×", "0.80")
    assert by_rate["50.0%"][3] == "none found"
    title, value = headline(rec)
    assert "measured end to end" in title and value.startswith("5.00× [4.80, 5.20]")
    assert value.endswith("predicted 5.00×")  # the search's prediction, as the table's first


def test_a_report_of_only_a_model_study_is_not_empty_and_shows_it():
    rec = build(_result(), SUITE, device="cpu", trials=3)
    html = render(ReportData("t", models=(rec,)))
    assert "Whole model: mlp" in html and "No measurements" not in html
    assert "5.00× [4.80, 5.20]" in html and "model-front" in html
    assert html.count("<td>best uniform</td>") == 1
    assert "Weight Pruning for Deep Neural Networks on GPUs" in html  # cited by title
    assert "down csr 95%: unsupported" in html


def test_an_unexported_study_says_so_instead_of_a_measured_speedup():
    rec = build(_result(exported=False), SUITE, device="cpu", trials=3)
    title, value = headline(rec)
    assert "not measured end to end" in title and value.startswith("predicted 5.00×")
    assert all(r[3] == "not exported" for r in layer_rows(rec))
    assert outcome_rows(rec)[0][4] == "not exported"


def test_a_best_uniform_that_is_the_chosen_one_gets_one_row():
    r = _result()
    same = ModelTuneResult(r.suite, r.dense_model_s, r.candidates, r.front, r.best_uniform,
                           r.best_uniform, r.chosen_result, r.chosen_result, (), 0.9, r.shares,
                           r.layer_groups)
    rows = outcome_rows(build(same, SUITE, device="cpu", trials=3))
    assert [row[0] for row in rows] == ["fastest at the target rate"]


def test_a_model_slower_than_dense_is_headlined_as_such():
    from harness.tune.model_record import pays_off

    r = _result()
    slow = replace(r.chosen_result, measured_speedup=0.27, measured_ci=(0.26, 0.28))
    rec = build(replace(r, chosen_result=slow), SUITE, device="cpu", trials=3)
    title, value = headline(rec)
    assert "slower than dense" in title and value.endswith("serve this model dense")
    assert "serve this model dense" in pays_off(slow)
    assert "within the 95 % interval" in pays_off(replace(slow, measured_ci=(0.9, 1.1)))
    assert pays_off(r.chosen_result) is None  # 5.0× [4.8, 5.2]


def test_the_accuracy_stage_is_drawn_and_headlines_the_answer_within_budget():
    from harness.report.figures.model import accuracy_rows
    from harness.tune.model_train import AccuracyStage, Trained

    stage = AccuracyStage("mnist", 0.98, "at most 1 percentage point(s) below dense", (
        Trained(0, 0.975, 0.90, 0.005, True, 2, 3.0),
        Trained(2, 0.95, 0.20, 0.03, False, 2, 3.0)), {})
    r = _result()
    rec = build(replace(r, accuracy=stage, chosen=r.candidates[0]), SUITE, device="cpu",
                trials=3)
    rows = accuracy_rows(rec)  # fastest first: the mixed one (predicted 5×), then uniform 90 %
    assert [r[0].startswith("up: row_group") for r in rows] == [True, False]
    assert rows[0][3:] == ("0.9500", "0.2000", "-3.00 points", "no")
    assert rows[1][3:] == ("0.9750", "0.9000", "-0.50 points", "yes")
    title, value = headline(rec)
    assert "within the accuracy budget" in title and value.endswith("accuracy 0.9750 "
                                                                    "(-0.50 points)")
    html = render(ReportData("t", models=(rec,)))
    assert "Accuracy after fine-tuning (mnist; dense 0.9800;" in html
    none = build(replace(_result(), accuracy=stage, chosen=None, chosen_result=None), SUITE,
                 device="cpu", trials=3)
    assert headline(none)[1] == "none within the accuracy budget (at most 1 percentage " \
        "point(s) below dense)"
