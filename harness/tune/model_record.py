"""The stored record of a whole-model study (`harness tune` on a model suite): one JSON mapping
that the report draws as it is (harness.report.figures.model), so the report never recomputes a
decision the study made.

Pure: built from the study's result (with its dense shares). Candidates are listed once; the front,
the chosen configuration, the best uniform and per-layer ones and the equal-rate comparisons
refer to them by index.

    {"kind": "model", "suite", "model", "batch", "device", "target_rate", "trials",
     "dense_model_s", "rest_s", "layers": [{name, shape, group, dense_s, share}],
     "candidates": [{label, time_s, rate, uniform, trial, predicted_speedup,
                     choices: [{group, option, rate}]}],
     "front": [i], "chosen": i | None, "best_uniform": i | None, "best_per_layer": i | None,
     "equal_rates": [{rate, uniform: i, per_layer: i | None, time_ratio}],
     "chosen_result": {**ModelResult.as_dict(), pays_off} | None, "uniform_result": … | None,
     "failures": [str],
     "layer_times": [{group, option, rate, kernel_s, layer_s, reason}],  # each (shape, choice)
     "contended": [str],  # layer-timing runs the contention probe judged disturbed
     "accuracy": None | {dataset, dense_accuracy, budget,       # the suite's train: stage; then
                         trained: [{candidate: i, accuracy, accuracy_before, drop,
                                    within_budget, epochs, train_s}]}}  # "chosen" is within it
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.models.export import ModelResult
    from harness.models.suite import ModelSuite
    from harness.tune.model import Candidate, ModelTuneResult

KIND = "model"


def _candidate(c: Candidate, dense_model_s: float) -> dict[str, Any]:
    return {"label": c.label(), "time_s": c.time_s, "rate": c.rate, "uniform": c.uniform,
            "trial": c.trial, "predicted_speedup": dense_model_s / c.time_s,
            "choices": [{"group": k, "option": o.label, "rate": r} for k, o, r in c.choices]}


def build(result: ModelTuneResult, suite: ModelSuite, *, device: str,
          trials: int) -> dict[str, Any]:
    """The study's record (module docstring)."""
    from harness.tune.model import at_equal_rates

    def ref(c: Candidate | None) -> int | None:
        return None if c is None else result.candidates.index(c)

    def outcome(r: Any) -> dict[str, Any] | None:
        return None if r is None else {**r.as_dict(), "pays_off": pays_off(r)}

    shares = result.shares

    return {
        "kind": KIND, "suite": suite.name, "model": suite.model, "batch": suite.batch,
        "device": device, "target_rate": result.target_rate, "trials": trials,
        "dense_model_s": result.dense_model_s,
        "rest_s": None if shares is None else shares.rest_s,
        "layers": [] if shares is None else [
            {"name": t.name, "shape": list(t.shape), "group": result.layer_groups.get(t.name),
             "dense_s": t.time_s, "share": t.share} for t in shares.layers],
        "candidates": [_candidate(c, result.dense_model_s) for c in result.candidates],
        "front": [ref(c) for c in result.front],
        "chosen": ref(result.chosen), "best_uniform": ref(result.best_uniform),
        "best_per_layer": ref(result.best_per_layer),
        "equal_rates": [{"rate": e.rate, "uniform": ref(e.uniform), "per_layer": ref(e.per_layer),
                         "time_ratio": e.time_ratio} for e in at_equal_rates(result.candidates)],
        "chosen_result": outcome(result.chosen_result),
        "uniform_result": outcome(result.uniform_result),
        "failures": list(result.failures),
        "layer_times": [dict(t) for t in result.layer_times],
        "accuracy": None if result.accuracy is None else result.accuracy.as_dict(),
        "contended": list(result.contended),
    }


SLOWER = "slower than the dense model: at this pruning rate, serve this model dense on this machine"


def pays_off(r: ModelResult) -> str | None:
    """What the measured end-to-end speedup says, when pruning does not pay (None: it does):
    its 95 % interval below 1 (SLOWER), or containing 1. Stored with the record's results."""
    lo, hi = r.measured_ci or (r.measured_speedup, r.measured_speedup)
    if lo is None or hi is None or lo > 1.0:
        return None
    if hi < 1.0:
        return SLOWER
    return "not faster than the dense model within the 95 % interval"


def candidate(record: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The candidate a record names under `key` ("chosen", "best_uniform", …), or None."""
    i = record.get(key)
    return None if i is None else record["candidates"][i]


__all__ = ["KIND", "SLOWER", "build", "candidate", "pays_off"]
