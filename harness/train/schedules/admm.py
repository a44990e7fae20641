"""ADMM structured pruning (zhang-adam-admm-structured-pruning.md, §3.2, Eq. 3–5).

For every prunable layer i, with S_i the set of weights having the candidate's structure and rate:

  W-step (Eq. 3): SGD/Adam epochs on  f(W) + Σ_i ρ/2 ‖W_i − Z_i^k + U_i^k‖²_F
  Z-step (Eq. 5): Z_i^{k+1} = Π_{S_i}(W_i^{k+1} + U_i^k)   (Euclidean projection)
  U-step:         U_i^{k+1} = U_i^k + W_i^{k+1} − Z_i^{k+1}

then hard-prune W by the same projection and retrain the remaining weights with the masks fixed
(§5, "final refining").

Convergence. With the paper's fixed ρ and a few short W-steps, W never comes near Z (the primal
residual ‖W − Z‖_F stays large) and the hard prune is close to one-shot pruning. So ρ grows
per iteration, ρ_k = min(ρ₀ · growth^k, ρ_max) (ρ₀ the paper's value, growth 2, ρ_max 10; the
scaled dual U is rescaled by ρ_old/ρ_new, Boyd et al., "Distributed optimization … ADMM",
§3.4.1), and the iterations stop once the relative primal residual ‖W − Z‖_F / ‖W‖_F is under
`tol` (default 0.01), or after `iters` (at most 20; the paper prunes after 9–12). Every
iteration's residual and ρ are recorded, and whether `tol` was reached.

Once ρ stops growing (at ρ_max), each further iteration multiplies the W-step's learning rate by
`lr_decay` (default 0.5). Under Adam a larger ρ cannot pull W closer to Z: Adam's steps are about
lr whatever the gradient's scale, so the pruned weights keep oscillating about zero at that scale.
On the CNN (3 seeds × 2 structures, Adam lr 10⁻³, 80 % filter/shape sparsity) the relative residual
stalled at 0.012–0.05 after ρ reached 10 in 3 of 6 runs. Not in the paper; a convergence aid like
the ρ schedule.

The projection onto S_i keeps the groups of largest L2 norm and zeroes the rest (zhang §4.1–4.4;
`harness.pruning.projections.project`), removing exactly round(rate × n_groups) groups per layer,
on the layers the rate scope prunes (`harness.train.scope`: rate overrides / skip_first /
skip_last; in the global scope the groups of all layers are ranked together). The hard
prune uses the same projection on W, so the final masks have the candidate's exact rate.
Defaults (paper, §5): ρ = 3·10⁻³ for structured sparsity, 1.5·10⁻³ for non-structured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.train.schedules.base import (
    OPTION_CHECKS,
    SCHEDULES,
    before_finetune,
    finish,
    with_epochs,
)
from harness.train.trainer import resolve_params

if TYPE_CHECKING:
    import torch
    from torch import nn

RHO_STRUCTURED = 3e-3
RHO_UNSTRUCTURED = 1.5e-3
# at most; stops at the tolerance (the paper prunes after 9-12). ρ reaches ρ_max at the 13th;
# with the lr decay after it, the CNN's ADMM runs (3 seeds × filter/shape 80 %, Adam) reached
# 0.01 in 5 of 6 by the 20th, against 3 of 6 by the 15th
DEFAULT_ITERS = 20
RHO_GROWTH = 2.0
RHO_MAX = 10.0  # lr·ρ_max ≤ 0.5 for lr ≤ 0.05 (the suites'): the penalty's SGD step stays stable
TOLERANCE = 0.01  # relative primal residual ‖W − Z‖_F / ‖W‖_F reached before the hard prune
LR_DECAY = 0.5  # the W-step's learning rate factor per iteration once ρ is at ρ_max


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
    """Eq. 5: Z_i = Π_{S_i}(W_i + U_i) for every layer `u` names, and the keep-masks of those
    projections. Layer scope (the paper): each layer projected alone onto its own spec (the
    layer rules of `harness.train.scope`: rate overrides, skip_first, skip_last). Global scope:
    the groups of all layers ranked together (`harness.train.scope.global_scope`)."""
    import torch

    from harness.train.scope import SCOPES, check_scope, layer_specs

    kw = dict(prune_kw or {})
    scope = check_scope(kw.pop("scope", "layer"))
    specs = layer_specs(model, prune, **kw)
    params = resolve_params(model, u)
    with torch.no_grad():
        x = {name: p.detach() + u[name] for name, p in params.items()}
        if scope == "layer":
            pairs = {name: project_layer(x[name], specs[name]) for name in x}
            return ({n: z for n, (z, _) in pairs.items()}, {n: m for n, (_, m) in pairs.items()})
        masks = SCOPES.get(scope)(x, {n: specs[n] for n in x}, prune)
        return {n: x[n].masked_fill(~masks[n], 0.0) for n in x}, masks


def u_step(u: Mapping[str, torch.Tensor], w: Mapping[str, torch.Tensor],
           z: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """U^{k+1} = U^k + W^{k+1} − Z^{k+1}."""
    return {n: u[n] + w[n].detach() - z[n] for n in u}


def admm_penalty(params: Mapping[str, torch.Tensor], z, u, rho: float) -> torch.Tensor:
    """Σ_i ρ/2 ‖W_i − Z_i + U_i‖²_F (Eq. 3's regulariser)."""
    return sum(0.5 * rho * (p - z[n] + u[n]).pow(2).sum() for n, p in params.items())


def primal_residual(params: Mapping[str, torch.Tensor], z: Mapping[str, torch.Tensor]
                    ) -> tuple[float, float]:
    """(‖W − Z‖_F, ‖W − Z‖_F / ‖W‖_F) over all pruned layers: how far W still is from the
    structured set (ADMM's primal residual)."""
    gap = sum(float((p.detach() - z[n]).pow(2).sum()) for n, p in params.items()) ** 0.5
    norm = sum(float(p.detach().pow(2).sum()) for p in params.values()) ** 0.5
    return gap, gap / norm if norm else 0.0


def rho_schedule(rho0: float, growth: float, iters: int, rho_max: float = RHO_MAX) -> list[float]:
    """ρ_k = min(ρ₀ · growth^k, ρ_max), k = 0 … iters − 1."""
    return [min(rho0 * growth ** k, rho_max) for k in range(iters)]


def _check_options(options: Mapping[str, Any]) -> None:
    value = options.get("lr_decay", LR_DECAY)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise InputError(path="train.options.lr_decay", value=value,
                         expected="a number in (0, 1] (1 keeps the W-step's learning rate)")


OPTION_CHECKS["admm"] = _check_options


@dataclass
class _State:
    """What the penalty reads while ADMM iterates: Z, the scaled dual U and ρ."""

    z: dict[str, torch.Tensor]
    u: dict[str, torch.Tensor]
    rho: float


@SCHEDULES.register("admm")
def admm(model, data, prune, cfg, *, options=None, device: str = "cpu",
         deadline: float | None = None, on_epoch=None, prune_kw=None) -> Any:
    """options: rho (ρ₀, default by pattern, see above), rho_growth (ρ's factor per iteration,
    2), rho_max (10), iters (at most this many ADMM iterations, 20), iter_epochs (W-step epochs
    per iteration, 1), tol (stop once the relative primal residual ‖W−Z‖/‖W‖ is under it,
    0.01), lr_decay (the W-step's learning-rate factor per iteration once ρ no longer grows, 0.5;
    1 keeps it). cfg.epochs is the masked retraining after the hard prune (at cfg.lr).

    The record holds the residual of every iteration (`admm_residuals`, relative
    `admm_rel_residuals`, the ρ used `admm_rhos`), whether it reached `tol` (`admm_converged`),
    the W-step learning rate of each iteration (`admm_lrs`), and accuracy_before: the
    hard-pruned model before its retraining."""
    import torch

    from harness.train.scope import layer_specs
    from harness.train.trainer import make_optimizer, train

    opts = dict(options or {})
    rhos = rho_schedule(float(opts.get("rho", default_rho(prune.pattern))),
                        float(opts.get("rho_growth", RHO_GROWTH)),
                        int(opts.get("iters", DEFAULT_ITERS)),
                        float(opts.get("rho_max", RHO_MAX)))
    iter_epochs = int(opts.get("iter_epochs", 1))
    tol = float(opts.get("tol", TOLERANCE))
    lr_decay = float(opts.get("lr_decay", LR_DECAY))
    t0 = time.perf_counter()
    model.to(device)
    specs = layer_specs(model, prune, **dict(prune_kw or {}))  # ignores `scope`
    params = resolve_params(model, [n for n, s in specs.items() if s is not None])
    u = {n: torch.zeros_like(p.detach()) for n, p in params.items()}
    z, _ = z_step(model, u, prune, prune_kw)  # Z⁰ = Π_S(W⁰), U⁰ = 0
    opt = make_optimizer(model.parameters(), cfg)
    history: list[dict] = []
    state = _State(z, u, rhos[0] if rhos else 0.0)
    residuals: list[float] = []
    relative: list[float] = []
    lrs: list[float] = []

    def penalty(m, loss):
        return admm_penalty(params, state.z, state.u, state.rho)

    for k, rho in enumerate(rhos):
        if deadline is not None and k > 0 and time.perf_counter() > deadline:
            break
        if k > 0:  # scaled dual U = Y/ρ: rescale it when ρ changes (Boyd et al. §3.4.1)
            state.u = {n: v * (state.rho / rho) for n, v in state.u.items()}
        if k > 0 and rho <= state.rho:  # ρ no longer grows: smaller steps instead (docstring)
            for group in opt.param_groups:
                group["lr"] *= lr_decay
        lrs.append(float(opt.param_groups[0]["lr"]))
        state.rho = rho
        history += train(model, data, with_epochs(cfg, iter_epochs, 1000 + k), device=device,
                         penalty=penalty, optimizer=opt, deadline=deadline)
        state.z, _ = z_step(model, state.u, prune, prune_kw)
        state.u = u_step(state.u, {n: p for n, p in params.items()}, state.z)
        gap, rel = primal_residual(params, state.z)
        residuals.append(gap)
        relative.append(rel)
        if rel < tol:
            break
    admm_epochs = len(history)
    _, masks = z_step(model, {n: torch.zeros_like(p) for n, p in params.items()}, prune,
                      prune_kw)  # hard prune: the projection of W itself
    from harness.train.trainer import enforce_masks, masked_params

    enforce_masks(masked_params(model, masks))
    before = before_finetune(model, data, device=device)
    history += train(model, data, with_epochs(cfg, cfg.epochs, 2000), device=device, masks=masks,
                     deadline=deadline, on_epoch=on_epoch)
    return finish(model, data, masks, history, t0, device=device, before=before,
                  extra={"rho": rhos[0] if rhos else None, "admm_rhos": rhos[:len(residuals)],
                         "admm_iters": len(residuals), "admm_epochs": admm_epochs,
                         "admm_residuals": residuals, "admm_rel_residuals": relative,
                         "admm_lrs": lrs[:len(residuals)],
                         "admm_tol": tol, "admm_converged": bool(relative and relative[-1] < tol),
                         "w_z_gap": residuals[-1] if residuals else None})
