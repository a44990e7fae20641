"""The answer a user acts on: fastest within the accuracy budget, from the stored records, the
same in terminal, store and report."""

from __future__ import annotations

import pytest

from harness.answers import (
    COLUMNS,
    DECISION,
    Budget,
    columns,
    decide,
    format_answer,
    stored_decision,
)


def _rec(g, rate, acc, speedup, status="ok"):
    return {"dense": False, "pattern": "row_group", "group_size": g, "pruning_rate": rate,
            "accuracy": acc, "speedup": speedup, "status": status}


DENSE = {"dense": True, "accuracy": 0.96, "speedup": 1.0, "status": "ok"}


def test_the_fastest_configuration_within_budget_is_recommended_never_a_destroyed_one():
    records = [DENSE, _rec(32, 0.98, 0.10, 12.8), _rec(8, 0.94, 0.66, 3.05),
               _rec(8, 0.9, 0.955, 2.1), _rec(1, 0.9, 0.958, 1.4)]
    d = decide(records, Budget(max_drop=0.01))
    assert d["kind"] == DECISION
    assert d["recommended"]["label"] == "row_group g=8 at 90%"
    assert d["recommended"]["speedup"] == 2.1
    assert [r["within"] for r in d["rows"]] == [False, False, True, True]  # fastest first
    assert d["rows"][0]["drop"] == pytest.approx(0.86)


def test_untrained_configurations_are_listed_and_never_recommended():
    d = decide([DENSE, _rec(8, 0.9, 0.955, 2.1)], Budget(max_drop=0.01),
               untrained=[("row_group g=64 at 98%", 20.0)])
    assert d["rows"][0] == {"label": "row_group g=64 at 98%", "speedup": 20.0, "accuracy": None,
                            "drop": None, "within": None, "status": "not trained",
                            "measurement_id": None, "vs_fastest_dense": None,
                            "speedup_ci": None}
    assert d["recommended"]["speedup"] == 2.1


def test_no_configuration_within_budget_says_why():
    d = decide([DENSE, _rec(32, 0.98, 0.10, 12.8)], Budget(max_drop=0.01))
    assert d["recommended"] is None and "within the accuracy budget" in d["why_none"]
    assert "recommended: none" in format_answer(d)


def test_a_slower_configuration_is_never_recommended():
    d = decide([DENSE, _rec(4, 0.5, 0.96, 0.78)], Budget())
    assert d["recommended"] is None and "keep it dense" in d["why_none"]
    assert d["rows"][0]["within"] is True


def test_budget_forms():
    assert Budget(max_drop=0.02).allows(0.95, 0.96)
    assert not Budget(max_drop=0.005).allows(0.95, 0.96)
    assert not Budget(max_drop=0.01).allows(0.99, None)  # no dense model: no drop to judge
    assert Budget(max_drop=None, min_accuracy=0.9).allows(0.91, None)
    assert not Budget(max_drop=0.5, min_accuracy=0.9).allows(0.89, 0.9)


def test_a_failed_training_is_not_an_accuracy():
    d = decide([DENSE, _rec(8, 0.9, 0.955, 2.1, status="unsupported: x")], Budget())
    assert d["rows"][0]["accuracy"] is None and d["recommended"] is None


def test_the_terminal_table_and_the_stored_record_agree():
    d = decide([DENSE, _rec(8, 0.9, 0.955, 2.1), _rec(32, 0.98, 0.1, 12.8)], Budget())
    text = format_answer(d, wall_s=61.4)
    lines = text.splitlines()
    assert lines[0].split() == ["configuration", "speedup", "accuracy", "vs", "dense",
                                "within", "budget"]
    assert "12.80x" in lines[2] and lines[2].endswith("no")
    assert "recommended: row_group g=8 at 90% — 2.10x, accuracy 0.9550" in text
    assert lines[-1] == "wall time: 61 s"
    assert stored_decision([DENSE, d, {"kind": "other"}]) is d


