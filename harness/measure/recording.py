"""The run recipe every measuring command follows (bench, regress, tune): open a run with its
provenance and reuse key, store each measurement as soon as it is made (its own transaction),
end the run as finished, interrupted or failed whatever happens.

An interrupt or a crash therefore loses at most what was in flight: with interleaving, the group
of points of one problem timed together (at most `runner.MAX_GROUP`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.measure.context import context_key
from harness.measure.provenance import collect

if TYPE_CHECKING:
    from harness.core.measurement import Measurement
    from harness.store.api import Store


@dataclass
class Recording:
    store: Store
    run_id: int
    context_key: str
    provenance: dict[str, Any]
    status: str | None = None  # set to "interrupted" by a caller that stopped on request
    stored: int = 0

    def add(self, m: Measurement) -> int:
        """Store one measurement now; returns its id."""
        mid = self.store.add_measurement(self.run_id, m, context_key=self.context_key)
        self.stored += 1
        return mid


@contextmanager
def recording(store: Store, kind: str, suite: str, *, measure: Any, device: str,
              threads: int | None, seed: int, config: Mapping[str, Any],
              study: str | None = None, code_in_key: bool = True) -> Iterator[Recording]:
    """Begin a run of `kind`; yields the Recording; ends the run with its status."""
    provenance = collect(device, threads, seed)
    ctx = context_key(measure, device, provenance, code=code_in_key)
    run_id = store.begin_run(kind, suite, config=dict(config), provenance=provenance,
                             study=study, context_key=ctx)
    rec = Recording(store, run_id, ctx, provenance)
    status = "failed"
    try:
        yield rec
        status = rec.status or "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        store.end_run(run_id, status)
