"""`harness` entry point. Exit codes: 0 ok, 1 a check failed (e.g. a regression), 2 bad input.

Each command is a module `harness.cli.cmd_<name>` exposing `HELP`, `add_arguments(parser)` and
`run(args) -> int`; modules are imported only when their command runs, so `harness --help` and
`harness check` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from harness import __version__
from harness.core.errors import InputError
from harness.core.registry import UnknownName

COMMANDS = {
    "tune": "search a suite's space with Optuna, measure, train, report",
    "bench": "measure points of a suite without searching",
    "report": "write a self-contained HTML report from stored results",
    "regress": "measure fixed points and compare them with history (exit 1 on a regression)",
    "check": "validate suites and tuner profiles",
    "info": "devices, library versions, backends and counters with their availability",
}


def build_parser(load: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(load=_command_of(argv) or "")
    if not argv:
        parser.print_help()
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for bad arguments
        return int(exc.code or 0)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(_module(args.command).run(args) or 0)
    except (InputError, UnknownName) as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