def test_the_report_draws_the_stored_decision():
    from harness.report.data import ReportData
    from harness.report.html import render

    d = decide([DENSE, _rec(8, 0.9, 0.955, 2.1), _rec(32, 0.98, 0.1, 12.8)], Budget())
    html = render(ReportData(title="t", train=(DENSE,), decision=d))
    assert "recommended (within the accuracy budget)" in html
    assert "2.10× · row_group g=8 at 90% · accuracy 0.9550" in html
    none = decide([DENSE, _rec(32, 0.98, 0.1, 12.8)], Budget())
    html = render(ReportData(title="t", train=(DENSE,), decision=none))
    assert "none: no trained configuration" in html


def test_each_row_is_also_compared_with_the_fastest_dense_dtype():
    recs = [DENSE, {**_rec(8, 0.9, 0.955, 2.1), "measurement_id": 7},
            {**_rec(32, 0.98, 0.1, 12.8), "measurement_id": 8}]
    d = decide(recs, Budget(), dense_alt={7: ("bfloat16", 3.0), 8: ("bfloat16", 3.2)})
    vs = {r["label"]: r["vs_fastest_dense"] for r in d["rows"]}
    assert vs["row_group g=8 at 90%"] == pytest.approx(0.7)
    assert vs["row_group g=32 at 98%"] == pytest.approx(4.0)
    assert d["dense_alternative"] == {"dtype": "bfloat16", "speedup": 3.0}  # the recommended's
    text = format_answer(d)
    assert "speedup vs dense bf16" in text.splitlines()[0]
    assert "0.70x" in text and "faster than the recommendation" in text
    faster = decide([DENSE, {**_rec(8, 0.9, 0.955, 4.1), "measurement_id": 7}], Budget(),
                    dense_alt={7: ("bfloat16", 3.0)})
    assert "faster than the recommendation" not in format_answer(faster)


def test_without_a_timed_dense_alternative_the_table_keeps_its_columns():
    d = decide([DENSE, _rec(8, 0.9, 0.955, 2.1)], Budget())
    assert d["dense_alternative"] is None and columns(d) == COLUMNS
    assert "alternative" not in format_answer(d)


def test_the_speedup_carries_its_confidence_interval_in_terminal_and_report():
    from harness.report.data import ReportData
    from harness.report.html import render

    recs = [DENSE, {**_rec(8, 0.9, 0.955, 2.29), "measurement_id": 7},
            {**_rec(32, 0.98, 0.1, 12.8), "measurement_id": 8}]
    d = decide(recs, Budget(), untrained=[("row_group g=64 at 98%", 20.0, 9)],
               speedup_ci={7: (2.2, 2.41), 9: (19.0, 21.5)})
    ci = {r["label"]: r["speedup_ci"] for r in d["rows"]}
    assert ci == {"row_group g=8 at 90%": (2.2, 2.41), "row_group g=32 at 98%": None,
                  "row_group g=64 at 98%": (19.0, 21.5)}
    text = format_answer(d)
    assert "2.29x [2.20, 2.41]" in text and "20.00x [19.00, 21.50]" in text
    assert "recommended: row_group g=8 at 90% — 2.29x [2.20, 2.41], accuracy" in text
    row32 = next(line for line in text.splitlines() if line.startswith("row_group g=32"))
    assert "12.80x" in row32 and "[" not in row32  # no interval measured: none shown
    from harness.core.measurement import Measurement
    from harness.core.point import Point, PruneSpec

    timed = Measurement(Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", 0.9, 8)),
                        "ok", speedup=2.29, speedup_ci=(2.2, 2.41))
    html = render(ReportData(title="t", measurements=(timed,), train=(DENSE,), decision=d))
    answer = html.split('class="answer"')[1].split("</table>")[0]
    assert "2.29× [2.20, 2.41]" in answer and "20.00× [19.00, 21.50]" in answer
    assert "2.29× [2.20, 2.41] · row_group g=8 at 90%" in html  # the headline card too
