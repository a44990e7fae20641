"""Optuna's storage on the store's database: the studies live beside harness's own tables.

Only harness/tune imports Optuna; the store hands its URL to `build` through its generic
`attached()` hook (built once per store, under the store's creation lock, closed with it).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.store.api import Store

# Optuna heartbeat: a trial whose worker stopped beating for grace_period seconds is marked
# failed (and can be retried), so a killed worker does not leave trials RUNNING forever.
HEARTBEAT_INTERVAL_S = 60
GRACE_PERIOD_S = 180
TRIAL_RETRIES = 2


def optuna_storage(store: Store) -> Any:
    """The store's Optuna RDBStorage (the same database URL; one per store)."""
    return store.attached("optuna", build, close)


def build(url: str) -> Any:
    import optuna

    from harness.store import dialects, urls

    sqlite = urls.is_sqlite(url)
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": dialects.SQLITE_TIMEOUT_S}} if sqlite
        else {"pool_pre_ping": True})
    with warnings.catch_warnings():  # heartbeat is flagged experimental; we rely on it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # a trial whose worker died (no heartbeat for GRACE_PERIOD_S) is marked failed and
        # enqueued again with the same parameters, at most TRIAL_RETRIES times
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=TRIAL_RETRIES)
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_INTERVAL_S,
            grace_period=GRACE_PERIOD_S, heartbeat_stale_trial_callback=retry)


def close(storage: Any) -> None:
    storage.remove_session()
    storage.engine.dispose()
