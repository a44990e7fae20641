"""Reconfigure a sparsified network into a smaller dense one (lym-prunetrain-group-lasso.md, §4.2).

Supported: an `nn.Sequential` of Linear and Conv2d layers with, between them, elementwise
activations and shape-only modules (Flatten, adaptive pooling, Identity, Unflatten before the
first layer) — the `fc`, `lenet300` and `cnn` models. A hidden unit j between weight layers l and
l+1 (a neuron of an MLP, a channel of a CNN) can be removed without changing the function when

* its outgoing weights in layer l+1 are all zero (its output is never used): W_{l+1}[:, j] for a
  Linear or a Conv2d after a Conv2d; the columns of channel j's pooled positions for a Linear
  after Flatten; or
* its incoming weights W_l[j] are all zero: it then outputs the constant c_j = act(b_l[j])
  everywhere. Into a Linear that constant is folded into the next bias, b_{l+1} +=
  W_{l+1}[:, cols(j)] · c_j (pooling a constant map gives the constant). Into a Conv2d it is
  removed only when c_j = 0 (a ReLU of a bias ≤ 0): a zero-padded convolution of a nonzero
  constant map is not constant at the borders, so no bias can stand in for it.

PruneTrain removes only the intersection of the zero output channels of a layer and zero input
channels of the next, to keep dimensions consistent in ResNets with short-cuts; for a plain chain
the union above is exact and removes more. The network's input and its outputs (classes) never
change. Optimiser state (momentum, Adam moments) of the kept weights is carried over, as in the
paper ("all training variables of the remaining channels are kept as is").
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


def _elementwise() -> tuple[type[nn.Module], ...]:
    from torch import nn

    return (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.Identity)


def _shape_only() -> tuple[type, ...]:
    from torch import nn

    # per-channel: pooling a constant map gives the constant (no padding in adaptive pooling)
    return (nn.Flatten, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def _sequential(model: nn.Module) -> nn.Sequential:
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise ValueError("reconfiguration needs an nn.Sequential")
    return model


def weight_layers(model: nn.Module) -> list[tuple[int, Any]]:
    """(index in the Sequential, Linear | Conv2d) in order; raises ValueError for models this
    module cannot reconfigure."""
    from torch import nn

    model = _sequential(model)
    out: list[tuple[int, Any]] = []
    allowed = _elementwise() + _shape_only()
    for i, m in enumerate(model):
        if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1):
            if out and isinstance(out[-1][1], nn.Linear) and isinstance(m, nn.Conv2d):
                raise ValueError("reconfiguration needs every Conv2d before the Linear layers")
            out.append((i, m))
        elif isinstance(m, nn.Unflatten) and not out:
            continue
        elif not isinstance(m, allowed):
            raise ValueError(f"reconfiguration supports Linear, Conv2d and elementwise or "
                             f"shape-only layers, got {m}")
    return out


def linear_layers(model: nn.Module) -> list[tuple[int, Any]]:
    """(index in the Sequential, Linear) of a flat MLP; raises ValueError for other models."""
    from torch import nn

    layers = weight_layers(model)
    if not all(isinstance(m, nn.Linear) for _, m in layers):
        raise ValueError("not an MLP: it has Conv2d layers")
    return layers


def is_mlp(model: nn.Module) -> bool:
    try:
        return bool(linear_layers(model))
    except ValueError:
        return False


def can_reconfigure(model: nn.Module) -> bool:
    """Whether `reconfigure` can shrink this model (`weight_layers` accepts it)."""
    try:
        return len(weight_layers(model)) > 1
    except ValueError:
        return False


def _unit_columns(lin: Any, nxt: Any, n_units: int) -> Any:
    """Column indices of layer `nxt` fed by each unit of `lin`, shape (n_units, per_unit): one
    column (or input channel) per unit, or a channel's pooled positions after Flatten."""
    import torch

    width = nxt.in_features if isinstance(nxt, torch.nn.Linear) else nxt.in_channels
    if width % n_units:
        raise ValueError(f"{nxt} takes {width} inputs, not a multiple of {n_units} units")
    return torch.arange(width, device=nxt.weight.device).reshape(n_units, width // n_units)


def _input_slice(w_next: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """W_{l+1}[:, cols] with the unit axis first: (n_units, out, per_unit, kernel…)."""
    return w_next[:, cols].movedim(1, 0)


def reconfigure(model: nn.Module, optimizer=None) -> tuple[nn.Module, Any, list[int]]:
    """(smaller model, optimiser over its parameters with the kept state or None, hidden widths
    — neurons or channels per hidden layer). The input model is left untouched."""
    import torch
    from torch import nn

    new = _sequential(copy.deepcopy(model))
    layers = weight_layers(new)
    old_layers = weight_layers(model)
    first = layers[0][1]
    n_in = first.in_features if isinstance(first, nn.Linear) else first.in_channels
    keep_units: list[torch.Tensor] = []  # kept units between layer l and l+1
    keep_cols: list[torch.Tensor] = [torch.arange(n_in, device=first.weight.device)]
    with torch.no_grad():
        for li in range(len(layers) - 1):
            idx, lin = layers[li]
            nxt_idx, nxt = layers[li + 1]
            n_units = lin.weight.shape[0]
            cols = _unit_columns(lin, nxt, n_units)
            dead_in = (lin.weight.reshape(n_units, -1) == 0).all(dim=1)  # constant output
            unused = (_input_slice(nxt.weight, cols).reshape(n_units, -1) == 0).all(dim=1)
            const = torch.zeros(n_units, dtype=lin.weight.dtype, device=lin.weight.device)
            if lin.bias is not None:
                acts = [m for m in list(new)[idx + 1:nxt_idx] if isinstance(m, _elementwise())]
                const = nn.Sequential(*acts)(lin.bias.unsqueeze(0)).squeeze(0)
            fold = dead_in & ~unused & (const != 0)
            if fold.any():
                if isinstance(nxt, nn.Conv2d) or nxt.bias is None:
                    dead_in &= ~fold  # a nonzero constant cannot be folded: keep the unit
                else:
                    w_fold = nxt.weight[:, cols[fold]].sum(dim=2)  # (out, n_fold)
                    nxt.bias.add_(w_fold @ const[fold])
            keep = torch.nonzero(~(dead_in | unused)).flatten()
            if len(keep) == 0:  # keep one unit so the network stays well-formed
                keep = torch.zeros(1, dtype=torch.long, device=cols.device)
                nxt.weight[:, cols[0]] = 0
            keep_units.append(keep)
            keep_cols.append(cols[keep].reshape(-1))
    last = layers[-1][1]
    rows = [*keep_units, torch.arange(last.weight.shape[0], device=last.weight.device)]
    widths = []
    old_to_new: dict[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = {}
    for (idx, lin), (_, old_lin), r, c in zip(layers, old_layers, rows, keep_cols, strict=True):
        small = _smaller(lin, len(c), len(r))
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


def _smaller(layer: Any, n_in: int, n_out: int) -> Any:
    """A layer like `layer` with n_in inputs and n_out outputs (weights to be copied in)."""
    from torch import nn

    kw = {"bias": layer.bias is not None, "device": layer.weight.device,
          "dtype": layer.weight.dtype}
    if isinstance(layer, nn.Linear):
        return nn.Linear(n_in, n_out, **kw)
    return nn.Conv2d(n_in, n_out, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                     dilation=layer.dilation, padding_mode=layer.padding_mode, **kw)


def _carry_optimizer(old: nn.Module, new: nn.Module, optimizer, mapping) -> Any:
    import torch

    new_opt = type(optimizer)(new.parameters(), **optimizer.defaults)
    for group, old_group in zip(new_opt.param_groups, optimizer.param_groups, strict=False):
        group["lr"] = old_group["lr"]  # a decayed lr stays decayed
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
