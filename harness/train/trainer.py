"""Epoch loop, evaluation and cached dense pre-training.

Masks are dicts name → bool keep-mask (the output of `harness.pruning.model.prune_model`); a name
may be a parameter name ("1.weight") or a module name ("1", meaning its weight). After every
optimiser step the masked weights are multiplied by their mask, so pruned weights stay exactly
zero; gradients are masked before the step too, so momentum/Adam state of pruned weights stays 0.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.train.data import Dataset

CACHE_VERSION = 1


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.05
    optimizer: str = "sgd"  # 'sgd' (with momentum) | 'adam'
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0


@dataclass
class TrainResult:
    """What a schedule returns: the record fields plus the masks and the trained model."""

    accuracy: float
    loss: float
    val_accuracy: float
    sparsity: float
    epochs: int
    time_s: float
    masks: dict[str, Any] = field(default_factory=dict, repr=False)
    model: Any = field(default=None, repr=False)
    history: list[dict] = field(default_factory=list, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "loss": self.loss, "val_accuracy": self.val_accuracy,
                "sparsity": self.sparsity, "epochs": self.epochs, "time_s": self.time_s,
                **self.extra}


def config_from_spec(spec: Any, *, epochs: int | None = None, seed: int = 0) -> TrainConfig:
    """TrainConfig from a TrainSpec-like object (duck typed)."""
    opts = dict(getattr(spec, "options", None) or {})
    return TrainConfig(
        epochs=int(epochs if epochs is not None else getattr(spec, "finetune_epochs", 10)),
        batch_size=int(getattr(spec, "batch_size", 64)),
        lr=float(getattr(spec, "lr", 0.05)),
        optimizer=str(getattr(spec, "optimizer", "sgd")),
        momentum=float(opts.get("momentum", 0.9)),
        weight_decay=float(opts.get("weight_decay", 0.0)),
        seed=seed,
    )


# --- masks --------------------------------------------------------------------------------------

def resolve_params(model: nn.Module, names) -> dict[str, Any]:
    """name → parameter; a module name means that module's weight."""
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    out = {}
    for name in names:
        p = params.get(name)
        if p is None and name in modules:
            p = getattr(modules[name], "weight", None)
        if p is None:
            raise KeyError(f"mask {name!r} names no parameter or module of the model")
        out[name] = p
    return out


