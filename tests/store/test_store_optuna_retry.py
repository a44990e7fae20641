"""A trial whose worker died is failed by Optuna's heartbeat and retried with its parameters."""

from __future__ import annotations

import time

import optuna

from harness.store import open_store
from harness.tune import storage as tune_storage
from harness.tune.storage import optuna_storage


def test_stale_trial_is_failed_and_enqueued_again(tmp_path, monkeypatch):
    monkeypatch.setattr(tune_storage, "HEARTBEAT_INTERVAL_S", 1)
    monkeypatch.setattr(tune_storage, "GRACE_PERIOD_S", 1)
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        storage = optuna_storage(store)
        study = optuna.create_study(storage=storage, study_name="s")
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        storage.record_heartbeat(trial._trial_id)  # the worker started, then died (kill -9)
        time.sleep(2.5)
        optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        assert trials[0].state == optuna.trial.TrialState.FAIL
        assert len(trials) == 2 and trials[1].state == optuna.trial.TrialState.WAITING
        assert trials[1].params == trials[0].params  # retried with the same configuration
    finally:
        store.close()
