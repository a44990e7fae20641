"""`harness regress SUITE`: measure fixed points, compare with history; exit 1 on a regression."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from typing import Any

HELP = "measure fixed points and compare them with history (exit 1 on a regression)"


MAX_CONFIRM = 10


def _confirmations(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= MAX_CONFIRM:
        raise argparse.ArgumentTypeError(f"expected 0 … {MAX_CONFIRM}, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", help="suite YAML file, e.g. suites/nightly.yaml")
    p.add_argument("--baseline", default="latest",
                   help="latest (default), a stored run id, or a pytest-benchmark JSON file")
    p.add_argument("--threshold", type=float, default=1.10,
                   help="slowdown ratio that counts, together with Mann-Whitney p < 0.002 "
                   "(default 1.10)")
    p.add_argument("--storage", help="database URL (default: $HARNESS_STORAGE or "
                   "sqlite:///runs/harness.db)")
    p.add_argument("--junit", help="write a JUnit XML file (one test case per point)")
    p.add_argument("--json", help="write the comparison as JSON")
    p.add_argument("--pytest-benchmark", metavar="FILE",
                   help="also write this run in pytest-benchmark's JSON format "
                   "(`pytest-benchmark compare` reads it; --baseline FILE reads it back)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the suite's)")
    p.add_argument("--normalize", choices=("auto", "dense", "drift", "none"), default="auto",
                   help="divide out machine drift: dense = relative to the dense baseline timed "
                   "in the same rounds, drift = the run-wide median drift, none = raw times "
                   "(auto: dense on CPU, none on CUDA)")
    p.add_argument("--confirm", type=_confirmations, default=2,
                   help="re-measure a flagged point this many times; it is a regression only "
                   "if every re-measurement agrees (default 2)")
    p.add_argument("--force", action="store_true",
                   help="compare with runs from another device or thread count")


MAX_BASELINE_BYTES = 256 << 20  # a pytest-benchmark JSON with every raw sample is far smaller


def _check_baseline_file(path: str) -> None:
    """A baseline file must be a regular file of sane size (no FIFO, device or runaway file)."""
    import os
    import stat

    from harness.core.errors import InputError

    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return  # not found: the baseline reader names it ("baseline file not found")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path="--baseline", value=path,
                         expected="latest, a stored run id, or a regular JSON file")
    if st.st_size > MAX_BASELINE_BYTES:
        raise InputError(path="--baseline", value=path,
                         expected=f"a JSON file of at most {MAX_BASELINE_BYTES >> 20} MiB "
                                  f"(it has {st.st_size >> 20} MiB)")


def run(args: argparse.Namespace) -> int:
    from harness.core.paths import check_file
    from harness.regress.run import RegressOptions, main_report, regress

    outputs = {"--junit": args.junit, "--json": args.json,
               "--pytest-benchmark": args.pytest_benchmark}
    for flag, path in outputs.items():  # found out before measuring, not after
        if path is not None:
            check_file(path, flag)
    if args.baseline != "latest" and not args.baseline.isdigit():
        _check_baseline_file(args.baseline)
    opts = RegressOptions(suite=args.suite, baseline=args.baseline, threshold=args.threshold,
                          storage=args.storage, junit=args.junit, json=args.json,
                          force=args.force, device=args.device,
                          normalize=args.normalize, confirm=args.confirm,
                          pytest_benchmark=args.pytest_benchmark)
    result = regress(opts)
    return _report_atomically(main_report, result, opts)


def _report_atomically(report: Any, result: Any, opts: Any) -> int:
    """Run `report` with each output file pointed at a temporary file in the target's folder,
    then rename each over its target: a reader (or a full disk) never sees half a file, and a
    symlink at the target is replaced rather than followed."""
    from harness.core.paths import atomic_target

    names = [n for n in ("junit", "json", "pytest_benchmark") if getattr(opts, n)]
    with contextlib.ExitStack() as stack:
        temps = {n: str(stack.enter_context(atomic_target(getattr(opts, n)))) for n in names}
        return report(result, dataclasses.replace(opts, **temps))
