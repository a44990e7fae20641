"""Every place a secret can sit in a URL is masked, in every message, report and stored row."""

from __future__ import annotations

import pytest

from harness.cli.main import main
from harness.core.errors import InputError
from harness.store import open_store, urls

SECRET = "Sup3rS3cr3t"


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql+psycopg://alice:{SECRET}@db:5432/h", "postgresql+psycopg://alice:***@db:5432/h"),
    (f"postgresql://alice@db/h?password={SECRET}", "postgresql://alice@db/h?password=***"),
    (f"postgresql://db/h?sslmode=require&sslpassword={SECRET}&x=1",
     "postgresql://db/h?sslmode=require&sslpassword=***&x=1"),
    (f"postgresql://db/h?PASSWORD={SECRET}", "postgresql://db/h?PASSWORD=***"),
    (f"postgresql://u:{SECRET}@x@db/h", "postgresql://u:***@db/h"),  # unencoded '@'
    (f"postgresql://u:a/{SECRET}@db/h", "postgresql://u:***@db/h"),  # '/' in the password
    (f"postgresql://u:{SECRET}@db/h?token={SECRET}", "postgresql://u:***@db/h?token=***"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_redact_masks_every_secret_place(url, shown):
    assert urls.redact(url) == shown
    assert SECRET not in urls.redact(url)


def test_scrub_masks_urls_and_pairs_inside_any_text():
    text = (f"could not connect to postgresql://u:p@{SECRET}@h/db?sslpassword={SECRET}; "
            f"dsn 'host=h password={SECRET} user=u'")
    out = urls.scrub(text)
    assert SECRET not in out
    assert "could not connect to postgresql://u:***@h/db" in out
    assert urls.scrub_data({"a": [f"x password={SECRET}"], "n": 3}) == \
        {"a": ["x password=***"], "n": 3}


def test_an_unencoded_at_sign_is_refused_without_leaking_the_tail():
    with pytest.raises(InputError) as err:
        urls.resolve(f"postgresql://u:ab@{SECRET}@h/db")
    assert SECRET not in str(err.value) and "ab" not in str(err.value).split("@")[0][-4:]
    assert "percent-encode it as %40" in str(err.value)


def test_cli_messages_never_show_a_secret(tmp_path, capsys):
    for url in (f"postgresql://u:p@{SECRET}@127.0.0.1:1/db",
                f"mysql://u@h/db?password={SECRET}",
                f"postgresql+psycopg://u@127.0.0.1:1/db?password={SECRET}&connect_timeout=1"):
        rc = main(["report", "--study", "x", "--storage", url, "-o", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1, err
        assert SECRET not in err


def test_report_and_stored_rows_hold_no_query_password(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'h.db'}?password={SECRET}"
    # SQLAlchemy names the ignored key (never its value)
    with pytest.warns(RuntimeWarning, match="'password' are not accepted"):
        store = open_store(url)
    try:
        assert SECRET not in store.url_redacted
        run = store.begin_run("tune", "s", config={"note": f"from {url}"}, provenance={},
                              study="st")
        store.add_train_result(run, {"dense": True, "status": f"ok {url}"})
        assert SECRET not in repr(store.runs()[0].config)
        assert SECRET not in repr(store.train_results())
    finally:
        store.close()
    with pytest.warns(RuntimeWarning, match="'password' are not accepted"):
        assert main(["report", "--study", "st", "--storage", url, "-o", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "index.html").read_text()
    assert SECRET not in html and "password=***" in html
    assert SECRET not in capsys.readouterr().out


def test_store_faults_mid_run_are_one_line_exit_1_without_secrets(tmp_path, monkeypatch,
                                                                    capsys):
    from sqlalchemy.exc import OperationalError

    from harness.cli import cmd_report

    def lost(*a, **k):
        raise OperationalError("SELECT 1", {}, Exception(
            f"server closed the connection unexpectedly postgresql://u:{SECRET}@h/db\nmore"))

    monkeypatch.setattr(cmd_report, "check_selection", lost)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["report", "--study", "x", "--storage", url, "-o", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("harness report: store fault: server closed the connection")
    assert err.count("\n") == 1 and SECRET not in err
