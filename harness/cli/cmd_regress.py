"""`harness regress SUITE`: measure fixed points, compare with history; exit 1 on a regression."""

from __future__ import annotations

import argparse

HELP = "measure fixed points and compare them with history (exit 1 on a regression)"


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
    p.add_argument("--confirm", type=int, default=2,
                   help="re-measure a flagged point this many times; it is a regression only "
                   "if every re-measurement agrees (default 2)")
    p.add_argument("--force", action="store_true",
                   help="compare with runs from another device or thread count")


def run(args: argparse.Namespace) -> int:
    from harness.regress.run import RegressOptions, main_report, regress

    opts = RegressOptions(suite=args.suite, baseline=args.baseline, threshold=args.threshold,
                          storage=args.storage, junit=args.junit, json=args.json,
                          force=args.force, device=args.device,
                          normalize=args.normalize, confirm=args.confirm,
                          pytest_benchmark=args.pytest_benchmark)
    return main_report(regress(opts), opts)
