"""One line per trial on stderr: a progress bar that survives logs and pipes."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from harness.core.measurement import Measurement
from harness.core.point import Point


class TrialProgress:
    def __init__(self, total: int | None, *, stream: TextIO | None = None,
                 quiet: bool = False) -> None:
        self.total, self.stream, self.quiet = total, stream or sys.stderr, quiet
        self.done = 0
        self.start = time.perf_counter()

    def __call__(self, number: int, point: Point, m: Measurement | None, note: str) -> None:
        self.done += 1
        if self.quiet:
            return
        of = f"/{self.total}" if self.total else ""
        width = 20
        filled = int(width * self.done / self.total) if self.total else 0
        bar = f"[{'#' * filled}{'.' * (width - filled)}] " if self.total else ""
        if m is not None and m.status == "ok" and m.speedup is not None:
            lo, hi = m.speedup_ci or (m.speedup, m.speedup)
            result = f"speedup {m.speedup:.2f}x [{lo:.2f}, {hi:.2f}]"
        else:
            result = note or (m.status if m else "")
        extra = " (reused)" if note == "reused" else ""
        elapsed = time.perf_counter() - self.start
        print(f"{bar}{self.done}{of} trial {number}: {point.label()}: {result}{extra}"
              f"  [{elapsed:.0f}s]", file=self.stream, flush=True)