def masked_params(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> list[tuple[Any, Any]]:
    """[(parameter, pruned)]: `pruned` is the negated keep-mask on the parameter's device."""
    import torch

    params = resolve_params(model, masks)
    out = []
    for name, mask in masks.items():
        p = params[name]
        out.append((p, ~mask.to(device=p.device, dtype=torch.bool)))  # True = pruned
    return out


def enforce_masks(pairs: list[tuple[Any, Any]]) -> None:
    import torch

    with torch.no_grad():
        for p, pruned in pairs:
            p.masked_fill_(pruned, 0.0)  # masked_fill, not mul: no -0.0 left behind


def sparsity(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of exact zeros among the masked (prunable) weights."""
    pairs = masked_params(model, masks)
    total = sum(p.numel() for p, _ in pairs)
    zeros = sum(int((p == 0).sum()) for p, _ in pairs)
    return zeros / total if total else 0.0


# --- loop ---------------------------------------------------------------------------------------

def make_optimizer(params, cfg: TrainConfig):
    import torch

    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    from harness.core.errors import InputError

    raise InputError(path="train.optimizer", value=cfg.optimizer, expected="'sgd' or 'adam'")


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch: int = 1024,
             device: str = "cpu") -> tuple[float, float]:
    """(accuracy, mean cross-entropy loss)."""
    import torch
    import torch.nn.functional as F

    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            xb, yb = x[i:i + batch].to(device), y[i:i + batch].to(device)
            out = model(xb)
            loss += float(F.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
    n = max(len(y), 1)
    return correct / n, loss / n


Hook = Callable[..., Any]


def train(model: nn.Module, data: Dataset, cfg: TrainConfig, *, device: str = "cpu",
          masks: Mapping[str, torch.Tensor] | None = None,
          penalty: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None,
          on_step: Hook | None = None, on_epoch: Hook | None = None,
          deadline: float | None = None, optimizer=None) -> list[dict]:
    """Train `cfg.epochs` epochs of mini-batch SGD/Adam on cross-entropy (+ `penalty(model, loss)`).

    on_step(step, model) runs after each optimiser step (and after mask enforcement) and may
    return a new masks dict to use from then on (gradual pruning). on_epoch(epoch, model, row)
    runs after each epoch's evaluation; returning True stops training (Optuna pruning).
    Stops early, after a whole epoch, once `deadline` (time.perf_counter() value) has passed.
    Returns one row per epoch: epoch, train_loss, val_accuracy, val_loss, time_s (since the
    call), epoch_s (this epoch's training steps alone, without the evaluation).
    """
    import torch
    import torch.nn.functional as F

    model.to(device)
    opt = optimizer or make_optimizer(model.parameters(), cfg)
    pairs = masked_params(model, masks or {})
    enforce_masks(pairs)
    gen = torch.Generator().manual_seed(cfg.seed)
    n = len(data.y_train)
    history, step, t0 = [], 0, time.perf_counter()
    for epoch in range(cfg.epochs):
        if deadline is not None and epoch > 0 and time.perf_counter() > deadline:
            break
        t_epoch = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            xb, yb = data.x_train[idx].to(device), data.y_train[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            total += float(loss.detach()) * len(idx)
            if penalty is not None:
                loss = loss + penalty(model, loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for p, pruned in pairs:
                    if p.grad is not None:
                        p.grad.masked_fill_(pruned, 0.0)
            opt.step()
            enforce_masks(pairs)
            step += 1
            if on_step is not None:
                new = on_step(step, model)
                if new is not None:
                    pairs = masked_params(model, new)
                    enforce_masks(pairs)
        train_s = time.perf_counter() - t_epoch
        acc, vloss = evaluate(model, data.x_val, data.y_val, device=device)
        row = {"epoch": epoch + 1, "train_loss": total / n, "val_accuracy": acc,
               "val_loss": vloss, "time_s": time.perf_counter() - t0, "epoch_s": train_s}
        history.append(row)
        if on_epoch is not None and on_epoch(epoch + 1, model, row):
            break
    return history


CHANCE_TOLERANCE = 0.02  # relative: a loss within 2 % of the chance loss is chance


def chance_loss(labels: torch.Tensor) -> float:
    """The best cross-entropy a model that ignores its input can reach: the entropy of the class
    frequencies (ln 10 for balanced MNIST)."""
    import torch

    p = torch.bincount(labels.reshape(-1).long()).double()
    p = p[p > 0] / p.sum()
    return float(-(p * p.log()).sum())


def signal_died(losses: Sequence[float], chance: float,
                tolerance: float = CHANCE_TOLERANCE) -> bool:
    """True when every loss (per-epoch training losses, then the final test loss) stayed at
    chance, ≥ (1 − tolerance)·`chance` (see `chance_loss`): the model never learned to use its
    input — with every layer pruned to a high rate the signal can die on its way through many
    layers, and the output is then a constant. NaN losses count as dead."""
    return bool(losses) and all(not (x < (1.0 - tolerance) * chance) for x in losses)


def run_signal_died(history: Sequence[Mapping[str, Any]], test_loss: float, data: Dataset) -> bool:
    """`signal_died` of a training run: its per-epoch training losses, then its test loss,
    against the chance loss of `data`'s training labels."""
    return signal_died([row["train_loss"] for row in history] + [test_loss],
                       chance_loss(data.y_train))


def steps_per_epoch(data: Dataset, cfg: TrainConfig) -> int:
    return math.ceil(len(data.y_train) / cfg.batch_size)


# --- cached dense pre-training -----------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get("HARNESS_CACHE_DIR") or Path.home() / ".cache" / "harness" / "models")


def pretrain_key(model_name: str, data: Dataset, cfg: TrainConfig,
                 model_options: Mapping[str, Any] | None = None) -> str:
    blob = json.dumps({"v": CACHE_VERSION, "model": model_name, "data": data.fingerprint(),
                       "cfg": asdict(cfg), "model_options": dict(model_options or {})},
                      sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def pretrain(model_name: str, data: Dataset, cfg: TrainConfig, *, device: str = "cpu",
             cache: bool = True, options: Mapping[str, Any] | None = None
             ) -> tuple[nn.Module, dict]:
    """Dense model trained `cfg.epochs` epochs from seed `cfg.seed`, cached on disk by a hash of
    (model, its options, data fingerprint, config) in $HARNESS_CACHE_DIR (default ~/.cache/harness/models), so
    every candidate and every run after the first loads it instead of training again.

    Returns (model, record); record["cached"] tells whether it was loaded.
    """
    import torch

    from harness.train.models import build_model, model_options

    model_opts = model_options(model_name, options)
    model = build_model(model_name, data.in_shape, data.n_classes, cfg.seed, model_opts)
    key = pretrain_key(model_name, data, cfg, model_opts)
    path = cache_dir() / f"{model_name}-{key}.pt"
    if cache and path.is_file():
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(blob["state"])
        model.to(device)
        record = dict(json.loads(blob["record"]), cached=True)
        return model, record
    t0 = time.perf_counter()
    history = train(model, data, cfg, device=device)
    train_s = time.perf_counter() - t0
    acc, loss = evaluate(model, data.x_test, data.y_test, device=device)
    record = {"accuracy": acc, "loss": loss, "val_accuracy": history[-1]["val_accuracy"],
              "sparsity": 0.0, "epochs": len(history), "time_s": train_s, "key": key,
              "signal_died": run_signal_died(history, loss, data), "model_options": model_opts}
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save({"state": state, "record": json.dumps(record)}, tmp)
        os.replace(tmp, path)  # atomic: concurrent workers never read a half-written file
    return model, dict(record, cached=False)
