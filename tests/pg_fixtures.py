"""PostgreSQL fixtures for any test area: `pg_admin_url` and `pg_url` (a fresh, empty schema).

Use them by importing them into a test module or an area's conftest.py:

    from pg_fixtures import pg_admin_url, pg_url  # noqa: F401  (pytest finds fixtures by name)

and mark the tests `@pytest.mark.postgres`. The server comes from env HARNESS_TEST_POSTGRES_URL
(.ci/run starts one; the role may CREATE DATABASE). Without it the tests are skipped on a
developer's machine but fail under CI=true: CI must prove they ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ENV = "HARNESS_TEST_POSTGRES_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if in_ci():
            pytest.fail(f"{PG_ENV} is not set but CI=true: the PostgreSQL tests must run in CI "
                        f"(see .ci/run)", pytrace=False)
        pytest.skip(f"{PG_ENV} not set (the PostgreSQL tests run in CI)")
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """URL of a new, empty schema (first on the search_path), dropped after the test: tests
    never see each other's rows. A schema costs milliseconds where CREATE DATABASE costs ~1 s.
    Subprocesses and Optuna given this URL land in the same schema (it travels in the URL)."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    name = f"harness_test_{uuid.uuid4().hex[:16]}"
    admin = sqlalchemy.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        url = make_url(pg_admin_url).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql("SET lock_timeout = '20s'")
            conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        admin.dispose()
