"""Property: no list of command-line arguments makes harness print a traceback.

Whatever the arguments (flags in any order, missing or malformed values, hostile paths and
URLs, NUL characters; `--debug` asks for tracebacks, so it is left out), the answer is a usage/help text or one error line, with exit code 0 or 2.
The vocabulary holds no runnable suite, so no example starts a study.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli.main import main

COMMANDS = ["tune", "bench", "report", "regress", "check"]
FLAGS = ["--trials", "--timeout", "--storage", "--study", "--workers", "--device", "--fresh",
         "-o", "--report-dir", "--tuner", "--no-post", "--quiet", "--suite", "--run",
         "--junit", "--json", "--threshold", "--baseline", "--normalize", "--confirm",
         "--force", "--grid", "--pytest-benchmark", "-h", "--version", "--"]
VALUES = ["0", "-1", "1", "3", "1e300", "nan", "inf", "abc", "", " ", "..", "../..", "/",
          "/dev/zero", "/etc", "missing.yaml", "bad.yaml", "dir", "prof.yaml", "list.yaml",
          "sqlite://", "sqlite:///:memory:", "postgresql://u:p@w@h/db", "mysql://x/y",
          "sqlite:///db/h.db?password=x", "cuda:99", "cpu", "auto", "x\x00y", "fc",
          "a/../../b", "reports", "out.xml"]

token = st.one_of(st.sampled_from(COMMANDS + FLAGS + VALUES),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6))
argv = st.one_of(
    st.lists(token, max_size=8),
    st.tuples(st.sampled_from(COMMANDS), st.lists(token, max_size=7)).map(
        lambda t: [t[0], *t[1]]),
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-property")
    (root / "bad.yaml").write_text("name: [unclosed\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "prof.yaml").write_text("sampler: random\noptions: {seed: 0}\n")
    (root / "dir").mkdir()
    return root


@settings(max_examples=int(os.environ.get("HARNESS_PROPERTY_EXAMPLES", "200")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=argv)
def test_random_arguments_never_give_a_traceback(workdir, args):
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(workdir)
    env_storage = os.environ.pop("HARNESS_STORAGE", None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(list(args))
            except SystemExit as exc:  # --version exits through argparse
                rc = exc.code if isinstance(exc.code, int) else 0
    finally:
        os.chdir(old)
        if env_storage is not None:
            os.environ["HARNESS_STORAGE"] = env_storage
    text = err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, (args, text)
    assert rc in (0, 2), (args, rc, text)
    if rc == 2 and "--debug" not in args:
        lines = [line for line in text.splitlines() if line.strip()]
        # one line per refused input (check reports each file on its own line)
        assert all(line.count("error") <= 1 for line in lines), (args, text)
        assert lines or "usage:" in out.getvalue(), (args, out.getvalue())
