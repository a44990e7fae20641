"""Schedule interface, registry and the helpers every schedule shares.

A schedule takes a (usually pre-trained) model and returns a `TrainResult`:

    schedule(model, data, prune, cfg, *, options, device, deadline, on_epoch, prune_kw)

`prune` is the candidate's PruneSpec (pattern, rate, group size, aggregation), `cfg` the
fine-tuning TrainConfig, `options` the suite's schedule-specific scalars, `prune_kw` the keyword
arguments of `harness.pruning.model.prune_model` (overrides, skip_first, skip_last).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.core.point import PruneSpec
    from harness.train.data import Dataset
    from harness.train.trainer import TrainConfig, TrainResult

Schedule = Callable[..., "TrainResult"]
SCHEDULES: Registry[Schedule] = Registry("schedule")


def prune_masks(model: nn.Module, spec: PruneSpec, prune_kw: Mapping[str, Any] | None = None
                ) -> dict[str, torch.Tensor]:
    """Layer name → keep-mask of every prunable layer, from the pruning role's `prune_model`
    (which also zeroes the pruned weights in place)."""
    from harness.pruning.model import prune_model

    return prune_model(model, spec, **dict(prune_kw or {}))


def finish(model: nn.Module, data: Dataset, masks: Mapping[str, torch.Tensor],
           history: list[dict], t0: float, *, device: str, extra: dict | None = None
           ) -> TrainResult:
    """Evaluate on the test split and package the result record."""
    from harness.train.trainer import TrainResult, evaluate, sparsity

    acc, loss = evaluate(model, data.x_test, data.y_test, device=device)
    return TrainResult(
        accuracy=acc, loss=loss,
        val_accuracy=history[-1]["val_accuracy"] if history else float("nan"),
        sparsity=sparsity(model, masks), epochs=len(history),
        time_s=time.perf_counter() - t0, masks=dict(masks), model=model, history=history,
        extra=dict(extra or {}))


def with_epochs(cfg: TrainConfig, epochs: int, seed_offset: int = 0) -> TrainConfig:
    """cfg with another epoch count (and a shifted shuffling seed, so chunks see new orders)."""
    from dataclasses import replace

    return replace(cfg, epochs=int(epochs), seed=cfg.seed + seed_offset)
