"""The bundled CPU kernels (Numba) against the float64 reference of the pruned weight.

Property cases of the issue: K not a multiple of g, empty rows, all-zero weights, N = 1 and
N = 1000, odd M, the fused epilogue, 1 and 2 threads, both algorithms (row kernel, panels) and
several tile widths. Plus: compilation is cached on disk (a new process loads, it does not
compile), and tuning goes through the shared TuneCache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import InputError, UnsupportedError
from harness.formats.base import get_format
from harness.kernels.cpu import CpuConfig, spmm
from harness.kernels.cpu.config import PANEL_MIN_G, candidates, default_config, tile_for
from harness.kernels.cpu.launch import bind

TOL = {torch.float32: 2e-6, torch.float64: 1e-12}


def weight(m: int, k: int, fmt: str, geo: tuple[int, int], rate: float, seed: int,
           dtype: torch.dtype, empty_rows: tuple[int, ...] = ()) -> torch.Tensor:
    """A pruned weight whose zeros follow the format's geometry (groups, blocks, elements)."""
    gen = torch.Generator().manual_seed(seed)
    r, c = geo
    w = torch.randn(m, k, generator=gen, dtype=torch.float64)
    keep = torch.rand(-(-m // r), -(-k // c), generator=gen) >= rate
    mask = keep.repeat_interleave(r, 0).repeat_interleave(c, 1)[:m, :k]
    w = w * mask
    for row in empty_rows:
        w[row] = 0
    return w.to(dtype)


def encode(w: torch.Tensor, fmt: str, geo: tuple[int, int]):
    if fmt == "row_group":
        return get_format(fmt).encode(w, group_size=geo[1])
    if fmt == "bsr":
        return get_format(fmt).encode(w, block=geo)
    return get_format(fmt).encode(w)


def reference(w, x, bias=None, relu=False, clamp=None):
    y = w.double() @ x.double()
    if bias is not None:
        y = y + bias.double()[:, None]
    if relu:
        y = torch.relu(y)
    if clamp is not None:
        y = torch.clamp(y, max=clamp)
    return y


def rel_error(out, ref) -> float:
    den = float(torch.linalg.norm(ref))
    return float(torch.linalg.norm(out.double() - ref)) / (den if den > 0 else 1.0)


# (format, geometry (r, c): a row_group's group is 1×g, a bsr block r×c, csr 1×1 elements)
LAYOUTS = [("row_group", (1, 3)), ("row_group", (1, 8)), ("row_group", (1, 32)),
           ("bsr", (2, 3)), ("bsr", (4, 4)), ("bsr", (6, 2)), ("csr", (1, 1))]
DTYPES = [torch.float32, torch.float64]


def configs_for(fmt: str) -> list[CpuConfig]:
    """Both algorithms where they apply; narrow and wide tiles; row blocks that do not divide M."""
    out = [CpuConfig("rows", 3, 8), CpuConfig("rows", 1, 32)]
    if fmt == "row_group":
        out += [CpuConfig("panel", 5, 8), CpuConfig("panel", 16, 32), CpuConfig("panel", 64, 64)]
    return out


CASES = [(f, g, c) for f, g in LAYOUTS for c in configs_for(f)]


@pytest.mark.parametrize(("fmt", "geo", "cfg"), CASES,
                         ids=[f"{f}-{g[0]}x{g[1]}-{c.label()}" for f, g, c in CASES])
@pytest.mark.parametrize("dtype", DTYPES, ids=["fp32", "fp64"])
def test_matches_reference_over_configs_and_awkward_shapes(fmt, geo, cfg, dtype):
    # odd M (bsr: a multiple of r), K not a multiple of g, empty rows, N = 1, 7, 1000 (N past
    # one tile, not a multiple of it)
    m = 35 if fmt != "bsr" else 7 * geo[0]
    k = 45 if fmt != "bsr" else 9 * geo[1]
    for n, seed in ((1, 0), (7, 1), (1000, 2)):
        w = weight(m, k, fmt, geo, 0.6, seed, dtype, empty_rows=(0, geo[0], m - 1))
        x = torch.randn(k, n, generator=torch.Generator().manual_seed(seed), dtype=dtype)
        out = spmm(encode(w, fmt, geo), x, config=cfg)
        assert out.dtype == dtype and tuple(out.shape) == (m, n)
        assert rel_error(out, reference(w, x)) <= TOL[dtype], (n, seed)
        assert not out[0].any()  # an empty row is exactly zero


@pytest.mark.parametrize(("fmt", "geo"), LAYOUTS, ids=[f"{f}-{g[0]}x{g[1]}" for f, g in LAYOUTS])
def test_all_zero_weight_gives_exact_zero(fmt, geo):
    m, k = 4 * geo[0], 5 * geo[1]
    w = torch.zeros(m, k)
    out = spmm(encode(w, fmt, geo), torch.randn(k, 3))
    assert tuple(out.shape) == (m, 3) and not out.any()
    # …and with a bias the epilogue still runs on the empty rows
    b = torch.arange(m, dtype=torch.float32) - 2
    out = spmm(encode(w, fmt, geo), torch.randn(k, 3), bias=b, relu=True, clamp=3.0)
    assert torch.equal(out, torch.clamp(torch.relu(b), max=3.0)[:, None].expand(m, 3))


@pytest.mark.parametrize(("fmt", "geo"), LAYOUTS, ids=[f"{f}-{g[0]}x{g[1]}" for f, g in LAYOUTS])
@pytest.mark.parametrize("dtype", DTYPES, ids=["fp32", "fp64"])
@pytest.mark.parametrize(("bias", "relu", "clamp"), [
    (True, False, None), (False, True, None), (False, False, 0.5), (True, True, 0.5)])
def test_fused_epilogue(fmt, geo, dtype, bias, relu, clamp):
    m, k = 8 * geo[0], 6 * geo[1]
    for n in (1, 5):  # N = 1: the dot-product paths (csr, panels); N = 5: tiles
        w = weight(m, k, fmt, geo, 0.5, 3, dtype)
        x = torch.randn(k, n, generator=torch.Generator().manual_seed(4), dtype=dtype)
        b = torch.randn(m, generator=torch.Generator().manual_seed(5), dtype=dtype) \
            if bias else None
        out = spmm(encode(w, fmt, geo), x, bias=b, relu=relu, clamp=clamp)
        ref = reference(w, x, b, relu, clamp)
        assert rel_error(out, ref) <= TOL[dtype], n
        if relu:
            assert (out >= 0).all()
        if clamp is not None:
            assert (out <= clamp).all()
            assert n == 1 or (ref == clamp).any()  # the clamp did bite


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(("fmt", "geo"), LAYOUTS, ids=[f"{f}-{g[0]}x{g[1]}" for f, g in LAYOUTS])
def test_one_and_two_threads_agree_with_the_reference(fmt, geo, threads):
    m, k, n = 16 * geo[0], 10 * geo[1], 50
    w = weight(m, k, fmt, geo, 0.7, 6, torch.float32)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(7))
    op = encode(w, fmt, geo)
    bound = bind(op, x, threads=threads)  # the default: panels for row groups, rows elsewhere
    assert bound.counters["numba.config"].startswith(
        "panel" if fmt == "row_group" and geo[1] >= PANEL_MIN_G else "rows")
    assert bound.threads == min(threads, bound.threads) and bound.counters["numba.threads"] >= 1
    first = bound().clone()
    again = bound()  # repeatable: the output buffer is overwritten in full
    assert rel_error(first, reference(w, x)) <= TOL[torch.float32]
    assert torch.equal(first, again)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 19), k=st.integers(1, 40), n=st.integers(1, 17),
       g=st.integers(1, 9), rate=st.floats(0.0, 1.0), seed=st.integers(0, 2**16),
       algo=st.sampled_from(["rows", "panel"]), rows=st.integers(1, 7))
