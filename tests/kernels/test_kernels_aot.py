"""The bundled kernels compile for real GPU targets (sm_90: H100/H200, sm_80: A100) on this CPU.

The interpreter tests check the kernels' arithmetic; these check what only the GPU compiler
decides, for the configs the launcher picks by default: the kernel compiles to a cubin, fits the
target's shared memory, does not spill registers, runs tl.dot on the tensor cores for 16-bit
inputs, and keeps fp32 in IEEE precision unless TF32 is asked for. Compiled in subprocesses
without TRITON_INTERPRET (harness.kernels.aot), two at a time.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.kernels.aot import MAX_SHARED

DTYPES = ("float16", "bfloat16", "float32")


def _jobs() -> list[dict]:
    jobs = [{"kind": "row_group", "dtype": dt, "shape": [300, 1000, n], "group_size": g}
            for dt, g, n in itertools.product(DTYPES, (4, 8, 16, 32, 64), (1, 50))]
    jobs += [{"kind": "bsr", "dtype": dt, "shape": [320, 960, n], "block": b}
             for dt, b, n in itertools.product(DTYPES, ([16, 16], [32, 32], [64, 64], [16, 64]),
                                               (1, 50))]
    jobs += [  # A100; TF32 on request; the fused epilogue
        {"kind": "row_group", "dtype": "float16", "shape": [300, 1000, 50], "group_size": 32,
         "arch": 80},
        {"kind": "row_group", "dtype": "float32", "shape": [300, 1000, 1], "group_size": 4,
         "arch": 80},
        {"kind": "bsr", "dtype": "bfloat16", "shape": [320, 960, 50], "block": [64, 64],
         "arch": 80},
        {"kind": "bsr", "dtype": "float32", "shape": [320, 960, 50], "block": [32, 32],
         "config": {"block_n": 64, "allow_tf32": True}},
        {"kind": "row_group", "dtype": "float32", "shape": [300, 1000, 50], "group_size": 16,
         "config": {"strategy": "tile", "block_m": 64, "block_k": 32, "block_n": 64,
                    "allow_tf32": True}},
        {"kind": "row_group", "dtype": "float32", "shape": [300, 1000, 50], "group_size": 16,
         "config": {"strategy": "tile", "block_m": 64, "block_k": 32, "block_n": 64}},
        {"kind": "row_group", "dtype": "float16", "shape": [300, 1000, 50], "group_size": 8,
         "epilogue": True},
        {"kind": "row_group", "dtype": "float32", "shape": [300, 1000, 1], "group_size": 8,
         "epilogue": True},
        {"kind": "bsr", "dtype": "float32", "shape": [320, 960, 50], "block": [32, 32],
         "epilogue": True},
    ]
    # row strategy with 8 contiguous fp32 per thread: the values load must be vectorised
    jobs.append({"kind": "row_group", "dtype": "float32", "shape": [300, 1024, 1],
                 "group_size": 32, "config": {"block_n": 1, "block_k": 256, "num_warps": 1},
                 "check": "vector_loads"})
    # the largest tile-strategy gathers config.MAX_TILE_GATHER admits must fit an A100
    jobs += [{"kind": "row_group", "dtype": dt, "shape": [300, 1000, 64], "group_size": 4,
              "arch": 80, "config": {"strategy": "tile", "block_m": 128, "block_k": 32,
                                     "block_n": 64, "num_warps": 8, "num_stages": 2}}
             for dt in ("float32", "float16")]
    return jobs


def _compile(jobs: list[dict], path) -> list[dict]:
    path.write_text(json.dumps(jobs))
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(path.parent / "triton-cache")
    proc = subprocess.run([sys.executable, "-m", "harness.kernels.aot", str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> list[dict]:
    jobs = _jobs()
    halves = [jobs[0::2], jobs[1::2]]
    dirs = [tmp_path_factory.mktemp(f"aot{i}") for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(lambda a: _compile(a[0], a[1] / "jobs.json"), zip(halves, dirs, strict=True)))
    out = parts[0] + parts[1]
    assert len(out) == len(jobs)
    return out


def _label(entry: dict) -> str:
    j = entry["job"]
    geo = f"g={j['group_size']}" if j["kind"] == "row_group" else "{}x{}".format(*j["block"])
    return f"{j['kind']} {j['dtype']} {geo} N={j['shape'][2]} sm_{j.get('arch', 90)}"


def test_every_default_launch_compiles_to_a_cubin(compiled):
    errors = [f"{_label(e)}: {e['result']['error']}" for e in compiled if "error" in e["result"]]
    assert not errors, errors


def test_shared_memory_fits_the_target_and_nothing_spills(compiled):
    for e in compiled:
        r = e["result"]
        assert r["shared_bytes"] <= MAX_SHARED[r["arch"]], _label(e)
        assert r["local_bytes"] == 0, f"{_label(e)} spills: {r}"
        assert 0 < r["registers"] <= 255, _label(e)


def test_row_strategy_values_load_is_vectorised(compiled):
    # row_group.py: each step starts on a group boundary, so a thread's 8 contiguous fp32 values
    # become ld.global.v4 loads instead of scalar ones
    checked = [e for e in compiled if e["job"].get("check") == "vector_loads"]
    assert len(checked) == 1 and checked[0]["result"]["vector_loads"] > 0


def test_the_gather_cap_refuses_what_would_overflow_shared_memory():
    from harness.kernels.config import KernelConfig, validate_config

    big = KernelConfig(strategy="tile", block_m=128, block_k=32, block_n=64, num_stages=3)
    assert "shared memory" in validate_config("row_group", big, interpreter=False, group_size=4)
    assert validate_config("row_group", big, interpreter=False, group_size=16) is None


def test_tensor_cores_exactly_where_tl_dot_runs_16_bit_or_tf32(compiled):
    for e in compiled:
        r, cfg, dtype = e["result"], e["result"]["config"], e["job"]["dtype"]
        uses_dot = e["job"]["kind"] == "bsr" or cfg["strategy"] == "tile"
        tf32 = dtype == "float32" and cfg["allow_tf32"]
        assert r["mma"] == (uses_dot and (dtype != "float32" or tf32)), _label(e)
        assert r["tf32_mma"] == (uses_dot and tf32), _label(e)


def test_16_bit_row_groups_default_to_the_tile_strategy_for_wide_n(compiled):
    # the launcher's default (launch.default_config): tensor cores for N ≥ 16 in fp16/bf16
    for e in compiled:
        j = e["job"]
        if j["kind"] == "row_group" and "config" not in j:
            tile = j["dtype"] != "float32" and j["shape"][2] >= 16
            assert (e["result"]["config"]["strategy"] == "tile") == tile, _label(e)


def test_in_process_compile_needs_the_real_jit_functions():
    """Under the interpreter (this process without CUDA) the kernels are not compilable and the
    error says why; with real JITFunctions (a CUDA machine) the same call compiles."""
    import torch

    from harness.formats.base import get_format
    from harness.kernels.aot import compile_launch
    from harness.kernels.config import interpreter_active
    from harness.kernels.launch import plan

    op = get_format("row_group").encode(torch.ones(4, 8), group_size=4)
    launch = plan("row_group", op, torch.ones(8, 2), None, False, None, None, None,
                  interpreter=False)
    if interpreter_active():
        with pytest.raises(RuntimeError, match="TRITON_INTERPRET"):
            compile_launch(launch)
    else:
        assert compile_launch(launch).local_bytes == 0


PRECOMPILE_SCRIPT = r"""
import json, os, sys, torch
from triton.backends.compiler import GPUTarget
from harness.formats.base import get_format
from harness.kernels.aot import compile_spec, precompile, specialize
from harness.kernels.autotune import candidates
from harness.kernels.launch import plan

