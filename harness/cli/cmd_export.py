"""`harness export [--storage URL] [--study S | --suite S | --run N] [--samples]
--format csv|parquet|json -o DIR`.

Writes one file per table of harness.export.frames — measurements, trials, models, decision
(and samples with --samples) — as DIR/<table>.<format>, each atomically, and prints their
paths. DIR is checked writable before the store is read; an unknown study, suite or run, or a
selection with no stored results, is one line and exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.errors import InputError

HELP = "write stored measurements, trials and trained models as CSV, Parquet or JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.export import WRITERS

    sel = parser.add_mutually_exclusive_group()
    sel.add_argument("--study", metavar="NAME", help="export the runs of this Optuna study")
    sel.add_argument("--suite", metavar="NAME", help="export every run of this suite")
    sel.add_argument("--run", metavar="ID", type=int, help="export one run by its id")
    parser.add_argument("--samples", action="store_true",
                        help="also write every raw timing sample (samples.<format>)")
    parser.add_argument("--format", required=True, choices=sorted(WRITERS),
                        help="file format of the tables")
    parser.add_argument("-o", "--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument("--storage", metavar="URL",
                        help="database URL of the store (default: $HARNESS_STORAGE or "
                             "sqlite:///runs/harness.db)")


def run(args: argparse.Namespace) -> int:
    from harness.cli.cmd_report import check_selection
    from harness.core.paths import check_dir
    from harness.export import frames, write
    from harness.store import open_store

    out = check_dir(Path(args.out), "-o")  # before any work
    sel = {"study": args.study, "run_id": args.run, "suite": args.suite}
    store = open_store(args.storage)
    try:
        check_selection(store, **sel)
        tables = frames(store, samples=args.samples, **sel)
        if all(tables[k].empty for k in ("measurements", "models", "trials")) \
                and "model_configs" not in tables:
            flag, value = next(((f"--{k}", v) for k, v in
                                (("study", args.study), ("suite", args.suite), ("run", args.run))
                                if v is not None), ("--storage", store.url_redacted))
            raise InputError(path=flag, value=value,
                             expected="a selection with stored measurements, trials or models "
                                      "(it has none)")
    finally:
        store.close()
    for path in write(tables, out, args.format):
        print(path)
    return 0
