"""What `harness tune` checks before anything runs or is written: flags, limits, the storage
URL, the report folder and each local worker's own sampler seed.

Every problem is a one-line InputError naming the flag (exit 2); it is raised before the store
is opened, so a bad command leaves no run, study or file behind.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.config.frozen import FrozenMap
from harness.config.limits import MAX_STUDY_TIME_S, max_threads
from harness.core.errors import InputError

if TYPE_CHECKING:
    from harness.config.suite import Suite
    from harness.config.tuner import TunerProfile


def check_options(opts: Any, suite: Suite, profile: TunerProfile) -> None:
    """Flags and their combinations with the suite and profile."""
    from harness.store.urls import resolve

    t = opts.timeout_s
    if t is not None and not (math.isfinite(t) and 0 < t <= MAX_STUDY_TIME_S):
        raise InputError(path="--timeout", value=t,
                         expected=f"a positive number of seconds ≤ {MAX_STUDY_TIME_S:g}")
    check_study(opts.study)
    if opts.workers > max_threads():
        raise InputError(path="--workers", value=opts.workers,
                         expected=f"at most {max_threads()} (4 per logical CPU)")
    if opts.workers > 1 and profile.sampler == "grid":
        raise InputError(path="--workers", value=opts.workers,
                         expected="1 with the grid sampler (it walks the grid in one process; "
                                  "use a search sampler or run the grid once)")
    if opts.workers > 1 and opts.trials is None and profile.trials is None:
        raise InputError(path="--workers", value=opts.workers,
                         expected="a trial budget to share (--trials N or the profile's trials)")
    resolve(opts.storage or profile.storage, create=False)  # the form; in-memory refused


def check_study(study: str | None) -> None:
    """`--study` (None: the default name) is a non-empty name without control characters."""
    if study is not None and (not study or any(ord(c) < 32 for c in study)):
        raise InputError(path="--study", value=study,
                         expected="a non-empty name without NUL or control characters")


def worker_profile(opts: Any, suite: Suite, profile: TunerProfile) -> Any:
    """The profile a local worker runs: its sampler seed derived from the study's (the
    profile's `seed` option, else the suite's seed), so workers explore different start-up
    points instead of all proposing the same ones."""
    index = getattr(opts, "worker_index", None)
    if index is None:
        return profile
    from harness.tune.samplers import worker_seed

    base = profile.options.get("seed", suite.seed)
    options = FrozenMap({**profile.options, "seed": worker_seed(base, index)})
    return replace(profile, options=options)


def check_outputs(opts: Any, suite: Suite) -> None:
    """The report folder must be writable before the study starts (not found out at its end)."""
    if not opts.post:
        return
    from harness.core.paths import check_dir, report_dir

    if opts.report_dir:
        check_dir(opts.report_dir, "--report-dir")
    else:
        check_dir(report_dir(suite.name), "report folder")
