"""Storage URLs: default location, env override, validation, redaction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.store import open_store, redact_url, urls

SECRET = "s3cr3t-pw"


def test_default_is_sqlite_under_runs_in_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(urls.ENV_VAR, raising=False)
    with open_store() as store:
        assert store.url_redacted == f"sqlite:///{tmp_path / 'runs' / 'harness.db'}"
        store.begin_run("bench", "fc", config={}, provenance={})
    assert (tmp_path / "runs" / "harness.db").is_file()


def test_env_overrides_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(urls.ENV_VAR, "sqlite:///elsewhere/x.db")
    with open_store() as store:
        assert store.url_redacted.endswith("/elsewhere/x.db")
    assert (tmp_path / "elsewhere" / "x.db").is_file()
    assert not (tmp_path / "runs").exists()


def test_relative_sqlite_path_is_pinned_at_open(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = urls.resolve("sqlite:///a/b.db")
    assert resolved == f"sqlite:///{tmp_path / 'a' / 'b.db'}"
    assert Path(tmp_path / "a").is_dir()


def test_postgres_urls_get_the_psycopg_driver():
    assert urls.resolve("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert urls.resolve("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert urls.resolve("postgresql+psycopg://u:p@h:5433/db").endswith("@h:5433/db")


def test_redaction_hides_password():
    url = f"postgresql+psycopg://alice:{SECRET}@db.example:5432/harness"
    assert redact_url(url) == "postgresql+psycopg://alice:***@db.example:5432/harness"
    assert SECRET not in redact_url(f"not a url {SECRET}")


@pytest.mark.parametrize("bad", [
    f"nonsense-{SECRET}",
    f"mysql://root:{SECRET}@localhost/db",
    f"postgresql+psycopg://u:{SECRET}@localhost",
    "",
])
def test_bad_urls_are_input_errors_without_password(bad):
    with pytest.raises(InputError) as err:
        open_store(bad)
    msg = str(err.value)
    assert "sqlite:///path.db" in msg and "postgresql+psycopg://user:pass@host/db" in msg
    assert SECRET not in msg and "\n" not in msg


def test_bad_env_url_names_the_variable(monkeypatch):
    monkeypatch.setenv(urls.ENV_VAR, f"mysql://root:{SECRET}@h/db")
    with pytest.raises(InputError, match=urls.ENV_VAR) as err:
        open_store()
    assert SECRET not in str(err.value)


def test_unreachable_server_is_a_one_line_input_error():
    with pytest.raises(InputError) as err:
        open_store(f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:1/harness?connect_timeout=2")
    msg = str(err.value)
    assert msg.startswith("cannot open database postgresql+psycopg://alice:***@127.0.0.1:1/")
    assert SECRET not in msg and "\n" not in msg


def test_repr_never_shows_password(store_url):
    with open_store(store_url) as store:
        from sqlalchemy.engine import make_url

        password = make_url(store_url).password
        assert "***" in repr(store) or password is None
        if password:
            assert f":{password}@" not in repr(store) + store.url_redacted


def test_import_store_does_not_import_sqlalchemy():
    code = ("import sys, harness.store; "
            "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'; "
            "assert 'optuna' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
