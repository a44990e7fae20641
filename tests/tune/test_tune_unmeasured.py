"""The search proposes no point the study has measured while feasible unmeasured ones remain."""

from __future__ import annotations

import random

import optuna
from tune_helpers import TINY, write_suite

from harness.cli.main import main
from harness.tune.feasible import FeasibleGrid
from harness.tune.objective import base_name
from harness.tune.unmeasured import Unmeasured

CONSTRAINED = TINY.replace("trials: 6", "trials: 7") + """\
constraints:
  - when: {format: coo}
    require: {group_size: {min: 2}, pruning_rate: {max: 0.6}}
"""  # 7 of the 12 points are feasible


def _trials(url: str) -> list:
    return optuna.load_study(study_name="tiny-cpu", storage=url).trials


def test_every_proposal_is_a_new_feasible_point_until_none_is_left(tmp_path, capsys):
    # a random search drawing 7 of 7 points would repeat some almost surely (7!/7^7 ≈ 0.6 %
    # of orders have none)
    suite = write_suite(tmp_path, CONSTRAINED)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["tune", str(suite), "--storage", url, "--no-post", "--quiet"]) == 0
    trials = _trials(url)
    assert len(trials) == 7, [t.user_attrs.get("reason") for t in trials]
    assert all(t.user_attrs.get("new") for t in trials)
    assert len({t.user_attrs["point_key"] for t in trials}) == 7
    # resuming: nothing is left, so no trial at all, and one line says so
    capsys.readouterr()
    assert main(["tune", str(suite), "--storage", url, "--no-post", "--quiet",
                 "--trials", "3"]) == 0
    assert len(_trials(url)) == 7
    err = capsys.readouterr().err
    assert "0 of 3 new points measured" in err and "no more feasible unmeasured" in err


def test_a_resumed_study_measures_only_what_it_has_not(tmp_path):
    suite = write_suite(tmp_path, CONSTRAINED.replace("trials: 7", "trials: 4"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    for _ in range(2):  # 4, then 3 more (only 3 are left): 7 trials, 7 points
        assert main(["tune", str(suite), "--storage", url, "--no-post", "--quiet"]) == 0
    trials = _trials(url)
    assert len(trials) == 7 and len({t.user_attrs["point_key"] for t in trials}) == 7


def _keys(points):
    return [f"{p['a']}{p['b']}" for p in points]


class _Stubborn:
    """A sampler that always proposes the first choice (a model that keeps its favourite)."""

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, space):
        return {}

    def sample_independent(self, study, trial, name, dist):
        return dist.choices[0]

    def before_trial(self, study, trial):
        pass

    def after_trial(self, study, trial, state, values):
        pass

    def reseed_rng(self):
        pass


def test_a_stubborn_sampler_is_steered_to_open_values():
    grid = {"a": [1, 2], "b": ["x", "y"]}
    points = [{"a": a, "b": b} for a in grid["a"] for b in grid["b"]]
    sampler = Unmeasured(_Stubborn(), FeasibleGrid(grid, points), _keys(points), ["a", "b"],
                         base_name, seed=0)
    study = optuna.create_study(sampler=sampler)
    seen = []

    def objective(trial):
        point = (trial.suggest_categorical("a", [1, 2]), trial.suggest_categorical("b", ["x", "y"]))
        seen.append(point)
        trial.set_user_attr("point_key", f"{point[0]}{point[1]}")
        trial.set_user_attr("measurement_id", len(seen))
        return random.random()

    study.optimize(objective, n_trials=4)
    assert sorted(seen) == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]  # all four, none twice
    assert sampler.exhausted(study)
    # without the wrapper the same sampler proposes (1, "x") every time
    plain = optuna.create_study(sampler=_Stubborn())
    seen.clear()
    plain.optimize(objective, n_trials=3)
    assert seen == [(1, "x")] * 3


def test_relative_proposals_keep_their_open_prefix():
    grid = {"a": [1, 2], "b": ["x", "y"]}
    points = [{"a": a, "b": b} for a in grid["a"] for b in grid["b"]]

    class Relative(_Stubborn):
        def sample_relative(self, study, trial, space):
            return {"a": 1, "b": "x"}

    sampler = Unmeasured(Relative(), FeasibleGrid(grid, points), _keys(points), ["a", "b"],
                         base_name, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.enqueue_trial({"a": 1, "b": "x"})
    study.optimize(lambda t: (t.suggest_categorical("a", [1, 2]),
                              t.suggest_categorical("b", ["x", "y"]),
                              t.set_user_attr("point_key", "1x"),
                              t.set_user_attr("measurement_id", 1), 0.0)[-1], n_trials=1)
    trial = study.ask()
    assert sampler.sample_relative(study, trial, {}) == {"a": 1}  # "b": "x" would repeat


def test_assignments_of_one_point_count_as_measured_together():
    # g does not change a block-pruned point: (block, 1) and (block, 4) are one point
    grid = {"pattern": ["block", "row_group"], "g": [1, 4]}
    points = [{"pattern": p, "g": g} for p in grid["pattern"] for g in grid["g"]]
    keys = ["block" if a["pattern"] == "block" else f"rg{a['g']}" for a in points]
    sampler = Unmeasured(_Stubborn(), FeasibleGrid(grid, points), keys, ["pattern", "g"],
                         base_name, seed=0)
    study = optuna.create_study(sampler=sampler)
    seen = []

    def objective(trial):
        a = {"pattern": trial.suggest_categorical("pattern", grid["pattern"]),
             "g": trial.suggest_categorical("g", grid["g"])}
        key = keys[points.index(a)]
        seen.append(key)
        trial.set_user_attr("point_key", key)
        trial.set_user_attr("measurement_id", len(seen))
        return 0.0

    study.optimize(objective, n_trials=3)
    assert sorted(seen) == ["block", "rg1", "rg4"]
