"""Small classifiers in plain torch.nn, built by name through the `MODELS` registry.

`fc` is the network of hartenstein-weight-pruning-gpus.md, Table 2: fully connected layers with
ReLU and a softmax output (the softmax lives in the cross-entropy loss, so the model returns
logits). Table 2 lists eight rows — "input, fully connected, ReLU, 784", then hidden widths
128-128-256-256-512-512 and the 10-wide output — and the text says the network "consists of
eight fully connected layers". Two readings follow, selectable with the model option
`input_layer` (suite: `train.options.input_layer`):

* `input_layer: true` (default): the first row is a layer of its own, a 784-wide fully connected
  layer with ReLU on the 784 pixels — eight weight layers, 784-784-128-128-256-256-512-512-10.
  This takes "eight fully connected layers" and the row's ReLU literally (an input placeholder
  has no activation).
* `input_layer: false`: the first row only names the 784 inputs — seven weight layers,
  784-128-128-256-256-512-512-10 (what harness built before this option existed).

The input width comes from the dataset (784 for MNIST, 64 for 8×8 digits); the extra input layer
is as wide as the input.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from harness.core.registry import Registry

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]  # (in_shape, n_classes, **model options) -> module
MODELS: Registry[Builder] = Registry("model")

FC_HIDDEN = (128, 128, 256, 256, 512, 512)  # hartenstein Table 2
LENET300_HIDDEN = (300, 100)


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def mlp(in_features: int, hidden: Sequence[int], n_classes: int) -> nn.Sequential:
    """Flatten → (Linear → ReLU)* → Linear. A flat Sequential so pruning and reconfiguration can
    walk its Linear layers in order."""
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


@MODELS.register("fc")
def _fc(in_shape: tuple[int, ...], n_classes: int, *, input_layer: bool = True) -> nn.Module:
    """hartenstein Table 2; `input_layer` picks the reading (module docstring)."""
    if not isinstance(input_layer, bool):
        from harness.core.errors import InputError

        raise InputError(path="train.options.input_layer", value=input_layer,
                         expected="true (Table 2's first row is a 784-wide layer) or false")
    width = _numel(in_shape)
    return keras_init(mlp(width, ((width,) if input_layer else ()) + FC_HIDDEN, n_classes))


def keras_init(model: nn.Module) -> nn.Module:
    """Keras' Dense defaults (the seed's framework): Glorot-uniform weights, zero biases.
    torch's default (uniform ±1/√fan_in) shrinks the signal ~2.5× per ReLU layer, so through the
    eight layers of Table 2 the untrained net's output hardly depends on its input and SGD
    barely moves at first; Glorot keeps it trainable from the first step."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    m.bias.zero_()
    return model


@MODELS.register("lenet300")
def _lenet300(in_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    return mlp(_numel(in_shape), LENET300_HIDDEN, n_classes)


@MODELS.register("cnn")
def _cnn(in_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    """Two 3×3 conv layers (filters/channels to prune) and a linear head. The adaptive pool makes
    the head's width independent of the image size (8×8 digits, 28×28 MNIST)."""
    from torch import nn

    channels = in_shape[0] if len(in_shape) == 3 else 1
    return nn.Sequential(
        nn.Unflatten(1, (channels, *in_shape[-2:])) if len(in_shape) != 3 else nn.Identity(),
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(),
        nn.Linear(32 * 16, 64), nn.ReLU(),
        nn.Linear(64, n_classes),
    )


def model_options(name: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entries of a suite's `train.options` that model `name`'s builder takes (its keyword-only
    parameters, e.g. fc's `input_layer`); the rest belong to the schedules."""
    params = inspect.signature(MODELS.get(name)).parameters.values()
    accepted = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return {k: v for k, v in dict(options or {}).items() if k in accepted}


def build_model(name: str, in_shape: Sequence[int], n_classes: int, seed: int = 0,
                options: Mapping[str, Any] | None = None) -> nn.Module:
    """A freshly initialised model; the same (name, shape, classes, seed, options) gives the same
    weights. `options` may hold any train options; only those the builder takes are used.

    The global RNG is forked so building a model does not disturb the caller's random stream.
    """
    import torch

    builder = MODELS.get(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(tuple(int(d) for d in in_shape), int(n_classes),
                       **model_options(name, options))
