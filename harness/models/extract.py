"""A model's layers as GEMM problems, found by running it once with forward hooks.

Each nn.Linear is W (M = out_features × K = in_features) times its activations, N = the number of
rows the layer really saw (batch × sequence × …); each nn.Conv2d is its im2col GEMM: M = out
channels per group, K = in channels per group × kh × kw, N = batch × output height × width, one
GEMM per group. Running the model (rather than reading its definition) makes N exact whatever the
model does with its input. Layers of equal (M, K, N, dtype) form one `ShapeGroup`: one
measurement of that shape serves all of them.

`ShapeGroup.point` gives the harness `Point` of a group, so the measurement core (`Bench`) can
time the shape like any other point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.core.point import Point, PruneSpec
from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class Layer:
    """One call of a Linear/Conv2d module during the forward pass, as a GEMM."""

    name: str  # module name (a module called twice: "name#2" for its second call)
    kind: str  # key of GEMM_RULES
    m: int
    k: int
    n: int
    dtype: str
    input_shape: tuple[int, ...]  # what the module received (to call it alone)
    gemms: int = 1  # a grouped convolution is one GEMM per group

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.m, self.k, self.n)

    @property
    def module_name(self) -> str:
        return self.name.split("#", 1)[0]


@dataclass(frozen=True)
class ShapeGroup:
    """Layers with the same GEMM shape and dtype: measured once."""

    m: int
    k: int
    n: int
    dtype: str
    layers: tuple[str, ...]  # names of its layers, in forward order

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.m, self.k, self.n)

    @property
    def key(self) -> str:
        return f"{self.m}x{self.k}x{self.n}"

    def point(self, *, device: str = "cpu", format: str = "dense", backend: str = "torch",
              prune: PruneSpec | None = None, seed: int = 0) -> Point:
        return Point(self.m, self.k, self.n, self.dtype, device, format, backend,
                     prune or PruneSpec(), seed)


@dataclass(frozen=True)
class Extraction:
    layers: tuple[Layer, ...]
    groups: tuple[ShapeGroup, ...]

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def group_of(self, name: str) -> ShapeGroup:
        for g in self.groups:
            if name in g.layers:
                return g
        raise KeyError(name)

    def points(self, **point_fields: Any) -> list[Point]:
        """One Point per shape group (same keyword arguments as `ShapeGroup.point`)."""
        return [g.point(**point_fields) for g in self.groups]


@dataclass(frozen=True)
class GemmRule:
    """How a module type becomes a GEMM: (module, input, output) → (M, K, N, gemms)."""

    module_type: Callable[[], type]
    gemm: Callable[[Any, Any, Any], tuple[int, int, int, int]]


GEMM_RULES: Registry[GemmRule] = Registry("GEMM layer kind")


def _linear_type() -> type:
    from torch import nn

    return nn.Linear


def _conv2d_type() -> type:
    from torch import nn

    return nn.Conv2d


def _linear_gemm(mod: nn.Linear, x: torch.Tensor, _out: torch.Tensor) -> tuple[int, int, int, int]:
    k = mod.in_features
    return mod.out_features, k, x.numel() // k, 1


def _conv2d_gemm(mod: nn.Conv2d, _x: torch.Tensor,
                 out: torch.Tensor) -> tuple[int, int, int, int]:
    g = mod.groups
    positions = out.numel() // out.shape[-3]  # batch × H_out × W_out (also unbatched input)
    k = mod.in_channels // g * math.prod(mod.kernel_size)
    return mod.out_channels // g, k, positions, g


GEMM_RULES.register("linear", GemmRule(_linear_type, _linear_gemm))
GEMM_RULES.register("conv2d", GemmRule(_conv2d_type, _conv2d_gemm))


def _kind(module: nn.Module) -> str | None:
    # Conv2d and Linear are unrelated classes, so at most one rule matches a module
    for name, rule in GEMM_RULES.items():
        if isinstance(module, rule.module_type()):
            return name
    return None


def extract(model: nn.Module, x: torch.Tensor) -> Extraction:
    """Run `model(x)` once (no grad) and return every Linear/Conv2d call as a GEMM."""
    import torch

    from harness.measure.verify import TOLERANCES

    found: list[Layer] = []
    calls: dict[str, int] = {}

    def hook(name: str, kind: str) -> Callable[..., None]:
        def record(mod: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
            xin = inputs[0]
            m, k, n, gemms = GEMM_RULES.get(kind).gemm(mod, xin, out)
            calls[name] = calls.get(name, 0) + 1
            label = name if calls[name] == 1 else f"{name}#{calls[name]}"
            dtype = str(xin.dtype).removeprefix("torch.")
            if dtype not in TOLERANCES:
                raise ValueError(f"layer {name}: dtype {dtype} is not one harness measures")
            found.append(Layer(label, kind, m, k, n, dtype, tuple(xin.shape), gemms))

        return record

    handles = []
    for name, module in model.named_modules():
        kind = _kind(module)
        if kind is not None:
            handles.append(module.register_forward_hook(hook(name, kind)))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return Extraction(tuple(found), group_layers(found))


def group_layers(layers: Any) -> tuple[ShapeGroup, ...]:
    """Layers of equal (M, K, N, dtype) in one group each, groups in order of first appearance."""
    groups: dict[tuple, ShapeGroup] = {}
    for layer in layers:
        key = (*layer.shape, layer.dtype)
        g = groups.get(key) or ShapeGroup(layer.m, layer.k, layer.n, layer.dtype, ())
        groups[key] = replace(g, layers=(*g.layers, layer.name))
    return tuple(groups.values())
