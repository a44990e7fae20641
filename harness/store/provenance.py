"""Provenance records, deduplicated by content hash: many runs and measurements share one row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from harness.store import schema
from harness.store.dialects import insert_ignore


def content_hash(record: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys): equal records ⇒ equal hashes."""
    blob = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=True,
                      default=schema.jsonable)
    return hashlib.sha256(blob.encode()).hexdigest()


def intern(conn: Connection, record: Mapping[str, Any] | None) -> int | None:
    """Id of the provenance row holding `record`, inserting it if new; None for an empty record.

    INSERT … ON CONFLICT DO NOTHING then SELECT: two writers storing the same record at once
    both end up with the one row.
    """
    if not record:
        return None
    digest = content_hash(record)
    table = schema.provenance
    conn.execute(insert_ignore(conn, table, ["hash"]).values(
        hash=digest, record=dict(record), created_at=schema.utcnow()))
    return conn.execute(select(table.c.id).where(table.c.hash == digest)).scalar_one()


def load(conn: Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Provenance records by id (one query for a whole result set)."""
    if not ids:
        return {}
    table = schema.provenance
    rows = conn.execute(select(table.c.id, table.c.record).where(table.c.id.in_(sorted(ids))))
    return {row.id: row.record for row in rows}
