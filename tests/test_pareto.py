from __future__ import annotations

import enum
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.pareto import direction_name, front, hypervolume, non_dominated, reference_point

DIRS = ("maximize", "minimize")


def brute_front(values, directions) -> list[int]:
    """O(n²) reference: i is kept unless some j is no worse everywhere and better somewhere."""
    sign = [1 if d == "minimize" else -1 for d in directions]
    pts = [[s * v for s, v in zip(sign, row, strict=True)] for row in values]
    keep = []
    for i, a in enumerate(pts):
        dominated = any(
            all(b[k] <= a[k] for k in range(len(a))) and any(b[k] < a[k] for k in range(len(a)))
            for j, b in enumerate(pts)
            if j != i
        )
        if not dominated:
            keep.append(i)
    return keep


def inclusion_exclusion(values, directions, ref) -> float:
    """Exact union volume of the boxes [p, ref] by inclusion–exclusion (small n only)."""
    sign = np.array([1 if d == "minimize" else -1 for d in directions])
    pts = [np.asarray(v, float) * sign for v in values]
    r = np.asarray(ref, float) * sign
    pts = [p for p in pts if (p < r).all()]
    total = 0.0
    for size in range(1, len(pts) + 1):
        for subset in itertools.combinations(pts, size):
            total += (-1) ** (size + 1) * np.prod(r - np.max(subset, axis=0))
    return total


small_ints = st.integers(min_value=0, max_value=6)  # few distinct values: many ties/duplicates


@st.composite
def value_sets(draw, max_d=4):
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(1, 25))
    rows = draw(st.lists(st.lists(small_ints, min_size=d, max_size=d), min_size=n, max_size=n))
    dirs = draw(st.lists(st.sampled_from(DIRS), min_size=d, max_size=d))
    return rows, dirs


@settings(max_examples=80, deadline=None)
@given(value_sets())
def test_non_dominated_matches_brute_force(case):
    rows, dirs = case
    assert non_dominated(rows, dirs).tolist() == brute_front(rows, dirs)


def test_duplicates_of_front_points_are_all_kept():
    rows = [[1, 5], [1, 5], [2, 2], [0, 0]]
    assert non_dominated(rows, ["maximize", "maximize"]).tolist() == [0, 1, 2]


def test_mixed_directions_speedup_vs_rate():
    # minimise rate, maximise speedup: the cheapest rate for each speedup level wins
    rows = [[0.8, 0.9], [0.9, 1.5], [0.95, 1.4], [0.98, 2.0], [0.8, 0.7]]
    assert non_dominated(rows, ["minimize", "maximize"]).tolist() == [0, 1, 3]


def test_non_finite_rows_are_never_on_the_front():
    rows = [[1.0, np.nan], [0.5, 0.5], [np.inf, 2.0]]
    assert non_dominated(rows, ["maximize", "maximize"]).tolist() == [1]


def test_bad_direction_and_shape_raise():
    with pytest.raises(ValueError, match="direction"):
        non_dominated([[1, 2]], ["up", "down"])
    with pytest.raises(ValueError, match="objectives"):
        non_dominated([[1, 2, 3]], ["maximize", "maximize"])


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_hypervolume_single_point_is_box(d):
    point = np.arange(1, d + 1, dtype=float)
    assert hypervolume([point], ["minimize"] * d, point + 2.0) == pytest.approx(2.0**d)
    assert hypervolume([point], ["maximize"] * d, point - 0.5) == pytest.approx(0.5**d)


def test_hypervolume_two_points_union():
    # boxes 3×1 and 1×3 overlapping in a 1×1 square
    assert hypervolume([[1, 3], [3, 1]], ["minimize"] * 2, [4, 4]) == pytest.approx(5.0)
    # the same in 3-d with unit depth, and mixed directions
    assert hypervolume([[1, 3, 0], [3, 1, 0]], ["minimize"] * 3, [4, 4, 1]) == pytest.approx(5.0)
    assert hypervolume([[-1, 3], [-3, 1]], ["maximize", "minimize"], [-4, 4]) == pytest.approx(5.0)


def test_hypervolume_three_d_known_staircase():
    pts = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    # union of three 2×1×1-shaped boxes in [0,2]³ minus overlaps: inclusion–exclusion gives 7 − 3 + 1
    ref = [2, 2, 2]
    boxes = [np.prod(np.subtract(ref, p)) for p in pts]
    pairs = [np.prod(np.subtract(ref, np.maximum(a, b))) for a, b in itertools.combinations(pts, 2)]
    triple = np.prod(np.subtract(ref, np.max(pts, axis=0)))
    expected = sum(boxes) - sum(pairs) + triple
    assert hypervolume(pts, ["minimize"] * 3, ref) == pytest.approx(expected)


def test_points_outside_reference_add_nothing():
    assert hypervolume([[5, 5]], ["minimize"] * 2, [4, 4]) == 0.0
    assert hypervolume([[1, 4]], ["minimize"] * 2, [4, 4]) == 0.0  # on the boundary
    assert hypervolume([], ["minimize"] * 2, [4, 4]) == 0.0


