"""Iterative pruning (ouyang-pruning-in-dnn-survey.md, §"Iterative pruning" and Table II): remove a
fraction of the *remaining* groups per step (default 50 %, as in the survey), fine-tune between
steps, until the target rate; the last step lands exactly on the target.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from harness.train.schedules.base import (
    SCHEDULES,
    before_finetune,
    finish,
    prune_masks,
    with_epochs,
)


def iterative_rates(target: float, fraction: float = 0.5) -> list[float]:
    """Cumulative rates 1 − (1 − f)^k, capped by (and ending exactly at) `target`."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"iterative fraction must be in (0, 1], got {fraction}")
    if target <= 0.0:
        return [0.0]
    rates: list[float] = []
    kept = 1.0
    while True:
        kept *= 1.0 - fraction
        r = 1.0 - kept
        if r >= target - 1e-12 or len(rates) >= 100:
            rates.append(target)
            return rates
        rates.append(r)


@SCHEDULES.register("iterative")
def iterative(model, data, prune, cfg, *, options=None, device: str = "cpu",
              deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    """options: fraction (of the remaining weights removed per step, 0.5), step_epochs
    (fine-tuning epochs after each step; default: cfg.epochs spread over the steps, ≥ 1).
    accuracy_before: after the last pruning step, before its fine-tuning."""
    from harness.train.trainer import train

    opts = dict(options or {})
    rates = iterative_rates(prune.rate, float(opts.get("fraction", 0.5)))
    step_epochs = int(opts.get("step_epochs", max(1, cfg.epochs // len(rates))))
    t0, history, masks, before = time.perf_counter(), [], {}, {}
    for i, rate in enumerate(rates):
        # Pruned weights are exactly zero, so they score lowest and the masks stay nested.
        masks = prune_masks(model, replace(prune, rate=rate), prune_kw)
        last = i == len(rates) - 1
        if last:
            before = before_finetune(model, data, device=device)
        if deadline is not None and time.perf_counter() > deadline and not last:
            continue  # out of time: jump to the target rate, still fine-tuned once below
        history += train(model, data, with_epochs(cfg, step_epochs, i), device=device,
                         masks=masks, deadline=deadline, on_epoch=on_epoch)
    return finish(model, data, masks, history, t0, device=device,
                  extra={"rates": rates}, before=before)
