"""Small suites for the tune tests (tiny shapes, fast measurement settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TINY = """\
name: tiny
device: cpu
dtype: float32
seed: 0
threads: 1
space:
  shape: [64, 96, 8]
  pruning_rate: [0.5, 0.75, 0.9]
  group_size: [1, 4]
  pattern: row_group
  format: [csr, coo]
objectives: [speedup, pruning_rate]
measure: {warmup: 1, min_samples: 3, min_time_s: 0.002, max_time_s: 0.05, rounds: 2, mode: hot}
tuner: {sampler: random, trials: 6, options: {seed: 0}}
"""


def write_suite(folder: Path, text: str = TINY, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def tune_trials(folder: Path, text: str, *extra: str) -> list[Any]:
    """Run `harness tune` on suite `text` (SQLite in `folder`, no training stage) and return
    the study's trials."""
    import optuna

    from harness.cli.main import main

    suite = write_suite(folder, text)
    url = f"sqlite:///{folder / 'h.db'}"
    assert main(["tune", str(suite), "--storage", url, "--no-post", "--quiet", *extra]) == 0
    return optuna.load_study(study_name="tiny-cpu", storage=url).trials
