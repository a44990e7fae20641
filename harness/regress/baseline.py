"""Which earlier results a regression run is compared with.

  latest   the recent finished `regress` runs of the same suite on the same device and thread
           count — for each point, its slowest of the last three (runs from other machines are
           skipped, with a note);
  RUN_ID   that stored run (refused unless --force if its device or threads differ);
  FILE     a pytest-benchmark JSON file (harness's own export or pytest-benchmark's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core import counter_keys as ck
from harness.core.errors import InputError
from harness.regress import pytest_benchmark

if TYPE_CHECKING:
    from harness.store.api import RunRow, Store

DENSE_KEY = ck.TIMER_BASELINE_MEDIAN_S  # set by the measurement core for every timed variant


@dataclass(frozen=True)
class Baseline:
    label: str
    samples: Mapping[str, list[float]]  # point key → raw samples
    run_id: int | None = None
    # point key → median of the dense baseline timed in the same rounds (stored runs only)
    dense_median: Mapping[str, float] = field(default_factory=dict)
    # point key → the stored median of its measurement (the report's trend tooltip for that
    # run) and the run it came from (stored runs only; a file gives the samples' median)
    medians: Mapping[str, float] = field(default_factory=dict)
    runs: Mapping[str, int] = field(default_factory=dict)
    note: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)


def machine(prov: Mapping[str, Any]) -> tuple[Any, Any]:
    return (prov.get("device_name"), prov.get("threads"))


def _from_run(store: Store, run: RunRow) -> Baseline:
    stored = [sm.measurement for sm in store.measurements(run_id=run.id)]
    samples = {m.point.key(): list(m.samples_s) for m in stored
               if m.samples_s and m.status == "ok"}  # contended samples are no baseline
    dense = {m.point.key(): float(m.counters[DENSE_KEY]) for m in stored
             if m.counters.get(DENSE_KEY)}
    medians = {m.point.key(): m.stats.median for m in stored
               if m.point.key() in samples and m.stats is not None}
    sha = (run.provenance or {}).get("git_sha") or "?"
    return Baseline(f"run {run.id} ({run.started_at}, {str(sha)[:10]})", samples, run.id,
                    dense_median=dense, provenance=run.provenance, medians=medians,
                    runs=dict.fromkeys(samples, run.id))


RECENT = 3  # 'latest' compares with each point's slowest of the last RECENT comparable runs


def _slowest_of(store: Store, runs: list[RunRow]) -> Baseline:
    """Per point, the samples of the run (among `runs`) where it was slowest.

    One unusually fast baseline run would make every later run look slow; a real regression
    is slower than all recent runs, so each point is compared with its slowest recent run.
    """
    import statistics

    loaded = [_from_run(store, r) for r in runs]

    def slowness(b: Baseline, key: str) -> float:  # relative to its rounds' dense, if known
        return statistics.median(b.samples[key]) / b.dense_median.get(key, 1.0)

    chosen: dict[str, Baseline] = {}
    for b in reversed(loaded):  # oldest first: on ties the newest run wins
        for key in b.samples:
            if key not in chosen or slowness(b, key) >= slowness(chosen[key], key):
                chosen[key] = b
    samples = {k: b.samples[k] for k, b in chosen.items()}
    dense = {k: b.dense_median[k] for k, b in chosen.items() if k in b.dense_median}
    medians = {k: b.medians[k] for k, b in chosen.items() if k in b.medians}
    newest = loaded[0]
    label = newest.label if len(loaded) == 1 else \
        f"{newest.label}; each point's slowest of the last {len(loaded)} runs"
    return Baseline(label, samples, newest.run_id, dense_median=dense,
                    provenance=newest.provenance, medians=medians,
                    runs={k: b.runs[k] for k, b in chosen.items()})


def resolve(spec: str, *, store: Store, suite: str, provenance: Mapping[str, Any],
            force: bool = False) -> Callable[[], Baseline | None]:
    """Validate `spec` now (bad input is refused before anything is measured) and return a
    loader that reads the baseline's samples later.

    The samples are read only *after* measuring, so that every run measures in the same
    process state: reading thousands of stored samples first changed where the next tensors
    landed and made one tiny CPU kernel (MKL BSR, 256×256) a stable 25 % slower in every run
    that had a baseline than in the first run, which had none.
    """
    if spec == "latest":
        runs = [r for r in store.runs(kind="regress", suite=suite) if r.status == "finished"]
        same = [r for r in runs if force or machine(r.provenance) == machine(provenance)]
        if not same:
            empty = None if not runs else Baseline(
                "", {}, note=f"{len(runs)} earlier run(s) of {suite!r} are from another device "
                             "or thread count; not compared (use --force or --baseline RUN_ID)")
            return lambda: empty
        recent = sorted(same, key=lambda r: r.id, reverse=True)[:RECENT]
        return lambda: _slowest_of(store, recent)
    if spec.isdigit():
        by_id = {r.id: r for r in store.runs()}
        run = by_id.get(int(spec))
        if run is None:
            known = ", ".join(str(i) for i in sorted(by_id)[-10:]) or "none"
            raise InputError(f"--baseline: no run {spec} in the store (latest ids: {known})")
        if not force and machine(run.provenance) != machine(provenance):
            raise InputError(
                f"--baseline: run {spec} ran on {machine(run.provenance)}, this run on "
                f"{machine(provenance)} (device, threads); not comparable — use --force to "
                "compare anyway")
        return lambda: _from_run(store, run)
    path = Path(spec)
    if not path.exists():
        raise InputError("--baseline: expected 'latest', a run id or a pytest-benchmark JSON "
                         "file", value=spec)
    pytest_benchmark.read_samples(path)  # refuse a malformed file now
    return lambda: Baseline(f"file {path}", pytest_benchmark.read_samples(path))
