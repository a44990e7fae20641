"""ADMM structured pruning (zhang-adam-admm-structured-pruning.md, §3.2, Eq. 3–5).

For every prunable layer i, with S_i the set of weights having the candidate's structure and rate:

  W-step (Eq. 3): SGD/Adam epochs on  f(W) + Σ_i ρ/2 ‖W_i − Z_i^k + U_i^k‖²_F
  Z-step (Eq. 5): Z_i^{k+1} = Π_{S_i}(W_i^{k+1} + U_i^k)   (Euclidean projection)
  U-step:         U_i^{k+1} = U_i^k + W_i^{k+1} − Z_i^{k+1}

then, after `iters` ADMM iterations (the paper prunes after 9–12), hard-prune W by the same
projection and retrain the remaining weights with the masks fixed (§5, "final refining").

The projection onto S_i keeps the groups of largest L2 norm and zeroes the rest (zhang §4.1–4.4;
`harness.pruning.projections.project`), removing exactly round(rate × n_groups) groups per layer,
on the layers `prune_model` would prune (same overrides / skip_first / skip_last). The hard
prune uses the same projection on W, so the final masks have the candidate's exact rate.
Defaults (paper, §5): ρ = 3·10⁻³ for structured sparsity, 1.5·10⁻³ for non-structured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.train.schedules.base import SCHEDULES, finish, with_epochs
from harness.train.trainer import resolve_params

if TYPE_CHECKING:
    import torch
    from torch import nn

RHO_STRUCTURED = 3e-3
RHO_UNSTRUCTURED = 1.5e-3
DEFAULT_ITERS = 10


def default_rho(pattern: str) -> float:
    return RHO_UNSTRUCTURED if pattern == "unstructured" else RHO_STRUCTURED


def _n_groups(shape: tuple[int, ...], spec) -> int:
    from harness.pruning.patterns import grouping

    g = grouping(shape, spec)
    (m, k), (r, c) = g.v_shape, g.block
    return math.ceil(m / r) * math.ceil(k / c)


def project_layer(x: torch.Tensor, spec) -> tuple[torch.Tensor, torch.Tensor]:
    """(Π_S(x), keep-mask): the Euclidean projection of one weight onto the weights with the
    structure of `spec` and exactly its number of removed groups, round(rate × n_groups) — the
    pruning role's `project` (largest L2 norms kept). N:M has no group structure there; its
    projection is the N:M mask itself (the N largest |w| of every M)."""
    import torch

    from harness.core.errors import UnsupportedError
    from harness.pruning.base import prune_mask
    from harness.pruning.patterns import check_spec
    from harness.pruning.projections import STRUCTURES, project, structure_mask

    reason = check_spec(tuple(x.shape), spec)
    if reason is not None:
        raise UnsupportedError(reason)
    if spec.pattern not in STRUCTURES:
        mask = prune_mask(x, spec)
        return torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device)), mask
    n = _n_groups(tuple(x.shape), spec)
    keep = n - round(spec.rate * n)
    kw = {"group_size": spec.group_size, "block": tuple(spec.block)}
    return (project(x, spec.pattern, keep, **kw),
            structure_mask(x, spec.pattern, keep, **kw))


def z_step(model: nn.Module, u: Mapping[str, torch.Tensor], prune, prune_kw=None
           ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Eq. 5: Z_i = Π_{S_i}(W_i + U_i) for every layer `prune_model` would prune (same layer
    rules: overrides, skip_first, skip_last), and the keep-masks of those projections."""
    import torch

    from harness.pruning.model import layer_rules

    rules = layer_rules(model, prune, **dict(prune_kw or {}))
    params = resolve_params(model, u)
    z, masks = {}, {}
    with torch.no_grad():
        for name, p in params.items():
            z[name], masks[name] = project_layer(p.detach() + u[name], rules[name].spec)
    return z, masks


def u_step(u: Mapping[str, torch.Tensor], w: Mapping[str, torch.Tensor],
           z: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """U^{k+1} = U^k + W^{k+1} − Z^{k+1}."""
    return {n: u[n] + w[n].detach() - z[n] for n in u}


def admm_penalty(params: Mapping[str, torch.Tensor], z, u, rho: float) -> torch.Tensor:
    """Σ_i ρ/2 ‖W_i − Z_i + U_i‖²_F (Eq. 3's regulariser)."""
    return sum(0.5 * rho * (p - z[n] + u[n]).pow(2).sum() for n, p in params.items())


@SCHEDULES.register("admm")
def admm(model, data, prune, cfg, *, options=None, device: str = "cpu",
         deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    """options: rho (default by pattern, see above), iters (ADMM iterations, 10),
    iter_epochs (W-step epochs per iteration, 1). cfg.epochs is the masked retraining after
    the hard prune."""
    import torch

    from harness.pruning.model import layer_rules
    from harness.train.trainer import make_optimizer, train

    opts = dict(options or {})
    rho = float(opts.get("rho", default_rho(prune.pattern)))
    iters = int(opts.get("iters", DEFAULT_ITERS))
    iter_epochs = int(opts.get("iter_epochs", 1))
    t0 = time.perf_counter()
    model.to(device)
    rules = layer_rules(model, prune, **dict(prune_kw or {}))
    params = resolve_params(model, [n for n, r in rules.items() if r.spec is not None])
    u = {n: torch.zeros_like(p.detach()) for n, p in params.items()}
    z, _ = z_step(model, u, prune, prune_kw)  # Z⁰ = Π_S(W⁰), U⁰ = 0
    opt = make_optimizer(model.parameters(), cfg)
    history: list[dict] = []
    state = {"z": z, "u": u}

    def penalty(m, loss):
        return admm_penalty(params, state["z"], state["u"], rho)

    for k in range(iters):
        if deadline is not None and k > 0 and time.perf_counter() > deadline:
            break
        history += train(model, data, with_epochs(cfg, iter_epochs, 1000 + k), device=device,
                         penalty=penalty, optimizer=opt, deadline=deadline)
        state["z"], _ = z_step(model, state["u"], prune, prune_kw)
        state["u"] = u_step(state["u"], {n: p for n, p in params.items()}, state["z"])
    admm_epochs = len(history)
    gap = float(sum((p.detach() - state["z"][n]).pow(2).sum() for n, p in params.items()) ** 0.5)
    _, masks = z_step(model, {n: torch.zeros_like(p) for n, p in params.items()}, prune,
                      prune_kw)  # hard prune: the projection of W itself
    history += train(model, data, with_epochs(cfg, cfg.epochs, 2000), device=device, masks=masks,
                     deadline=deadline, on_epoch=on_epoch)
    return finish(model, data, masks, history, t0, device=device,
                  extra={"rho": rho, "admm_iters": iters, "admm_epochs": admm_epochs,
                         "w_z_gap": gap})
