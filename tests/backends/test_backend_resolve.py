"""Backend "auto": the preference table, fall-through to registered backends, and reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.backends import resolve
from harness.backends.base import BACKENDS, Backend, all_backends
from harness.core.point import Point, PruneSpec
from harness.core.registry import UnknownName


def auto(fmt: str, dtype: str = "float32", device: str = "cpu", **prune) -> Point:
    return Point(32, 64, 50, dtype=dtype, device=device, format=fmt, backend="auto",
                 prune=PruneSpec(**prune))


@pytest.mark.parametrize(("point", "expected"), [
    (auto("dense"), "torch"),
    (auto("dense", "bfloat16"), "torch"),
    (auto("csr"), "numba"),  # the bundled CPU kernels first (resolve.py's rule)
    (auto("row_group", pattern="row_group", group_size=4), "numba"),
    (auto("csc", "float64"), "torch_sparse"),
    (auto("coo", "float16"), "torch_sparse"),  # torch's own COO kernel runs half on CPU
    (auto("bsr", pattern="block", block=(4, 4)), "numba"),
    (auto("bsr", "float64", pattern="block", block=(2, 4)), "numba"),
])
def test_resolve_picks_first_supporting(point: Point, expected: str) -> None:
    assert resolve.resolve_backend(point) == expected
    assert all_backends().get(expected).supports(replace(point, backend=expected)) is None


def test_resolve_without_any_supporter_names_the_preferred_backend_and_its_reason() -> None:
    point = auto("csr", "float16")  # neither Numba, MKL CSR nor SciPy runs float16 CSR
    name = resolve.resolve_backend(point)
    assert name == "numba"
    reason = all_backends().get(name).supports(replace(point, backend=name))
    assert "float16" in reason
    assert resolve.backends_for(point) == []


def test_resolve_cuda_point_without_cuda() -> None:
    point = auto("semi_structured", "float16", "cuda", pattern="nm", nm=(2, 4))
    assert resolve.resolve_backend(point) == "semi_structured"
    assert resolve.backends_for(point) in ([], ["semi_structured"])


def test_explicit_backend_is_returned_unchanged() -> None:
    assert resolve.resolve_backend(replace(auto("csr"), backend="scipy")) == "scipy"


def test_backends_for_lists_every_supporter_in_preference_order() -> None:
    assert resolve.backends_for(auto("csr"))[:3] == ["numba", "torch_sparse", "scipy"]
    assert resolve.backends_for(auto("csr", "float64"))[:3] == ["numba", "torch_sparse", "scipy"]
    assert resolve.backends_for(auto("dense"))[0] == "torch"
    # MKL BSR needs square blocks: after Numba, SciPy is next.
    assert resolve.backends_for(auto("bsr", pattern="block", block=(2, 4)))[:2] == \
        ["numba", "scipy"]


def test_numba_csr_steps_behind_mkl_for_small_n() -> None:
    """MKL CSR won at N = 8 in the measurements resolve.py quotes; Numba still runs the point."""
    few = Point(32, 64, 8, format="csr", backend="auto", prune=PruneSpec())
    assert resolve.backends_for(few)[:3] == ["torch_sparse", "scipy", "numba"]
    assert resolve.resolve_backend(replace(few, n=1)) == "numba"
    assert resolve.resolve_backend(replace(few, n=16)) == "numba"
    assert resolve.resolve_backend(replace(few, format="row_group",
                                           prune=PruneSpec("row_group", 0.5, 4))) == "numba"


def test_preference_table_names_are_registered_or_optional() -> None:
    names = set(all_backends().names())
    for row in resolve.PREFERENCES.values():
        assert set(row) <= names | {"triton"}  # triton may fail to import; it is then skipped


class _Fancy(Backend):
    name = "fancy"
    formats = frozenset({"fancy_format"})
    devices = frozenset({"cpu"})
    dtypes = frozenset({"float32"})

    def prepare(self, operand, x):  # pragma: no cover - never prepared here
        raise NotImplementedError


def test_backend_missing_from_the_table_is_still_found(monkeypatch: pytest.MonkeyPatch) -> None:
    all_backends()
    monkeypatch.setitem(BACKENDS._items, "fancy", _Fancy())
    assert resolve.resolve_backend(auto("fancy_format")) == "fancy"
    assert resolve.backends_for(auto("fancy_format")) == ["fancy"]


def test_crashing_supports_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(_Fancy):
        name = "broken"

        def supports(self, point):
            raise RuntimeError("boom")

    all_backends()
    monkeypatch.setitem(BACKENDS._items, "broken", Broken())
    monkeypatch.setitem(BACKENDS._items, "fancy", _Fancy())
    monkeypatch.setitem(resolve.PREFERENCES, ("fancy_format", "cpu"), ("broken", "fancy"))
    assert resolve.resolve_backend(auto("fancy_format")) == "fancy"


def test_unknown_explicit_backend_lists_valid_names() -> None:
    with pytest.raises(UnknownName, match="torch_sparse"):
        all_backends().get("cusparse")


def test_auto_names_the_missing_backend_when_no_backend_runs_the_format():
    from harness.backends.resolve import unsupported_reason
    from harness.core.point import Point, PruneSpec

    p = Point(64, 64, 8, format="blocked_ell", backend="auto",
              prune=PruneSpec("block", 0.5, block=(16, 16)))
    _, reason = unsupported_reason(p)
    assert reason.startswith("no registered backend runs format 'blocked_ell'")
    csr = Point(64, 64, 8, format="csr", backend="auto", prune=PruneSpec("row_group", 0.5, 2))
    assert unsupported_reason(csr)[1] is None
