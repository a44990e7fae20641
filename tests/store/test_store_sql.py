"""The Store contract, run against SQLite and (marker `postgres`) PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_samples import PROVENANCE, ok_measurement, point, unsupported_measurement

from harness.store import open_store
from harness.store.api import RunRow, StoredMeasurement
from harness.tune.storage import optuna_storage


def _run(store, **kw) -> int:
    args = {"kind": "bench", "suite": "fc", "config": {"suite": "fc", "grid": True},
            "provenance": PROVENANCE} | kw
    return store.begin_run(args.pop("kind"), args.pop("suite"), **args)


# --- measurements round-trip ------------------------------------------------------------------


def test_measurement_round_trip_is_exact(store):
    run = _run(store)
    m = ok_measurement()
    mid = store.add_measurement(run, m, context_key="ctx")
    got = store.get_measurement(mid)
    assert isinstance(got, StoredMeasurement)
    assert (got.id, got.run_id, got.context_key) == (mid, run, "ctx")
    assert got.measurement == m
    # Equality of floats is exact equality; check the bits too, for the un-round ones.
    assert [x.hex() for x in got.measurement.samples_s] == [x.hex() for x in m.samples_s]
    assert got.measurement.stats.iqr.hex() == m.stats.iqr.hex()
    assert isinstance(got.measurement.samples_s, tuple)


def test_measurement_without_stats_round_trips(store):
    run = _run(store)
    m = unsupported_measurement()
    got = store.get_measurement(store.add_measurement(run, m)).measurement
    assert got == m
    assert got.stats is None and got.speedup_ci is None and got.provenance == {}


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(samples=st.lists(finite, min_size=0, max_size=8), median=finite, ci=st.tuples(finite,
       finite), counters=st.dictionaries(st.text(max_size=8), finite | st.integers(
           -2**63, 2**63 - 1) | st.text(max_size=8), max_size=4))
def test_any_finite_floats_round_trip(store, samples, median, ci, counters):
    base = ok_measurement()
    m = dataclasses.replace(base, samples_s=tuple(samples), speedup=median, speedup_ci=ci,
                            stats=dataclasses.replace(base.stats, median=median, n=len(samples)),
                            counters=counters)
    run = _run(store)
    assert store.get_measurement(store.add_measurement(run, m)).measurement == m


def test_get_unknown_measurement_raises(store):
    with pytest.raises(KeyError):
        store.get_measurement(12345)


def test_find_measurement_returns_latest_of_context(store):
    p, q = point(0.9), point(0.5)
    run = _run(store, kind="tune", study="s1", context_key="ctx-a")
    assert store.find_measurement("ctx-a", p.key()) is None
    first = store.add_measurement(run, unsupported_measurement(p), context_key="ctx-a")
    store.add_measurement(run, ok_measurement(p), context_key="ctx-b")  # other context
    store.add_measurement(run, ok_measurement(q), context_key="ctx-a")  # other point
    assert store.find_measurement("ctx-a", p.key()).id == first
    latest = store.add_measurement(run, ok_measurement(p), context_key="ctx-a")
    found = store.find_measurement("ctx-a", p.key())
    assert found.id == latest and found.measurement == ok_measurement(p)
    assert store.find_measurement("ctx-c", p.key()) is None


def test_measurements_filter_by_run_study_suite(store):
    a = _run(store, kind="tune", suite="fc", study="s1")
    b = _run(store, kind="tune", suite="conv", study="s2")
    ids_a = [store.add_measurement(a, ok_measurement(point(r))) for r in (0.5, 0.9)]
    ids_b = [store.add_measurement(b, unsupported_measurement())]
    assert [s.id for s in store.measurements()] == ids_a + ids_b
    assert [s.id for s in store.measurements(run_id=a)] == ids_a
    assert [s.id for s in store.measurements(study="s2")] == ids_b
    assert [s.id for s in store.measurements(suite="fc")] == ids_a
    assert store.measurements(suite="fc", study="s2") == []


# --- runs and provenance -----------------------------------------------------------------------


def test_runs_lifecycle_and_filters(store):
    a = _run(store, kind="tune", suite="fc", study="s1", context_key="ctx")
    b = _run(store, kind="regress", suite="nightly")
    runs = store.runs()
    assert [r.id for r in runs] == [a, b]
    first = runs[0]
    assert isinstance(first, RunRow)
    assert (first.kind, first.suite, first.study, first.context_key, first.status) == (
        "tune", "fc", "s1", "ctx", "running")
    assert first.finished_at is None and first.started_at.endswith("+00:00")
    assert first.config == {"suite": "fc", "grid": True} and first.provenance == PROVENANCE
    store.end_run(a, "interrupted")
    ended = store.runs(study="s1")[0]
    assert ended.status == "interrupted" and ended.finished_at >= ended.started_at
    assert [r.id for r in store.runs(kind="regress")] == [b]
    assert [r.id for r in store.runs(suite="fc")] == [a]


def test_end_run_rejects_unknown_run_and_status(store):
    run = _run(store)
    with pytest.raises(ValueError, match="status"):
        store.end_run(run, "exploded")
    with pytest.raises(KeyError):
        store.end_run(run + 100)
    with pytest.raises(ValueError, match="kind"):
        store.begin_run("dance", "fc", config={}, provenance={})


def test_provenance_is_deduplicated(store):
    a, b = _run(store), _run(store)
    store.add_measurement(a, ok_measurement())
    store.add_measurement(b, ok_measurement())
    assert store.count("provenance") == 1  # two runs, two measurements, one record
    store.add_measurement(b, ok_measurement(provenance=PROVENANCE | {"git_sha": "other"}))
    assert store.count("provenance") == 2
    # Key order does not matter to the hash.
    store.add_measurement(b, ok_measurement(provenance=dict(reversed(PROVENANCE.items()))))
    assert store.count("provenance") == 2


# --- device peaks and training results ---------------------------------------------------------


def test_peaks_upsert(store):
    assert store.get_peak("cuda:H100") is None
    store.set_peak("cuda:H100", 3.35e12, "spec")
    store.set_peak("cpu:xeon", 1.0e11, "stream")
    store.set_peak("cuda:H100", 2.9e12, "copy-kernel")
    assert store.get_peak("cuda:H100") == 2.9e12
    assert store.get_peak("cpu:xeon") == 1.0e11
    assert store.count("device_peaks") == 2


def test_train_results_round_trip_and_indexed_columns(store, store_url):
    a = _run(store, kind="train", study="s1")
    b = _run(store, kind="train", study="s2")
    rec = {"model": "fc", "accuracy": 0.9731, "rate": 0.9, "group_size": 32,
           "pattern": "row_group", "history": [0.5, 0.8, 0.9731], "epochs": 3}
    rid = store.add_train_result(a, rec)
    store.add_train_result(b, {"model": "fc", "point": {"prune": {"rate": 0.5,
                                                                  "group_size": 1}}})
    got = store.train_results(run_id=a)
    assert got == [rec | {"id": rid, "run_id": a}]
    assert len(store.train_results()) == 2
    assert [r["run_id"] for r in store.train_results(study="s2")] == [b]
    engine = sqlalchemy.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT accuracy, rate, group_size, pattern "
                                        "FROM train_results ORDER BY id").all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(0.9731, 0.9, 32, "row_group"), (None, 0.5, 1, None)]


# --- transactions ------------------------------------------------------------------------------


def _fail_on(store, prefix: str):
    """Make the statement starting with `prefix` fail, inside the store's own transaction."""

    def boom(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(prefix):
            raise RuntimeError("simulated crash between two statements of one write")

    engine = store._engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", boom)
    return lambda: sqlalchemy.event.remove(engine, "before_cursor_execute", boom)


def test_interrupted_add_measurement_leaves_nothing(store):
    run = _run(store, provenance={})
    assert store.count("provenance") == 0
    undo = _fail_on(store, "INSERT INTO MEASUREMENTS")
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            store.add_measurement(run, ok_measurement())  # provenance insert ran first
    finally:
        undo()
    assert store.count("measurements") == 0
    assert store.count("provenance") == 0  # the first statement was rolled back too
    store.add_measurement(run, ok_measurement())  # and the store still works
    assert (store.count("measurements"), store.count("provenance")) == (1, 1)


def test_interrupted_begin_run_leaves_nothing(store):
    undo = _fail_on(store, "INSERT INTO RUNS")
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            _run(store)
    finally:
        undo()
    assert store.runs() == [] and store.count("provenance") == 0


# --- Optuna on the same URL --------------------------------------------------------------------


def test_optuna_storage_shares_the_database(store, store_url):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna_storage(store)
    assert optuna_storage(store) is storage
    study = optuna.create_study(storage=storage, study_name="fc-tpe",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)
    run = _run(store, kind="tune", study="fc-tpe")
    store.add_measurement(run, ok_measurement())
    with open_store(store_url) as again:  # another process's view: both kinds of data are there
        loaded = optuna.load_study(study_name="fc-tpe", storage=optuna_storage(again))
        assert len(loaded.trials) == 3
        assert len(again.measurements(study="fc-tpe")) == 1


def test_store_satisfies_protocol_members(store):
    from harness.store.api import Store

    members = [n for n in dir(Store) if not n.startswith("_")] + ["url_redacted"]
    missing = [n for n in members if not hasattr(store, n)]
    assert missing == []
