"""The library backends' declared support matches what the libraries really do, availability is
always an answer, and bad calls are refused with UnsupportedError."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from harness.backends import builtin, scipy_cpu, semi_structured, torch_sparse
from harness.backends.base import all_backends
from harness.backends.common import Case
from harness.core.dtypes import DTYPES, to_torch
from harness.core.errors import UnsupportedError
from harness.core.point import Point, PruneSpec
from harness.formats.base import get_format

HAS_CUDA = torch.cuda.is_available()
MY_BACKENDS = ("torch", "torch_sparse", "scipy", "cupy", "semi_structured")


def _operand(fmt: str, dtype: str, block: tuple[int, int] = (1, 1)):
    gen = torch.Generator().manual_seed(7)
    w = torch.randn(16, 24, generator=gen)
    w[torch.rand(16, 24, generator=gen) < 0.6] = 0
    x = torch.randn(24, 3, generator=gen)
    dt = to_torch(dtype)
    return get_format(fmt).encode(w.to(dt), block=block), x.to(dt)


def _point(fmt: str, dtype: str, backend: str, block: tuple[int, int] = (1, 1)) -> Point:
    return Point(16, 24, 3, dtype=dtype, format=fmt, backend=backend,
                 prune=PruneSpec(pattern="block" if fmt == "bsr" else "unstructured",
                                 block=block, rate=0.5))


CPU_CASES = [(f, d, b) for f in ("csr", "csc", "coo") for d in DTYPES for b in [(1, 1)]]
CPU_CASES += [("bsr", d, b) for d in DTYPES for b in [(1, 1), (2, 2), (4, 4), (2, 4), (4, 1)]]


@pytest.mark.parametrize(("fmt", "dtype", "block"), CPU_CASES)
def test_torch_sparse_cpu_table_is_what_torch_does(fmt: str, dtype: str, block) -> None:
    """Calls torch.sparse directly: it succeeds exactly where `supports` says so. If a torch
    upgrade adds a kernel, this fails and the table in torch_sparse.py must be updated."""
    said = all_backends().get("torch_sparse").supports(_point(fmt, dtype, "torch_sparse", block))
    op, x = _operand(fmt, dtype, block)
    try:
        out = torch.sparse.mm(torch_sparse._to_torch_sparse(op), x)
        ran = bool(torch.isfinite(out).all())
    except (RuntimeError, NotImplementedError):
        ran = False
    assert ran == (said is None), said


@pytest.mark.parametrize(("fmt", "dtype", "block"), CPU_CASES)
def test_scipy_table_is_what_scipy_does(fmt: str, dtype: str, block) -> None:
    said = all_backends().get("scipy").supports(_point(fmt, dtype, "scipy", block))
    op, x = _operand(fmt, dtype, block)
    try:
        # Built from arrays, float16 CSR/CSC is accepted but computed and returned in float32:
        # not a float16 kernel, so it counts as not running float16.
        ran = (scipy_cpu.to_scipy(op) @ x.numpy()).dtype == x.numpy().dtype
    except (ValueError, TypeError):  # scipy refuses float16 elsewhere; numpy has no bfloat16
        ran = False
    assert ran == (said is None), said


def test_cpu_refusal_reasons_name_the_cause() -> None:
    ts = all_backends().get("torch_sparse")
    assert "float16" in ts.supports(_point("csr", "float16", "torch_sparse"))
    assert "square" in ts.supports(_point("bsr", "float32", "torch_sparse", (2, 4)))
    assert "float16" in all_backends().get("scipy").supports(_point("csr", "float16", "scipy"))
    assert "csr" in all_backends().get("torch").supports(_point("csr", "float32", "torch"))


@pytest.mark.parametrize(("block", "dtype", "ok"), [
    ((16, 16), "float16", True), ((2, 2), "float64", True), ((1, 1), "float32", False),
    ((2, 4), "float16", False),
])
def test_torch_sparse_cuda_bsr_rules(block, dtype, ok) -> None:
    case = Case("bsr", "cuda", dtype, 64, 64, 16, block=block)
    assert (torch_sparse.TorchSparse().check(case) is None) == ok


@pytest.mark.parametrize(("fmt", "dtype", "ok"), [
    ("coo", "float32", True), ("coo", "float64", True), ("coo", "float16", False),
    ("coo", "bfloat16", False), ("csr", "float16", True), ("csc", "bfloat16", True),
])
def test_torch_sparse_cuda_half_precision_rules(fmt, dtype, ok) -> None:
    # ATen's CUDA COO mm dispatches float/double only (pytorch#41069, #144040); CSR/CSC run
    # cuSPARSE SpMM with float32 accumulation for 16-bit inputs
    reason = torch_sparse.TorchSparse().check(Case(fmt, "cuda", dtype, 64, 64, 16))
    assert (reason is None) == ok
    if not ok:
        assert dtype in reason and "COO" in reason


def test_cuda_bsr_path_documents_which_library_runs() -> None:
    assert torch_sparse.cuda_bsr_path("float64", (16, 16), 16) == "cusparse-bsrmm"
    assert torch_sparse.cuda_bsr_path("float16", (16, 16), 32) == "torch-triton-bsr_dense_addmm"
    assert torch_sparse.cuda_bsr_path("float16", (16, 16), 7) == "aten-generic-block-matmul"
    assert torch_sparse.cuda_bsr_path("float32", (8, 8), 16) == "aten-generic-block-matmul"


@pytest.mark.parametrize("name", all_backends().names())
@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:0", "cuda:7", "mps", "meta", ""])
def test_available_never_raises(name: str, device: str) -> None:
    reason = all_backends().get(name).available(device)
    assert reason is None or (isinstance(reason, str) and reason.strip())


@pytest.mark.parametrize("name", ["cupy", "semi_structured"])
def test_cuda_only_backends_say_why_they_cannot_run(name: str) -> None:
    backend = all_backends().get(name)
    cpu_reason = backend.available("cpu")
    assert isinstance(cpu_reason, str) and ("CUDA" in cpu_reason or "cuda" in cpu_reason
                                            or "cupy" in cpu_reason)
    cuda_reason = backend.available("cuda")
    if not HAS_CUDA:
        assert isinstance(cuda_reason, str)
        assert "CUDA" in cuda_reason or "cupy" in cuda_reason, cuda_reason
    else:
        assert cuda_reason is None or isinstance(cuda_reason, str)


@pytest.mark.parametrize(("nm", "bound"), [
    ((2, 4), 2), ((1, 4), 1), ((1, 2), 2), ((2, 8), 2), ((3, 4), 3), ((2, 2), 4), ((2, 3), None),
])
def test_semi_structured_pattern_bound(nm, bound) -> None:
    assert semi_structured.max_kept_per_4(nm) == bound


def test_semi_structured_checks_pattern_and_shape() -> None:
    b = semi_structured.SemiStructured()
    ok = Case("semi_structured", "cuda", "float16", 64, 128, 1, nm=(2, 4), pattern="nm")
    assert b.check(ok) is None
    assert "unstructured" in b.check(Case("semi_structured", "cuda", "float16", 64, 128, 1,
                                          pattern="unstructured"))
    assert "3:4" in b.check(Case("semi_structured", "cuda", "float16", 64, 128, 1, nm=(3, 4),
                                 pattern="nm"))
    assert "multiple" in b.check(Case("semi_structured", "cuda", "float16", 24, 36, 1,
                                      pattern="nm"))
    # From an operand (pattern unknown) only the shape is checked; prepare checks the data.
    assert b.check(Case("semi_structured", "cuda", "float16", 64, 128, 1)) is None


@pytest.mark.parametrize("name", ["torch", "torch_sparse", "scipy"])
def test_prepare_refuses_mismatched_inputs(name: str) -> None:
    backend = all_backends().get(name)
    fmt = "dense" if name == "torch" else "csr"
    op, x = _operand(fmt, "float32")
    with pytest.raises(UnsupportedError, match="dtype"):
        backend.prepare(op, x.double())
    with pytest.raises(UnsupportedError, match="cannot multiply"):
        backend.prepare(op, x[:5])
    with pytest.raises(UnsupportedError, match="2-D"):
        backend.prepare(op, x[:, 0])


def test_torch_sparse_rejects_malformed_operand_in_prepare() -> None:
    """Invariants are checked once in prepare, not discovered as memory errors in the kernel."""
    from harness.formats.base import Operand

    op, x = _operand("csr", "float32")
    bad = dict(op.arrays)
    bad["col_indices"] = bad["col_indices"] + 100  # out of range
    with pytest.raises(RuntimeError):
        all_backends().get("torch_sparse").prepare(Operand("csr", op.shape, bad), x)


def test_broken_backend_module_is_recorded_not_raised() -> None:
    errors = builtin.load(["harness.backends._no_such_backend"])
    assert "ModuleNotFoundError" in errors["harness.backends._no_such_backend"]
    assert set(MY_BACKENDS) <= set(all_backends().names())
    assert not {m for m in builtin.IMPORT_ERRORS if not m.endswith("triton_backend")}


def test_importing_the_backends_loads_no_heavy_library() -> None:
    code = ("import sys, harness.backends.builtin, harness.backends.resolve; "
            "print(sorted(m for m in ('torch', 'scipy', 'cupy', 'triton', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"
