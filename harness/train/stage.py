"""The training stage of `tune`: accuracy of each candidate pruning configuration.

The kernel stage measures speed per Point; accuracy depends only on the pruning configuration
(pattern, group size, rate, aggregation), not on the format or backend, so candidates with the
same PruneSpec are trained once. The records returned here are stored by the tune command and
joined with the kernel-stage speedups to form the accuracy-vs-speed front.

`spec` is any object with TrainSpec's attributes (model, dataset, data_path, schedule,
pretrain_epochs, finetune_epochs, batch_size, lr, optimizer, candidates, budget_s, options).
Schedule options also read here: skip_first / skip_last (layers left dense), from_scratch
(group_lasso only, default True: lym trains with the penalty from the first step), scope
(layer | global) and `rate.<layer>` overrides (`harness.train.scope`). Options the
model's builder takes (fc's `input_layer`, `harness.train.models`) go to the model.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from harness.core.errors import UnsupportedError
from harness.core.point import PruneSpec
from harness.train.identity import train_digest, training_code
from harness.train.scope import RATE_PREFIX, check_scope, layer_rates

if TYPE_CHECKING:
    from harness.config.settings import TrainSpec

Progress = Callable[[int, int, dict], None]
_STAGE_KEYS = ("skip_first", "skip_last", "from_scratch", "scope")


def _prune_spec(candidate: Any) -> PruneSpec:
    if isinstance(candidate, PruneSpec):
        return candidate
    prune = getattr(candidate, "prune", None)
    if isinstance(prune, PruneSpec):
        return prune
    if isinstance(candidate, dict):
        d = dict(candidate.get("prune", candidate))
        for k in ("block", "nm"):
            if k in d:
                d[k] = tuple(d[k])
        fields = PruneSpec.__dataclass_fields__
        return PruneSpec(**{k: v for k, v in d.items() if k in fields})
    raise TypeError(f"candidate {candidate!r} is neither a Point, a PruneSpec nor a dict")


def _prune_dict(p: PruneSpec) -> dict:
    d = asdict(p)
    d["block"], d["nm"] = list(p.block), list(p.nm)
    return d


def _options(spec: TrainSpec) -> dict:
    return dict(getattr(spec, "options", None) or {})


def _schedule_options(spec: TrainSpec, opts: dict) -> dict:
    """The options left for the schedule: neither the stage's own nor the model's."""
    from harness.train.models import model_options

    model_keys = model_options(spec.model, opts)
    return {k: v for k, v in opts.items()
            if k not in _STAGE_KEYS and k not in model_keys and not k.startswith(RATE_PREFIX)}


def _prune_kw(opts: dict) -> dict:
    """Rate scope and layer rules (`harness.train.scope`), checked before any training."""
    return {"scope": check_scope(opts.get("scope", "layer")), "layer_rates": layer_rates(opts),
            "skip_first": bool(opts.get("skip_first", False)),
            "skip_last": bool(opts.get("skip_last", False))}


def _base(spec: TrainSpec, seed: int) -> dict:
    """What every record of this training carries; `train_digest` names all its settings, so an
    earlier run's record is reused only for the same training (`harness.train.identity`)."""
    return {"model": spec.model, "dataset": spec.dataset, "schedule": spec.schedule, "seed": seed,
            "train_digest": train_digest(spec, seed), "training_code": training_code()}


def planned(spec: TrainSpec, prune: PruneSpec | None, *, seed: int = 0) -> dict:
    """The record's keys fixed before training (`harness.train.identity.CONFIG_IDENTITY` once
    flattened): the dense model's for prune=None, else the candidate's."""
    if prune is None:
        return dict(_base(spec, seed), kind="dense", prune=None)
    return dict(_base(spec, seed), kind="candidate", prune=_prune_dict(prune))


