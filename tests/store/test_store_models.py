"""Whole-model study records are stored with their run and read back by run, study and suite; a
schema-2 database (every table but `model_results`) is upgraded in place, keeping its rows."""

from __future__ import annotations

from store_samples import downgrade, ok_measurement

from harness import SCHEMA_VERSION
from harness.store import open_store

RECORD = {"kind": "model", "model": "llama_mlp", "dense_model_s": 2.0 ** -10,
          "candidates": [{"label": "uniform csr/numba unstructured 90%", "time_s": 0.1 + 0.2,
                          "rate": 0.9, "uniform": True}],
          "chosen": None}


def test_model_records_round_trip_and_filter_by_run_study_and_suite(store):
    first = store.begin_run("model", "llama_mlp", config={}, provenance={}, study="llama-cpu")
    second = store.begin_run("model", "fc_net", config={}, provenance={}, study="fc-cpu")
    a = store.add_model_result(first, RECORD)
    b = store.add_model_result(second, {**RECORD, "model": "fc"})
    assert store.model_results(run_id=first) == [{**RECORD, "id": a, "run_id": first}]
    assert [r["id"] for r in store.model_results(study="fc-cpu")] == [b]
    assert [r["id"] for r in store.model_results(suite="llama_mlp")] == [a]
    assert [r["id"] for r in store.model_results()] == [a, b]
    assert store.model_results(study="nope") == []
    assert [r.kind for r in store.runs()] == ["model", "model"]


def test_a_schema_2_database_is_upgraded_with_its_rows(store_url):
    with open_store(store_url) as store:
        run = store.begin_run("tune", "fc", config={}, provenance={"git_sha": "abc"})
        mid = store.add_measurement(run, ok_measurement())
        store.end_run(run)
    downgrade(store_url, "model_results", 2)
    with open_store(store_url) as store:
        assert store.found_version == 2
        assert store.get_measurement(mid).measurement == ok_measurement()
        model_run = store.begin_run("model", "llama_mlp", config={}, provenance={})
        store.add_model_result(model_run, RECORD)
        assert [r["model"] for r in store.model_results(run_id=model_run)] == ["llama_mlp"]
    with open_store(store_url) as store:
        assert store.found_version == SCHEMA_VERSION == 3
