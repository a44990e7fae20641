"""Rate scope: how a candidate's pruning rate is spread over the layers of a model.

* `layer` (the default): every prunable layer loses the candidate's rate of its own groups
  (hartenstein-weight-pruning-gpus.md prunes each weight matrix to the rate).
* `global`: one threshold across layers (ouyang-pruning-in-dnn-survey.md, global magnitude
  pruning): the groups of all pooled layers are ranked together by their score (the candidate's
  aggregation: RMS, mean, median, random, …) and the lowest-scored are removed until the rate of
  the pooled *weights* is reached. Layers with small weights lose more than the rate, layers with
  large weights less; a layer may lose every group (the "signal died" flag then tells).

The suite picks the scope with `train.options.scope` (layer | global). Per-layer overrides come
from `train.options` too: a key `rate.<layer>` (a layer name of `model.named_modules()`, or an
fnmatch pattern such as `rate.features.*`) gives that layer its own rate, pruned on its own in
both scopes; null leaves the layer dense. `skip_first` / `skip_last` leave the first / last
prunable layer dense.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.core.point import PruneSpec

Scope = Callable[..., "dict[str, torch.Tensor]"]
SCOPES: Registry[Scope] = Registry("rate scope")
RATE_PREFIX = "rate."


def layer_rates(options: Mapping[str, Any]) -> dict[str, float | None]:
    """`rate.<layer>: r` options → {layer: r} (None: the layer stays dense), checked."""
    out: dict[str, float | None] = {}
    for key, value in options.items():
        if not key.startswith(RATE_PREFIX):
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value < 1):
            raise InputError(path=f"train.options.{key}", value=value,
                             expected="a pruning rate in [0, 1) or null (layer left dense)")
        out[key[len(RATE_PREFIX):]] = None if value is None else float(value)
    return out


def check_scope(scope: Any) -> str:
    if scope not in SCOPES:
        raise InputError(path="train.options.scope", value=scope,
                         expected=f"one of {', '.join(SCOPES.names())}")
    return str(scope)


def layer_specs(model: nn.Module, spec: PruneSpec, *, layer_rates: Mapping[str, float | None] = {},
                skip_first: bool = False, skip_last: bool = False, **_: Any
                ) -> dict[str, PruneSpec | None]:
    """Layer name → its spec (None: left dense): the candidate's, unless skipped or overridden."""
    import fnmatch

    from harness.pruning.model import layer_rules, prunable_layers

    names = [n for n, _ in prunable_layers(model)]
    for key in layer_rates:
        if not any(fnmatch.fnmatchcase(n, key) for n in names):
            raise InputError(path=f"train.options.{RATE_PREFIX}{key}", value=key,
                             expected=f"a prunable layer name or pattern ({', '.join(names)})")
    overrides = {k: None if r is None else replace(spec, rate=r) for k, r in layer_rates.items()}
    rules = layer_rules(model, spec, overrides=overrides, skip_first=skip_first,
                        skip_last=skip_last)
    return {name: rule.spec for name, rule in rules.items()}


def scope_masks(model: nn.Module, spec: PruneSpec, *, scope: str = "layer",
                **rules: Any) -> dict[str, torch.Tensor]:
    """Prune `model` in place in the given scope; returns layer name → keep-mask.
    `rules`: layer_rates, skip_first, skip_last (see `layer_specs`)."""
    from harness.pruning.model import apply_masks, prunable_layers

    specs = layer_specs(model, spec, **rules)
    modules = dict(prunable_layers(model))
    masks = SCOPES.get(check_scope(scope))({n: modules[n].weight.detach() for n in specs},
                                           specs, spec)
    apply_masks(model, masks)
    return masks


@SCOPES.register("layer")
def layer_scope(weights: Mapping[str, torch.Tensor], specs: Mapping[str, PruneSpec | None],
                spec: PruneSpec) -> dict[str, torch.Tensor]:
    """Every layer to its own rate (its own spec)."""
    return {n: _layer_mask(n, weights[n], s) for n, s in specs.items() if s is not None}


@SCOPES.register("global")
def global_scope(weights: Mapping[str, torch.Tensor], specs: Mapping[str, PruneSpec | None],
                 spec: PruneSpec) -> dict[str, torch.Tensor]:
    """One threshold over the groups of every layer whose spec is the candidate's; layers with
    an override are pruned alone at their own rate."""
    pooled = {n: weights[n] for n, s in specs.items() if s == spec}
    masks = global_keep_masks(pooled, spec)
    for name, s in specs.items():
        if s is not None and name not in pooled:
            masks[name] = _layer_mask(name, weights[name], s)
    return {n: masks[n] for n in specs if n in masks}  # layer order


def _layer_mask(name: str, weight: torch.Tensor, spec: PruneSpec) -> torch.Tensor:
    from harness.core.errors import UnsupportedError
    from harness.pruning.base import prune_mask
    from harness.pruning.patterns import check_spec

    reason = check_spec(tuple(weight.shape), spec)
    if reason:
        raise UnsupportedError(f"layer {name}: {reason}")
    return prune_mask(weight.detach(), spec)


def global_keep_masks(weights: Mapping[str, torch.Tensor], spec: PruneSpec
                      ) -> dict[str, torch.Tensor]:
    """Keep-masks removing the lowest-scored groups of all `weights` together, until
    round(rate × pooled weights) weights are gone (the last group may overshoot by less than
    one group). Ties: earlier layer, then lower group index, removed first."""
    import torch

    from harness.core.errors import UnsupportedError
    from harness.pruning.patterns import (
        check_spec,
        expand_groups,
        group_scores,
        grouping,
        tile_reduce,
    )

    if spec.pattern == "nm":
        raise UnsupportedError("pattern nm keeps N of every M in each row; it has no global scope")
    scores, sizes, shapes = [], [], []
    for name, w in weights.items():
        reason = check_spec(tuple(w.shape), spec)
        if reason:
            raise UnsupportedError(f"layer {name}: {reason}")
        s = group_scores(w, spec).double()
        g = grouping(tuple(w.shape), spec)
        ones = torch.ones(g.v_shape, dtype=torch.float64, device=w.device)
        # weights per group: edge groups of a ragged grid are smaller
        size = tile_reduce(ones, g.block, lambda x: x.sum(dim=-1), torch.float64)
        scores.append(s.reshape(-1).cpu())
        sizes.append(size.reshape(-1).cpu())
        shapes.append((g, s.shape))
    if not scores:
        return {}
    flat, count = torch.cat(scores), torch.cat(sizes)
    order = torch.argsort(flat, stable=True)  # ties: concatenation order = layer, then index
    target = round(spec.rate * float(count.sum()))
    removed = torch.cumsum(count[order], 0)  # weights gone after removing 1, 2, … groups
    n_remove = 0 if target <= 0 else min(len(order), 1 + int(torch.searchsorted(
        removed, torch.tensor(float(target), dtype=torch.float64))))
    keep = torch.ones(len(flat), dtype=torch.bool)
    keep[order[:n_remove]] = False
    masks, start = {}, 0
    for (name, w), (g, gshape) in zip(weights.items(), shapes, strict=True):
        n = gshape.numel()
        k = keep[start:start + n].reshape(gshape).to(w.device)
        masks[name] = g.unview(expand_groups(k, g.block, g.v_shape))
        start += n
    return masks