@settings(max_examples=40, deadline=None)
@given(value_sets(max_d=3), st.data())
def test_hypervolume_invariant_to_dominated_points_and_exact(case, data):
    rows, dirs = case
    ref = reference_point(rows, dirs, margin=0.5)
    hv = hypervolume(rows, dirs, ref)
    front = [rows[i] for i in non_dominated(rows, dirs)]
    assert hv == pytest.approx(hypervolume(front, dirs, ref))
    # add points dominated by a front point: volume unchanged
    base = data.draw(st.sampled_from(front))
    worse = [v - 1 if d == "maximize" else v + 1 for v, d in zip(base, dirs, strict=True)]
    assert hypervolume([*rows, worse], dirs, ref) == pytest.approx(hv)
    # exact check against inclusion–exclusion over the (deduplicated) front
    unique = [list(t) for t in dict.fromkeys(tuple(r) for r in front)]
    if len(unique) <= 10:
        assert hv == pytest.approx(inclusion_exclusion(unique, dirs, ref))


def test_reference_point_is_worse_than_every_point():
    rows = np.array([[0.8, 1.2], [0.9, 1.6], [0.95, 0.7]])
    ref = reference_point(rows, ["minimize", "maximize"], margin=0.1)
    assert ref[0] == pytest.approx(0.95 + 0.1 * 0.15)
    assert ref[1] == pytest.approx(0.7 - 0.1 * 0.9)
    flat = reference_point([[2.0, 2.0]], ["maximize", "minimize"])
    assert flat[0] < 2.0 < flat[1]


# ------------------------------------------------------------------ front (the one front function)


@settings(max_examples=60, deadline=None)
@given(value_sets())
def test_front_keeps_exactly_the_brute_force_front_best_first(case):
    rows, dirs = case
    got = front(list(range(len(rows))), dirs, values=lambda i: rows[i])
    assert sorted(got) == brute_front(rows, dirs)
    sign = [1 if d == "minimize" else -1 for d in dirs]
    keys = [[s * v for s, v in zip(sign, rows[i], strict=True)] for i in got]
    assert keys == sorted(keys)  # best first in the first objective, then the next, …


@pytest.mark.parametrize(("dirs", "expected"), [
    (("maximize", "minimize"), [(3.0, 0.5), (1.0, 0.1)]),  # faster at a lower rate
    (("minimize", "maximize"), [(1.0, 0.9), (2.0, 0.95)]),
    (("maximize", "maximize"), [(3.0, 0.95)]),
    (("minimize", "minimize"), [(1.0, 0.1)]),
])
def test_front_of_each_direction_mix(dirs, expected):
    pts = [(1.0, 0.1), (3.0, 0.5), (2.0, 0.5), (1.0, 0.9), (3.0, 0.95), (2.0, 0.95)]
    assert front(pts, dirs) == expected


def test_front_keeps_ties_in_input_order_and_drops_missing_values():
    a, b, c, d = {"v": (2.0, 1.0)}, {"v": (2.0, 1.0)}, {"v": (1.0, None)}, {"v": None}
    assert front([a, b, c, d], ["maximize", "minimize"], values=lambda p: p["v"]) == [a, b]
    assert front([(float("nan"), 1.0), (0.0, 0.0)], ["maximize", "maximize"]) == [(0.0, 0.0)]


def test_front_of_one_point_and_of_none():
    assert front([(0.5,)], ["minimize"]) == [(0.5,)]
    assert front([], ["maximize", "minimize"]) == []
    assert front([{"v": None}], ["maximize"], values=lambda p: p["v"]) == []


def test_front_reads_stored_directions_of_either_form():
    class StudyDirection(enum.Enum):  # how Optuna stores a study's directions
        MINIMIZE = 1
        MAXIMIZE = 2

    pts = [(1.0, 5.0), (2.0, 4.0)]
    assert front(pts, [StudyDirection.MAXIMIZE, StudyDirection.MAXIMIZE]) == [(2.0, 4.0),
                                                                               (1.0, 5.0)]
    assert front(pts, ["MINIMIZE", "max"]) == [(1.0, 5.0)]
    assert direction_name(StudyDirection.MINIMIZE) == "minimize"
    with pytest.raises(ValueError, match="'maximize' or 'minimize'"):
        front(pts, ["upward", "max"])
    with pytest.raises(ValueError, match="3 objective values but 2 directions"):
        front([(1.0, 2.0, 3.0)], ["max", "min"])


def test_front_per_problem_compares_points_of_one_problem_only():
    pts = [("a", 1.0), ("b", 5.0), ("a", 3.0), ("b", 2.0), ("a", 3.0)]
    assert front(pts, ["maximize"], values=lambda p: (p[1],)) == [("b", 5.0)]
    # problem "a" first (it appears first), its two equal best points both kept
    assert front(pts, ["maximize"], values=lambda p: (p[1],), problem=lambda p: p[0]) == [
        ("a", 3.0), ("a", 3.0), ("b", 5.0)]
    assert front([], ["maximize"], problem=lambda p: p) == []
