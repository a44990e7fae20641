"""Clean stops: Ctrl-C or SIGTERM lets the trial in flight finish, then the study stops.

A second Ctrl-C raises KeyboardInterrupt at once (the user insists). `kill -9` cannot be caught:
every finished trial is already committed, so it loses only the trial in flight (Optuna's
heartbeat marks that one failed and it is retried later).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


class StopFlag:
    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        name = signal.Signals(signum).name
        print(f"\nharness tune: {name} received; stopping after the current trial "
              "(Ctrl-C again to abort now)", file=sys.stderr, flush=True)

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]

    def callback(self, study, trial) -> None:  # Optuna callback signature
        if self.requested:
            study.stop()
