"""Each layer's share of the dense model's time, measured with the measurement core.

One interleaved run (`harness.measure.timer.run_interleaved`, the CPU/CUDA sampler of
`harness.measure.clock`, the contention probe `Bench` uses) times the whole forward pass and, for
each shape group, one of its layers called alone on an input of the shape it receives in the
model (the layer's own forward: the GEMM with its bias, exactly what the model runs). Equal shapes
share that measurement. The rest of the model (activations, norms, attention's softmax, copies)
is what the layers do not explain: rest = model time − Σ layer times.

Timing is hot by default (each variant repeats on warm caches, as a served model does); `hot=False`
flushes the last-level cache before every sample (65 ms per sample on a 480 MiB L3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.measure.stats import quantile
from harness.measure.timer import Policy, RoundsResult, run_interleaved
from harness.models.extract import Extraction, extract

if TYPE_CHECKING:
    import torch
    from torch import nn

    from harness.measure.clock import Sampler
    from harness.measure.contention import Probe

MODEL = "model"


@dataclass(frozen=True)
class LayerTime:
    name: str
    shape: tuple[int, int, int]
    time_s: float  # median of one call of the layer (its shape group's measurement)
    share: float  # time_s / model time


@dataclass(frozen=True)
class Shares:
    model_s: float  # median forward time of the dense model
    layers: tuple[LayerTime, ...]
    rounds: int = 0
    stopped: str = ""
    contended: str | None = None  # why the run cannot be trusted (see RoundsResult.contended)

    @property
    def layers_s(self) -> float:
        return sum(layer.time_s for layer in self.layers)

    @property
    def rest_s(self) -> float:
        """Model time the layers do not explain (negative only through measurement noise)."""
        return self.model_s - self.layers_s


def group_variant(key: str) -> str:
    return f"dense:{key}"


def shares_from_times(extraction: Extraction, model_s: float,
                      group_s: Mapping[str, float]) -> Shares:
    """Shares from the model's time and one time per shape group key (pure arithmetic)."""
    times = []
    for layer in extraction.layers:
        t = group_s[extraction.group_of(layer.name).key]
        times.append(LayerTime(layer.name, layer.shape, t, t / model_s if model_s > 0 else 0.0))
    return Shares(model_s, tuple(times))


def layer_input(model: nn.Module, extraction: Extraction, name: str,
                seed: int = 0) -> torch.Tensor:
    """A seeded random input of the shape and dtype layer `name` receives in the model."""
    import torch

    layer = extraction.layer(name)
    gen = torch.Generator().manual_seed(int(seed))
    device = next(model.parameters()).device
    return torch.randn(layer.input_shape, generator=gen).to(getattr(torch, layer.dtype)).to(device)


def layer_call(model: nn.Module, extraction: Extraction, name: str,
               seed: int = 0) -> Callable[[], Any]:
    """The layer `name` of `model` called alone on a random input of its in-model shape."""
    module = model.get_submodule(extraction.layer(name).module_name)
    xin = layer_input(model, extraction, name, seed)
    return lambda: module(xin)


def dense_variants(model: nn.Module, x: torch.Tensor,
                   extraction: Extraction) -> dict[str, Callable[[], Any]]:
    """The dense model's forward and one layer call per shape group (its first layer)."""
    out: dict[str, Callable[[], Any]] = {MODEL: lambda: model(x)}
    for g in extraction.groups:
        out[group_variant(g.key)] = layer_call(model, extraction, g.layers[0])
    return out


def time_variants(variants: Mapping[str, Callable[[], Any]], *, device: str = "cpu",
                  policy: Policy | None = None, sampler: Sampler | None = None,
                  probe: Probe | None = None, hot: bool = True) -> RoundsResult:
    """run_interleaved with the device's sampler and probe, autograd off."""
    import torch

    from harness.measure.clock import make_sampler
    from harness.measure.contention import default_probe

    policy = policy or Policy.for_device(device)
    sampler = sampler or make_sampler(device, hot=hot)
    with torch.no_grad():
        return run_interleaved(variants, policy, sampler, probe=probe or default_probe(device))


def medians(res: RoundsResult) -> dict[str, float]:
    """Median of each variant's clean samples (its discarded ones if no round was clean)."""
    return {name: quantile(sorted(res.samples[name] or res.discarded.get(name, [])), 0.5)
            for name in res.order}


def measure_shares(model: nn.Module, x: torch.Tensor, extraction: Extraction | None = None, *,
                   device: str = "cpu", policy: Policy | None = None,
                   sampler: Sampler | None = None, probe: Probe | None = None,
                   hot: bool = True) -> Shares:
    """Each layer's share of the dense model's forward time at the batch of `x`, measured."""
    ext = extraction or extract(model, x)
    policy = policy or Policy.for_device(device)
    res = time_variants(dense_variants(model, x, ext), device=device, policy=policy,
                        sampler=sampler, probe=probe, hot=hot)
    med = medians(res)
    shares = shares_from_times(ext, med[MODEL],
                               {g.key: med[group_variant(g.key)] for g in ext.groups})
    return replace(shares, rounds=res.n_rounds, stopped=res.stopped,
                   contended=res.contended(policy))