def prepare(spec: TrainSpec, *, device: str = "cpu", seed: int = 0):
    """(dataset, pre-trained dense model, dense record); the dense model comes from the cache
    after its first training."""
    from harness.train.data import load_dataset
    from harness.train.trainer import config_from_spec, pretrain

    data = load_dataset(spec.dataset, data_path=getattr(spec, "data_path", None), seed=seed)
    cfg = config_from_spec(spec, epochs=int(spec.pretrain_epochs), seed=seed)
    dense, rec = pretrain(spec.model, data, cfg, device=device, options=_options(spec))
    return data, dense, dict(_base(spec, seed), kind="dense", status="ok", prune=None, **rec)


def _start_model(spec: TrainSpec, dense, data, seed: int, opts: dict):
    from harness.train.models import build_model

    if spec.schedule == "group_lasso" and opts.get("from_scratch", True):
        return build_model(spec.model, data.in_shape, data.n_classes, seed, opts)
    return copy.deepcopy(dense)


def train_candidates(spec: TrainSpec, candidates: Sequence[Any], *, device: str = "cpu",
                     budget_s: float | None = None, seed: int = 0,
                     progress: Progress | None = None) -> list[dict]:
    """Train every candidate's pruning configuration; returns the dense record first, then one
    record per candidate, in order: kind, status ('ok' | 'unsupported: …' | 'skipped: …'),
    accuracy, loss, val_accuracy, sparsity, epochs, time_s, prune (dict), point / point_key when
    the candidate is a Point, plus model, dataset, schedule, seed. A trained record (dense or
    candidate) also holds signal_died (its loss never left chance); a candidate's holds
    accuracy_before / loss_before (the pruned model before fine-tuning) and its schedule's
    extras (ADMM residuals, group-lasso training FLOPs, …). Every record holds train_digest and
    training_code (`harness.train.identity`); one the time budget stopped early, budget_cut.

    budget_s (default spec.budget_s; None = unlimited) bounds the fine-tuning wall time: each
    configuration gets an equal share of what is left, checked between epochs; configurations
    reached with no budget left are recorded as skipped.
    """
    from harness.train.schedules import SCHEDULES
    from harness.train.schedules.base import check_options
    from harness.train.trainer import config_from_spec

    schedule = SCHEDULES.get(spec.schedule)
    opts = _options(spec)
    prune_kw = _prune_kw(opts)  # a bad scope or layer rate: one line before any training
    sched_opts = _schedule_options(spec, opts)
    check_options(spec.schedule, sched_opts)
    data, dense, dense_rec = prepare(spec, device=device, seed=seed)
    cfg = config_from_spec(spec, epochs=int(spec.finetune_epochs), seed=seed)
    budget = budget_s if budget_s is not None else getattr(spec, "budget_s", None)
    t_start = time.perf_counter()
    specs = [_prune_spec(c) for c in candidates]
    unique = list(dict.fromkeys(specs))
    done: dict[PruneSpec, dict] = {}
    records = [dense_rec]
    for i, (cand, prune) in enumerate(zip(candidates, specs, strict=True)):
        if prune not in done:
            deadline = None
            if budget is not None:
                left = budget - (time.perf_counter() - t_start)
                deadline = Deadline(time.perf_counter() + left / max(1, len(unique) - len(done)))
            done[prune] = _train_one(schedule, spec, dense, data, prune, cfg, sched_opts, opts,
                                     prune_kw, device, seed, deadline,
                                     skip=budget is not None and left <= 0)
        rec = dict(_base(spec, seed), kind="candidate", prune=_prune_dict(prune), **done[prune])
        if hasattr(cand, "key") and hasattr(cand, "as_dict"):
            rec["point"], rec["point_key"] = cand.as_dict(), cand.key()
        records.append(rec)
        if progress is not None:
            progress(i + 1, len(specs), rec)
    return records


