"""Reconfigure a sparsified MLP into a smaller dense one (lym-prunetrain-group-lasso.md, §4.2).

For an `nn.Sequential` of Linear layers with elementwise activations between them, hidden neuron j
(between Linear l and l+1) can be removed without changing the function when

* its outgoing weights W_{l+1}[:, j] are all zero (its output is never used), or
* its incoming weights W_l[j, :] are all zero: it then outputs the constant act(b_l[j]), which is
  folded into the next bias, b_{l+1} += W_{l+1}[:, j] · act(b_l[j]).

PruneTrain removes only the intersection of the zero input/output channels of adjacent layers, to
keep dimensions consistent in a CNN; for an MLP the union with bias folding is exact and removes
more. The network's input width and its outputs (classes) never change. Optimiser state
(momentum, Adam moments) of the kept weights is carried over, as in the paper ("all training
variables of the remaining channels are kept as is").
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


def linear_layers(model: nn.Module) -> list[tuple[int, Any]]:
    """(index in the Sequential, Linear) of a flat MLP; raises ValueError for other models."""
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise ValueError("reconfiguration needs an nn.Sequential MLP")
    out = []
    for i, m in enumerate(model):
        if isinstance(m, nn.Linear):
            out.append((i, m))
        elif not isinstance(m, nn.ReLU | nn.Flatten | nn.Identity | nn.Tanh | nn.Sigmoid
                            | nn.LeakyReLU | nn.GELU):
            raise ValueError(f"reconfiguration supports Linear and elementwise layers, got {m}")
    return out


def is_mlp(model: nn.Module) -> bool:
    try:
        return bool(linear_layers(model))
    except ValueError:
        return False


def reconfigure(model: nn.Module, optimizer=None) -> tuple[nn.Module, Any, list[int]]:
    """(smaller model, optimiser over its parameters with the kept state or None, hidden widths).

    The input model is left untouched."""
    import torch

    new = copy.deepcopy(model)
    layers = linear_layers(new)
    old_layers = linear_layers(model)
    keep_in: list[torch.Tensor] = [torch.arange(layers[0][1].in_features)]
    with torch.no_grad():
        for li in range(len(layers) - 1):
            idx, lin = layers[li]
            nxt_idx, nxt = layers[li + 1]
            w, w_next = lin.weight, nxt.weight
            dead_in = (w == 0).all(dim=1)  # incoming all zero: constant output
            unused = (w_next == 0).all(dim=0)  # outgoing all zero
            act = new[idx + 1:nxt_idx]  # the elementwise layers between the two Linears
            if lin.bias is not None and nxt.bias is not None:
                fold = dead_in & ~unused
                if fold.any():
                    const = act(lin.bias[fold].unsqueeze(0)).squeeze(0)
                    nxt.bias.add_(w_next[:, fold] @ const)
            keep = torch.nonzero(~(dead_in | unused)).flatten()
            if len(keep) == 0:  # keep one neuron so the network stays well-formed
                keep = torch.zeros(1, dtype=torch.long)
                nxt.weight[:, 0] = 0
            keep_in.append(keep)
    # keep_in[l] indexes the inputs of Linear l; its outputs are keep_in[l + 1] (all for the last).
    rows = keep_in[1:] + [torch.arange(layers[-1][1].out_features)]
    widths = []
    old_to_new = {}
    for (idx, lin), (_, old_lin), r, c in zip(layers, old_layers, rows, keep_in, strict=True):
        small = torch.nn.Linear(len(c), len(r), bias=lin.bias is not None,
                                device=lin.weight.device, dtype=lin.weight.dtype)
        with torch.no_grad():
            small.weight.copy_(lin.weight[r][:, c])
            if lin.bias is not None:
                small.bias.copy_(lin.bias[r])
        new[idx] = small
        old_to_new[old_lin.weight] = (small.weight, r, c)
        if lin.bias is not None:
            old_to_new[old_lin.bias] = (small.bias, r, None)
        widths.append(len(r))
    opt = _carry_optimizer(model, new, optimizer, old_to_new) if optimizer is not None else None
    return new, opt, widths[:-1]


def _carry_optimizer(old: nn.Module, new: nn.Module, optimizer, mapping) -> Any:
    import torch

    new_opt = type(optimizer)(new.parameters(), **optimizer.defaults)
    new_params = dict(new.named_parameters())
    for name, p_old in old.named_parameters():
        state = optimizer.state.get(p_old)
        if not state:
            continue
        p_new, r, c = mapping.get(p_old, (new_params.get(name), None, None))
        if p_new is None:
            continue
        carried = {}
        for k, v in state.items():
            if torch.is_tensor(v) and v.shape == p_old.shape and r is not None:
                v = v[r] if c is None else v[r][:, c]
            carried[k] = v.clone() if torch.is_tensor(v) else v
        new_opt.state[p_new] = carried
    return new_opt


def can_reconfigure(model: nn.Module) -> bool:
    """Whether `reconfigure` can shrink this model (a flat MLP)."""
    return is_mlp(model)