def test_row_group_property(m, k, n, g, rate, seed, algo, rows):
    w = weight(m, k, "row_group", (1, g), rate, seed, torch.float64)
    x = torch.randn(k, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    cfg = CpuConfig(algo, rows, tile_for(n, "float64"))
    out = spmm(encode(w, "row_group", (1, g)), x, config=cfg)
    assert rel_error(out, reference(w, x)) <= TOL[torch.float64]


def test_refusals_are_readable():
    w = weight(8, 8, "csr", (1, 1), 0.5, 0, torch.float32)
    op = encode(w, "csr", (1, 1))
    with pytest.raises(UnsupportedError, match="float32, float64"):
        spmm(encode(w.to(torch.bfloat16), "csr", (1, 1)), torch.randn(8, 2).bfloat16())
    with pytest.raises(UnsupportedError, match="matching"):
        spmm(op, torch.randn(8, 2, dtype=torch.float64))
    with pytest.raises(InputError, match="K×N"):
        spmm(op, torch.randn(7, 2))
    with pytest.raises(InputError, match="bias"):
        spmm(op, torch.randn(8, 2), bias=torch.randn(3))
    with pytest.raises(UnsupportedError, match="csc"):
        spmm(get_format("csc").encode(w), torch.randn(8, 2))
    with pytest.raises(UnsupportedError, match="tile"):
        spmm(op, torch.randn(8, 2), config=CpuConfig(tile=12))
    with pytest.raises(UnsupportedError, match="panel"):
        spmm(op, torch.randn(8, 2), config=CpuConfig("panel", 4, 8))


def test_tiles_hold_n_up_to_the_register_budget():
    assert [tile_for(n, "float32") for n in (1, 8, 9, 50, 64, 65, 1000)] == \
        [8, 8, 16, 64, 64, 64, 64]
    assert [tile_for(n, "float64") for n in (1, 17, 50)] == [8, 32, 32]


def test_candidates_and_defaults_follow_the_layout():
    deep = candidates("row_group", 50, width=32, m=4096, threads=2)
    assert {c.algo for c in deep} == {"panel"} and [c.rows for c in deep] == [2048, 1024]
    assert {c.algo for c in candidates("row_group", 50, width=1)} == {"rows"}
    assert {c.algo for c in candidates("csr", 50)} == {"rows"}
    assert {c.tile for c in candidates("bsr", 9, width=4)} == {16}
    assert default_config("row_group", 50, width=32, m=100, threads=3) == \
        CpuConfig("panel", 34, 64)
    assert default_config("bsr", 50, dtype="float64", width=4) == CpuConfig("rows", 4, 32)


_CHILD = r"""
import json, torch
from harness.formats.base import get_format
from harness.kernels.cpu import spmm
from harness.kernels.cpu.launch import warm
from harness.kernels.cpu import jit
w = torch.eye(4, dtype=torch.float64)
y = spmm(get_format("csr").encode(w), torch.ones(4, 2, dtype=torch.float64))
stats = jit.csr_kernel.stats
lit = lambda counter: sum(v for sig, v in counter.items() if "Literal" in str(sig[-1]))
print(json.dumps({"ok": bool((y == 1).all()), "hit": warm("csr", "float64", "rows", 8)[1],
                  "hits": lit(stats.cache_hits), "misses": lit(stats.cache_misses),
                  "dir": stats.cache_path}))
"""


def test_a_second_process_loads_the_compiled_kernel_instead_of_compiling(tmp_path):
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                              text=True, timeout=600, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["ok"] and second["ok"]
    assert first["misses"] == 1 and first["hits"] == 0 and not first["hit"]  # compiled
    assert second["misses"] == 0 and second["hits"] == 1 and second["hit"]  # loaded
    assert first["dir"].startswith(str(tmp_path / "numba"))


def test_tuning_uses_the_shared_cache_and_the_injected_timer(tmp_path):
    from harness.kernels.cpu.tune import autotune, open_cache

    w = weight(32, 64, "row_group", (1, 8), 0.5, 0, torch.float32)
    op = encode(w, "row_group", (1, 8))
    x = torch.randn(64, 9)
    timed = []

    def fake_time(fn):  # panels of 8-row blocks are "fastest"
        cfg = (fn.args[-2], fn.args[-1])  # (rows, tile)
        timed.append(cfg)
        fn()
        return 1.0 if cfg == (8, 16) else 2.0

    cache = open_cache(2, tmp_path)
    best, cached = autotune(op, x, threads=2, time_fn=fake_time, cache=cache)
    pool = candidates("row_group", 9, width=8, m=32, threads=2)
    assert best == CpuConfig("panel", 8, 16) and not cached
    assert len(timed) == len(pool) == 2
    again = open_cache(2, tmp_path)  # a new process: read from the file
    assert again.path.parent == tmp_path and "cpu-" in again.path.name
    best2, cached2 = autotune(op, x, threads=2, time_fn=fake_time, cache=again)
    assert best2 == best and cached2 and len(timed) == len(pool)


def test_bench_measures_the_numba_backend_with_its_compile_time(monkeypatch):
    """Through the measurement core: verified, timed, and the compile (or cache load) time and
    the tuned config recorded in the Measurement's counters."""
    from fake_peaks import QuickSettings as Settings
    from fake_peaks import fake_peaks

    from harness.core.point import Point, PruneSpec
    from harness.measure.runner import Bench

    fake_peaks(monkeypatch)

    threads = torch.get_num_threads()
    try:
        point = Point(64, 96, 8, format="row_group", backend="auto",
                      prune=PruneSpec("row_group", 0.75, 8))
        m = Bench(Settings(), device="cpu", threads=1).measure(point)
    finally:
        torch.set_num_threads(threads)
    assert m.status == "ok" and m.verified, m.reason
    assert m.provenance["backend"] == "numba"
    c = m.counters
    assert c["numba.compile_s"] > 0 and isinstance(c["numba.cache_hit"], bool)
    assert c["numba.threads"] == 1 and c["numba.config"].startswith("panel,")  # g = 8: panels
    assert m.peak_fraction == pytest.approx(c["roofline.bound_s"] / m.stats.median)


def test_backend_tunes_large_products_through_the_cache_and_skips_tiny_ones(tmp_path,
                                                                             monkeypatch):
    from harness.backends import numba_cpu

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    timed = []

    def fake_time(fn):  # the second candidate is "fastest"
        timed.append(fn.args[-2:])
        return 1.0 if len(timed) == 2 else 2.0

    backend = numba_cpu.NumbaCPU(time_fn=fake_time)
    w = weight(64, 64, "row_group", (1, 16), 0.5, 1, torch.float32)
    x = torch.randn(64, 4)
    op = encode(w, "row_group", (1, 16))
    tiny = backend.prepare(op, x)
    assert not timed and "numba.tuned_from_cache" not in tiny.run.counters
    monkeypatch.setattr(numba_cpu, "TUNE_MIN_WORK", 1)
    first = backend.prepare(op, x)
    threads = first.run.counters["numba.threads"]
    second = candidates("row_group", 4, width=16, m=64, threads=threads)[1]
    assert len(timed) == 2 and first.run.counters["numba.config"] == second.label()
    assert first.run.counters["numba.tuned_from_cache"] is False
    again = backend.prepare(op, x)
    assert len(timed) == 2 and again.run.counters["numba.tuned_from_cache"] is True
    assert list(tmp_path.glob("cpu-*.json"))
    assert rel_error(again.to_torch(again.run()), reference(w, x)) <= TOL[torch.float32]
