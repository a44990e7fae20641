"""Regression verdicts are stored with their run and read back exactly; a schema-1 database
(every table but `verdicts`) is upgraded in place, keeping its rows."""

from __future__ import annotations

from store_samples import downgrade, ok_measurement

from harness import SCHEMA_VERSION
from harness.store import VerdictRecord, open_store


def _verdict(key: str, mid: int | None, **kw) -> VerdictRecord:
    base = dict(point_key=key, verdict="regression", ratio=1.2345678901234567, p_value=1e-5,
                normalize="dense", factor=1.0 / 3, threshold=1.1, baseline_median_s=0.1 + 0.2,
                current_median_s=2.0 ** -30, n_baseline=11, n_current=12, measurement_id=mid,
                baseline_run_id=1, confirmed=2,
                remeasured=({"status": "ok", "median_s": 0.5, "factor": 1.0,
                             "verdict": "regression", "ratio": 1.3, "p_value": 2e-4},))
    return VerdictRecord(**{**base, **kw})


def test_verdicts_round_trip_and_filter_by_run_and_suite(store):
    m = ok_measurement()
    first = store.begin_run("regress", "nightly", config={}, provenance={})
    mid = store.add_measurement(first, m)
    v1 = _verdict(m.point.key(), mid)
    v1_id = store.add_verdict(first, v1)
    second = store.begin_run("regress", "other", config={}, provenance={})
    v2 = _verdict("k2", None, verdict="unchanged", ratio=None, p_value=None, remeasured=(),
                  confirmed=0, baseline_run_id=None, baseline_median_s=None)
    store.add_verdict(second, v2)
    (got,) = store.verdicts(run_id=first)
    assert (got.id, got.run_id, got.record) == (v1_id, first, v1)  # floats bit-exact
    assert [s.record for s in store.verdicts(suite="other")] == [v2]
    assert [s.record.verdict for s in store.verdicts()] == ["regression", "unchanged"]
    assert store.verdicts(run_id=999) == []


def test_a_schema_1_database_is_upgraded_with_its_rows(store_url):
    with open_store(store_url) as store:
        run = store.begin_run("regress", "nightly", config={}, provenance={"git_sha": "abc"})
        mid = store.add_measurement(run, ok_measurement())
        store.end_run(run)
    downgrade(store_url, "verdicts", 1)
    with open_store(store_url) as store:
        assert store.found_version == 1
        assert [(r.id, r.status, r.provenance) for r in store.runs()] == \
            [(run, "finished", {"git_sha": "abc"})]
        assert store.get_measurement(mid).measurement == ok_measurement()
        v = _verdict(ok_measurement().point.key(), mid)
        store.add_verdict(run, v)
        assert [s.record for s in store.verdicts(run_id=run)] == [v]
    with open_store(store_url) as store:
        assert store.found_version == SCHEMA_VERSION
