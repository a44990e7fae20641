"""Storage URLs: the default, validation, redaction (passwords never leave this module raw)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.core.errors import InputError

ENV_VAR = "HARNESS_STORAGE"
DEFAULT_URL = "sqlite:///runs/harness.db"  # relative to the current directory
EXPECTED = "sqlite:///path.db or postgresql+psycopg://user:pass@host/db"

# The driver each supported backend uses when the URL names none (psycopg 3 is the one installed
# by the `postgres` extra; SQLAlchemy's own default for "postgresql" would be psycopg2).
_DEFAULT_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg",
                    "postgres": "postgresql+psycopg"}


def redact(url: str) -> str:
    """The URL with its password replaced by `***`; a string that is not a URL is elided."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: show only the scheme, never the rest (it may hold secrets)
        scheme = url.split(":", 1)[0] if ":" in url else "?"
        return f"{scheme}:…"


def resolve(url: str | None = None) -> str:
    """The URL to open: `url`, else env HARNESS_STORAGE, else `sqlite:///runs/harness.db`.

    Validates the form, fills in the default PostgreSQL driver (psycopg 3) and, for a SQLite
    file, makes the path absolute (so a later chdir does not move the database) and creates its
    folder. Raises InputError naming the (redacted) URL and the expected form.
    """
    from sqlalchemy.engine import make_url

    raw = url if url is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    source = "storage URL" if url is not None or not os.environ.get(ENV_VAR) else ENV_VAR
    try:
        parsed = make_url(raw)
    except Exception:
        raise InputError(f"{source}: {redact(raw)} is not a database URL; expected {EXPECTED}") \
            from None
    if parsed.drivername in _DEFAULT_DRIVERS:
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS[parsed.drivername])
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InputError(f"{source}: unsupported database {redact(raw)}; expected {EXPECTED}")
    if backend == "sqlite":
        db = parsed.database or ""
        if db and db != ":memory:" and not db.startswith("file:"):
            path = Path(db).expanduser().absolute()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"{source}: cannot create the folder of {redact(raw)}: "
                                 f"{exc.strerror}; expected {EXPECTED}") from None
            parsed = parsed.set(database=str(path))
    elif not parsed.database:
        raise InputError(f"{source}: {redact(raw)} names no database; expected {EXPECTED}")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name() == "sqlite"
