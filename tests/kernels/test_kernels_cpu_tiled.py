"""The column-tiled csr kernel (harness.kernels.cpu.tiled) against the float64 reference and the
row kernel, with the liveness it reports; and its packing helpers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from harness.formats.base import get_format
from harness.kernels.cpu import CpuConfig, spmm, tiled


def _tiles(x: np.ndarray) -> np.ndarray:
    """K × N → tiles × K × TILE, zero-padded."""
    k, n = x.shape
    t = tiled.tiles_for(n)
    pad = np.zeros((k, t * tiled.TILE), x.dtype)
    pad[:, :n] = x
    return np.ascontiguousarray(pad.reshape(k, t, tiled.TILE).transpose(1, 0, 2))


def _untile(xt: np.ndarray, n: int) -> np.ndarray:
    return xt.transpose(1, 0, 2).reshape(xt.shape[1], -1)[:, :n]


@pytest.mark.parametrize("n", [1, 64, 150])
@pytest.mark.parametrize("epilogue", [(False, None), (True, 0.5)])
def test_tiled_kernel_matches_the_reference_and_the_row_kernel(n, epilogue):
    relu, clamp = epilogue
    gen = np.random.default_rng(n)
    m, k = 70, 90
    w = gen.standard_normal((m, k)).astype(np.float32) * (gen.random((m, k)) < 0.2)
    w[3] = 0  # an empty row
    x = gen.standard_normal((k, n)).astype(np.float32)
    x[:, n // 2] = 0  # a column that stays zero before the bias
    bias = gen.standard_normal(m).astype(np.float32) * 0.1

    op = get_format("csr").encode(torch.from_numpy(w))
    want = spmm(op, torch.from_numpy(x), bias=torch.from_numpy(bias), relu=relu, clamp=clamp,
                config=CpuConfig("rows", 16, 64)).numpy()
    wt = sp.csr_matrix(w)
    xt = _tiles(x)
    out = np.empty((xt.shape[0], m, tiled.TILE), np.float32)
    live = np.empty((xt.shape[0], tiled.TILE), np.bool_)
    tiled.csr_tiled_kernel(wt.indptr.astype(np.int64), wt.indices.astype(np.int32), wt.data, xt,
                           out, live, bias, relu, clamp is not None,
                           np.float32(clamp or 0), tiled.TILE)
    got = _untile(out, n)
    ref = w.astype(np.float64) @ x.astype(np.float64) + bias[:, None]
    ref = np.minimum(np.maximum(ref, 0), clamp) if relu else ref
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    full = _untile(out, xt.shape[0] * tiled.TILE)
    assert np.array_equal(live.reshape(-1), (full != 0).any(axis=0))


def test_liveness_marks_columns_that_the_epilogue_zeroes():
    w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    x = np.zeros((2, 3), np.float32)
    x[0, 0], x[1, 1], x[0, 2] = 2.0, 0.25, -1.0  # column 1 falls under the bias, 2 under ReLU
    xt = _tiles(x)
    out = np.empty((1, 2, tiled.TILE), np.float32)
    live = np.empty((1, tiled.TILE), np.bool_)
    bias = np.full(2, -0.5, np.float32)
    tiled.csr_tiled_kernel(w.indptr.astype(np.int64), w.indices.astype(np.int32), w.data, xt, out,
                           live, bias, True, True, np.float32(32), tiled.TILE)
    assert live[0, :3].tolist() == [True, False, False] and not live[0, 3:].any()
    assert out[0, 0, 0] == 1.5


def test_gather_columns_packs_the_kept_columns_and_zeroes_the_rest():
    gen = np.random.default_rng(0)
    x = gen.standard_normal((5, 200)).astype(np.float32)
    keep = np.array([0, 3, 63, 64, 65, 130, 199], np.int64)
    xt = _tiles(x)
    out = np.full((1, 5, tiled.TILE), np.nan, np.float32)
    tiled.gather_columns(xt, keep, out)
    assert np.array_equal(out[0, :, :keep.size], x[:, keep])
    assert not out[0, :, keep.size:].any()


def test_from_csr_rows_transposes_into_zeroed_tiles():
    gen = np.random.default_rng(1)
    y = sp.random(130, 20, density=0.2, format="csr", dtype=np.float32, random_state=gen)
    out = np.full((tiled.tiles_for(130), 20, tiled.TILE), np.nan, np.float32)
    tiled.from_csr_rows(y.indptr.astype(np.int64), y.indices.astype(np.int32), y.data, out)
    assert np.array_equal(_untile(out, 130), y.toarray().T)
    assert not _untile(out, out.shape[0] * tiled.TILE)[:, 130:].any()
