"""Apply a per-layer configuration to a model, export it with real sparse execution, verify it,
and time it end to end against the dense model beside the predicted speedup.

Masks alone bring no speed (ouyang-pruning-in-dnn-survey.md): the exported model replaces each
pruned nn.Linear with a `BackendLinear` whose forward runs the layer through the chosen harness
backend's prepared sparse operand (harness.backends: prepare once per activation width N, call
many times). The masks come from harness's pruning registry (`harness.pruning.model.prune_model`,
e.g. the row groups of hartenstein-weight-pruning-gpus.md).

A pruned nn.Conv2d (groups = 1, zero padding) becomes a `BackendConv2d`: its im2col GEMM, the
weight viewed as out × (in · kh · kw) — the view harness's patterns prune — times the unfolded
input (in · kh · kw) × (batch · H_out · W_out), through the same backends. A grouped convolution
stays dense. Layers run on the CPU backends' devices as prepared (they are not moved by `.to()`).

Predicted model speedup (the whole-model step of the design's data flow):

    predicted = T_model / (T_rest + Σ_layers T_sparse(layer)),  T_rest = T_model − Σ T_dense(layer)

where every time is a median from one interleaved run (dense model, exported model, each shape
group's dense layer and each (shape, choice)'s exported layer), so machine drift cancels; the
measured speedup is the median of the per-round ratios dense model / exported model of that run.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError, UnsupportedError
from harness.core.point import Point, PruneSpec
from harness.measure.timer import Policy
from harness.models.extract import Extraction, extract
from harness.models.share import (
    MODEL,
    dense_variants,
    group_variant,
    layer_input,
    medians,
    time_variants,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.backends.base import Prepared
    from harness.formats.base import Operand
    from harness.measure.clock import Sampler
    from harness.measure.contention import Probe

EXPORTED = "exported"


@dataclass(frozen=True)
class LayerChoice:
    """How one layer is served: its stored format, the backend that runs it, its pruning."""

    format: str = "dense"
    backend: str = "torch"
    prune: PruneSpec = field(default_factory=PruneSpec)

    @property
    def sparse(self) -> bool:
        return self.format != "dense"

    def label(self) -> str:
        p = self.prune
        geo = {"row_group": f" g={p.group_size}", "block": f" {p.block[0]}x{p.block[1]}",
               "nm": f" {p.nm[0]}:{p.nm[1]}"}.get(p.pattern, "")
        return f"{self.format}/{self.backend} {p.pattern}{geo} {p.rate:.0%}"


Config = Mapping[str, LayerChoice]  # module name → choice; layers not named stay dense, unpruned


def uniform(model: nn.Module, choice: LayerChoice) -> dict[str, LayerChoice]:
    """The same choice for every nn.Linear and every Conv2d that can run sparse."""
    return {n: choice for n, m in model.named_modules() if sparse_refusal(m) is None}


def sparse_refusal(module: nn.Module) -> str | None:
    """Why `module` cannot run through a sparse backend (None: it can): a Linear always can, a
    Conv2d as its im2col GEMM when ungrouped with zero padding."""
    from torch import nn

    if isinstance(module, nn.Linear):
        return None
    if not isinstance(module, nn.Conv2d):
        return f"a {type(module).__name__} is not a Linear or Conv2d layer"
    if module.groups != 1:
        return f"a grouped Conv2d (groups={module.groups}) runs dense"
    if module.padding_mode != "zeros" or isinstance(module.padding, str):
        return "a Conv2d with padding other than explicit zero padding runs dense"
    return None


def _check_config(model: nn.Module, config: Config) -> None:
    from torch import nn

    modules = dict(model.named_modules())
    linear = [n for n, m in modules.items() if isinstance(m, nn.Linear | nn.Conv2d)]
    for name, choice in config.items():
        if name not in linear:
            raise InputError(path=f"config.{name}", value=name,
                             expected=f"a Linear or Conv2d layer name ({', '.join(linear)})")
        why = sparse_refusal(modules[name]) if choice.sparse else None
        if why is not None:
            raise UnsupportedError(f"layer {name}: {why} (format dense with a pruning spec "
                                   f"masks it)")


def masked_model(model: nn.Module, config: Config) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """A pruned copy of `model` (eval mode): each configured layer masked by its choice's spec;
    returns it with its keep-masks (True = kept)."""
    from harness.pruning.model import prunable_layers, prune_model

    _check_config(model, config)
    out = copy.deepcopy(model).eval()
    overrides: dict[str, PruneSpec | None] = {
        n: (config[n].prune if n in config and config[n].prune.rate > 0 else None)
        for n, _ in prunable_layers(out)}
    return out, prune_model(out, PruneSpec(), overrides=overrides)


def pruning_rate(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> float:
    """Removed weights / weights of every Linear and Conv2d layer (the model's pruning rate)."""
    from harness.pruning.model import prunable_layers

    total = sum(m.weight.numel() for _, m in prunable_layers(model))
    removed = sum(int((~mask).sum()) for mask in masks.values())
    return removed / total if total else 0.0


def _backend_classes() -> tuple[type, type]:
    """(BackendLinear, BackendConv2d), built on first use so importing this module needs no
    torch."""
    import torch
    from torch import nn
    from torch.nn import functional

    class BackendGemm(nn.Module):
        """Y = W X with W (M×K) stored in `operand` and multiplied by a harness backend.

        The backend's callable is prepared once per activation width N on a persistent K×N
        input buffer; each call copies its columns into the buffer and runs it."""

        def __init__(self, operand: Operand, bias: torch.Tensor | None, backend: str,
                     label: str) -> None:
            super().__init__()
            from harness.backends.base import all_backends

            self.operand, self.label = operand, label
            self.backend = all_backends().get(backend)
            self.out_features, self.in_features = operand.shape
            self.bias = None if bias is None else nn.Parameter(bias.detach().clone(),
                                                               requires_grad=False)
            self._prepared: dict[int, tuple[torch.Tensor, Prepared]] = {}

        def prepared(self, n: int) -> tuple[torch.Tensor, Prepared]:
            if n not in self._prepared:
                buf = torch.zeros((self.in_features, n), dtype=self.operand.dtype,
                                  device=self.operand.device)
                self._prepared[n] = (buf, self.backend.prepare(self.operand, buf))
            return self._prepared[n]

        def gemm(self, columns: torch.Tensor) -> torch.Tensor:
            """W · columns (K×N, any strides): the backend's M×N product."""
            buf, prep = self.prepared(columns.shape[1])
            buf.copy_(columns)
            return prep.to_torch(prep.run())

    class BackendLinear(BackendGemm):
        """y = x Wᵀ + b through the backend (x's rows are the product's columns)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            lead = x.shape[:-1]
            y = self.gemm(x.reshape(-1, self.in_features).t()).t()  # N×M view of M×N
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*lead, self.out_features)

        def extra_repr(self) -> str:
            return (f"in_features={self.in_features}, out_features={self.out_features}, "
                    f"{self.label}")

    class BackendConv2d(BackendGemm):
        """A Conv2d as its im2col GEMM through the backend: W (out × in·kh·kw) times the
        unfolded input ((in·kh·kw) × batch·H_out·W_out), reshaped to the conv's output."""

        def __init__(self, conv: nn.Conv2d, operand: Operand, backend: str, label: str) -> None:
            super().__init__(operand, conv.bias, backend, label)
            assert not isinstance(conv.padding, str)  # sparse_refusal keeps these dense
            self.kernel_size: tuple[int, ...] = tuple(conv.kernel_size)
            self.stride: tuple[int, ...] = tuple(conv.stride)
            self.padding: tuple[int, ...] = tuple(conv.padding)
            self.dilation: tuple[int, ...] = tuple(conv.dilation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            batched = x.dim() == 4
            xb = x if batched else x.unsqueeze(0)
            (ph, pw), (sh, sw), (dh, dw) = self.padding, self.stride, self.dilation
            kh, kw = self.kernel_size
            b, c, h_in, w_in = xb.shape
            h = (h_in + 2 * ph - dh * (kh - 1) - 1) // sh + 1
            w = (w_in + 2 * pw - dw * (kw - 1) - 1) // sw + 1
            xp = functional.pad(xb, (pw, pw, ph, ph)) if ph or pw else xb.contiguous()
            # im2col straight into the backend's K×N buffer, one strided copy: row
            # (channel, i, j) — the weight's im2col order — column (sample, y, x)
            sb, sc, sy, sx = xp.stride()
            patches = xp.as_strided((c, kh, kw, b, h, w),
                                    (sc, dh * sy, dw * sx, sb, sh * sy, sw * sx))
            buf, prep = self.prepared(b * h * w)
            buf.view(c, kh, kw, b, h, w).copy_(patches)
            y = prep.to_torch(prep.run())  # M × B·H·W
            y = y.reshape(self.out_features, b, h, w).transpose(0, 1)
            if self.bias is not None:
                y = y + self.bias.reshape(1, -1, 1, 1)
            return y if batched else y.squeeze(0)

        def extra_repr(self) -> str:
            return (f"{self.in_features // math.prod(self.kernel_size)}, {self.out_features}, "
                    f"kernel_size={self.kernel_size}, stride={self.stride}, "
                    f"padding={self.padding}, dilation={self.dilation}, {self.label}")

    return BackendLinear, BackendConv2d


def sparse_layer(mod: nn.Module, choice: LayerChoice, *, name: str, n: int, dtype: str,
                 device: str) -> nn.Module:
    """`mod` (a Linear or Conv2d whose weight is already masked) as a BackendLinear /
    BackendConv2d running `choice`'s format and backend; `n`: the activation width it serves
    (checked against the backend). Raises UnsupportedError naming `name` if it cannot run."""
    from torch import nn

    from harness.backends.resolve import unsupported_reason
    from harness.formats.base import get_format

    why = sparse_refusal(mod)
    if why is not None or not isinstance(mod, nn.Linear | nn.Conv2d):
        raise UnsupportedError(f"layer {name}: {why}")
    # a conv filter bank as its im2col matrix: out × (in · kh · kw), row-major
    weight = mod.weight.detach().reshape(mod.weight.shape[0], -1).contiguous()
    spec = choice.prune
    point = Point(weight.shape[0], weight.shape[1], n, dtype, device, choice.format,
                  choice.backend, spec)
    backend, reason = unsupported_reason(point)
    if reason is not None:
        raise UnsupportedError(f"layer {name}: {reason}")
    operand = get_format(choice.format).encode(weight, block=spec.block,
                                               group_size=spec.group_size, nm=spec.nm)
    linear_cls, conv_cls = _backend_classes()
    if isinstance(mod, nn.Linear):
        return linear_cls(operand, mod.bias, backend, choice.label())
    return conv_cls(mod, operand, backend, choice.label())


def pruned_layer(mod: nn.Module, choice: LayerChoice, *, name: str, n: int, dtype: str,
                 device: str) -> nn.Module:
    """A copy of the unpruned layer `mod`, masked by `choice.prune` and exported
    (`sparse_layer`): what the exported model would run for this layer."""
    from harness.pruning.model import prune_model

    copied = copy.deepcopy(mod).eval()
    prune_model(copied, choice.prune)  # the layer itself is its only prunable module
    return sparse_layer(copied, choice, name=name, n=n, dtype=dtype, device=device)


def export_model(masked: nn.Module, config: Config, x: torch.Tensor) -> nn.Module:
    """A copy of the masked model whose layers with a sparse choice run through their backend;
    `x` (a served batch) finds each layer's N, checks each backend can run it and prepares it."""
    _check_config(masked, config)
    ext = extract(masked, x)
    out = copy.deepcopy(masked).eval()
    for layer in ext.layers:
        choice = config.get(layer.module_name)
        if choice is None or not choice.sparse or "#" in layer.name:
            continue
        _replace(out, layer.module_name, sparse_layer(
            out.get_submodule(layer.module_name), choice, name=layer.module_name, n=layer.n,
            dtype=layer.dtype, device=str(x.device)))
    import torch

    with torch.no_grad():
        out(x)  # prepares every backend for this batch (compiles, tunes) outside any timing
    return out


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


@dataclass(frozen=True)
class Check:
    rel_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        import math

        return math.isfinite(self.rel_error) and self.rel_error <= self.tolerance


def verify_export(exported: nn.Module, masked: nn.Module, x: torch.Tensor) -> Check:
    """The exported model's output against the float64 masked dense model's, with harness's
    per-dtype tolerance (harness.measure.verify)."""
    import torch

    from harness.measure.verify import rel_error, tolerance

    with torch.no_grad():
        reference = copy.deepcopy(masked).double()(x.double())
        out = exported(x)
    dtype = str(x.dtype).removeprefix("torch.")
    return Check(rel_error(out, reference), tolerance(dtype, str(x.device)))


def predicted_speedup(model_s: float, dense_s: Sequence[float], sparse_s: Sequence[float]) -> float:
    """T_model / (T_rest + Σ sparse), T_rest = T_model − Σ dense (module docstring)."""
    if len(dense_s) != len(sparse_s):
        raise ValueError("one sparse time per dense layer time is needed")
    predicted_s = model_s - sum(dense_s) + sum(sparse_s)
    if predicted_s <= 0:
        raise ValueError(f"predicted model time {predicted_s:g} s is not positive "
                         "(the layers' times exceed the model's)")
    return model_s / predicted_s


@dataclass(frozen=True)
class LayerResult:
    name: str
    shape: tuple[int, int, int]
    choice: str  # LayerChoice.label(), "dense" when not configured
    dense_s: float
    sparse_s: float  # the exported layer's time (= dense_s for a layer that stays dense)
    share: float  # dense_s / dense model time

    @property
    def speedup(self) -> float:
        return self.dense_s / self.sparse_s if self.sparse_s > 0 else float("inf")


@dataclass(frozen=True)
class ModelResult:
    check: Check
    pruning_rate: float
    layers: tuple[LayerResult, ...] = ()
    dense_model_s: float | None = None
    exported_model_s: float | None = None
    measured_speedup: float | None = None
    measured_ci: tuple[float, float] | None = None
    predicted_speedup: float | None = None
    rounds: int = 0
    stopped: str = ""
    contended: str | None = None

    @property
    def rest_s(self) -> float | None:
        if self.dense_model_s is None:
            return None
        return self.dense_model_s - sum(layer.dense_s for layer in self.layers)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {**asdict(self), "rest_s": self.rest_s, "verified": self.check.ok}


def _sparse_variant(group_key: str, choice: LayerChoice) -> str:
    return f"sparse:{group_key}:{choice.label()}"


def evaluate(model: nn.Module, config: Config, x: torch.Tensor, *, device: str = "cpu",
             policy: Policy | None = None, sampler: Sampler | None = None,
             probe: Probe | None = None, hot: bool = True) -> ModelResult:
    """Prune, export, verify; if the output is right, time everything in one interleaved run and
    compute the measured and the predicted model speedup."""
    ext: Extraction = extract(model, x)
    masked, masks = masked_model(model, config)
    exported = export_model(masked, config, x)
    check = verify_export(exported, masked, x)
    rate = pruning_rate(model, masks)
    if not check.ok:
        return ModelResult(check, rate)
    variants = {**dense_variants(model, x, ext), EXPORTED: lambda: exported(x)}
    for g in ext.groups:
        for name in g.layers:
            choice = config.get(ext.layer(name).module_name)
            if choice is not None and choice.sparse:
                if _sparse_variant(g.key, choice) not in variants:
                    module = exported.get_submodule(ext.layer(name).module_name)
                    variants[_sparse_variant(g.key, choice)] = partial(
                        module, layer_input(model, ext, name))
    policy = policy or Policy.for_device(device)
    res = time_variants(variants, device=device, policy=policy, sampler=sampler, probe=probe,
                        hot=hot)
    med = medians(res)
    layers = []
    for layer in ext.layers:
        key = ext.group_of(layer.name).key
        choice = config.get(layer.module_name)
        dense = med[group_variant(key)]
        sparse = med[_sparse_variant(key, choice)] if choice is not None and choice.sparse \
            else dense
        layers.append(LayerResult(layer.name, layer.shape,
                                  choice.label() if choice is not None else "dense", dense,
                                  sparse, dense / med[MODEL]))
    if res.n_rounds:
        speedup, (lo, hi), _ = res.speedup(EXPORTED, MODEL)
        ci: tuple[float, float] | None = (float(lo), float(hi))
    else:  # every round disturbed: the ratio of medians, no interval (and `contended` says why)
        speedup, ci = med[MODEL] / med[EXPORTED], None
    try:
        predicted: float | None = predicted_speedup(med[MODEL], [r.dense_s for r in layers],
                                                    [r.sparse_s for r in layers])
    except ValueError:  # noise made the layers outlast the model: no prediction, not a crash
        predicted = None
    return ModelResult(check, rate, tuple(layers), med[MODEL], med[EXPORTED], float(speedup), ci,
                       predicted, res.n_rounds, res.stopped,
                       res.contended(policy))
