"""Challenge inputs: sparse 0/1 images, one row per image and one column per neuron.

As in "Sparse Deep Neural Network Graph Challenge" (and Fig. 3 of "Performance of Training Sparse
Deep Neural Networks on GPUs"), the 28×28 MNIST images are resampled to √N × √N (32×32 for 1024
neurons … 256×256 for 65536) and thresholded to 0/1. Our reading of the thresholding: bilinear
resampling of intensities scaled to [0, 1], then value 1 where the result is ≥ 0.5.

Sources (the `INPUTS` registry):
  mnist   the real MNIST training images bundled with the project (harness.train.data)
  digits  scikit-learn's 8×8 digits (1797 images, repeated to the requested count), offline
  tsv     the official sparse-images-{N}.tsv from a path the user gives
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.core.errors import InputError
from harness.core.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

THRESHOLD = 0.5
_CHUNK = 2048  # images resampled at a time (a 256×256 float chunk is 512 MiB)

InputSource = Callable[..., "sp.csr_matrix"]
INPUTS: Registry[InputSource] = Registry("graph input source")


def side(neurons: int) -> int:
    s = math.isqrt(neurons)
    if s * s != neurons:
        raise InputError(f"neurons: expected a square number of neurons, got {neurons}")
    return s


def resample_threshold(images: np.ndarray, neurons: int) -> sp.csr_matrix:
    """uint8/float images (n × h × w, intensities 0…255 or 0…1) → (n × neurons) 0/1 CSR."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    s = side(neurons)
    x = np.asarray(images, dtype=np.float32)
    if x.size and x.max() > 1.0:
        x = x / 255.0
    parts = []
    for start in range(0, len(x), _CHUNK):
        t = torch.from_numpy(x[start:start + _CHUNK])[:, None]
        r = torch.nn.functional.interpolate(t, size=(s, s), mode="bilinear", align_corners=False)
        on = (r.reshape(len(t), neurons) >= THRESHOLD).numpy()
        parts.append(sp.csr_matrix(on.astype(np.float32)))
    if not parts:
        return sp.csr_matrix((0, neurons), dtype=np.float32)
    return sp.vstack(parts, format="csr")


def _repeat(images: np.ndarray, count: int | None) -> np.ndarray:
    import numpy as np

    if count is None or count <= len(images):
        return images[:count]
    reps = -(-count // len(images))
    return np.concatenate([images] * reps)[:count]


@INPUTS.register("mnist")
def mnist_inputs(neurons: int, count: int | None = None, path: str | None = None) -> sp.csr_matrix:
    """The bundled MNIST training images (60 000), resampled and thresholded."""
    from harness.train import data

    x_train = data.bundled_mnist_arrays()[0]
    return resample_threshold(_repeat(x_train, count), neurons)


@INPUTS.register("digits")
def digits_inputs(neurons: int, count: int | None = None, path: str | None = None) -> sp.csr_matrix:
    """scikit-learn's digits (8×8, intensities 0…16), repeated to `count` images."""
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    return resample_threshold(_repeat(images, count), neurons)


@INPUTS.register("tsv")
def tsv_inputs(neurons: int, count: int | None = None, path: str | None = None) -> sp.csr_matrix:
    """The official sparse-images-{N}.tsv at `path` (a file, or the folder holding it)."""
    from pathlib import Path

    from harness.graph import tsv

    if not path:
        raise InputError("inputs.path: the tsv source needs a path to sparse-images-{N}.tsv")
    p = Path(path).expanduser()
    if p.is_dir():
        p = tsv.images_path(p, neurons)
    return tsv.load_images(p, neurons, limit=count)


def load_inputs(source: str, neurons: int, count: int | None = None,
                path: str | None = None) -> sp.csr_matrix:
    return INPUTS.get(source)(neurons, count, path)
