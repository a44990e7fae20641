"""Bundled Triton kernels against the float64 reference of the pruned weight (interpreter on CPU).

Sizes are tiny: the interpreter runs every program instance in Python.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from triton_kernel_helpers import (
    assert_matches,
    block_weight,
    encode,
    poisoned,
    reference,
    row_group_weight,
)

from harness.core.errors import InputError, UnsupportedError
from harness.kernels import KernelConfig, bsr_mm, row_group_mm
from harness.kernels.config import interpreter_active

SMALL_RG = KernelConfig(block_n=8, block_k=64, rows=2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("g", "k"), [(4, 30), (8, 64), (16, 45), (32, 70), (64, 100)])
def test_row_group_random_pattern(g, k, dtype):
    m, n = 11, 5
    w = row_group_weight(m, k, g, 0.4, seed=g + k, empty_rows=(0, 7)).to(dtype)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(1)).to(dtype)
    op = encode("row_group", w, group_size=g)
    out = row_group_mm(op, x, config=KernelConfig(block_n=4, block_k=max(g, 32), rows=2),
                       out=poisoned(m, n, dtype))
    assert_matches(out, reference(w, x), dtype)


@pytest.mark.parametrize("rows", [1, 3])
def test_row_group_n1_and_rows_per_program(rows):
    m, k, g = 10, 37, 8
    w = row_group_weight(m, k, g, 0.5, seed=3, empty_rows=(9,))
    x = torch.randn(k, 1)
    op = encode("row_group", w, group_size=g)
    out = row_group_mm(op, x, config=KernelConfig(block_n=1, block_k=16, rows=rows),
                       out=poisoned(m, 1, torch.float32))
    assert_matches(out, reference(w, x), torch.float32)


def test_row_group_default_config_and_strided_x():
    m, k, n, g = 9, 40, 6, 8
    w = row_group_weight(m, k, g, 0.5, seed=4)
    xt = torch.randn(n, k)
    x = xt.t()  # X^T storage: the kernel takes arbitrary strides
    op = encode("row_group", w, group_size=g)
    assert_matches(row_group_mm(op, x), reference(w, x), torch.float32)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("block", "m", "k", "n"), [((16, 16), 40, 48, 5), ((16, 32), 32, 70, 1),
                                         ((32, 16), 33, 32, 17)])
def test_bsr_random_pattern(block, m, k, n, dtype):
    r, c = block
    w = block_weight(m, k, r, c, 0.5, seed=m + k).to(dtype)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(2)).to(dtype)
    op = encode("bsr", w, block=block)
    out = bsr_mm(op, x, config=KernelConfig(block_n=16), out=poisoned(m, n, dtype))
    assert_matches(out, reference(w, x), dtype)


@pytest.mark.parametrize("kind", ["row_group", "bsr"])
def test_all_zero_weight_writes_every_element(kind):
    m, k, n = 20, 35, 3
    w = torch.zeros(m, k)
    x = torch.randn(k, n)
    if kind == "row_group":
        op = encode("row_group", w, group_size=8)
        assert op.arrays["values"].shape[0] == 0
        out = row_group_mm(op, x, config=SMALL_RG, out=poisoned(m, n, torch.float32))
    else:
        op = encode("bsr", w, block=(16, 16))
        out = bsr_mm(op, x, out=poisoned(m, n, torch.float32))
    assert torch.equal(out, torch.zeros(m, n))


@pytest.mark.parametrize("kind", ["row_group", "bsr"])
@pytest.mark.parametrize(("relu", "clamp"), [(True, 1.5), (False, 0.5), (True, None)])
def test_fused_epilogue(kind, relu, clamp):
    m, k, n = 18, 32, 4
    w = block_weight(m, k, 16, 16, 0.6, seed=5) if kind == "bsr" else \
        row_group_weight(m, k, 8, 0.5, seed=5, empty_rows=(2,))
    w[2] = 0  # for bsr a zero row inside a stored block: its output is exactly epilogue(bias)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(7))
    bias = torch.full((m,), -0.3)  # Graph Challenge style bias (wang seed)
    bias[::3] = 0.8
    if kind == "row_group":
        op = encode("row_group", w, group_size=8)
        out = row_group_mm(op, x, bias=bias, relu=relu, clamp=clamp, config=SMALL_RG,
                           out=poisoned(m, n, torch.float32))
    else:
        op = encode("bsr", w, block=(16, 16))
        out = bsr_mm(op, x, bias=bias, relu=relu, clamp=clamp, out=poisoned(m, n, torch.float32))
    ref = reference(w, x, bias=bias, relu=relu, clamp=clamp)
    assert_matches(out, ref, torch.float32)
    assert out[2].tolist() == pytest.approx(ref[2].tolist(), abs=1e-6)  # empty row: epilogue(bias)


def test_row_group_bf16_through_fp32_reference():
    # bf16 without tl.dot is exact enough in the interpreter; compare with the reference of the
    # bf16-rounded operands (the fp32 conversion of what the kernel reads).
    m, k, n, g = 8, 40, 3, 8
    w = row_group_weight(m, k, g, 0.5, seed=6).to(torch.bfloat16)
    x = torch.randn(k, n).to(torch.bfloat16)
    op = encode("row_group", w, group_size=g)
    out = row_group_mm(op, x, config=SMALL_RG, out=poisoned(m, n, torch.bfloat16))
    assert_matches(out, reference(w.float(), x.float()), torch.bfloat16)


def test_bsr_bf16_refused_in_interpreter():
    w = block_weight(16, 16, 16, 16, 1.0).to(torch.bfloat16)
    op, x = encode("bsr", w, block=(16, 16)), torch.randn(16, 2).to(torch.bfloat16)
    if interpreter_active():
        with pytest.raises(UnsupportedError, match="interpreter"):
            bsr_mm(op, x)
    else:  # a real GPU runs bf16 tl.dot
        out = bsr_mm(op.to("cuda"), x.cuda()).cpu()
        assert_matches(out, reference(w.float(), x.float()), torch.bfloat16)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_kernels_gpu(dtype):
    m, k, n = 300, 520, 50
    for kind in ("row_group", "bsr"):
        if kind == "row_group":
            w = row_group_weight(m, k, 32, 0.1, seed=7, empty_rows=(1,)).to(dtype)
            op = encode("row_group", w, group_size=32).to("cuda")
            fn = row_group_mm
        else:
            w = block_weight(m, k, 32, 32, 0.2, seed=7).to(dtype)
            op = encode("bsr", w, block=(32, 32)).to("cuda")
            fn = bsr_mm
        x = torch.randn(k, n).to(dtype)
        configs = [None]  # the GPU default, plus both row_group strategies explicitly
        if kind == "row_group":
            configs += [KernelConfig(block_n=64, block_k=128),
                        KernelConfig(strategy="tile", block_m=64, block_k=32, block_n=64)]
        for cfg in configs:
            out = fn(op, x.cuda(), out=poisoned(m, n, dtype).cuda(), relu=True, clamp=32.0,
                     config=cfg)
            assert_matches(out.cpu(), reference(w, x, relu=True, clamp=32.0), dtype)


@settings(max_examples=8, deadline=None)
@given(m=st.integers(1, 12), k=st.integers(1, 40), n=st.integers(1, 9),
       g=st.sampled_from([4, 8, 16]), keep=st.floats(0.0, 1.0), seed=st.integers(0, 99))
def test_row_group_property(m, k, n, g, keep, seed):
    w = row_group_weight(m, k, g, keep, seed=seed)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(seed))
    op = encode("row_group", w, group_size=g)
    out = row_group_mm(op, x, config=KernelConfig(block_n=4, block_k=16, rows=2),
                       out=poisoned(m, n, torch.float32))
    assert_matches(out, reference(w, x), torch.float32)


def test_input_errors():
    w = row_group_weight(8, 16, 4, 0.5)
    op = encode("row_group", w, group_size=4)
    with pytest.raises(InputError, match="K=16"):
        row_group_mm(op, torch.randn(15, 2))
    with pytest.raises(InputError, match="bsr"):
        bsr_mm(op, torch.randn(16, 2))
    with pytest.raises(UnsupportedError, match="dtype"):
        row_group_mm(op, torch.randn(16, 2).half())
    with pytest.raises(InputError, match="bias"):
        row_group_mm(op, torch.randn(16, 2), bias=torch.zeros(7))
    with pytest.raises(UnsupportedError, match="multiple of g"):
        row_group_mm(op, torch.randn(16, 2), config=KernelConfig(block_n=2, block_k=2))


TILE = KernelConfig(strategy="tile", block_m=16, block_k=32, block_n=16)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("g", "k", "n", "bk"), [(4, 30, 5, 16), (8, 70, 20, 32), (16, 45, 1, 32),
                                      (32, 100, 3, 32), (64, 130, 17, 64)])
def test_row_group_tile_strategy(g, k, n, bk, dtype):
    m = 37  # not a multiple of block_m
    w = row_group_weight(m, k, g, 0.4, seed=g + k, empty_rows=(0, 20)).to(dtype)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(3)).to(dtype)
    op = encode("row_group", w, group_size=g)
    cfg = KernelConfig(strategy="tile", block_m=16, block_k=bk, block_n=16)
    out = row_group_mm(op, x, config=cfg, out=poisoned(m, n, dtype))
    assert_matches(out, reference(w, x), dtype)


def test_row_group_tile_epilogue_and_all_zero():
    m, k, n = 20, 48, 4
    w = row_group_weight(m, k, 16, 0.5, seed=8, empty_rows=(5,))
    x = torch.randn(k, n)
    bias = torch.linspace(-1, 1, m)
    op = encode("row_group", w, group_size=16)
    out = row_group_mm(op, x, bias=bias, relu=True, clamp=0.7, config=TILE,
                       out=poisoned(m, n, torch.float32))
    assert_matches(out, reference(w, x, bias=bias, relu=True, clamp=0.7), torch.float32)
    zero = encode("row_group", torch.zeros(m, k), group_size=16)
    assert torch.equal(row_group_mm(zero, x, config=TILE, out=poisoned(m, n, torch.float32)),
                       torch.zeros(m, n))


def test_chunk_counts_table():
    from harness.kernels.launch import chunk_counts

    w = row_group_weight(6, 70, 8, 0.5, seed=2, empty_rows=(1,))
    op = encode("row_group", w, group_size=8)
    t = chunk_counts(op, 16)
    assert t.shape == (5, 6) and t.dtype == torch.int8
    rp, cols = op.arrays["row_ptr"].long(), op.arrays["group_cols"].long()
    for r in range(6):
        row_cols = cols[rp[r]:rp[r + 1]]
        for c in range(5):
            assert t[c, r] == int(((row_cols >= c * 16) & (row_cols < c * 16 + 16)).sum())
    assert torch.equal(t.long().sum(0), rp.diff())
    assert chunk_counts(op, 16) is t  # cached per operand
