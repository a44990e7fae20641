"""One-shot (direct) pruning: prune the trained model once to the target rate, then fine-tune with
the masks fixed (hartenstein-weight-pruning-gpus.md, Fig. 2 steps A–D; ouyang-pruning-in-dnn-survey.md,
"direct pruning").

Option `rescale` (default false): multiply the kept weights by √(weights / kept) after pruning
(`base.rescale_survivors`), a remedy outside the seeds for nets whose signal dies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from harness.core.errors import InputError
from harness.train.schedules.base import (
    OPTION_CHECKS,
    SCHEDULES,
    before_finetune,
    finish,
    prune_masks,
    rescale_survivors,
)


def _check_options(options: Mapping[str, Any]) -> None:
    value = options.get("rescale", False)
    if not isinstance(value, bool):
        raise InputError(path="train.options.rescale", value=value, expected="true or false")


OPTION_CHECKS["oneshot"] = _check_options


@SCHEDULES.register("oneshot")
def oneshot(model, data, prune, cfg, *, options=None, device: str = "cpu",
            deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    from harness.train.trainer import train

    t0 = time.perf_counter()
    opts = dict(options or {})
    _check_options(opts)
    masks = prune_masks(model, prune, prune_kw)
    if opts.get("rescale"):
        rescale_survivors(model, masks)
    before = before_finetune(model, data, device=device)
    history = train(model, data, cfg, device=device, masks=masks, deadline=deadline,
                    on_epoch=on_epoch)
    return finish(model, data, masks, history, t0, device=device, before=before,
                  extra={"rescaled": True} if opts.get("rescale") else None)
