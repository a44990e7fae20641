"""One line per trial on stderr: a progress bar that survives logs and pipes.

The bar counts newly measured points, what `--trials N` counts (`tune.objective.Budget`):
a trial that repeats a point, breaks a constraint or reuses a stored measurement gets its line
but does not advance the bar. These lines are the only per-trial output: `quiet_optuna` turns
Optuna's own log lines off, in the parent of `--workers` and in every worker.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from harness.core.measurement import Measurement
from harness.core.point import Point


def quiet_optuna() -> None:
    """Optuna's own log lines and experimental-feature warnings off (its errors still show).

    The progress lines report every trial and why it was pruned or failed; Optuna's lines about
    the same events ("A new study created in RDB …", "Trial 3 failed with parameters …") came
    raw between them, and from several processes at once under `--workers`.
    """
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def is_new(m: Measurement | None, note: str) -> bool:
    """A trial that measured its point now (what `--trials N` counts)."""
    return m is not None and note != "reused"


class TrialProgress:
    def __init__(self, total: int | None, *, stream: TextIO | None = None,
                 quiet: bool = False) -> None:
        self.total, self.stream, self.quiet = total, stream or sys.stderr, quiet
        self.done = 0  # trials reported
        self.new = 0  # of them, newly measured points: what the bar and the count show
        self.start = time.perf_counter()

    def __call__(self, number: int, point: Point, m: Measurement | None, note: str) -> None:
        self.done += 1
        self.new += is_new(m, note)
        if self.quiet:
            return
        of = f"/{self.total}" if self.total else ""
        width = 20
        filled = min(width, int(width * self.new / self.total)) if self.total else 0
        bar = f"[{'#' * filled}{'.' * (width - filled)}] " if self.total else ""
        if m is not None and m.status == "ok" and m.speedup is not None:
            lo, hi = m.speedup_ci or (m.speedup, m.speedup)
            result = f"speedup {m.speedup:.2f}x [{lo:.2f}, {hi:.2f}]"
        else:
            result = note or (m.status if m else "")
        extra = " (reused)" if note == "reused" else ""
        elapsed = time.perf_counter() - self.start
        print(f"{bar}{self.new}{of} trial {number}: {point.label()}: {result}{extra}"
              f"  [{elapsed:.0f}s]", file=self.stream, flush=True)
