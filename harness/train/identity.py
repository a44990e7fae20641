"""What makes two training records the same model, in one place for the report and the stage.

The report shows one record per model (`harness.report.data.latest_models`); the training stage
of `tune` reuses an earlier run's model instead of training it again
(`harness.tune.train_stage.run_training`). Both compare records by these keys:

- CONFIG_IDENTITY: what is fixed before training — the pruning configuration (flat keys of
  `harness.tune.train_stage.flatten`), model, dataset, schedule, seed, and `train_digest`, a
  digest of every training setting of the suite's `train:` section (`train_digest`).
- MODEL_IDENTITY: CONFIG_IDENTITY and the epochs actually trained (records stored before the
  digest existed differ in nothing else when the suite's epochs changed).

A record is reused only if the training code is also the same (`training_code`, a digest of the
source that prunes and trains, like the measuring code in `harness.measure.context`); it is kept
out of the identity, so the report shows a model trained again by changed code once, the latest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from harness.core.digest import source_digest

CONFIG_IDENTITY = ("dense", "model", "dataset", "schedule", "seed", "train_digest", "pattern",
                   "pruning_rate", "group_size", "block", "nm", "aggregation")
MODEL_IDENTITY = (*CONFIG_IDENTITY, "epochs")

# TrainSpec fields that do not change the model trained: how many configurations are trained,
# the stage's time budget (a record cut short by it is marked `budget_cut` and never reused) and
# the accuracy budget of the answer. Every other field, present or future, is in the digest.
NOT_TRAINING = frozenset({"candidates", "budget_s", "max_accuracy_drop", "min_accuracy"})


def identity(rec: Mapping[str, Any], keys: tuple[str, ...] = MODEL_IDENTITY) -> tuple:
    """The record's values of `keys`, hashable (lists, as JSON stores tuples, become tuples)."""
    return tuple(_hashable(rec.get(k)) for k in keys)


def train_settings(spec: Any, seed: int) -> dict[str, Any]:
    """The settings that decide the trained model: every field of the `train:` section but
    NOT_TRAINING (model, dataset, data path, schedule, epochs, batch size, lr, optimizer,
    options, …), and the suite's seed."""
    if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        raw = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    else:
        raw = dict(vars(spec))
    out = {k: _plain(v) for k, v in raw.items() if k not in NOT_TRAINING}
    out["seed"] = int(seed)
    return out


def train_digest(spec: Any, seed: int) -> str:
    """A short digest of `train_settings`: equal digests, equal training."""
    text = json.dumps(train_settings(spec, seed), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# packages whose code decides what a trained model's accuracy means
TRAINING_CODE = ("core", "pruning", "train")


@functools.cache
def training_code() -> str:
    """SHA-1 (16 hex digits) over the path and bytes of every .py file of TRAINING_CODE."""
    return source_digest(TRAINING_CODE)


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v
