"""Group-lasso pruning with periodic reconfiguration (lym-prunetrain-group-lasso.md, §4.1–4.2,
Eq. 2–3, Algorithm 1).

* Penalty (Eq. 2): λ · Σ_layers ( Σ_input-channels ‖W[:, c]‖₂ + Σ_output-channels ‖W[k, :]‖₂ ),
  applied from the first step. For a Linear layer an input channel is a column, an output channel
  a row. Neither the first layer's input channels (the image itself: PruneTrain regularises the
  channels between layers, never the network's input, §4.1) nor the last layer's output rows (the
  classes) can be removed; they are neither penalised nor thresholded.
* λ is set once, at the first step (Alg. 1 line 12–13), so that the penalty ratio (Eq. 3)
  λR / (L + λR) equals `ratio` (default 0.2; the paper finds 20–25 % works):
  λ = ratio · L / ((1 − ratio) · R).
* Every `interval` epochs (the paper: 10 on CIFAR, 5 on ImageNet) groups whose largest |w| is
  below `threshold` (10⁻⁴, §4.1 and Fig. 4) are zeroed and the model is reconfigured into a
  smaller dense one (`harness.train.reconfigure`: the MLPs and the cnn, whose zeroed conv
  channels are removed with what depends on them). Other models are penalised and thresholded
  only.
* The paper's headline is the training cost: every epoch's training FLOPs (of the model as it
  is during that epoch, `harness.train.flops`) and wall time are recorded, with their ratio to
  the dense model's (`train_flops_ratio`): the falling cost curve of lym Fig. 6.

Why groups reach the threshold at all. The subgradient of λ‖W_g‖₂ moves a group's norm by
lr·λ/(1 − momentum) per SGD step, and λ from Eq. 3 is small (≈ 0.2·L / (0.8·R), R ≈ the number
of groups: 1.3·10⁻⁴ for Table 2's net). A group of norm ≈ 1 (Glorot) therefore needs
Σ_t lr_t · λ / (1 − m) ≳ 1 — the paper gets it from 182 epochs × 391 steps at lr 0.1 on CIFAR
(≈ 7 norm units per group for ResNet32); a constant-lr run of a few epochs gets ≈ 10⁻³ and
zeroes nothing. Three parts of the paper's baseline recipe (its §5: "the baseline
hyperparameters [15]", ResNet's SGD; the authors' code: momentum 0.9, weight decay 5·10⁻⁴,
lr × 0.1 at epochs 91 and 136 of 182) are therefore part of the method here, as schedule
options: `weight_decay` (default 5·10⁻⁴: it shrinks the weights the data does not hold up),
`lr_milestones` (default 0.5, 0.75 of the epochs) with `lr_gamma` 0.1 — after the decay a
group the penalty has pulled to zero only oscillates by lr·λ per step, under the 10⁻⁴
threshold, instead of hovering just above it — and enough steps: `lasso_budget` in the record
is Σ_t lr_t·λ/(1 − m), the norm the penalty can remove from a group over the run; below ≈ 0.5
expect no sparsity (train longer, a smaller batch or a larger lr).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.train.flops import epoch_flops
from harness.train.schedules.base import (
    OPTION_CHECKS,
    SCHEDULES,
    before_finetune,
    finish,
    with_epochs,
)
from harness.train.trainer import steps_per_epoch

if TYPE_CHECKING:
    import torch
    from torch import nn

DEFAULT_RATIO = 0.2
THRESHOLD = 1e-4
WEIGHT_DECAY = 5e-4  # the authors' CIFAR baseline (ResNet's SGD recipe)
LR_MILESTONES = (0.5, 0.75)  # fractions of the epochs: the paper's 91 and 136 of 182
LR_GAMMA = 0.1


def lr_at(epoch: int, epochs: int, lr: float, milestones=LR_MILESTONES,
          gamma: float = LR_GAMMA) -> float:
    """Step-decayed lr of 0-based `epoch` of `epochs`: × gamma at every milestone fraction
    passed (epoch ≥ round(fraction · epochs))."""
    return lr * gamma ** sum(epoch >= round(f * epochs) for f in milestones)


def _weights(model: nn.Module) -> list[torch.Tensor]:
    from torch import nn

    return [m.weight for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]


def lr_milestones(value: Any) -> tuple[float, ...]:
    """The lr_milestones option: a list of epoch fractions, or — a suite's options are scalars —
    one fraction or a comma-separated string ("0.5,0.75"; "" = a constant lr)."""
    from harness.core.errors import InputError

    items = value.split(",") if isinstance(value, str) else (
        value if isinstance(value, list | tuple) else [value])
    try:
        out = tuple(float(f) for f in items if str(f).strip())
    except (TypeError, ValueError):
        out = (-1.0,)
    if any(not 0.0 <= f <= 1.0 for f in out) or isinstance(value, bool):
        raise InputError(path="train.options.lr_milestones", value=value,
                         expected="epoch fractions in [0, 1], e.g. \"0.5,0.75\" ('' = constant)")
    return out


def _check_options(options: Mapping[str, Any]) -> None:
    lr_milestones(options.get("lr_milestones", LR_MILESTONES))


OPTION_CHECKS["group_lasso"] = _check_options


def group_lasso_term(model: nn.Module) -> torch.Tensor:
    """R = Σ_layers (Σ_c ‖W[:, c]‖₂ + Σ_k ‖W[k, :]‖₂), the first layer's input columns and the
    last layer's output rows excluded."""
    import torch

    from harness.pruning.projections import group_norms

    ws = _weights(model)
    total = ws[0].new_zeros(()) if ws else torch.zeros(())  # 0 + x: x exactly
    for i, w in enumerate(ws):
        if i > 0:
            total = total + group_norms(w, "in").sum()
        if i < len(ws) - 1:
            total = total + group_norms(w, "out").sum()
    return total


