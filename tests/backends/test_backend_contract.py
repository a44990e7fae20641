"""Contract tests: every registered backend × format × dtype × device type goes through the same
checks. Supported combinations must reproduce the float64 reference of the pruned weight;
unsupported ones must say why in `supports()` *and* refuse `prepare` with UnsupportedError."""

from __future__ import annotations

import zlib

import pytest
import torch

from harness.backends.base import all_backends
from harness.core.dtypes import DTYPES, to_torch
from harness.core.errors import UnsupportedError
from harness.core.point import Point, PruneSpec
from harness.formats.base import FORMATS, get_format
from harness.pruning.base import prune_mask

BACKEND_NAMES = all_backends().names()
get_format("dense")  # registers the built-in formats
FORMAT_NAMES = FORMATS.names()
DEVICES = ("cpu", "cuda")

# ‖out − ref‖ / ‖ref‖ allowed per dtype (inputs are exact in the dtype; only accumulation and
# output rounding count).
TOLERANCE = {"float64": 1e-10, "float32": 1e-5, "float16": 1e-2, "bfloat16": 3e-2}

# (M, K, N): N = 1, odd sizes, non-multiples of blocks/groups, and tensor-core-friendly sizes.
SHAPES = ((8, 12, 1), (24, 36, 5), (64, 128, 3), (33, 22, 2), (32, 64, 16))
# Triton kernels on the CPU run in the (slow) interpreter: the small shapes only, same variants.
INTERPRETED = {"triton"}
SMALL = {0, 1, 3}


def spec_for(fmt: str, shape: tuple[int, int, int], variant: int) -> PruneSpec:
    """A pruning pattern that suits the format (2:4 for semi_structured, blocks for bsr, …)."""
    if fmt == "semi_structured":
        return PruneSpec(pattern="nm", nm=(2, 4), rate=0.5)
    if fmt in ("bsr", "blocked_ell"):
        block = ((2, 2), (4, 4), (2, 4), (1, 1), (16, 16))[variant % 5]
        return PruneSpec(pattern="block", block=block, rate=0.5)
    if fmt == "row_group":
        return PruneSpec(pattern="row_group", group_size=(4, 8, 16, 3, 32)[variant % 5], rate=0.6)
    if fmt == "dense":
        return PruneSpec(pattern="unstructured", rate=0.5)
    return PruneSpec(pattern="unstructured", rate=0.7)


def make_case(point: Point) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded pruned weight (no zero among the kept values) and activations, in the point's dtype."""
    key = f"{point.backend}/{point.format}/{point.dtype}/{point.device}/{point.shape}/{point.prune}"
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    w = torch.randn(point.m, point.k, generator=gen)
    w = torch.where(w >= 0, w + 0.1, w - 0.1)  # |w| ≥ 0.1: non-zero in every dtype
    x = torch.randn(point.k, point.n, generator=gen)
    mask = prune_mask(w, point.prune)
    dt = to_torch(point.dtype)
    return (w * mask).to(dt).to(point.device), x.to(dt).to(point.device)


def check_point(point: Point) -> str:
    """Run the contract for one point; returns 'ran', 'refused' or 'format' (format refuses)."""
    backend = all_backends().get(point.backend)
    fmt = get_format(point.format)
    spec = point.prune
    reason = backend.supports(point)
    fmt_reason = fmt.supports((point.m, point.k), block=spec.block, group_size=spec.group_size,
                              nm=spec.nm)
    if reason is None and fmt_reason is None:
        w, x = make_case(point)
        operand = fmt.encode(w, block=spec.block, group_size=spec.group_size, nm=spec.nm)
        prepared = backend.prepare(operand, x)
        first = prepared.run()
        prepared.sync()
        out = prepared.to_torch(first)
        again = prepared.to_torch(prepared.run())  # run() is repeatable (no hidden state)
        prepared.sync()
        ref = w.double().cpu() @ x.double().cpu()
        assert isinstance(out, torch.Tensor)
        assert tuple(out.shape) == (point.m, point.n)
        assert out.dtype == w.dtype, f"{point.label()}: output dtype {out.dtype}"
        assert out.device.type == w.device.type
        for result in (out, again):
            err = float(torch.linalg.norm(result.double().cpu() - ref) / torch.linalg.norm(ref))
            assert err <= TOLERANCE[point.dtype], f"{point.label()}: rel_error {err:.3g}"
        return "ran"
    if reason is not None:
        assert isinstance(reason, str) and reason.strip(), f"{point.label()}: empty reason"
    if fmt_reason is not None:
        return "format"  # no operand can exist: the backend is never asked to prepare it
    if not _device_usable(point.device):
        return "refused"  # no tensor can be made on an absent device
    w, x = make_case(point)
    operand = fmt.encode(w, block=spec.block, group_size=spec.group_size, nm=spec.nm)
    with pytest.raises(UnsupportedError):
        backend.prepare(operand, x)
    return "refused"


