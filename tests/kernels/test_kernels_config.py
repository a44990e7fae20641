"""Shape guards: configs a real GPU rejects are refused even where the interpreter would run them."""

from __future__ import annotations

import pytest

from harness.kernels import KernelConfig, validate_config
from harness.kernels.launch import default_config


@pytest.mark.parametrize("interpreter", [True, False])
@pytest.mark.parametrize(("kind", "cfg", "geo", "needle"), [
    ("bsr", KernelConfig(block_n=8), {"block": (16, 16)}, "≥ 16"),
    ("bsr", KernelConfig(block_n=16), {"block": (8, 16)}, "r, c in"),
    ("bsr", KernelConfig(block_n=24), {"block": (16, 16)}, "power of two"),
    ("row_group", KernelConfig(block_n=8, block_k=48), {"group_size": 16}, "power of two"),
    ("row_group", KernelConfig(block_n=8, block_k=16), {"group_size": 32}, "multiple of g"),
    ("row_group", KernelConfig(block_n=8, block_k=64), {"group_size": 12}, "g in"),
    ("row_group", KernelConfig(block_n=64, block_k=512), {"group_size": 32}, "exceeds"),
    ("row_group", KernelConfig(block_n=8, block_k=64, rows=0), {"group_size": 32}, "rows"),
    ("nope", KernelConfig(), {}, "unknown kernel kind"),
    ("row_group", KernelConfig(strategy="tile", block_m=8, block_k=32, block_n=16),
     {"group_size": 32}, "block_m ≥ 16"),
    ("row_group", KernelConfig(strategy="tile", block_m=16, block_k=32, block_n=8),
     {"group_size": 8}, "block_n ≥ 16"),
    ("row_group", KernelConfig(strategy="tile", block_m=16, block_k=8, block_n=16),
     {"group_size": 8}, "block_k ≥ 16"),
    ("row_group", KernelConfig(strategy="tile", block_m=16, block_k=128, block_n=16),
     {"group_size": 4}, "slots"),
    ("row_group", KernelConfig(strategy="tile", block_m=256, block_k=128, block_n=16),
     {"group_size": 32}, "exceeds"),
    ("row_group", KernelConfig(strategy="diag"), {"group_size": 32}, "strategy"),
])
def test_rejects_gpu_illegal(kind, cfg, geo, needle, interpreter):
    reason = validate_config(kind, cfg, interpreter=interpreter, **geo)
    assert reason is not None and needle in reason


def test_launch_knobs_checked_only_for_gpu():
    cfg = KernelConfig(block_n=16, num_warps=3, num_stages=0)
    assert validate_config("bsr", cfg, interpreter=True, block=(16, 16)) is None
    assert "num_warps" in validate_config("bsr", cfg, interpreter=False, block=(16, 16))


@pytest.mark.parametrize("interpreter", [True, False])
@pytest.mark.parametrize("n", [1, 16, 50, 64, 300])
@pytest.mark.parametrize("g", [4, 8, 16, 32, 64])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_default_configs_are_legal(n, g, interpreter, dtype):
    rg = default_config("row_group", n, group_size=g, interpreter=interpreter, dtype=dtype)
    assert validate_config("row_group", rg, interpreter=interpreter, group_size=g) is None
    assert rg.block_n >= min(n, 64)  # W read once for N ≤ 64
    b = default_config("bsr", n, interpreter=interpreter)
    assert validate_config("bsr", b, interpreter=interpreter, block=(32, 64)) is None