def lambda_for_ratio(loss: float, reg: float, ratio: float = DEFAULT_RATIO) -> float:
    """λ with λR / (L + λR) = ratio (Eq. 3)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"group lasso penalty ratio must be in [0, 1), got {ratio}")
    return ratio * loss / ((1.0 - ratio) * reg) if reg > 0 else 0.0


def zero_small_groups(model: nn.Module, threshold: float = THRESHOLD) -> int:
    """Zero every input/output channel group whose weights are all below `threshold` in
    magnitude (the pruning role's `zero_small_groups`); returns the number of weights zeroed."""
    import torch

    from harness.pruning.projections import zero_small_groups as small_groups

    n = 0
    ws = _weights(model)
    with torch.no_grad():
        for i, w in enumerate(ws):
            keep = torch.ones_like(w, dtype=torch.bool)
            if i > 0:  # never the network's input channels
                keep &= small_groups(w, "in", threshold)
            if i < len(ws) - 1:  # never the classes
                keep &= small_groups(w, "out", threshold)
            n += int(((~keep) & (w != 0)).sum())
            w.masked_fill_(~keep, 0.0)
    return n


def _nonzero_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    from torch import nn

    return {f"{name}.weight": m.weight.detach() != 0 for name, m in model.named_modules()
            if isinstance(m, nn.Linear | nn.Conv2d)}


@SCHEDULES.register("group_lasso")
def group_lasso(model, data, prune, cfg, *, options=None, device: str = "cpu",
                deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    """options: ratio (0.2), threshold (1e-4), interval (epochs between reconfigurations, 2),
    final_epochs (masked fine-tuning after the last reconfiguration, 0 as in the paper),
    weight_decay (5e-4), lr_milestones (fractions of the epochs, "0.5,0.75"; "" = constant lr),
    lr_gamma (0.1) — the paper's baseline SGD recipe (module docstring).
    The candidate's rate is not a target here: the achieved sparsity is what the penalty gives.
    Recorded besides: neurons_removed (fraction of hidden neurons / channels gone), epoch_flops
    and epoch_s per epoch, dense_epoch_flops, train_flops_ratio (all epochs' FLOPs over as many
    dense epochs), lasso_budget (Σ lr·λ/(1 − momentum)); accuracy_before is the model before
    the final masked epochs."""
    import torch

    from harness.train.reconfigure import can_reconfigure, reconfigure
    from harness.train.trainer import make_optimizer, train

    opts = dict(options or {})
    ratio = float(opts.get("ratio", DEFAULT_RATIO))
    threshold = float(opts.get("threshold", THRESHOLD))
    interval = max(1, int(opts.get("interval", 2)))
    final_epochs = int(opts.get("final_epochs", 0))
    milestones = lr_milestones(opts.get("lr_milestones", LR_MILESTONES))
    gamma = float(opts.get("lr_gamma", LR_GAMMA))
    cfg = replace(cfg, weight_decay=float(opts.get("weight_decay", WEIGHT_DECAY)))
    t0 = time.perf_counter()
    model.to(device)
    dense_weights = sum(w.numel() for w in _weights(model))
    state: dict[str, Any] = {"lam": None, "ratio0": None}

    def penalty(m, loss):
        reg = group_lasso_term(m)
        if state["lam"] is None:  # Alg. 1, line 12-13: set once from the first mini-batch
            lam = lambda_for_ratio(float(loss.detach()), float(reg.detach()), ratio)
            state["lam"] = lam
            pen = lam * float(reg.detach())
            state["ratio0"] = pen / (float(loss.detach()) + pen) if pen else 0.0
        return state["lam"] * reg

    opt = make_optimizer(model.parameters(), cfg)
    history: list[dict] = []
    widths: list[int] = []
    hidden0 = _hidden_width(model)
    n_train = len(data.y_train)
    # training FLOPs of one epoch of the model as it is now: measured again only when
    # a reconfiguration changes its shape
    per_epoch = dense_flops = epoch_flops(model, data.in_shape, n_train)
    flops: list[float] = []  # training FLOPs of every epoch, of the model as it was then
    lr_sum = 0.0  # Σ lr over the steps taken, for lasso_budget
    for epoch in range(cfg.epochs):
        if deadline is not None and epoch > 0 and time.perf_counter() > deadline:
            break
        lr = lr_at(epoch, cfg.epochs, cfg.lr, milestones, gamma)
        for group in opt.param_groups:
            group["lr"] = lr
        rows = train(model, data, with_epochs(cfg, 1, epoch), device=device, penalty=penalty,
                     optimizer=opt, deadline=deadline, on_epoch=on_epoch)
        history += rows
        flops += [per_epoch] * len(rows)
        lr_sum += lr * steps_per_epoch(data, cfg) * len(rows)
        if (epoch + 1) % interval == 0 or epoch + 1 == cfg.epochs:
            zero_small_groups(model, threshold)
            if can_reconfigure(model):
                model, opt, widths = reconfigure(model, opt)
                per_epoch = epoch_flops(model, data.in_shape, n_train)
    masks = _nonzero_masks(model)
    before = before_finetune(model, data, device=device)
    if final_epochs:
        rows = train(model, data, with_epochs(cfg, final_epochs, 999), device=device,
                     masks=masks, deadline=deadline, on_epoch=on_epoch)
        history += rows
        flops += [per_epoch] * len(rows)
    with torch.no_grad():
        nnz = sum(int((w != 0).sum()) for w in _weights(model))
    hidden = _hidden_width(model)  # a reconfigured model's: sum(widths)
    result = finish(model, data, masks, history, t0, device=device, before=before,
                    extra={"lambda": state["lam"], "penalty_ratio0": state["ratio0"],
                           "hidden_widths": widths,
                           "neurons_removed": 1.0 - hidden / hidden0 if hidden0 else 0.0,
                           "epoch_flops": flops, "dense_epoch_flops": dense_flops,
                           "epoch_s": [row.get("epoch_s") for row in history],
                           "train_flops_ratio": (sum(flops) / (dense_flops * len(flops))
                                                 if flops and dense_flops else None),
                           "lasso_budget": (state["lam"] or 0.0) * lr_sum
                           / max(1e-12, 1.0 - (cfg.momentum if cfg.optimizer == "sgd" else 0.0))})
    result.sparsity = 1.0 - nnz / dense_weights  # relative to the original dense model
    return result


def _hidden_width(model: nn.Module) -> int:
    """Hidden neurons (MLP) or channels (CNN) between the prunable layers: the output widths of
    all but the last Linear / Conv2d."""
    ws = _weights(model)
    return sum(int(w.shape[0]) for w in ws[:-1])
