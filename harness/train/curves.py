"""One terminal line per trained model for the curves its training record stores.

At the end of the training stage these lines show what a table of final accuracies hides:

* `signal_died`: the loss never left chance (the model's output ignores its input);
* ADMM's relative primal residual ‖W − Z‖_F / ‖W‖_F per iteration (zhang-adam-admm-structured-
  pruning.md), with its tolerance and whether it was reached before the hard prune;
* PruneTrain's training FLOPs per epoch as a fraction of the dense model's
  (lym-prunetrain-group-lasso.md, Fig. 6: the falling training-cost curve), with the total.

Each curve is a sparkline of eight levels plus its first and last values. Pure functions of the
records (stored or fresh): nothing here trains or reads the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

BARS = "▁▂▃▄▅▆▇█"
MAX_WIDTH = 40  # longer curves are resampled to this many characters


def sparkline(values: Sequence[float], *, log: bool = False, width: int = MAX_WIDTH,
              lo: float | None = None, hi: float | None = None) -> str:
    """Eight-level bar per value (min → ▁, max → █, or the fixed range `lo`…`hi`); `log`
    spaces the levels logarithmically (residuals fall over decades). Curves longer than `width`
    are resampled (every value is kept if they fit). Non-finite values print as '·'."""
    vals = [float(v) for v in values]
    if len(vals) > width:
        vals = [vals[round(i * (len(vals) - 1) / (width - 1))] for i in range(width)]

    def scale(v: float) -> float | None:
        if not math.isfinite(v) or (log and v <= 0):
            return None
        return math.log10(v) if log else v

    scaled = [scale(v) for v in vals]
    finite = [s for s in scaled if s is not None]
    if not finite:
        return "·" * len(vals)
    bottom = min(finite) if lo is None else scale(lo)
    top = max(finite) if hi is None else scale(hi)
    if bottom is None or top is None:
        raise ValueError(f"sparkline range {lo}…{hi} must be finite (and > 0 with log)")
    span = top - bottom

    def level(x: float) -> int:
        return 0 if span <= 0 else max(0, min(len(BARS) - 1, int((x - bottom) / span * len(BARS))))

    return "".join("·" if x is None else BARS[level(x)] for x in scaled)


def _label(rec: Mapping[str, Any]) -> str:
    """dense, or the pruning configuration from flat keys (stored records) or `prune` (fresh)."""
    if rec.get("dense") or rec.get("kind") == "dense":
        return "dense"
    prune = rec.get("prune") or {}
    pattern = rec.get("pattern") or prune.get("pattern")
    group = rec.get("group_size") or prune.get("group_size")
    rate = rec.get("pruning_rate", prune.get("rate"))
    agg = rec.get("aggregation") or prune.get("aggregation")
    parts = [str(pattern)]
    if group and pattern == "row_group":
        parts.append(f"g={group}")
    if rate is not None:
        parts.append(f"{float(rate):.0%}")
    if agg and agg not in ("rms", "l1"):
        parts.append(str(agg))
    return " ".join(parts)


def _signal(rec: Mapping[str, Any]) -> str | None:
    if not rec.get("signal_died"):
        return None
    return "signal died: the training loss never left chance, the output ignores the input"


def _admm(rec: Mapping[str, Any]) -> str | None:
    rel = [float(v) for v in rec.get("admm_rel_residuals") or []]
    if not rel:
        return None
    tol = rec.get("admm_tol")
    end = ("converged" if rec.get("admm_converged") else "not converged") if tol else ""
    tol_s = f" (tol {float(tol):g}, {end})" if tol else ""
    return (f"ADMM ‖W−Z‖/‖W‖ over {len(rel)} iterations {sparkline(rel, log=True)} "
            f"{rel[0]:.3g} → {rel[-1]:.3g}{tol_s}")


def _flops(rec: Mapping[str, Any]) -> str | None:
    flops = [float(v) for v in rec.get("epoch_flops") or []]
    dense = rec.get("dense_epoch_flops")
    if not flops or not dense:
        return None
    frac = [f / float(dense) for f in flops]
    total = rec.get("train_flops_ratio")
    total_s = f", all epochs {float(total):.0%}" if total is not None else ""
    removed = rec.get("neurons_removed")
    removed_s = f", {float(removed):.0%} of hidden units removed" if removed is not None else ""
    budget = rec.get("lasso_budget")
    budget_s = f", lasso budget {float(budget):.2g}" if budget is not None else ""
    return (f"training FLOPs per epoch {sparkline(frac, lo=0.0, hi=1.0)} {frac[0]:.0%} → "
            f"{frac[-1]:.0%} of dense{total_s}{removed_s}{budget_s}")


CURVES: tuple[Callable[[Mapping[str, Any]], str | None], ...] = (_signal, _admm, _flops)


def curve_lines(records: Iterable[Mapping[str, Any]], *, indent: str = "  ") -> list[str]:
    """One line per trained model that has a curve or flag to show, labelled by its pruning
    configuration (its curves joined by '; '); records with nothing to show give no line."""
    lines = []
    for rec in records:
        texts = [t for t in (curve(rec) for curve in CURVES) if t]
        if texts:
            lines.append(f"{indent}{_label(rec)}: {'; '.join(texts)}")
    return lines
