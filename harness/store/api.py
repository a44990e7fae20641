"""The store's interface, as the other roles use it (implemented in harness.store.sql).

One database URL holds everything: Optuna's studies (harness.tune.storage builds Optuna's storage
on it through `attached()`) and harness's
tables (runs, provenance, measurements with every raw sample, device peaks, trained-model
results, regression verdicts, whole-model study records). Every write is one transaction. Passwords in URLs are never printed: use `url_redacted`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.core.measurement import Measurement


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str  # bench | tune | regress | train | model
    suite: str
    study: str | None
    context_key: str | None  # runs with the same context may reuse each other's measurements
    status: str  # running | finished | interrupted | failed
    started_at: str  # ISO 8601 UTC
    finished_at: str | None
    config: Mapping[str, Any]
    provenance: Mapping[str, Any]


@dataclass(frozen=True)
class StoredMeasurement:
    id: int
    run_id: int
    context_key: str | None
    measurement: Measurement


@dataclass(frozen=True)
class VerdictRecord:
    """A regression run's verdict on one point, with the numbers it compared.

    Times are raw medians in seconds, each the stored median of a measurement (what the report's
    trend tooltip shows for that run). `ratio` and `p_value` compare this run's measurement
    (`measurement_id`) with the baseline, current/baseline after the current samples were
    divided by `factor` (`normalize`: "dense" — the dense baseline of the point's own rounds,
    now over then; "drift" — the run-wide drift; "none" — 1, raw times). `verdict` is the final
    one: a regression only while every re-measurement in a fresh process agreed, else the
    verdict of the one that cleared it. `remeasured` holds each: {"status", "median_s",
    "factor", "verdict", "ratio", "p_value"}; `confirmed` counts those that agreed.
    """

    point_key: str
    verdict: str  # regression | improvement | unchanged | too_few_samples
    ratio: float | None
    p_value: float | None
    normalize: str  # dense | drift | none
    factor: float
    threshold: float  # the one applied (the option's, widened by the machine drift)
    baseline_median_s: float | None
    current_median_s: float | None
    n_baseline: int
    n_current: int
    measurement_id: int | None = None  # this run's measurement of the point
    baseline_run_id: int | None = None  # the run the baseline samples came from (None: a file)
    confirmed: int = 0
    remeasured: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StoredVerdict:
    id: int
    run_id: int
    record: VerdictRecord


class Store(Protocol):
    url_redacted: str

    def begin_run(self, kind: str, suite: str, *, config: Mapping[str, Any],
                  provenance: Mapping[str, Any], study: str | None = None,
                  context_key: str | None = None) -> int: ...

    def end_run(self, run_id: int, status: str = "finished") -> None: ...

    def add_measurement(self, run_id: int, m: Measurement, *,
                        context_key: str | None = None) -> int: ...

    def find_measurement(self, context_key: str, point_key: str) -> StoredMeasurement | None: ...

    def get_measurement(self, measurement_id: int) -> StoredMeasurement: ...

    def measurements(self, *, run_id: int | None = None, study: str | None = None,
                     suite: str | None = None) -> list[StoredMeasurement]: ...

    def runs(self, *, kind: str | None = None, suite: str | None = None,
             study: str | None = None) -> list[RunRow]: ...

    def set_peak(self, device_key: str, bytes_per_s: float, method: str) -> None: ...

    def get_peak(self, device_key: str) -> float | None: ...

    def add_train_result(self, run_id: int, record: Mapping[str, Any]) -> int: ...

    def train_results(self, *, run_id: int | None = None,
                      study: str | None = None) -> list[dict[str, Any]]: ...

    def add_model_result(self, run_id: int, record: Mapping[str, Any]) -> int: ...

    def model_results(self, *, run_id: int | None = None, study: str | None = None,
                      suite: str | None = None) -> list[dict[str, Any]]: ...

    def add_verdict(self, run_id: int, v: VerdictRecord) -> int: ...

    def verdicts(self, *, run_id: int | None = None,
                 suite: str | None = None) -> list[StoredVerdict]: ...

    def attached(self, name: str, factory: Callable[[str], Any],
                 close: Callable[[Any], None]) -> Any: ...

    def close(self) -> None: ...
