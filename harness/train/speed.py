"""Model-level inference speed of a pruned model vs its dense twin.

Masks alone bring no speed (ouyang-pruning-in-dnn-survey.md): the pruned model is exported with
`harness.pruning.model.export_sparse`, so its Linear layers really run sparse products, and timed
against the dense model (same weights, masks applied) on the same device, in interleaved rounds;
the speedup is the median of per-round ratios (DESIGN.md, measurement method).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


def model_speedup(model: nn.Module, masks: Mapping[str, torch.Tensor], x: torch.Tensor, *,
                  kernel: str = "torch_sparse", device: str = "cpu", repeats: int = 20,
                  group_size: int = 32, rtol: float = 1e-4, atol: float = 1e-4) -> dict[str, Any]:
    """{'valid', 'speedup', 'ci', 'dense_s', 'sparse_s', 'rounds', 'max_abs_err', 'kernel',
    'device', 'error'}. Outputs are compared first; on a mismatch (or an export/run failure)
    valid is False, the error says why and no speedup is given."""
    import torch

    from harness.measure.clock import make_sampler
    from harness.measure.timer import Policy, run_interleaved
    from harness.pruning.model import apply_masks, export_sparse

    out: dict[str, Any] = {"kernel": kernel, "device": device, "valid": False, "speedup": None,
                           "error": None}
    dense = copy.deepcopy(model).eval().to(device)
    apply_masks(dense, masks)
    x = x.to(device)
    try:
        sparse = export_sparse(dense, masks, kernel=kernel, group_size=group_size).to(device)
        with torch.no_grad():
            ref, got = dense(x), sparse(x)
    except Exception as err:  # an unsupported kernel/device is a reported outcome, not a crash
        out["error"] = f"{type(err).__name__}: {err}"
        return out
    max_err = float((ref - got).abs().max())
    out["max_abs_err"] = max_err
    if not torch.allclose(ref, got, rtol=rtol, atol=atol * max(1.0, float(ref.abs().max()))):
        out["error"] = f"outputs differ: max abs error {max_err:.3g}"
        return out

    def run(m):
        def call():
            with torch.no_grad():
                return m(x)
        return call

    policy = Policy(warmup=3, min_samples=repeats, min_time_s=0.0, rounds=repeats, per_round=1,
                    max_time_s=max(1.0, 0.5 * repeats), target_rel_noise=float("inf"))
    res = run_interleaved({"dense": run(dense), "sparse": run(sparse)}, policy,
                          make_sampler(device))
    speedup, ci, _ = res.speedup("sparse", "dense")
    med = res.round_medians
    out.update(valid=True, speedup=speedup, ci=list(ci), rounds=res.n_rounds,
               dense_s=sorted(med("dense"))[len(med("dense")) // 2],
               sparse_s=sorted(med("sparse"))[len(med("sparse")) // 2])
    return out
