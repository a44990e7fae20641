"""The training stage's choice of configurations: the front's best, then the Fig. 4 series."""

from __future__ import annotations

from harness.config.suite import loads_suite
from harness.core.point import Point, PruneSpec
from harness.tune.front import FrontRow
from harness.tune.train_stage import candidates, fig4_series, flatten

SUITE = """\
name: t
space:
  shape: [64, 64, 8]
  pruning_rate: {low: 0.8, high: 0.98, step: 0.02}
  group_size: [1, 4, 16]
  pattern: row_group
  format: csr
"""


def _row(rate: float, g: int, speedup: float, trial: int) -> FrontRow:
    p = Point(64, 64, 8, format="csr", prune=PruneSpec("row_group", rate, g))
    return FrontRow(trial, p.label(), (speedup, rate), trial * 10, p.as_dict())


def test_candidates_dedupe_by_pruning_and_rank_by_speedup():
    front = [_row(0.9, 4, 1.5, 1), _row(0.98, 16, 3.0, 2), _row(0.9, 4, 1.7, 3),
             _row(0.8, 1, 0.9, 4)]
    chosen = candidates(front, limit=2)
    assert [(c[0].rate, c[0].group_size, c[1], c[2]) for c in chosen] == [
        (0.98, 16, 3.0, 20), (0.9, 4, 1.7, 30)]


def test_fig4_series_uses_every_group_size_at_the_rate_nearest_90_percent():
    suite = loads_suite(SUITE)
    series = fig4_series(suite.space)
    assert [(s.rate, s.group_size, s.pattern) for s in series] == [
        (0.9, 1, "row_group"), (0.9, 4, "row_group"), (0.9, 16, "row_group")]
    unstructured = loads_suite(SUITE.replace("pattern: row_group", "pattern: unstructured"))
    assert fig4_series(unstructured.space) == []


def test_flatten_gives_the_report_keys():
    rec = {"kind": "candidate", "accuracy": 0.9,
           "prune": {"pattern": "row_group", "rate": 0.9, "group_size": 8, "aggregation": "rms",
                     "block": [1, 1], "nm": [2, 4], "seed": 0}}
    flat = flatten(rec)
    assert flat["dense"] is False and flat["pruning_rate"] == 0.9 and flat["group_size"] == 8
    assert flatten({"kind": "dense", "prune": None})["dense"] is True
