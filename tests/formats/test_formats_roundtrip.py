"""Every format: exact (bitwise) round trip, layout contract, nbytes, unsupported geometry."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.formats.base import FORMATS, get_format

SETTINGS = settings(max_examples=50, deadline=None)
DTYPES = [torch.float32, torch.float16, torch.bfloat16]
INT_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}
ALL = ["dense", "csr", "csc", "coo", "bsr", "blocked_ell", "semi_structured", "row_group"]


def sparse_matrix(m: int, k: int, density: float, dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(m, k, generator=g).to(dtype)
    w = torch.where(w == 0, torch.ones((), dtype=dtype), w)
    keep = torch.rand(m, k, generator=g) < density
    return torch.where(keep, w, torch.zeros((), dtype=dtype))  # +0.0 only


def two_four(m: int, k: int, dtype, seed: int) -> torch.Tensor:
    w = sparse_matrix(m, k, 1.0, dtype, seed)
    g = torch.Generator().manual_seed(seed + 1)
    keep = torch.rand(m, k // 4, 4, generator=g).argsort(-1).argsort(-1) < 2
    return torch.where(keep.reshape(m, k), w, torch.zeros((), dtype=dtype))


def bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(
        a.contiguous().view(INT_VIEW[a.dtype]), b.contiguous().view(INT_VIEW[b.dtype]))


def test_all_formats_registered():
    get_format("dense")
    assert set(ALL) <= set(FORMATS.names())


@SETTINGS
@given(br=st.integers(1, 4), bc=st.integers(1, 4), mb=st.integers(1, 5), kb=st.integers(1, 5),
       density=st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]), dtype=st.sampled_from(DTYPES),
       g=st.integers(1, 9), seed=st.integers(0, 10_000))
def test_round_trip_bitwise(br, bc, mb, kb, density, dtype, g, seed):
    m, k = br * mb, 4 * bc * kb  # K % 4 == 0 for semi_structured, M % r, K % c for blocks
    dense = sparse_matrix(m, k, density, dtype, seed)
    for name in ALL:
        src = two_four(m, k, dtype, seed) if name == "semi_structured" else dense
        fmt = get_format(name)
        assert fmt.supports((m, k), block=(br, bc), group_size=g) is None
        op = fmt.encode(src, block=(br, bc), group_size=g)
        assert op.format == name and op.shape == (m, k) and op.dtype == dtype
        assert bitwise_equal(fmt.decode(op), src), name
        for key, t in op.arrays.items():
            if key != "values":
                assert t.dtype == torch.int32, (name, key)
        nb = fmt.nbytes(op)
        assert set(nb) == {"values", "indices", "pointers"}
        if name != "semi_structured":
            assert sum(nb.values()) == sum(t.numel() * t.element_size() for t in op.arrays.values())


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@SETTINGS
@given(m=st.integers(1, 9), k=st.integers(1, 20), density=st.sampled_from([0.0, 0.2, 0.6, 1.0]),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 10_000))
def test_element_formats_match_torch_and_nbytes(m, k, density, dtype, seed):
    dense = sparse_matrix(m, k, density, dtype, seed)
    nnz, size = int((dense != 0).sum()), dense.element_size()
    ref = dense.to_sparse_csr()
    csr = get_format("csr").encode(dense)
    assert csr.arrays["crow_indices"].tolist() == ref.crow_indices().tolist()
    assert csr.arrays["col_indices"].tolist() == ref.col_indices().tolist()
    assert get_format("csr").nbytes(csr) == {"values": nnz * size, "indices": 4 * nnz,
                                             "pointers": 4 * (m + 1)}
    csc = get_format("csc").encode(dense)
    ref_c = dense.t().to_sparse_csr()
    assert csc.arrays["ccol_indices"].tolist() == ref_c.crow_indices().tolist()
    assert csc.arrays["row_indices"].tolist() == ref_c.col_indices().tolist()
    coo = get_format("coo").encode(dense)
    idx = dense.nonzero()
    assert coo.arrays["row_indices"].tolist() == idx[:, 0].tolist()
    assert coo.arrays["col_indices"].tolist() == idx[:, 1].tolist()
    assert get_format("coo").nbytes(coo)["indices"] == 8 * nnz


@SETTINGS
@given(m=st.integers(1, 8), k=st.integers(1, 21), g=st.integers(1, 8),
       density=st.sampled_from([0.0, 0.1, 0.5]), seed=st.integers(0, 10_000))
def test_row_group_layout(m, k, g, density, seed):
    dense = sparse_matrix(m, k, density, torch.float32, seed)
    op = get_format("row_group").encode(dense, group_size=g)
    a = op.arrays
    assert op.meta["group_size"] == g
    n_stored = sum(bool((dense[i, j:j + g] != 0).any()) for i in range(m) for j in range(0, k, g))
    assert a["values"].shape == (n_stored, g) and a["row_ptr"].shape == (m + 1,)
    assert int(a["row_ptr"][-1]) == n_stored
    assert all(c % g == 0 for c in a["group_cols"].tolist())
    for gi, col in enumerate(a["group_cols"].tolist()):  # zero padding past K
        assert (a["values"][gi, max(k - col, 0):] == 0).all()
    assert bitwise_equal(get_format("row_group").decode(op), dense)


def test_blocked_ell_padding():
    dense = torch.zeros(4, 6)
    dense[0, 0] = 1.0  # block-row 0: blocks 0 and 2; block-row 1: none
    dense[1, 5] = 2.0
    op = get_format("blocked_ell").encode(dense, block=(2, 2))
    assert op.arrays["col_blocks"].tolist() == [[0, 2], [-1, -1]]
    assert op.arrays["values"].shape == (2, 2, 2, 2)
    assert (op.arrays["values"][1] == 0).all()
    bsr = get_format("bsr").encode(dense, block=(2, 2))
    assert bsr.arrays["crow_indices"].tolist() == [0, 2, 2]
    assert bsr.arrays["col_indices"].tolist() == [0, 2]


def test_unsupported_geometry_gives_reason():
    for name in ("bsr", "blocked_ell"):
        fmt = get_format(name)
        assert "M % 4" in fmt.supports((6, 8), block=(4, 2))
        assert "K % 3" in fmt.supports((8, 8), block=(2, 3))
        with pytest.raises(ValueError, match="needs"):
            fmt.encode(torch.ones(6, 8), block=(4, 2))
    ss = get_format("semi_structured")
    assert "2:4" in ss.supports((8, 8), nm=(2, 8))
    assert "K % 4" in ss.supports((8, 6))
    assert get_format("row_group").supports((8, 8), group_size=0)
    for name in ALL:
        with pytest.raises(ValueError, match="expected a 2-D"):
            get_format(name).encode(torch.ones(2, 4, 4))


def test_semi_structured_checks_the_weight():
    fmt = get_format("semi_structured")
    w = two_four(3, 8, torch.float16, 0)
    w[1, 4:8] = torch.tensor([1.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"row 1, columns 4\.\.7 hold 3 non-zeros"):
        fmt.encode(w)
    op = fmt.encode(two_four(4, 8, torch.float16, 1))
    assert op.meta["nm"] == (2, 4)
    assert fmt.nbytes(op) == {"values": 16 * 2, "indices": 4, "pointers": 0}


def test_negative_zero_decodes_as_zero():
    dense = torch.tensor([[-0.0, 1.0], [2.0, 0.0]])
    for name in ("csr", "csc", "coo", "row_group"):
        fmt = get_format(name)
        assert torch.equal(fmt.decode(fmt.encode(dense, group_size=2)), dense)


def test_operand_to_device_roundtrip():
    dense = sparse_matrix(8, 8, 0.3, torch.float32, 0)
    op = get_format("bsr").encode(dense, block=(2, 2)).to("cpu")
    assert bitwise_equal(get_format("bsr").decode(op), dense)


@pytest.mark.gpu
def test_round_trip_on_cuda():
    dense = sparse_matrix(64, 64, 0.2, torch.float16, 0).cuda()
    for name in ALL:
        src = two_four(64, 64, torch.float16, 0).cuda() if name == "semi_structured" else dense
        fmt = get_format(name)
        op = fmt.encode(src, block=(8, 8), group_size=8)
        assert op.device.type == "cuda"
        assert bitwise_equal(fmt.decode(op).cpu(), src.cpu())
