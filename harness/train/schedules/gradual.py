"""Gradual magnitude pruning after Zhu & Gupta (2017): the sparsity follows the cubic schedule

    s_t = s_f + (s_i − s_f) · (1 − t / T)^3,   0 ≤ t ≤ T,

with masks recomputed every k optimiser steps, then fine-tuning with the final masks. The survey
(ouyang-pruning-in-dnn-survey.md) motivates it: pruning a little at a time lets the remaining
weights re-calibrate.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from harness.train.schedules.base import SCHEDULES, before_finetune, finish, prune_masks


def gradual_sparsity(t: int, s_initial: float, s_final: float, total: int) -> float:
    """Zhu & Gupta's s_t; t beyond `total` stays at s_final."""
    if total <= 0 or t >= total:
        return s_final
    return s_final + (s_initial - s_final) * (1.0 - t / total) ** 3


@SCHEDULES.register("gradual")
def gradual(model, data, prune, cfg, *, options=None, device: str = "cpu",
            deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    """options: initial (s_i, 0.0), every (k steps between mask updates, 10), ramp (fraction of
    the fine-tuning steps over which the sparsity rises, 0.75). accuracy_before: the starting
    model pruned one-shot to the target rate (what the gradual ramp is meant to beat)."""
    import copy

    from harness.train.trainer import steps_per_epoch, train

    opts = dict(options or {})
    s_i = float(opts.get("initial", 0.0))
    every = max(1, int(opts.get("every", 10)))
    total = int(float(opts.get("ramp", 0.75)) * cfg.epochs * steps_per_epoch(data, cfg))
    t0 = time.perf_counter()
    reference = copy.deepcopy(model)
    prune_masks(reference, prune, prune_kw)
    before = before_finetune(reference, data, device=device)
    del reference
    state = {"masks": prune_masks(model, replace(prune, rate=gradual_sparsity(0, s_i, prune.rate, total)),
                                  prune_kw)}

    def on_step(step: int, m) -> dict | None:
        if step > total or (step % every and step != total):
            return None
        rate = gradual_sparsity(step, s_i, prune.rate, total)
        state["masks"] = prune_masks(m, replace(prune, rate=rate), prune_kw)
        return state["masks"]

    history = train(model, data, cfg, device=device, masks=state["masks"], on_step=on_step,
                    deadline=deadline, on_epoch=on_epoch)
    # Cut short by the deadline before the ramp ended: land on the target rate anyway.
    final = prune_masks(model, prune, prune_kw)
    from harness.train.trainer import enforce_masks, masked_params

    enforce_masks(masked_params(model, final))
    return finish(model, data, final, history, t0, device=device,
                  extra={"ramp_steps": total, "every": every}, before=before)
