"""`harness report (--study NAME | --run ID | --suite NAME) [-o DIR] [--storage URL]`.

Writes DIR/index.html (default DIR: reports/<study or suite name>, reports/run-<id>, the name
reduced to one safe folder name) from stored results and prints its path. DIR is checked
writable before the store is read; index.html is written atomically and a symlink there is
replaced, never followed. An unknown study, run or suite is an InputError listing what exists.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError

if TYPE_CHECKING:
    from harness.store.api import Store

HELP = "write a self-contained HTML report from stored results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sel = parser.add_mutually_exclusive_group(required=True)
    sel.add_argument("--study", metavar="NAME", help="report the runs of this Optuna study")
    sel.add_argument("--run", metavar="ID", type=int, help="report one run by its id")
    sel.add_argument("--suite", metavar="NAME", help="report every run of this suite")
    parser.add_argument(
        "-o", "--out", metavar="DIR", help="output folder (default: reports/<study or suite name>)"
    )
    parser.add_argument(
        "--storage", metavar="URL", help="database URL of the store (default: the store's default)"
    )


def _open_store(url: str | None) -> Any:
    from harness.store import open_store  # lazy: the store pulls in SQLAlchemy

    return open_store(url)


def _listing(values: list[str], what: str, url: str) -> str:
    return (
        f"one of the stored {what}: {', '.join(values)}"
        if values
        else f"a stored {what[:-1] if what.endswith('s') else what} (the store {url} has none)"
    )


def check_selection(
    store: Store, *, study: str | None, run_id: int | None, suite: str | None
) -> None:
    """InputError naming what exists when the selected study, run or suite is not stored."""
    runs = store.runs()
    url = getattr(store, "url_redacted", "")
    if study is not None and not any(r.study == study for r in runs):
        names = sorted({r.study for r in runs if r.study})
        raise InputError(path="--study", value=study, expected=_listing(names, "studies", url))
    if suite is not None and not any(r.suite == suite for r in runs):
        names = sorted({r.suite for r in runs if r.suite})
        raise InputError(path="--suite", value=suite, expected=_listing(names, "suites", url))
    if run_id is not None and not any(r.id == run_id for r in runs):
        ids = [str(i) for i in sorted({r.id for r in runs})]
        raise InputError(path="--run", value=run_id, expected=_listing(ids, "run ids", url))


def default_dir(*, study: str | None, run_id: int | None, suite: str | None) -> Path:
    """reports/<study or suite name, sanitised to one harmless folder name>."""
    from harness.core.paths import report_dir

    return report_dir(study or suite or f"run-{run_id}")


def run(args: argparse.Namespace) -> int:
    from harness.core.paths import check_dir
    from harness.report import from_store, write

    sel = {"study": args.study, "run_id": args.run, "suite": args.suite}
    out = Path(args.out) if args.out else default_dir(**sel)
    check_dir(out, "-o" if args.out else "report folder")  # before any work
    store = _open_store(args.storage)
    try:
        check_selection(store, **sel)
        data = from_store(store, **sel)
    finally:
        store.close()
    path = write(data, out)
    print(path)
    return 0
