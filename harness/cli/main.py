"""`harness` entry point. Exit codes: 0 ok, 1 a check failed (e.g. a regression) or the
environment failed under the work (store lost, disk full, corrupt database: one line), 2 bad
input (including a store that cannot be opened and an output path that cannot be written),
130 interrupted. No error prints a traceback unless `--debug`; every message has the secrets of
storage URLs cut out (see harness.core.errors).

Each command is a module `harness.cli.cmd_<name>` exposing `HELP`, `add_arguments(parser)` and
`run(args) -> int`; modules are imported only when their command runs, so `harness --help` and
`harness check` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from typing import NoReturn

from harness import __version__
from harness.core.errors import HarnessError, InputError
from harness.core.registry import UnknownName

COMMANDS = {
    "tune": "search a suite's space with Optuna, measure, train, report",
    "bench": "measure points of a suite without searching",
    "report": "write a self-contained HTML report from stored results",
    "regress": "measure fixed points and compare them with history (exit 1 on a regression)",
    "check": "validate suites and tuner profiles",
    "info": "devices, library versions, backends and counters with their availability",
    "graph": "run the Sparse DNN Graph Challenge cases of a graph suite (edges per second)",
    "export": "write stored measurements, trials and trained models as CSV, Parquet or JSON",
}


class _Parser(argparse.ArgumentParser):
    """argparse with the harness convention for bad input: one line, exit 2 (no usage block;
    `--help` shows it)."""

    def error(self, message: str) -> NoReturn:
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {line} (see {self.prog} --help)\n")


def build_parser(load: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="harness",
        description="Find where pruning pays: benchmark and autotune pruned (sparse) layers.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks on errors")
        if load is None or load == name:
            _module(name).add_arguments(p)
    return parser


def _module(name: str):
    return importlib.import_module(f"harness.cli.cmd_{name}")


def _command_of(argv: list[str]) -> str | None:
    return next((a for a in argv if a in COMMANDS), None)


def _fault(exc: BaseException) -> str | None:
    """What kind of environment fault `exc` is (None: not one). Checked by module name, so the
    database libraries are not imported here."""
    modules = {c.__module__.split(".")[0] for c in type(exc).__mro__}
    if modules & {"sqlalchemy", "sqlite3", "psycopg", "psycopg2"}:
        return "store fault"
    if "optuna" in modules and "Storage" in type(exc).__name__:  # Optuna's wrapper of the same
        return "store fault"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError):
        return "I/O error"
    return None


def _secret_free(text: str, args: argparse.Namespace | None) -> str:
    from harness.store.urls import cut_secrets, scrub

    for url in (getattr(args, "storage", None), os.environ.get("HARNESS_STORAGE")):
        if url:
            text = cut_secrets(text, url)
    return scrub(text)


def _say(command: str, text: str, args: argparse.Namespace | None) -> None:
    line = " ".join(_secret_free(text, args).split("\n")[0].split()) or "(no message)"
    print(f"harness {command}: {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(load=_command_of(argv) or "")
    if not argv:
        parser.print_help()
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for bad arguments
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 2
    if not args.command:
        parser.print_help()
        return 2
    debug = getattr(args, "debug", False)
    try:
        return int(_module(args.command).run(args) or 0)
    except (InputError, UnknownName) as exc:
        if debug:
            traceback.print_exc()
        _say(args.command, f"error: {exc}", args)
        return 2
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
    except HarnessError as exc:  # FaultError and the rest; InputError is caught above
        if debug:
            traceback.print_exc()
        _say(args.command, f"failed: {exc}", args)
        return 1
    except Exception as exc:
        if debug:
            traceback.print_exc()
        kind = _fault(exc)
        if kind is not None:
            detail = str(getattr(exc, "orig", None) or exc)
            _say(args.command, f"{kind}: {detail}", args)
        else:
            _say(args.command, f"internal error: {type(exc).__name__}: {exc} (--debug shows "
                               "the traceback)", args)
        return 1
