"""`harness tune`: Optuna search over a suite's space, each trial measured by the measurement core."""
