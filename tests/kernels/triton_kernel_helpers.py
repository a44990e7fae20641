"""Shared helpers of the kernel tests: pruned weights, operands, the float64 reference."""

from __future__ import annotations

import torch

from harness.formats.base import get_format
from harness.kernels.pack import pack_bsr

TOL = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}


def row_group_weight(m: int, k: int, g: int, keep: float, *, seed: int = 0,
                     empty_rows: tuple[int, ...] = ()) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(m, k, generator=gen)
    ng = -(-k // g)
    mask = (torch.rand(m, ng, generator=gen) < keep).repeat_interleave(g, 1)[:, :k]
    w = w * mask
    for r in empty_rows:
        w[r] = 0
    return w


def block_weight(m: int, k: int, r: int, c: int, keep: float, *, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(m, k, generator=gen)
    mb, kb = -(-m // r), -(-k // c)
    mask = (torch.rand(mb, kb, generator=gen) < keep)
    mask = mask.repeat_interleave(r, 0).repeat_interleave(c, 1)[:m, :k]
    return w * mask


def encode(fmt: str, dense: torch.Tensor, **geo):
    """The formats module's encoder where it takes this shape, else the padding BSR packer
    (ragged M or K, which the kernel masks and the `bsr` format refuses)."""
    f = get_format(fmt)
    if f.supports(tuple(dense.shape), **geo) is None:
        return f.encode(dense, **geo)
    return pack_bsr(dense, geo["block"])


def reference(w: torch.Tensor, x: torch.Tensor, *, bias=None, relu=False, clamp=None):
    y = w.double() @ x.double()
    if bias is not None:
        y = y + bias.double()[:, None]
    if relu:
        y = y.clamp(min=0)
    if clamp is not None:
        y = y.clamp(max=clamp)
    return y


def assert_matches(out: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype) -> None:
    assert not torch.isnan(out).any(), "unwritten (NaN-poisoned) output elements"
    tol = TOL[dtype]
    scale = max(float(ref.abs().max()), 1.0)
    err = (out.double() - ref).abs().max().item()
    assert err <= tol * scale * 4, f"max abs error {err:g} > {tol * scale * 4:g}"
    rel = ((out.double() - ref).norm() / max(ref.norm().item(), 1e-30)).item()
    assert rel <= tol or ref.norm() == 0, f"relative error {rel:g} > {tol:g}"


def poisoned(m: int, n: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.full((m, n), float("nan"), dtype=dtype)
