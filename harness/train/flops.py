"""Training cost in FLOPs of a (possibly reconfigured) dense model, as lym-prunetrain-group-lasso.md
counts it (§5, Fig. 6: the training FLOPs of the smaller dense model after each reconfiguration).

Per sample, a Linear layer's forward product costs 2·in·out FLOPs and a Conv2d's
2·(C_in/groups)·k_h·k_w·C_out·H_out·W_out; a training step costs three times the forward product
(forward, gradient of the input, gradient of the weight). Biases, activations and the optimiser
update are left out: they are linear in the parameter or activation count, a small fraction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

TRAIN_FACTOR = 3  # forward + two backward products


def forward_flops(model: nn.Module, in_shape: tuple[int, ...]) -> float:
    """Multiply-add FLOPs (×2) of one sample's forward pass through the Linear / Conv2d layers."""
    import torch
    from torch import nn

    total = [0.0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Linear):
            total[0] += 2.0 * mod.in_features * mod.out_features
        else:
            kh, kw = mod.kernel_size
            total[0] += (2.0 * (mod.in_channels // mod.groups) * kh * kw * mod.out_channels
                         * out.shape[-2] * out.shape[-1])

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.Linear | nn.Conv2d)]
    try:
        p = next(model.parameters(), None)
        x = torch.zeros(1, *in_shape, device=p.device if p is not None else "cpu",
                        dtype=p.dtype if p is not None else torch.float32)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(x)
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def epoch_flops(model: nn.Module, in_shape: tuple[int, ...], n_samples: int) -> float:
    """Training FLOPs of one epoch over `n_samples` samples."""
    return TRAIN_FACTOR * forward_flops(model, in_shape) * n_samples
