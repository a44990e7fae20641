"""Workers sharing one study never measure one point twice.

Each trial announces its run and then its point in the trial's user attributes; before it
measures, it waits for the trials that are *ahead* of it. The order is the trial number,
which Optuna hands out under a lock on the study row: when a trial exists, every trial with
a lower number already exists too. A trial waits for every live lower-numbered running trial
that is still choosing its point (no point announced yet) or has announced the same point.
So whichever of two same-point trials checks second sees the other: the higher number waits,
the lower one never waits for a higher one, and no cycle can form (a bakery-style protocol).

A retried trial (Optuna's heartbeat re-enqueues a dead worker's trial under an older number,
and it may start after higher-numbered trials have checked) also waits for any same-point
trial that has already passed its check ("claimed").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

POLL_S = 0.2
WAIT_S = 600.0  # at most this long for other workers (a stuck one must not hang the study)
STALE_CHECK_S = 30.0  # while waiting, this often fail trials whose heartbeat stopped

RUN_ATTR = "run_id"
POINT_ATTR = "point_key"
CLAIM_ATTR = "claimed"


def ahead_of(number: int, point_key: str, running: Iterable[Any], live: set[int],
             retried: bool = False) -> list[int]:
    """Numbers of the running trials a trial must wait for (pure: trials as Optuna gives them).

    A running trial with no run yet has entered its objective but not announced anything:
    it counts as alive and choosing. One whose run is no longer running belongs to a dead
    worker (the heartbeat fails it) and is ignored.
    """
    out = []
    for t in running:
        if t.number == number:
            continue
        attrs = t.user_attrs
        run = attrs.get(RUN_ATTR)
        if run is not None and run not in live:
            continue
        key = attrs.get(POINT_ATTR)
        if t.number < number and (run is None or key is None or key == point_key):
            out.append(t.number)
        elif retried and key == point_key and attrs.get(CLAIM_ATTR):
            out.append(t.number)
    return out


def is_retry(trial: Any) -> bool:
    """Optuna's retry copies the dead trial's user attributes: a trial that has a run before
    its objective announced one is a retry. Call before `announce_run`."""
    return RUN_ATTR in trial.user_attrs


def announce_run(trial: Any, run_id: int) -> None:
    trial.set_user_attr(RUN_ATTR, run_id)


def wait_for_siblings(trial: Any, point_key: str, live_runs: Callable[[], set[int]],
                      retried: bool) -> None:
    """Block until no trial is ahead of `trial` for `point_key` (or WAIT_S passed), then mark
    the trial claimed. `live_runs()` gives the ids of the study's runs still running."""
    from optuna.trial import TrialState

    study = getattr(trial, "study", None)
    if study is None:
        return
    start = time.monotonic()
    stale_check = start + STALE_CHECK_S
    while time.monotonic() < start + WAIT_S:
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not ahead_of(trial.number, point_key, running, live_runs(), retried):
            break
        if time.monotonic() >= stale_check:  # a worker on another host died: its trials
            _fail_stale(study)               # stop counting once its heartbeat is overdue
            stale_check += STALE_CHECK_S
        time.sleep(POLL_S)
    trial.set_user_attr(CLAIM_ATTR, True)


def _fail_stale(study: Any) -> None:
    """Optuna's own check (what `optimize` runs before each trial): trials of a worker whose
    heartbeat stopped for the storage's grace period are failed (and retried)."""
    import warnings

    import optuna

    with warnings.catch_warnings():  # flagged experimental; the storage is built with it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
