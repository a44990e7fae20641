"""The accuracy stage of a model study (a model suite's `train:`): which of the searched
configurations keep the model's accuracy, so the study answers with the fastest configuration
within the accuracy budget rather than the fastest one.

The dense model is trained once (`harness.train.trainer.pretrain`, cached on disk like the kernel
suites' training stage), then each configuration picked — the `candidates` fastest at or above
the suite's target rate, and the fastest uniform one at each uniform rate there — is pruned per
layer by its choices
(`harness.models.export.masked_model`: every layer with its own pattern, group size and rate),
fine-tuned with its masks fixed and evaluated on the test split. The budget is the answer
module's (`harness.answers.Budget`: the largest drop against the dense model and/or a floor).
Hartenstein et al. fine-tune each pruned configuration the same way before they compare
accuracy against speed (their Fig. 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from harness.train.data import Dataset
    from harness.tune.model import Candidate, ModelSearch


@dataclass(frozen=True)
class Trained:
    """One configuration's accuracy after fine-tuning (candidate: its index in the study)."""

    candidate: int
    accuracy: float
    accuracy_before: float  # pruned, before fine-tuning
    drop: float  # dense accuracy − accuracy
    within_budget: bool
    epochs: int
    train_s: float


@dataclass(frozen=True)
class AccuracyStage:
    dataset: str
    dense_accuracy: float
    budget: str  # Budget.describe()
    trained: tuple[Trained, ...]
    models: dict[int, Any]  # candidate index → the fine-tuned (masked) nn.Module; not stored

    def best(self, cands: Sequence[Candidate]) -> int | None:
        """The fastest trained configuration within the budget (index), or None."""
        ok = [t.candidate for t in self.trained if t.within_budget]
        return min(ok, key=lambda i: cands[i].time_s, default=None)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"dataset": self.dataset, "dense_accuracy": self.dense_accuracy,
                "budget": self.budget, "trained": [asdict(t) for t in self.trained]}


def pick(cands: Sequence[Candidate], target: float, k: int) -> list[int]:
    """Indices of the k fastest distinct configurations at or above `target`, and the fastest
    uniform one at each uniform rate there: accuracy falls mostly with the rate, so the least
    pruned rates are tried too even when the k fastest all prune more (a trial may repeat a
    configuration: it is trained once)."""
    ok = sorted((i for i, c in enumerate(cands) if c.rate >= target - 1e-9),
                key=lambda i: cands[i].time_s)
    chosen: list[int] = []
    seen: set[tuple] = set()
    for i in ok:
        if len(chosen) < k and cands[i].choices not in seen:
            chosen.append(i)
            seen.add(cands[i].choices)
    for rate in sorted({cands[i].rate for i in ok if cands[i].uniform}):
        i = next(i for i in ok if cands[i].uniform and cands[i].rate == rate)
        if cands[i].choices not in seen:
            chosen.append(i)
            seen.add(cands[i].choices)
    return chosen


def load_data(search: ModelSearch) -> Dataset:
    """The suite's dataset, checked against the samples the model serves (before any timing)."""
    import math

    from harness.core.errors import InputError
    from harness.train.data import load_dataset

    suite, spec = search.suite, search.suite.train
    data = load_dataset(spec.dataset, data_path=spec.data_path, seed=suite.seed)
    served = tuple(search.x.shape[1:])
    if math.prod(served) != math.prod(data.in_shape):
        raise InputError(f"{spec.dataset} samples have shape {data.in_shape}, the model serves "
                         f"samples of shape {served}; expected in_shape "
                         f"{list(data.in_shape)} (or a dataset of that size)",
                         file=suite.file, path="train.dataset")
    return data


def train_candidates(search: ModelSearch, cands: Sequence[Candidate], data: Dataset,
                     say: Callable[[str], None] = lambda _: None) -> AccuracyStage:
    """Pretrain the dense model, then prune, fine-tune and evaluate each picked configuration."""
    from harness.answers import Budget
    from harness.models.export import masked_model
    from harness.train.trainer import config_from_spec, evaluate, pretrain, train

    suite, spec = search.suite, search.suite.train
    dense, record = pretrain(suite.model, data, config_from_spec(
        spec, epochs=spec.pretrain_epochs, seed=suite.seed), device="cpu")
    dense_acc = float(record["accuracy"])
    budget = Budget.of(spec)
    say(f"  accuracy stage: dense {suite.model} on {spec.dataset}: {dense_acc:.4f} "
        f"({'cached' if record.get('cached') else 'trained'}); budget: {budget.describe()}")
    trained: list[Trained] = []
    models: dict[int, nn.Module] = {}
    for i in pick(cands, suite.target_rate, spec.candidates):
        t0 = time.perf_counter()
        model, masks = masked_model(dense, search.config(cands[i]))
        before, _ = evaluate(model, data.x_test, data.y_test)
        history = train(model, data, config_from_spec(spec, epochs=spec.finetune_epochs,
                                                      seed=suite.seed), masks=masks)
        acc, _ = evaluate(model, data.x_test, data.y_test)
        t = Trained(i, acc, before, dense_acc - acc, budget.allows(acc, dense_acc),
                    len(history), time.perf_counter() - t0)
        trained.append(t)
        models[i] = model.eval()
        say(f"  trained {cands[i].label()}: {acc:.4f} ({-t.drop * 100:+.2f} points; "
            f"{'within' if t.within_budget else 'outside'} the budget)")
    return AccuracyStage(spec.dataset, dense_acc, budget.describe(), tuple(trained), models)


__all__ = ["AccuracyStage", "Trained", "load_data", "pick", "train_candidates"]
