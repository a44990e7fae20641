"""Documented bounds on what a suite, a profile or a flag may ask for.

Each bound turns a value that would run for ever, exhaust the machine or crash deep inside a
library into one line at validation time (`harness check` and the start of every command).

- Time: one point's `measure.max_time_s` and `min_time_s` at most MAX_POINT_TIME_S (an hour);
  a study's `timeout_s` / `--timeout` and the training stage's `budget_s` at most
  MAX_STUDY_TIME_S (30 days). `--timeout` must be positive.
- Seeds: 0 … 2**32 - 1 (NumPy's and Optuna's range).
- Threads: 1 … THREADS_PER_CPU × the machine's logical CPUs (more only measures contention,
  and a typo such as 100000 would create that many OS threads).
- Counts that multiply time: `measure.warmup` ≤ MAX_WARMUP, `min_samples` ≤ MAX_SAMPLES,
  `rounds` ≤ MAX_ROUNDS; training epochs ≤ MAX_EPOCHS, `candidates` ≤ MAX_CANDIDATES.
- Input files: regular files of at most MAX_INPUT_BYTES (a YAML document is a few KiB; a larger
  file would take minutes and gigabytes to parse before being refused).
"""

from __future__ import annotations

import os

MAX_POINT_TIME_S = 3600.0
MAX_STUDY_TIME_S = 30 * 24 * 3600.0
MAX_SEED = 2**32 - 1
THREADS_PER_CPU = 4
MAX_INPUT_BYTES = 1 << 20  # 1 MiB
MAX_WARMUP = 10_000
MAX_SAMPLES = 1_000_000
MAX_ROUNDS = 1_000
MAX_EPOCHS = 10_000
MAX_CANDIDATES = 1_000


def max_threads() -> int:
    """The largest `threads:` this machine accepts."""
    return THREADS_PER_CPU * (os.cpu_count() or 1)
