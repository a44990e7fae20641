"""The challenge's layer rule (SciPy reference) and the inputs it is fed."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from harness.core.errors import InputError
from harness.graph import inputs as graph_inputs
from harness.graph.network import (
    Network,
    categories_of,
    challenge_network,
    edges,
    reference,
    reference_categories,
)


def _dense_rule(y0: np.ndarray, layers: list[np.ndarray], bias: float) -> np.ndarray:
    """The rule as the challenge states it, in dense float64 numpy."""
    y = y0.astype(np.float64)
    for w in layers:
        z = y @ w
        z = z + (z != 0) * bias
        y = np.minimum(np.maximum(z, 0.0), 32.0)
    return y


def test_bias_goes_to_nonzeros_only_and_values_clamp_at_32():
    w = sp.csr_matrix(np.array([[20.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    net = Network(3, (w,), bias=0.5)  # a positive bias shows where it is (not) added
    y = reference(sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])),
                  net).toarray()
    np.testing.assert_array_equal(y, [[32.0, 0.0, 0.0], [0.0, 0.0, 0.0], [20.5, 0.0, 0.0]])
    assert categories_of(sp.csr_matrix(y)).tolist() == [0, 2]


def test_reference_matches_the_dense_rule_on_a_small_challenge_network(tmp_path):
    net = challenge_network(1024, 12, seed=2, cache=tmp_path)
    y0 = graph_inputs.load_inputs("digits", 1024, 60)
    expected = _dense_rule(y0.toarray(), [w.toarray() for w in net.layers], net.bias)
    got = reference(y0, net)
    np.testing.assert_allclose(got.toarray(), expected, rtol=1e-12, atol=1e-12)
    cats = reference_categories(y0, net)
    assert cats.tolist() == np.flatnonzero(expected.any(axis=1)).tolist()
    assert 0 < len(cats) < 60  # the case separates inputs, so the check can fail
    assert edges(60, net) == 60 * 1024 * 32 * 12


def test_inputs_are_resampled_thresholded_images():
    y = graph_inputs.load_inputs("digits", 1024, 2000)
    assert y.shape == (2000, 1024)
    assert set(np.unique(y.data)) == {1.0}
    corner = np.zeros((1, 2, 2))
    corner[0, 0, 1] = 1.0  # top-right pixel; bilinear 2→4 gives 1 and 0.75 next to it, 0.56
    got = graph_inputs.resample_threshold(corner, 16)  # diagonally, below the 0.68 threshold
    # pixels (row 0, col 2), (0, 3), (1, 3), numbered column by column as the official files
    assert got.indices.tolist() == [2 * 4 + 0, 3 * 4 + 0, 3 * 4 + 1]


def test_mnist_source_uses_the_bundled_loader(monkeypatch):
    from harness.train import data

    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[1, 10:20, 10:20] = 255
    monkeypatch.setattr(data, "bundled_mnist_arrays", lambda: (images, None, None, None))
    y = graph_inputs.load_inputs("mnist", 1024, 5)  # 5 > 3: repeated
    assert y.shape == (5, 1024)
    assert (np.diff(y.indptr) > 0).tolist() == [False, True, False, False, True]


def test_tsv_source_needs_a_path_and_a_square_size():
    with pytest.raises(InputError, match=r"inputs\.path"):
        graph_inputs.load_inputs("tsv", 1024)
    with pytest.raises(InputError, match="square number"):
        graph_inputs.load_inputs("digits", 1000, 2)
