"""Choices that cannot run on this device are dropped from the space before a study starts."""

from __future__ import annotations

from harness.config.suite import loads_suite
from harness.tune.feasible import runnable_space

SUITE = """\
name: f
space:
  shape: [64, 64, 8]
  pruning_rate: [0.5, 0.9]
  pattern: nm
  nm: [2, 4]
  format: [csr, coo, semi_structured]
"""


def test_a_format_no_backend_can_run_here_is_dropped_with_its_reason():
    suite = loads_suite(SUITE)
    space, notes = runnable_space(suite.space, device="cpu", dtypes=suite.dtypes)
    assert space.format == ("csr", "coo")
    assert len(notes) == 1 and notes[0].startswith("format 'semi_structured' dropped: ")
    assert "cpu" in notes[0] or "CUDA" in notes[0]


def test_a_space_where_nothing_runs_is_left_alone_so_trials_say_why():
    suite = loads_suite(SUITE.replace("format: [csr, coo, semi_structured]",
                                      "format: semi_structured"))
    space, notes = runnable_space(suite.space, device="cpu", dtypes=suite.dtypes)
    assert space == suite.space
    assert notes and "no point" in notes[0]


def test_tune_stops_at_once_with_each_formats_reason_when_nothing_can_run(tmp_path, capsys):
    import pytest

    from harness.cli.main import main
    from harness.tune.feasible import NothingRuns

    nothing = SUITE.replace("format: [csr, coo, semi_structured]", "format: semi_structured")
    suite = loads_suite(nothing)
    with pytest.raises(NothingRuns, match=r"^no point of the space can run on cpu \(semi_str"):
        runnable_space(suite.space, device="cpu", dtypes=suite.dtypes, strict=True)
    path = tmp_path / "f.yaml"
    path.write_text(nothing)
    db = tmp_path / "h.db"
    assert main(["tune", str(path), "--storage", f"sqlite:///{db}", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no point of the space can run on cpu" in err[0]
    assert not db.exists()  # nothing stored: no study, no run


def test_runnable_spaces_are_unchanged():
    suite = loads_suite(SUITE.replace("format: [csr, coo, semi_structured]", "format: [csr]"))
    assert runnable_space(suite.space, device="cpu", dtypes=suite.dtypes) == (suite.space, [])


CONSTRAINED = SUITE + """\
constraints:
  - when: {format: coo}
    require: {pruning_rate: {max: 0.6}}
"""


def test_why_not_is_the_objectives_order_constraints_then_backends():
    from dataclasses import replace

    from harness.backends.resolve import unsupported_reason
    from harness.tune.feasible import why_not

    suite = loads_suite(CONSTRAINED.replace("pattern: nm", "pattern: unstructured"))
    seen = set()
    for p in replace(suite.space, constraints=()).grid(device="cpu", dtypes=suite.dtypes):
        reason = why_not(suite.space, p)
        violated, unsupported = suite.space.violation(p), unsupported_reason(p)[1]
        expected = (f"constraint: {violated}" if violated else
                    f"unsupported: {unsupported}" if unsupported else None)
        assert reason == expected
        seen.add(None if reason is None else reason.split(":")[0])
    assert seen == {None, "constraint", "unsupported"}  # the suite exercises all three


def test_feasibility_splits_the_grid_the_tuner_searches():
    from harness.tune.feasible import feasibility

    suite = loads_suite(CONSTRAINED.replace("pattern: nm", "pattern: unstructured"))
    f = feasibility(suite.space, device="cpu", dtypes=suite.dtypes)
    grid = list(suite.grid("cpu"))  # what space.grid yields: constraints applied
    assert list(f.feasible) == [p for p in grid if p.format != "semi_structured"]
    assert [p.format for p in f.feasible] == ["csr", "csr", "coo"]
    assert f.total == 6 and sum(f.excluded.values()) == 3
    assert f.reasons()[0][1] == 2  # two points per reason at most here, most common first
    assert {r.split(":")[0] for r in f.excluded} == {"constraint", "unsupported"}


def test_the_search_is_offered_only_values_a_feasible_point_completes(tmp_path):
    from tune_helpers import TINY, tune_trials

    # csr/coo × g ∈ {1, 4} × 3 rates, and coo may not take g=1 nor a rate above 0.6: 7 of 12
    # points are feasible; a random search on the whole space would propose the rest too
    text = TINY.replace("trials: 6", "trials: 7") + """\
constraints:
  - when: {format: coo}
    require: {group_size: {min: 2}, pruning_rate: {max: 0.6}}
"""
    trials = tune_trials(tmp_path, text)
    reasons = [t.user_attrs.get("reason", "") for t in trials]
    assert not any(r.startswith("constraint") for r in reasons), reasons
    assert sum(bool(t.user_attrs.get("new")) for t in trials) == 7  # every feasible point
    assert any(" in [" in name for t in trials for name in t.params)  # a narrowed parameter
    from harness.export import frames

    exported = frames(f"sqlite:///{tmp_path / 'h.db'}", study="tiny-cpu")["trials"]
    assert {c for c in exported.columns if c.startswith("param.")} == {
        "param.pruning_rate", "param.group_size", "param.format"}


def test_a_value_no_feasible_point_takes_is_never_offered(tmp_path):
    from tune_helpers import TINY, tune_trials

    # g=1 is excluded for both formats: no feasible point has it, so it must not be sampled
    text = TINY + """\
constraints:
  - when: {format: csr}
    require: {group_size: {min: 2}}
  - when: {format: coo}
    require: {group_size: {min: 2}}
"""
    trials = tune_trials(tmp_path, text)
    reasons = [t.user_attrs.get("reason", "") for t in trials]
    assert not any(r.startswith("constraint") for r in reasons), reasons
    assert sum(bool(t.user_attrs.get("new")) for t in trials) == 6
