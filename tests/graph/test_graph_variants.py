"""Every CPU variant reproduces the reference's categories; a wrong one is invalid, never rated."""

from __future__ import annotations

import pytest

from harness.graph import bench, engines
from harness.graph.inputs import load_inputs
from harness.graph.network import challenge_network, reference_categories
from harness.graph.variants import VARIANTS, Variant, variants_for


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    net = challenge_network(1024, 12, seed=1, cache=tmp_path_factory.mktemp("graph"))
    y0 = load_inputs("digits", 1024, 150)
    truth = reference_categories(y0, net)
    assert 0 < len(truth) < 150  # some inputs die, some survive: a wrong variant shows
    return net, y0, truth


@pytest.mark.parametrize("name", [v.name for v in variants_for("cpu")])
@pytest.mark.parametrize("batch", [None, 64])
def test_cpu_variant_matches_reference_categories(case, name, batch):
    net, y0, truth = case
    r = bench.run_variant(VARIANTS.get(name), net, y0, truth, repeats=2, batch=batch, threads=1)
    assert r.status == "ok", r.reason
    assert r.categories == len(truth)
    assert len(r.samples_s) == 2 and r.rate == pytest.approx(150 * net.connections / r.time_s)


def test_cuda_variants_report_a_reason_instead_of_crashing(case):
    import torch

    net, y0, truth = case
    for v in variants_for("cuda"):
        r = bench.run_variant(v, net, y0, truth, repeats=1)
        if torch.cuda.is_available() and v.available(net.neurons) is None:
            assert r.status == "ok", r.reason
        else:
            assert r.status == "unsupported" and r.reason and r.rate is None


class _NoBiasEngine(engines.ScipyEngine):
    """The rule without its bias: a plausible bug the check must catch."""

    def layer(self, y, w, bias):
        return super().layer(y, w, 0.0)


def test_a_variant_with_wrong_categories_is_invalid_and_unrated(case):
    net, y0, truth = case
    wrong = Variant("no-bias", "cpu", "test", lambda: _NoBiasEngine())
    r = bench.run_variant(wrong, net, y0, truth, repeats=1)
    assert r.status == "invalid" and r.rate is None
    assert r.reason.startswith("categories differ from the reference")
    m = bench.to_measurement(r)
    assert m.status == "invalid" and not m.verified and m.stats is None


def test_measurement_keys_differ_by_layers_and_variant(case):
    net, y0, truth = case
    r = bench.run_variant(VARIANTS.get("scipy"), net, y0, truth, repeats=1)
    m = bench.to_measurement(r, seed=1)
    assert m.status == "ok" and m.verified and m.counters["graph"]["rate_edges_per_s"] == r.rate
    other = bench.to_measurement(bench.Result(**{**r.__dict__, "layers": 120}), seed=1)
    renamed = bench.to_measurement(bench.Result(**{**r.__dict__, "variant": "x"}), seed=1)
    assert len({m.point.key(), other.point.key(), renamed.point.key()}) == 3


@pytest.mark.parametrize("min_work", [0, 1 << 62])  # every layer parallel / every layer serial
def test_fused_numba_parallel_and_serial_paths_agree_with_reference(case, monkeypatch, min_work):
    from harness.graph import fused

    net, y0, truth = case
    monkeypatch.setattr(fused, "PARALLEL_MIN_WORK", min_work)
    r = bench.run_variant(VARIANTS.get("numba_fused-filter"), net, y0, truth, repeats=1,
                          threads=2)
    assert r.status == "ok", r.reason


def test_fused_engine_take_rows_matches_scipy_engine():
    """take_rows (the Engine protocol) keeps the nonempty rows of the fused engine's CSR triple."""
    import numpy as np
    import scipy.sparse as sp

    from harness.graph import fused
    y0 = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0], [2, 0, 3], [0, 0, 0]], dtype=np.float32))
    eng = fused.NumbaFusedEngine(threads=1)
    y = eng.inputs(y0)
    rows = eng.nonempty(y)
    assert rows.tolist() == [0, 2]
    indptr, indices, data = eng.take_rows(y, rows)
    want = engines.ScipyEngine().take_rows(y0, rows)
    assert indptr.tolist() == want.indptr.tolist() == [0, 1, 3]
    assert indices.tolist() == want.indices.tolist() and data.tolist() == want.data.tolist()
    assert eng.take_rows(y, eng.arange(4)) is y  # nothing to drop: unchanged
