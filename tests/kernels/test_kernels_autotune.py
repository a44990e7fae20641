"""Autotuning with a fake timer: picks the fastest, caches per device/key, re-reads, invalidates."""

from __future__ import annotations

import json

import pytest
import torch
from triton_kernel_helpers import encode, row_group_weight

from harness.kernels import KernelConfig
from harness.kernels.autotune import TuneCache, autotune, cache_dir, candidates, tune_key

V1 = {"triton": "3.7.1", "driver": "555.1"}


def _operand():
    w = row_group_weight(8, 32, 8, 0.5)
    return encode("row_group", w, group_size=8), torch.randn(32, 4)


CONFIGS = [KernelConfig(block_n=4, block_k=16), KernelConfig(block_n=4, block_k=32),
           KernelConfig(block_n=2, block_k=64, rows=2)]


class FakeTimer:
    """Pretends block_k=32 is fastest; records what it was asked to time, never runs kernels."""

    def __init__(self, fastest: KernelConfig = CONFIGS[1]) -> None:
        self.fastest, self.timed = fastest, []

    def __call__(self, fn) -> float:
        cfg = fn.keywords["config"]
        self.timed.append(cfg)
        return 1e-5 if cfg == self.fastest else 3e-5 + 1e-6 * cfg.block_k


def test_chooses_fastest_and_caches(tmp_path):
    op, x = _operand()
    timer = FakeTimer()
    cache = TuneCache("Fake GPU", directory=tmp_path, versions=V1)
    best = autotune("row_group", op, x, time_fn=timer, configs=CONFIGS, cache=cache)
    assert best == CONFIGS[1]
    assert timer.timed == CONFIGS
    data = json.loads((tmp_path / "Fake_GPU.json").read_text())
    assert data["versions"] == V1
    assert data["entries"][tune_key("row_group", op, x)]["config"]["block_k"] == 32

    # Re-read from disk by a fresh cache: no timing at all.
    again = FakeTimer(fastest=CONFIGS[0])
    fresh = TuneCache("Fake GPU", directory=tmp_path, versions=V1)
    assert autotune("row_group", op, x, time_fn=again, configs=CONFIGS, cache=fresh) == CONFIGS[1]
    assert again.timed == []


@pytest.mark.parametrize("changed", [{"triton": "3.8.0"}, {"driver": "560.0"}])
def test_version_change_invalidates(tmp_path, changed):
    op, x = _operand()
    cache = TuneCache("Fake GPU", directory=tmp_path, versions=V1)
    autotune("row_group", op, x, time_fn=FakeTimer(), configs=CONFIGS, cache=cache)
    v2 = {**V1, **changed}
    stale = TuneCache("Fake GPU", directory=tmp_path, versions=v2)
    assert stale.entries == {}
    timer = FakeTimer(fastest=CONFIGS[2])
    assert autotune("row_group", op, x, time_fn=timer, configs=CONFIGS, cache=stale) == CONFIGS[2]
    assert timer.timed == CONFIGS
    assert json.loads(stale.path.read_text())["versions"] == v2


def test_key_separates_shape_dtype_and_sparsity():
    op, x = _operand()
    k = tune_key("row_group", op, x)
    assert k != tune_key("row_group", op, torch.randn(32, 5))
    dense = encode("row_group", torch.randn(8, 32), group_size=8)
    assert k != tune_key("row_group", dense, x)
    assert "float32" in k and "g8" in k


def test_failing_candidates_skipped_and_illegal_filtered(tmp_path):
    op, x = _operand()

    def timer(fn):
        if fn.keywords["config"].block_k == 16:
            raise RuntimeError("out of resources")
        return 1.0 / fn.keywords["config"].block_k

    illegal = KernelConfig(block_n=4, block_k=4)  # not a multiple of g=8
    cache = TuneCache("Fake GPU", directory=tmp_path, versions=V1)
    best = autotune("row_group", op, x, time_fn=timer, configs=[illegal, *CONFIGS], cache=cache)
    assert best == CONFIGS[2]


def test_real_run_in_interpreter_without_cache():
    op, x = _operand()
    calls = []

    def timer(fn):
        out = fn()  # actually launches the kernel (interpreter on CPU)
        calls.append(out.shape)
        return float(len(calls))

    best = autotune("row_group", op, x, time_fn=timer, configs=CONFIGS[:2], use_cache=False)
    assert best == CONFIGS[0] and calls == [(8, 4), (8, 4)]


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    assert cache_dir().parts[-3:] == (".cache", "harness", "triton")


def test_corrupt_cache_file_is_ignored(tmp_path):
    (tmp_path / "Fake_GPU.json").write_text("{not json")
    assert TuneCache("Fake GPU", directory=tmp_path, versions=V1).entries == {}


@pytest.mark.parametrize("interpreter", [True, False])
def test_candidate_spaces_are_legal_and_nonempty(interpreter):
    from harness.kernels import validate_config

    for n in (1, 16, 50, 64):
        for g in (4, 32, 64):
            cs = candidates("row_group", n, group_size=g, interpreter=interpreter)
            assert cs and all(validate_config("row_group", c, interpreter=interpreter,
                                              group_size=g) is None for c in cs)
        cs = candidates("bsr", n, block=(64, 64), interpreter=interpreter)
        assert cs and all(c.block_n >= 16 for c in cs)


@pytest.mark.gpu
def test_autotune_on_gpu(tmp_path):
    w = row_group_weight(512, 1024, 32, 0.1)
    op = encode("row_group", w.half(), group_size=32).to("cuda")
    x = torch.randn(1024, 50, device="cuda", dtype=torch.float16)
    cfg = autotune("row_group", op, x, cache=TuneCache("gpu", directory=tmp_path))
    assert isinstance(cfg, KernelConfig)
    assert TuneCache("gpu", directory=tmp_path).get(tune_key("row_group", op, x)) == cfg


def test_default_timer_is_the_measurement_samplers_median(monkeypatch):
    """Warm-up calls first, then `reps` samples from harness.measure's sampler; the median wins."""
    from harness.kernels import autotune as at
    from harness.measure import clock

    calls: list[str] = []
    times = iter([5.0, 1.0, 3.0, 2.0, 4.0])

    class FakeSampler:
        def sample(self, fn):
            fn()
            return next(times)

        def sync(self):
            calls.append("sync")

    monkeypatch.setattr(clock, "make_sampler", lambda device: FakeSampler())
    t = at.default_time_fn(lambda: calls.append("call"), device="cuda", warmup=2, reps=5)
    assert t == 3.0
    assert calls == ["call", "call", "sync"] + ["call"] * 5
