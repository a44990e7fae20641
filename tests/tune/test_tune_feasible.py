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


def test_runnable_spaces_are_unchanged():
    suite = loads_suite(SUITE.replace("format: [csr, coo, semi_structured]", "format: [csr]"))
    assert runnable_space(suite.space, device="cpu", dtypes=suite.dtypes) == (suite.space, [])
