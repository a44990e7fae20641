"""Schedule interface, registry and the helpers every schedule shares.

A schedule takes a (usually pre-trained) model and returns a `TrainResult`:

    schedule(model, data, prune, cfg, *, options, device, deadline, on_epoch, prune_kw)

`prune` is the candidate's PruneSpec (pattern, rate, group size, aggregation), `cfg` the
fine-tuning TrainConfig, `options` the suite's schedule-specific scalars, `prune_kw` the rate
scope and layer rules of `harness.train.scope.scope_masks` (scope, layer_rates, skip_first,
skip_last).

Every schedule's record holds the test accuracy after fine-tuning (`accuracy`) and of the pruned
model before it (`accuracy_before`, `loss_before`), and `signal_died`: the training loss never
left chance (the entropy of the class frequencies, ln 10 on MNIST): nothing of the input
reaches the output any more.
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
# schedule name → a check of its options that raises InputError, run before any training
OPTION_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {}


def check_options(schedule: str, options: Mapping[str, Any]) -> None:
    """Refuse a schedule's bad option (one line, InputError) before any training starts."""
    check = OPTION_CHECKS.get(schedule)
    if check is not None:
        check(options)


def prune_masks(model: nn.Module, spec: PruneSpec, prune_kw: Mapping[str, Any] | None = None
                ) -> dict[str, torch.Tensor]:
    """Layer name → keep-mask of every prunable layer, pruned in the rate scope of `prune_kw`
    (`harness.train.scope`: scope, layer_rates, skip_first, skip_last); the pruned weights are
    zeroed in place."""
    from harness.train.scope import scope_masks

    return scope_masks(model, spec, **dict(prune_kw or {}))


def rescale_survivors(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Multiply each pruned layer's kept weights by √(weights / kept), so a layer's output keeps
    the spread it had before pruning (for weights independent of their inputs). Not in the seeds:
    an opt-in remedy for deep nets whose signal dies. Selection by magnitude keeps the largest
    weights and loses less of it; random selection at 90 % keeps a tenth of each layer's sum,
    and through the eight layers of Table 2's net the input-dependent part of the output fell
    from 6.9 to 1e-5 (MNIST, g = 8, seed 0), so fine-tuning never left chance."""
    import math

    import torch

    from harness.pruning.model import prunable_layers

    layers = dict(prunable_layers(model))
    with torch.no_grad():
        for name, mask in masks.items():
            kept = int(mask.sum())
            if kept:
                layers[name.removesuffix(".weight")].weight.mul_(math.sqrt(mask.numel() / kept))


def before_finetune(model: nn.Module, data: Dataset, *, device: str) -> dict[str, float]:
    """Test accuracy and loss of the just-pruned model, before any fine-tuning."""
    from harness.train.trainer import evaluate

    acc, loss = evaluate(model, data.x_test, data.y_test, device=device)
    return {"accuracy_before": acc, "loss_before": loss}


def finish(model: nn.Module, data: Dataset, masks: Mapping[str, torch.Tensor],
           history: list[dict], t0: float, *, device: str, extra: dict | None = None,
           before: Mapping[str, float] | None = None) -> TrainResult:
    """Evaluate on the test split and package the result record: accuracy after fine-tuning,
    `before` (accuracy_before / loss_before, from `before_finetune`) and the signal-died flag."""
    from harness.train.trainer import TrainResult, evaluate, run_signal_died, sparsity

    acc, loss = evaluate(model, data.x_test, data.y_test, device=device)
    return TrainResult(
        accuracy=acc, loss=loss,
        val_accuracy=history[-1]["val_accuracy"] if history else float("nan"),
        sparsity=sparsity(model, masks), epochs=len(history),
        time_s=time.perf_counter() - t0, masks=dict(masks), model=model, history=history,
        extra={**dict(before or {}), "signal_died": run_signal_died(history, loss, data),
               **dict(extra or {})})


def with_epochs(cfg: TrainConfig, epochs: int, seed_offset: int = 0) -> TrainConfig:
    """cfg with another epoch count (and a shifted shuffling seed, so chunks see new orders)."""
    from dataclasses import replace

    return replace(cfg, epochs=int(epochs), seed=cfg.seed + seed_offset)