def _train_one(schedule, spec, dense, data, prune, cfg, sched_opts, opts, prune_kw, device,
               seed, deadline, *, skip: bool) -> dict:
    empty = {"accuracy": None, "loss": None, "val_accuracy": None, "sparsity": None,
             "epochs": 0, "time_s": 0.0}
    if skip:
        return dict(empty, status="skipped: training budget exhausted")
    model = _start_model(spec, dense, data, seed, opts)
    if spec.schedule == "group_lasso" and opts.get("from_scratch", True):
        cfg = replace(cfg, epochs=cfg.epochs + int(spec.pretrain_epochs))
    try:
        res = schedule(model, data, prune, cfg, options=sched_opts, device=device,
                       deadline=deadline, prune_kw=prune_kw)
    except UnsupportedError as err:
        return dict(empty, status=f"unsupported: {err}")
    # the stage's time budget stopped it early: a shorter training, never reused as the full one
    cut = isinstance(deadline, Deadline) and deadline.passed
    return dict(res.as_record(), status="ok", **({"budget_cut": True} if cut else {}))


class Deadline(float):
    """A time.perf_counter() deadline that remembers whether a schedule found it passed: every
    check (`time.perf_counter() > deadline`, in the trainer and the schedules) that comes out
    true stops or skips training, so `passed` tells a training cut short by the budget from one
    that finished all its epochs a little late. Python asks the right operand's reflected
    comparison first when its type subclasses the left's, so a plain float on the left still
    reaches these methods."""

    passed = False

    def _seen(self, hit: bool) -> bool:
        if hit:
            self.passed = True
        return hit

    def __lt__(self, other: float) -> bool:  # other > deadline
        return self._seen(float(self) < other)

    def __le__(self, other: float) -> bool:  # other >= deadline
        return self._seen(float(self) <= other)


def trial_objective(spec: TrainSpec, *, pruned: type[Exception], device: str = "cpu",
                    seed: int = 0, patterns: Sequence[str] = ("row_group",),
                    group_sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
                    rate_range: tuple[float, float] = (0.5, 0.95)) -> Callable[[Any], float]:
    """A single-objective objective for an Optuna-style trial: suggests pattern / group_size /
    rate, fine-tunes the cached dense model with spec.schedule and returns the validation
    accuracy (maximise). `harness.tune.train_objective` builds it with Optuna's exception.

    After every epoch it calls trial.report(val_accuracy, step) and raises `pruned` when
    trial.should_prune(), so a pruner stops hopeless trials early. Test accuracy, loss and
    achieved sparsity are stored as trial user attributes.
    """
    from harness.train.schedules import SCHEDULES
    from harness.train.schedules.base import check_options
    from harness.train.trainer import config_from_spec

    schedule = SCHEDULES.get(spec.schedule)
    opts = _options(spec)
    prune_kw = _prune_kw(opts)  # checked before any trial
    sched_opts = _schedule_options(spec, opts)
    check_options(spec.schedule, sched_opts)
    cache: dict[str, Any] = {}

    def objective(trial) -> float:
        if not cache:
            cache["data"], cache["dense"], _ = prepare(spec, device=device, seed=seed)
        data = cache["data"]
        pattern = (trial.suggest_categorical("pattern", list(patterns)) if len(patterns) > 1
                   else patterns[0])
        group = trial.suggest_categorical("group_size", list(group_sizes)) \
            if pattern == "row_group" else 1
        rate = trial.suggest_float("rate", *rate_range)
        prune = PruneSpec(pattern=pattern, rate=rate, group_size=int(group), seed=seed)
        cfg = config_from_spec(spec, epochs=int(spec.finetune_epochs), seed=seed)
        step = {"n": 0}

        def on_epoch(epoch: int, model, row: dict) -> bool:
            step["n"] += 1
            trial.report(row["val_accuracy"], step["n"])
            if trial.should_prune():
                raise pruned(f"pruned after epoch {step['n']}")
            return False

        model = _start_model(spec, cache["dense"], data, seed, opts)
        try:
            res = schedule(model, data, prune, cfg, options=sched_opts, device=device,
                           on_epoch=on_epoch, prune_kw=prune_kw)
        except UnsupportedError as err:
            trial.set_user_attr("status", f"unsupported: {err}")
            raise pruned(str(err)) from None
        for k in ("accuracy", "loss", "sparsity", "epochs", "time_s"):
            trial.set_user_attr(k, getattr(res, k))
        return res.val_accuracy

    return objective
