"""Schema versions: create, migrate v0 → v1 (for real, from a hand-built v0 database), refuse
newer versions, live beside other applications' tables."""

from __future__ import annotations

import json

import pytest
import sqlalchemy
from store_samples import ok_measurement

from harness import SCHEMA_VERSION
from harness.core.errors import InputError
from harness.store import migrate, open_store

# The v0 layout as the pre-release harness wrote it (see harness.store.migrate's docstring).
V0_DDL = [
    "CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('schema_version', '0')",
    "CREATE TABLE runs ({pk}, kind VARCHAR(16) NOT NULL, suite TEXT NOT NULL, study TEXT, "
    "context_key VARCHAR(64), status VARCHAR(16) NOT NULL, started_at VARCHAR(40) NOT NULL, "
    "finished_at VARCHAR(40), config TEXT NOT NULL, provenance TEXT)",
    "CREATE TABLE measurements ({pk}, run_id INTEGER NOT NULL REFERENCES runs (id), "
    "context_key VARCHAR(64), point_key VARCHAR(64) NOT NULL, point TEXT NOT NULL, "
    "status VARCHAR(16) NOT NULL, reason TEXT NOT NULL DEFAULT '', samples TEXT NOT NULL, "
    "n INTEGER, median DOUBLE PRECISION, iqr DOUBLE PRECISION, rel_noise DOUBLE PRECISION, "
    "verified BOOLEAN NOT NULL DEFAULT FALSE, rel_error DOUBLE PRECISION, "
    "speedup DOUBLE PRECISION, baseline_key VARCHAR(64), bytes TEXT NOT NULL, "
    "flops BIGINT NOT NULL DEFAULT 0, created_at VARCHAR(40) NOT NULL)",
    "CREATE INDEX ix_measurements_point ON measurements (point_key)",
]
PK = {"sqlite": "id INTEGER PRIMARY KEY", "postgresql": "id SERIAL PRIMARY KEY"}
V0_PROVENANCE = '{"git_sha":"abc123","torch":"2.12.0"}'


def _sql(url: str, *statements: str, params: dict | None = None) -> list:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            result = None
            for s in statements:
                result = conn.execute(sqlalchemy.text(s), params or {})
            return result.all() if result is not None and result.returns_rows else []
    finally:
        engine.dispose()


def _build_v0(url: str) -> dict:
    """A v0 database with two runs (same inline provenance) and one measurement."""
    dialect = sqlalchemy.engine.make_url(url).get_backend_name()
    _sql(url, *[s.format(pk=PK[dialect]) for s in V0_DDL])
    m = ok_measurement()
    _sql(url,
         "INSERT INTO runs (kind, suite, study, status, started_at, config, provenance) VALUES "
         "('tune', 'fc', 's1', 'finished', '2026-01-01T00:00:00+00:00', '{}', :prov), "
         "('bench', 'fc', NULL, 'running', '2026-01-02T00:00:00+00:00', :config, :prov)",
         "INSERT INTO measurements (run_id, context_key, point_key, point, status, samples, n, "
         "median, iqr, rel_noise, verified, speedup, bytes, flops, created_at) VALUES "
         "(1, 'ctx', :key, :point, 'ok', '[0.25,0.5]', 2, 0.375, 0.125, 0.01, TRUE, 1.5, "
         ":bytes, 99, '2026-01-01T00:00:01+00:00')",
         params={"prov": V0_PROVENANCE, "config": '{"grid":true}', "bytes": '{"values":10}',
                 "key": m.point.key(),
                 "point": json.dumps(m.point.as_dict())})
    return {"point": m.point}


def _version(url: str) -> int:
    return int(_sql(url, "SELECT value FROM meta WHERE key = 'schema_version'")[0][0])


def test_new_database_is_created_at_current_version(store_url):
    with open_store(store_url) as store:
        assert store.found_version is None
    assert _version(store_url) == SCHEMA_VERSION
    with open_store(store_url) as store:  # reopening is a no-op
        assert store.found_version == SCHEMA_VERSION