cache = os.environ["TRITON_CACHE_DIR"]
w = torch.randn(96, 128)
w[:, 64:] = 0
op = get_format("row_group").encode(w.half(), group_size=16)
x = torch.randn(128, 24).half()
pool = candidates("row_group", 24, group_size=16)[:6]
launches = [plan("row_group", op, x, None, False, None, c, None, interpreter=False) for c in pool]
target = GPUTarget("cuda", 90, 32)
errors = precompile(launches, target, workers=2)
entries = sorted(os.listdir(cache))
python, sys.executable = sys.executable, "/nonexistent/python"
again = precompile(launches, target, workers=2)  # asked again: no worker may be spawned
sys.executable = python
# the parent compiling the same launches must find every kernel in the cache
for launch in launches:
    compile_spec(specialize(launch, target))
print(json.dumps({"errors": errors, "again": again, "after_workers": entries, "after_parent": sorted(os.listdir(cache))}))
"""


def test_precompiled_kernels_are_cache_hits_for_the_same_launch(tmp_path):
    """Workers compile in other processes; the launching process then finds each kernel in
    Triton's cache (no new cache entry), which is what saves the autotuner's compile time."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-c", PRECOMPILE_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["errors"] == [None] * 6
    assert out["again"] == [None] * 6
    assert len(out["after_workers"]) >= 6  # one entry per distinct kernel at least
    assert out["after_parent"] == out["after_workers"]