def _device_usable(device: str) -> bool:
    return device == "cpu" or torch.cuda.is_available()


def _params():
    for b in BACKEND_NAMES:
        for f in FORMAT_NAMES:
            for d in DTYPES:
                for dev in DEVICES:
                    marks = [pytest.mark.gpu] if dev == "cuda" else []
                    yield pytest.param(b, f, d, dev, marks=marks, id=f"{b}-{f}-{d}-{dev}")


@pytest.mark.parametrize(("backend", "fmt", "dtype", "device"), list(_params()))
def test_contract(backend: str, fmt: str, dtype: str, device: str) -> None:
    outcomes = []
    for variant, (m, k, n) in enumerate(SHAPES):
        if backend in INTERPRETED and device == "cpu" and variant not in SMALL:
            continue
        shape = (m, k, n)
        point = Point(m, k, n, dtype=dtype, device=device, format=fmt, backend=backend,
                      prune=spec_for(fmt, shape, variant), seed=variant)
        outcomes.append(check_point(point))
    assert outcomes  # every shape gave one of the three outcomes


# What each CPU backend must run (so the contract above is never vacuous): backend → format →
# dtypes, every shape the format can store.
CPU_MUST_RUN = {
    "torch": {"dense": DTYPES},
    "torch_sparse": {"csr": ("float32", "float64"), "csc": ("float32", "float64"),
                     "coo": DTYPES, "bsr": ("float32", "float64")},
    "scipy": {"csr": ("float32", "float64"), "csc": ("float32", "float64"),
              "coo": ("float32", "float64"), "bsr": ("float32", "float64")},
    "numba": {"csr": ("float32", "float64"), "bsr": ("float32", "float64"),
              "row_group": ("float32", "float64")},
}


@pytest.mark.parametrize("backend", sorted(CPU_MUST_RUN))
def test_cpu_backends_run_what_they_declare(backend: str) -> None:
    for fmt, dtypes in CPU_MUST_RUN[backend].items():
        for dtype in dtypes:
            block = (4, 4) if fmt == "bsr" else (1, 1)
            pattern = {"bsr": "block", "row_group": "row_group"}.get(fmt, "unstructured")
            point = Point(24, 36, 5, dtype=dtype, format=fmt, backend=backend,
                          prune=PruneSpec(pattern=pattern, block=block, rate=0.5,
                                          group_size=5 if fmt == "row_group" else 1))
            assert check_point(point) == "ran", point.label()


@pytest.mark.parametrize(("backend", "fmt"), [
    (b, f) for b in ("torch_sparse", "scipy", "numba") for f in ("csr", "csc", "coo", "bsr")
    if f in all_backends().get(b).formats])
def test_fully_pruned_weight(backend: str, fmt: str) -> None:
    """nnz = 0 (rate 1.0) gives an exact zero product, not a crash."""
    point = Point(16, 24, 3, dtype="float32", format=fmt, backend=backend,
                  prune=PruneSpec(pattern="block" if fmt == "bsr" else "unstructured",
                                  block=(4, 4) if fmt == "bsr" else (1, 1), rate=1.0))
    w, x = make_case(point)
    assert not w.any()
    f = get_format(fmt)
    prepared = all_backends().get(backend).prepare(f.encode(w, block=point.prune.block), x)
    out = prepared.to_torch(prepared.run())
    assert tuple(out.shape) == (16, 3) and not out.any()