def test_v0_database_is_migrated(store_url):
    v0 = _build_v0(store_url)
    with open_store(store_url) as store:
        assert store.found_version == 0
        runs = store.runs()
        assert [r.provenance for r in runs] == [{"git_sha": "abc123", "torch": "2.12.0"}] * 2
        assert store.count("provenance") == 1  # inline copies deduplicated
        (old,) = store.measurements(study="s1")
        m = old.measurement
        assert (old.context_key, m.point, m.status, m.samples_s) == ("ctx", v0["point"], "ok",
                                                                     (0.25, 0.5))
        assert (m.stats.n, m.stats.median, m.stats.mean, m.speedup, m.flops) == (
            2, 0.375, None, 1.5, 99)
        assert (m.counters, m.throttled, m.wall_s, m.bytes) == ({}, False, 0.0, {"values": 10})
        # The migrated database takes today's records, exactly.
        new = ok_measurement()
        assert store.get_measurement(store.add_measurement(2, new)).measurement == new
        assert store.find_measurement("ctx", v0["point"].key()).id == old.id
    assert _version(store_url) == SCHEMA_VERSION
    engine = sqlalchemy.create_engine(store_url)
    try:
        insp = sqlalchemy.inspect(engine)
        assert "provenance" not in {c["name"] for c in insp.get_columns("runs")}
        assert "ix_measurements_context_point" in {i["name"] for i in
                                                   insp.get_indexes("measurements")}
        assert {"device_peaks", "train_results"} <= set(insp.get_table_names())
    finally:
        engine.dispose()


def test_failed_migration_leaves_database_untouched(store_url, monkeypatch):
    _build_v0(store_url)
    real = migrate.MIGRATIONS[0]

    def half_done(conn):
        real(conn)
        raise RuntimeError("power cut during migration")

    monkeypatch.setitem(migrate.MIGRATIONS, 0, half_done)
    with pytest.raises(RuntimeError, match="power cut"):
        open_store(store_url)
    assert _version(store_url) == 0
    engine = sqlalchemy.create_engine(store_url)
    try:
        insp = sqlalchemy.inspect(engine)
        assert "provenance" not in insp.get_table_names()
        assert "provenance" in {c["name"] for c in insp.get_columns("runs")}
    finally:
        engine.dispose()
    monkeypatch.setitem(migrate.MIGRATIONS, 0, real)
    with open_store(store_url) as store:  # and the real migration still succeeds afterwards
        assert store.found_version == 0 and len(store.runs()) == 2


def test_missing_migration_step_is_reported(store_url, monkeypatch):
    _build_v0(store_url)
    monkeypatch.delitem(migrate.MIGRATIONS, 0)
    with pytest.raises(RuntimeError, match="no migration registered from schema version 0"):
        open_store(store_url)


def test_newer_database_is_refused(store_url):
    open_store(store_url).close()
    newer = SCHEMA_VERSION + 1
    _sql(store_url, f"UPDATE meta SET value = '{newer}' WHERE key = 'schema_version'")
    with pytest.raises(InputError) as err:
        open_store(store_url)
    msg = str(err.value)
    assert f"has schema version {newer}, this harness knows {SCHEMA_VERSION}; upgrade harness" in msg
    assert "\n" not in msg
    url = sqlalchemy.engine.make_url(store_url)
    assert url.render_as_string(hide_password=True) in msg
    if url.password:
        assert f":{url.password}@" not in msg


def test_other_applications_tables_are_fine(store_url):
    import optuna

    optuna.storages.RDBStorage(store_url).engine.dispose()  # Optuna's tables come first
    _sql(store_url, "CREATE TABLE someone_elses (x INTEGER)", "INSERT INTO someone_elses VALUES (7)")
    with open_store(store_url) as store:
        assert store.found_version is None
        store.add_measurement(store.begin_run("bench", "fc", config={}, provenance={}),
                              ok_measurement())
    assert _sql(store_url, "SELECT x FROM someone_elses") == [(7,)]


def test_foreign_table_with_a_harness_name_is_refused(store_url):
    _sql(store_url, "CREATE TABLE runs (x INTEGER)")
    with pytest.raises(InputError, match="not a harness database"):
        open_store(store_url)


def test_foreign_meta_table_is_refused(store_url):
    _sql(store_url, "CREATE TABLE meta (name TEXT)")
    with pytest.raises(InputError, match="not a harness database"):
        open_store(store_url)


def test_migration_registry_rejects_duplicates():
    with pytest.raises(ValueError, match="registered twice"):
        migrate.migration(0)(lambda conn: None)
    assert set(migrate.MIGRATIONS) == set(range(SCHEMA_VERSION))
