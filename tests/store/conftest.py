"""Store fixtures: every contract test runs on a SQLite file and (marker `postgres`) on a fresh
PostgreSQL schema; see tests/pg_fixtures.py for when PostgreSQL cases skip or fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_fixtures import pg_admin_url, pg_url  # noqa: F401  (fixtures, found by name)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'harness.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator:
    from harness.store import open_store

    s = open_store(store_url)
    yield s
    s.close()
