"""Whole-model pruning: masks for every nn.Linear / nn.Conv2d weight, keeping them pruned while
fine-tuning, and exporting a model whose Linear layers run as real sparse products.

Masks alone bring no speed (ouyang-pruning-in-dnn-survey.md): the pruned weights are still
multiplied densely. `export_sparse` is the step that turns the pruned model into one that
executes sparse products. Biases are never pruned. Layer names are `model.named_modules()` names.
"""

from __future__ import annotations

import copy
import fnmatch
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.core.errors import InputError, UnsupportedError
from harness.core.registry import Registry
from harness.pruning.base import prune_mask
from harness.pruning.patterns import check_spec

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.core.point import PruneSpec


@dataclass(frozen=True)
class LayerRule:
    """What to do with one layer: prune with `spec`, or skip it (None)."""

    spec: PruneSpec | None


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Linear | nn.Conv2d]]:
    """(name, module) of every nn.Linear and nn.Conv2d, in definition order."""
    from torch import nn

    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear | nn.Conv2d)]


def layer_rules(model: nn.Module, spec: PruneSpec, *,
                overrides: Mapping[str, PruneSpec | None] = {}, skip_first: bool = False,
                skip_last: bool = False) -> dict[str, LayerRule]:
    """The rule of each prunable layer. An override key is a layer name or an fnmatch pattern
    ("features.*"); an exact name wins over a pattern, and a later pattern over an earlier one."""
    layers = [n for n, _ in prunable_layers(model)]
    for key in overrides:
        if key not in layers and not any(fnmatch.fnmatchcase(n, key) for n in layers):
            raise InputError(path=f"overrides.{key}", value=key,
                             expected=f"a prunable layer name or pattern ({', '.join(layers)})")
    rules: dict[str, LayerRule] = {}
    for i, name in enumerate(layers):
        rule: PruneSpec | None = spec
        if (skip_first and i == 0) or (skip_last and i == len(layers) - 1):
            rule = None
        for key, value in overrides.items():
            if key != name and fnmatch.fnmatchcase(name, key):
                rule = value
        if name in overrides:
            rule = overrides[name]
        rules[name] = LayerRule(rule)
    return rules


def layer_name(model: nn.Module, key: str) -> str:
    """Module name of a mask key: a module name ("fc1") or its weight's name ("fc1.weight")."""
    modules = dict(model.named_modules())
    if key in modules and hasattr(modules[key], "weight"):
        return key
    base = "" if key == "weight" else key.removesuffix(".weight") if key.endswith(".weight") else None
    if base is not None and base in modules and hasattr(modules[base], "weight"):
        return base
    raise KeyError(f"mask {key!r} names no layer with a weight")


