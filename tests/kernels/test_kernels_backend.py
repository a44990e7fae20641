"""The `triton` backend: registration, availability reasons, supports(), prepare/run."""

from __future__ import annotations

import pytest
import torch
from triton_kernel_helpers import assert_matches, block_weight, encode, reference, row_group_weight

from harness.backends.base import BACKENDS
from harness.backends.triton_backend import NEED_CUDA, TritonBackend
from harness.core.point import Point, PruneSpec


@pytest.fixture
def backend() -> TritonBackend:
    return BACKENDS.get("triton")


def test_registered(backend):
    assert isinstance(backend, TritonBackend)
    assert backend.formats == {"row_group", "bsr"}
    assert backend.dtypes == {"float16", "bfloat16", "float32"}


def test_cpu_needs_interpreter(backend, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert backend.available("cpu") is None
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert backend.available("cpu") == NEED_CUDA
    monkeypatch.delenv("TRITON_INTERPRET")
    assert backend.available("cpu") == NEED_CUDA


def test_cuda_availability(backend, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    if torch.cuda.is_available():
        assert backend.available("cuda") is None
        monkeypatch.setenv("TRITON_INTERPRET", "1")
        assert "interpreter" in backend.available("cuda")
    else:
        assert backend.available("cuda") == "CUDA not available to torch"


def _point(**kw) -> Point:
    prune = kw.pop("prune", PruneSpec(pattern="row_group", rate=0.9, group_size=32))
    base = dict(m=64, k=64, n=8, dtype="float32", device="cpu", format="row_group",
                backend="triton")
    return Point(prune=prune, **{**base, **kw})


@pytest.mark.parametrize(("point", "needle"), [
    (_point(prune=PruneSpec(pattern="row_group", group_size=12)), "g in"),
    (_point(format="bsr", prune=PruneSpec(pattern="block", block=(8, 16))), "r, c in"),
    (_point(format="csr"), "does not run format"),
    (_point(dtype="float64"), "dtype"),
])
def test_supports_reasons(backend, point, needle):
    reason = backend.supports(point)
    assert reason is not None and needle in reason


def test_bf16_bsr_only_outside_the_interpreter(backend, monkeypatch):
    point = _point(format="bsr", dtype="bfloat16", prune=PruneSpec(pattern="block", block=(16, 16)))
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert "interpreter" in backend.supports(point)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert backend.supports(point) == NEED_CUDA


def test_supports_ok(backend):
    assert backend.supports(_point()) is None
    assert backend.supports(_point(format="bsr", dtype="float16",
                                   prune=PruneSpec(pattern="block", block=(32, 16)))) is None


@pytest.mark.parametrize("fmt", ["row_group", "bsr"])
def test_prepare_runs_and_verifies(backend, fmt):
    m, k, n = 32, 48, 3
    if fmt == "row_group":
        w = row_group_weight(m, k, 16, 0.5, seed=9)
        op = encode(fmt, w, group_size=16)
    else:
        w = block_weight(m, k, 16, 16, 0.5, seed=9)
        op = encode(fmt, w, block=(16, 16))
    x = torch.randn(k, n)
    prep = backend.prepare(op, x)
    first = prep.to_torch(prep.run())
    prep.sync()
    assert_matches(first, reference(w, x), torch.float32)
    second = prep.to_torch(prep.run())
    assert torch.equal(first, second) and first.data_ptr() != second.data_ptr()


@pytest.mark.gpu
def test_backend_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    backend = BACKENDS.get("triton")
    assert backend.available("cuda") is None
    w = row_group_weight(256, 512, 32, 0.1).half()
    x = torch.randn(512, 16).half()
    prep = backend.prepare(encode("row_group", w, group_size=32).to("cuda"), x.cuda())
    out = prep.to_torch(prep.run())
    prep.sync()
    assert_matches(out.cpu(), reference(w, x), torch.float16)


@pytest.mark.parametrize(("case", "needle"), [
    ("csr", "format"), ("g3", "g in"), ("f64", "float64"), ("block8", "r, c in"),
])
def test_prepare_refuses_with_unsupported_error(backend, case, needle):
    from harness.core.errors import UnsupportedError
    from harness.formats.base import get_format
    from harness.kernels.pack import pack_bsr

    def pack_row_group(w, g):
        return get_format("row_group").encode(w, group_size=g)

    w, x = row_group_weight(16, 24, 4, 0.5), torch.randn(24, 2)
    op = {"csr": lambda: pack_row_group(w, 4).__class__("csr", (16, 24), {"values": w}),
          "g3": lambda: pack_row_group(w, 3),
          "f64": lambda: pack_row_group(w.double(), 4),
          "block8": lambda: pack_bsr(w, (8, 8))}[case]()
    xx = x.double() if case == "f64" else x
    with pytest.raises(UnsupportedError, match=needle):
        backend.prepare(op, xx)
