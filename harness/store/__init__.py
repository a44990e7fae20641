"""Results store: one SQLAlchemy URL holds the Optuna studies and harness's own tables.

    from harness.store import open_store
    store = open_store()                       # sqlite:///runs/harness.db, or $HARNESS_STORAGE
    store = open_store("postgresql+psycopg://user:pass@host/db")

SQLAlchemy is imported only when a store is opened, so `import harness.store` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.store.api import RunRow, Store, StoredMeasurement, StoredVerdict, VerdictRecord

if TYPE_CHECKING:
    from harness.store.sql import SqlStore

__all__ = ["RunRow", "Store", "StoredMeasurement", "StoredVerdict", "VerdictRecord",
           "open_store", "redact_url"]


def open_store(url: str | None = None) -> SqlStore:
    """Open (creating or migrating as needed) the store at `url`.

    `url` defaults to env HARNESS_STORAGE, else the SQLite file `runs/harness.db` under the
    current directory (its folder is created). A bad URL, an unreachable server or a database
    written by a newer harness raises InputError with one line naming the redacted URL.
    """
    from harness.store.sql import SqlStore

    return SqlStore(url)


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`, safe to print or log."""
    from harness.store.urls import redact

    return redact(url)
