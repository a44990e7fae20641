"""Small classifiers in plain torch.nn, built by name through the `MODELS` registry.

`fc` is the network of hartenstein-weight-pruning-gpus.md, Table 2 (hidden widths
128-128-256-256-512-512, ReLU, softmax output — the softmax lives in the cross-entropy loss, so the
model returns logits). Its input width comes from the dataset (784 for MNIST, 64 for 8×8 digits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from harness.core.registry import Registry

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[[tuple[int, ...], int], "nn.Module"]
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
def _fc(in_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    return mlp(_numel(in_shape), FC_HIDDEN, n_classes)


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


def build_model(name: str, in_shape: Sequence[int], n_classes: int, seed: int = 0) -> nn.Module:
    """A freshly initialised model; the same (name, shape, classes, seed) gives the same weights.

    The global RNG is forked so building a model does not disturb the caller's random stream.
    """
    import torch

    builder = MODELS.get(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(tuple(int(d) for d in in_shape), int(n_classes))
