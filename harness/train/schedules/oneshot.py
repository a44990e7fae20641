"""One-shot (direct) pruning: prune the trained model once to the target rate, then fine-tune with
the masks fixed (hartenstein-weight-pruning-gpus.md, Fig. 2 steps A–D; ouyang-pruning-in-dnn-survey.md,
"direct pruning")."""

from __future__ import annotations

import time
from typing import Any

from harness.train.schedules.base import SCHEDULES, before_finetune, finish, prune_masks


@SCHEDULES.register("oneshot")
def oneshot(model, data, prune, cfg, *, options=None, device: str = "cpu",
            deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    from harness.train.trainer import train

    t0 = time.perf_counter()
    masks = prune_masks(model, prune, prune_kw)
    before = before_finetune(model, data, device=device)
    history = train(model, data, cfg, device=device, masks=masks, deadline=deadline,
                    on_epoch=on_epoch)
    return finish(model, data, masks, history, t0, device=device, before=before)
