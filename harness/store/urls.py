"""Storage URLs: the default, validation, redaction (passwords never leave this module raw)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.errors import InputError

ENV_VAR = "HARNESS_STORAGE"
DEFAULT_URL = "sqlite:///runs/harness.db"  # relative to the current directory
EXPECTED = "sqlite:///path.db or postgresql+psycopg://user:pass@host/db"

# The driver each supported backend uses when the URL names none (psycopg 3 is the one installed
# by the `postgres` extra; SQLAlchemy's own default for "postgresql" would be psycopg2).
_DEFAULT_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg",
                    "postgres": "postgresql+psycopg"}


# query parameters that carry a secret (libpq's and SQLAlchemy drivers' names, and the usual
# token spellings); compared case-insensitively
SECRET_PARAMS = ("password", "passwd", "pwd", "pass", "sslpassword", "sslkeypassword", "secret",
                 "token", "access_token", "api_key", "apikey", "auth", "authorization")
_SECRET_PARAM = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
    + r")(=)([^&\s'\"<>;]*)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL = re.compile(_SCHEME.pattern + r"[^\s'\"<>]*")
MASK = "***"


def _mask_params(text: str) -> str:
    """`text` with the value of every secret `name=value` pair masked."""
    return _SECRET_PARAM.sub(lambda m: m.group(1) + "=" + MASK, text)


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """(userinfo, remainder) of a URL's part after `scheme://`. The userinfo ends at the *last*
    '@' before the query: a password with an unencoded '@' (or '/') is then masked as a whole
    rather than leaking its tail as a host name."""
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    at = rest.rfind("@", 0, cut)
    if at == -1:
        return None, rest
    return rest[:at], rest[at + 1:]


def redact(url: str) -> str:
    """The URL with every secret masked: the password of the userinfo (however malformed) and
    the values of secret query parameters (`password`, `sslpassword`, …). A string that does
    not look like a URL is elided to its scheme (it may be a secret itself)."""
    match = _SCHEME.match(url)
    if match is None:
        scheme = url.split(":", 1)[0] if ":" in url else "?"
        return f"{_mask_params(scheme)}:…"
    head, rest = match.group(), url[match.end():]
    userinfo, remainder = _split_userinfo(rest)
    if userinfo is not None:
        user = userinfo.split(":", 1)[0]
        shown = f"{user}:{MASK}" if ":" in userinfo else user
        rest = f"{shown}@{remainder}"
    return head + _mask_params(rest)


def scrub(text: str) -> str:
    """`text` (a message, a log line, a page) with every URL in it redacted and every
    `password=…`-style pair masked, wherever it sits."""
    return _mask_params(_URL.sub(lambda m: redact(m.group()), text))


def scrub_data(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, strings) with `scrub` applied to every string, for rows
    about to be stored."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_data(v) for v in value)
    return value


def secrets_of(url: str) -> list[str]:
    """The secret substrings of `url` (for cutting them out of a driver's message)."""
    out = []
    match = _SCHEME.match(url)
    if match is not None:
        userinfo, _ = _split_userinfo(url[match.end():])
        if userinfo and ":" in userinfo:
            out.append(userinfo.split(":", 1)[1])
    out += [m.group(3) for m in _SECRET_PARAM.finditer(url)]
    return [s for s in out if s]


def cut_secrets(text: str, url: str) -> str:
    """`text` with every secret of `url` masked (longest first), then scrubbed."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return scrub(text)


def resolve(url: str | None = None, *, create: bool = True) -> str:
    """The URL to open: `url`, else env HARNESS_STORAGE, else `sqlite:///runs/harness.db`.

    Validates the form, fills in the default PostgreSQL driver (psycopg 3) and, for a SQLite
    file, makes the path absolute (so a later chdir does not move the database) and creates its
    folder. Raises InputError naming the (redacted) URL and the expected form.
    """
    from sqlalchemy.engine import make_url

    raw = url if url is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    source = "storage URL" if url is not None or not os.environ.get(ENV_VAR) else ENV_VAR
    if "\x00" in raw:
        raise InputError(f"{source}: {redact(raw)} contains a NUL character; expected {EXPECTED}")
    match = _SCHEME.match(raw)
    userinfo = _split_userinfo(raw[match.end():])[0] if match else None
    if userinfo is not None and "@" in userinfo:
        raise InputError(f"{source}: {redact(raw)}: the user or password contains an unencoded "
                         "'@'; percent-encode it as %40")
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
        if not db or db == ":memory:" or "mode=memory" in str(parsed):
            # an in-memory database vanishes with its connection: every result would be lost,
            # and Optuna's own connections would not see harness's tables
            raise InputError(f"{source}: {redact(raw)} is an in-memory database (nothing "
                             f"would be kept); expected a file, e.g. sqlite:///runs/harness.db")
        if not db.startswith("file:"):
            path = Path(db).expanduser().absolute()
            try:
                if create:  # `harness check` validates the form only: it writes nothing
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