def _by_layer(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {layer_name(model, k): m for k, m in masks.items()}


def _weight(layer: nn.Module) -> torch.Tensor:
    """`layer.weight` as a tensor (nn.Module's attributes are typed Tensor | Module)."""
    import torch

    weight = layer.weight
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{type(layer).__name__}.weight is not a tensor")
    return weight


def _masked(weight: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    import torch

    # where(), not weight * mask: a product leaves -0.0 behind, which formats decode as +0.0.
    return torch.where(mask, weight, torch.zeros((), dtype=weight.dtype, device=weight.device))


def prune_model(model: nn.Module, spec: PruneSpec, *,
                overrides: Mapping[str, PruneSpec | None] = {}, skip_first: bool = False,
                skip_last: bool = False) -> dict[str, torch.Tensor]:
    """Prune every nn.Linear / nn.Conv2d weight of `model` in place (one-shot); returns
    layer name → keep-mask (True = kept) of the layers actually pruned.

    Raises UnsupportedError naming the layer if its spec cannot prune its weight."""
    import torch

    rules = layer_rules(model, spec, overrides=overrides, skip_first=skip_first,
                        skip_last=skip_last)
    modules = dict(prunable_layers(model))
    masks: dict[str, torch.Tensor] = {}
    for name, rule in rules.items():
        if rule.spec is None:
            continue
        weight = modules[name].weight
        reason = check_spec(tuple(weight.shape), rule.spec)
        if reason:
            raise UnsupportedError(f"layer {name}: {reason}")
        with torch.no_grad():
            masks[name] = prune_mask(weight.detach(), rule.spec)
    apply_masks(model, masks)
    return masks


def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Re-zero the pruned weights (call after each optimiser step while fine-tuning). Mask keys
    are layer names ("fc1") or weight names ("fc1.weight")."""
    import torch

    with torch.no_grad():
        for name, mask in _by_layer(model, masks).items():
            weight = _weight(model.get_submodule(name))
            weight.copy_(_masked(weight, mask.to(weight.device)))


class MaskKeeper:
    """Keeps pruned weights at zero while fine-tuning.

    Zeroes the gradients of pruned weights (hooks on the weights) and re-applies the masks after
    every step of `optimizer` (a step post-hook), so momentum or weight decay cannot revive them.
    Without an optimizer, call `step()` after each update. `remove()` detaches the hooks.
    """

    def __init__(self, model: nn.Module, masks: Mapping[str, torch.Tensor],
                 optimizer: torch.optim.Optimizer | None = None) -> None:
        self.model, self.masks = model, _by_layer(model, masks)
        self._handles = []
        for name, mask in self.masks.items():
            weight = _weight(model.get_submodule(name))
            m = mask.to(weight.device)
            self._handles.append(weight.register_hook(lambda g, m=m: _masked(g, m)))
        if optimizer is not None:
            self._handles.append(optimizer.register_step_post_hook(lambda *_: self.step()))

    def step(self) -> None:
        apply_masks(self.model, self.masks)

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __enter__(self) -> MaskKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# ---------------------------------------------------------------------------------------------
# export: Linear layers as real sparse products

# kernel name → builder(weight (M, K) pruned, group_size) → (buffers, mm(module, x (B, K)) → (B, M)).
# The weight lives in the module's buffers so that `.to(device)` moves it.
KernelBuilder = Callable[..., tuple[dict, Callable]]
KERNELS: Registry[KernelBuilder] = Registry("export kernel")


def _torch_sparse(weight: torch.Tensor, group_size: int):
    def mm(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return (mod.get_buffer("weight_csr") @ x.t()).t()

    with warnings.catch_warnings():  # "sparse CSR support is in beta": noise for users
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        csr = weight.detach().to_sparse_csr()
    return {"weight_csr": csr}, mm


def _triton(weight: torch.Tensor, group_size: int):
    from harness.formats.base import Operand, get_format

    op = get_format("row_group").encode(weight.detach(), group_size=group_size)
    shape = op.shape  # (out_features, in_features)

    def mm(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
        from harness.kernels import row_group_mm  # bundled Triton kernel, only when asked

        arrays = {k: mod.get_buffer(f"rg_{k}") for k in ("row_ptr", "group_cols", "values")}
        op = Operand("row_group", shape, arrays, {"group_size": group_size})
        return row_group_mm(op, x.t().contiguous()).t()

    return {f"rg_{k}": v for k, v in op.arrays.items()}, mm


KERNELS.register("torch_sparse", _torch_sparse)
KERNELS.register("triton", _triton)


def _sparse_linear_cls():
    from torch import nn

    class SparseLinear(nn.Module):
        """y = x @ W.T + b with W stored sparse (see `export_sparse`)."""

        def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, kernel: str,
                     group_size: int) -> None:
            super().__init__()
            self.out_features, self.in_features = weight.shape
            self.kernel = kernel
            buffers, self._mm = KERNELS.get(kernel)(weight, group_size)
            for name, t in buffers.items():
                self.register_buffer(name, t)
            self.bias = None if bias is None else nn.Parameter(bias.detach().clone(),
                                                               requires_grad=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            lead = x.shape[:-1]
            y = self._mm(self, x.reshape(-1, self.in_features))
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*lead, self.out_features)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, kernel={self.kernel}"

    return SparseLinear


def export_sparse(model: nn.Module, masks: Mapping[str, torch.Tensor] | None = None, *,
                  kernel: str = "torch_sparse", group_size: int = 32) -> nn.Module:
    """A copy of `model` (in eval mode) whose pruned nn.Linear layers run as sparse products.

    masks=None exports every nn.Linear (its zeros are the pruning). kernel "torch_sparse" stores
    W as a torch sparse CSR tensor and computes (W_csr @ x.T).T; kernel "triton" stores W in the
    row_group format (`group_size`) and calls the bundled `harness.kernels.row_group_mm`.
    The output equals the masked dense model's up to floating-point summation order.
    """
    from torch import nn

    KERNELS.get(kernel)
    out = copy.deepcopy(model).eval()
    masks = None if masks is None else _by_layer(out, masks)
    cls = _sparse_linear_cls()
    names = [n for n, m in prunable_layers(out) if isinstance(m, nn.Linear)
             and (masks is None or n in masks)]
    for name in names:
        lin = out.get_submodule(name)
        weight = _weight(lin).detach()
        if masks is not None:
            weight = _masked(weight, masks[name].to(weight.device))
        new = cls(weight, lin.bias, kernel, group_size)
        if not name:  # the model is itself a Linear
            return new
        parent, _, leaf = name.rpartition(".")
        setattr(out.get_submodule(parent) if parent else out, leaf, new)
    return out
