"""Row groups as batched GEMMs (harness.kernels.cpu.groupgemm) against the float64 reference."""

from __future__ import annotations

import pytest
import torch

from harness.formats.base import get_format
from harness.kernels.cpu import groupgemm, spmm
from harness.kernels.cpu.launch import bind
from harness.pruning.base import prune_mask


def _operand(m, k, g, rate, dtype=torch.float32, seed=0, empty_rows=()):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(m, k, generator=gen, dtype=torch.float64)
    from harness.core.point import PruneSpec

    mask = prune_mask(w, PruneSpec("row_group", rate, g, seed=seed))
    w = (w * mask).to(dtype)
    for r in empty_rows:
        w[r] = 0
    return get_format("row_group").encode(w, group_size=g), w.double()


@pytest.mark.parametrize(("m", "k", "n", "g", "rate"), [
    (64, 96, 8, 32, 0.75), (33, 64, 50, 32, 0.9), (128, 256, 17, 64, 0.5), (7, 64, 9, 32, 0.0)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batched_gemm_path_matches_the_reference(m, k, n, g, rate, dtype):
    op, w = _operand(m, k, g, rate, dtype, empty_rows=(0, m - 1))
    x = torch.randn(k, n, dtype=dtype)
    assert groupgemm.applies(op, n)
    bound = bind(op, x)
    assert isinstance(bound, groupgemm.GroupGemm)
    ref = w @ x.double()
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(bound().double(), ref, rtol=tol, atol=tol * ref.abs().max().item())
    assert torch.allclose(bound().double(), ref, rtol=tol, atol=tol * ref.abs().max().item())


def test_the_fused_epilogue_is_the_row_kernels():
    op, w = _operand(48, 64, 32, 0.5)
    x = torch.randn(64, 12)
    bias = torch.randn(48)
    y = spmm(op, x, bias=bias, relu=True, clamp=0.5)
    ref = ((w @ x.double()) + bias.double()[:, None]).clamp(0.0, 0.5)
    assert torch.allclose(y.double(), ref, atol=1e-5)


def test_small_n_small_g_or_ragged_k_keep_the_row_kernel():
    op, _ = _operand(16, 64, 32, 0.5)
    assert groupgemm.applies(op, groupgemm.MIN_N)
    assert not groupgemm.applies(op, groupgemm.MIN_N - 1)
    shallow, _ = _operand(16, 64, 16, 0.5)
    assert not groupgemm.applies(shallow, 50)
    ragged, _ = _operand(16, 80, 32, 0.5)  # K = 80 is no multiple of g = 32
    assert not groupgemm.applies(ragged, 50)
    assert not isinstance(bind(ragged, torch.randn(80, 50)), groupgemm.GroupGemm)
