from __future__ import annotations

from harness.train.curves import BARS, curve_lines, sparkline


def test_sparkline_maps_min_to_lowest_and_max_to_highest_bar():
    line = sparkline([4.0, 3.0, 2.0, 1.0])
    assert line[0] == BARS[-1] and line[-1] == BARS[0] and len(line) == 4
    assert list(line) == sorted(line, reverse=True)
    assert sparkline([1.0, 1.0]) == BARS[0] * 2
    assert sparkline([1.0, float("nan"), 2.0]) == BARS[0] + "·" + BARS[-1]


def test_log_sparkline_spreads_decades_and_long_curves_are_resampled():
    # linear: 1e-3 and 1e-2 both near the bottom beside 1; log: evenly spread
    assert sparkline([1.0, 1e-1, 1e-2, 1e-3])[1:] == BARS[0] * 3
    assert len(set(sparkline([1.0, 1e-1, 1e-2, 1e-3], log=True))) == 4
    assert len(sparkline(list(range(100)), width=10)) == 10
    assert sparkline([1.0, 0.5], lo=0.0, hi=1.0) == BARS[-1] + BARS[4]  # a fixed range


def test_one_line_per_model_with_its_curves_and_flags():
    dense = {"kind": "dense", "signal_died": False, "accuracy": 0.97}
    dead = {"kind": "candidate", "prune": {"pattern": "row_group", "group_size": 8, "rate": 0.9,
                                           "aggregation": "median"}, "signal_died": True}
    admm = {"dense": False, "pattern": "filter", "pruning_rate": 0.75,
            "admm_rel_residuals": [0.5, 0.05, 0.004], "admm_tol": 0.01, "admm_converged": True,
            "signal_died": False}
    lasso = {"dense": False, "pattern": "row_group", "group_size": 1, "pruning_rate": 0.0,
             "epoch_flops": [10.0, 10.0, 6.0, 5.0], "dense_epoch_flops": 10.0,
             "train_flops_ratio": 0.775, "neurons_removed": 0.4, "lasso_budget": 1.234}
    lines = curve_lines([dense, dead, admm, lasso])
    assert len(lines) == 3  # dense has nothing to show
    assert lines[0].startswith("  row_group g=8 90% median: signal died")
    assert "filter 75%: ADMM" in lines[1] and "0.5 → 0.004" in lines[1]
    assert "(tol 0.01, converged)" in lines[1]
    assert ("100% → 50% of dense, all epochs 78%, 40% of hidden units removed, "
            "lasso budget 1.2") in lines[2]
    assert BARS[-1] * 2 in lines[2]  # 100 % of dense is the top bar
    both = dict(admm, signal_died=True, admm_converged=False)
    (line,) = curve_lines([both])
    assert "signal died" in line and "not converged" in line and line.count("filter") == 1
