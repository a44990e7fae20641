"""RadiX-Net generator: structure, radix pattern, seeded reproducibility, on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.errors import InputError
from harness.graph import radixnet
from harness.graph.radixnet import CONFIGS, WEIGHT, NetConfig


def _dense_emr(base: int, radix: int, place: int) -> np.ndarray:
    """The mixed-radix layer written the way the RadiX-Net paper's code does: a sum of rolled
    identities (independent of the index arithmetic under test)."""
    eye = np.identity(base)
    return sum(np.roll(eye, -j * place, axis=1) for j in range(radix))


def test_unpermuted_layers_are_kronecker_expanded_mixed_radix_layers():
    cfg = NetConfig(neurons=24, radices=(2, 3), bias=-0.3, block=4)  # base 6 = 2·3
    net = list(radixnet.generate_from(cfg, 4, permute="none"))
    places = [1, 2]
    for layer, w in enumerate(net):
        k = layer % 2
        expected = np.kron(np.ones((4, 4)), _dense_emr(6, cfg.radices[k], places[k])) * WEIGHT
        np.testing.assert_array_equal(w.toarray(), expected)


@pytest.mark.parametrize("neurons", [1024, 4096])
def test_challenge_network_has_32_connections_per_neuron_per_layer(neurons, tmp_path):
    net = radixnet.load_or_generate(neurons, 12, seed=3, root=tmp_path)
    assert len(net) == 12
    for w in net:
        assert w.shape == (neurons, neurons)
        assert (np.diff(w.indptr) == 32).all()  # 32 outgoing connections per neuron
        assert (np.bincount(w.indices, minlength=neurons) == 32).all()  # and 32 incoming
        assert (w.data == np.float32(1 / 16)).all()


def test_challenge_base_structure_matches_table_i():
    # 1024 = 2^6 · 16 … 65536 = 2^12 · 16: 6, 8, 10, 12 base layers, radix 2, 16×16 blocks
    assert {n: len(c.radices) for n, c in CONFIGS.items()} == {1024: 6, 4096: 8, 16384: 10,
                                                                65536: 12}
    assert {n: c.bias for n, c in CONFIGS.items()} == {1024: -0.30, 4096: -0.35, 16384: -0.40,
                                                       65536: -0.45}
    assert all(set(c.connections) == {32} for c in CONFIGS.values())


def test_permuted_network_is_a_relabelling_of_the_structured_one():
    plain = radixnet.generate(1024, 7, permute="none")
    perm = radixnet.generate(1024, 7, seed=5, permute="every-layer")
    rng = np.random.default_rng(5)
    labels = [rng.permutation(1024) for _ in range(8)]
    for k, (a, b) in enumerate(zip(plain, perm, strict=True)):
        p_in = np.eye(1024)[labels[k]].T  # P with P[labels[i], i] = 1
        p_out = np.eye(1024)[labels[k + 1]].T
        np.testing.assert_array_equal(b.toarray(), p_in @ a.toarray() @ p_out.T)


def test_seeded_reproducibility_and_seed_sensitivity():
    a = radixnet.generate(1024, 8, seed=1)  # layers 7 and 8 are in the second (permuted) cycle
    b = radixnet.generate(1024, 8, seed=1)
    c = radixnet.generate(1024, 8, seed=2)
    assert all((x != y).nnz == 0 for x, y in zip(a, b, strict=True))
    assert any((x != y).nnz > 0 for x, y in zip(a, c, strict=True))


def test_challenge_mode_permutes_the_rows_of_each_cycle_after_the_first():
    # as the official n1024-l{k}.tsv files: layers 1-6 are the bare structured layers; layers
    # 7-12 share one row relabelling, layers 13-18 another; columns stay in structured order
    plain = radixnet.generate(1024, 18, permute="none")
    lazy = radixnet.generate_from(radixnet.config(1024), 18, seed=7)
    net = list(lazy)
    for k in range(6):
        assert (net[k] != plain[k]).nnz == 0
    p1, p2 = lazy.labels  # one relabelling per later cycle
    assert sorted(p1) == list(range(1024)) and not np.array_equal(p1, p2)
    for k in range(6, 18):
        p = p1 if k < 12 else p2
        a, b = plain[k].toarray(), net[k].toarray()
        assert not np.array_equal(a, b)
        np.testing.assert_array_equal(b[p], a)  # row r moved to p[r], columns untouched


def test_official_first_layer_column_pattern():
    # column 1 of the official n1024-l1.tsv (1-based) holds rows 1, 2, 65, 66, …, 961, 962:
    # output c takes base inputs c and c + 1 (mod 64) in every one of the 16 Kronecker blocks
    w = radixnet.generate(1024, 1)[0].tocsc()
    rows = w.indices[w.indptr[0]:w.indptr[1]]
    assert sorted(rows + 1) == sorted([64 * b + d for b in range(16) for d in (1, 2)])
    rows = w.indices[w.indptr[63]:w.indptr[64]]  # output 64 wraps to base input 1
    assert sorted(rows + 1) == sorted([64 * b + d for b in range(16) for d in (64, 1)])


def test_layers_are_built_on_access_with_a_small_cache(tmp_path):
    net = radixnet.load_or_generate(1024, 1920, seed=0, root=tmp_path)
    (path,) = tmp_path.glob("radixnet-*.npz")
    assert path.stat().st_size < 2_000_000  # 319 permutations, not 1920 layers of CSR
    assert len(net) == 1920 and net.nnz == 1920 * 1024 * 32
    last = net[-1]
    assert (np.diff(last.indptr) == 32).all()
    assert (np.bincount(last.indices, minlength=1024) == 32).all()


def test_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv(radixnet.CACHE_ENV, str(tmp_path))
    first = radixnet.load_or_generate(1024, 6, seed=4)
    files = list(tmp_path.glob("radixnet-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(radixnet, "generate_from", lambda *a, **k: pytest.fail("regenerated"))
    again = radixnet.load_or_generate(1024, 6, seed=4)
    assert all((x != y).nnz == 0 for x, y in zip(first, again, strict=True))


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(radixnet.CACHE_ENV, raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    assert radixnet.cache_dir() == tmp_path / "graph"
    monkeypatch.setenv(radixnet.CACHE_ENV, str(tmp_path / "g"))
    assert radixnet.cache_dir() == tmp_path / "g"


def test_unknown_size_is_an_input_error():
    with pytest.raises(InputError, match="neurons: expected one of 1024, 4096, 16384, 65536"):
        radixnet.generate(1000, 120)
