"""`harness check FILE…`: validate suites and tuner profiles; never writes anything.

A file is a suite if it has `space`, a tuner profile if it lies under a `tuners/` directory or
has `sampler`. Prints `ok  FILE (summary)` per good file and one line per bad file on stderr;
exit code 0 if all are good, 2 otherwise. A directory stands for its *.yaml / *.yml files.

Under each good suite it prints which of its grid points can run on this machine (the suite's
device, or `--device`): how many, the first few, and why the rest cannot, grouped by reason —
the tuner's own rule (`harness.tune.feasible.why_not`), so what check lists is what a search
can measure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.errors import InputError

if TYPE_CHECKING:
    from harness.config.suite import Suite
    from harness.config.yamlload import Document

HELP = "validate suites and tuner profiles; list the points that can run here"

_MAX_GRID = 1_000_000  # larger raw spaces are summarised, not enumerated
_MAX_FEASIBILITY = 100_000  # larger raw spaces are not checked point by point
SHOWN_POINTS = 20  # feasible points listed per suite (--all: every one)
SHOWN_REASONS = 6  # reasons listed per kind (constraint / unsupported); the rest are summed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="suite or tuner profile YAML files (or directories of them)")
    parser.add_argument("--device", help="cpu | cuda | cuda:N: where the feasible points are "
                        "counted (default: each suite's device, 'auto' resolved here)")
    parser.add_argument("--all", action="store_true", dest="all_points",
                        help=f"list every feasible point (default: the first {SHOWN_POINTS})")


def run(args: argparse.Namespace) -> int:
    import re

    if args.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        raise InputError(path="--device", value=args.device, expected="cpu, cuda or cuda:N")
    bad = 0
    for file in _expand(args.files):
        try:
            summary, suite = check_file_and_suite(file)
        except InputError as exc:
            print(str(exc), file=sys.stderr)
            bad += 1
            continue
        print(f"ok  {file} ({summary})")
        if suite is not None:
            for line in feasible_lines(suite, args.device, every=args.all_points):
                print(f"    {line}")
    return 2 if bad else 0


def _expand(files: list[str]) -> list[str]:
    out: list[str] = []
    for f in files:
        p = Path(f)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml"))
            out.extend(str(q) for q in found)
        else:
            out.append(f)
    return out


def check_file(file: str) -> str:
    """Validate one file; return its one-line summary or raise InputError."""
    return check_file_and_suite(file)[0]


def check_file_and_suite(file: str) -> tuple[str, Suite | None]:
    """Validate one file: (its one-line summary, the Suite if it is one) or raise InputError."""
    from harness.config.suite import suite_from_doc
    from harness.config.yamlload import load

    doc = load(file)
    if "space" in doc.data:
        suite = suite_from_doc(doc)
        return _suite_summary(suite), suite
    return _other_summary(file, doc), None


def _other_summary(file: str, doc: Document) -> str:
    from harness.config.tuner import profile_from_doc
    from harness.models.suite import is_model_suite

    if is_model_suite(doc.data):  # a whole-model suite (harness tune searches it per layer)
        from harness.models.suite import parse as parse_model

        m = parse_model(doc)
        trained = "" if m.train is None else \
            f"; trains {m.train.candidates} on {m.train.dataset} for the accuracy budget"
        return (f"model suite: {m.model} at batch {m.batch}, {len(m.layer_options)} layer "
                f"option(s) × {len(m.rates)} rate(s), {m.trials} trials{trained}")
    if "tuners" in Path(file).parts[:-1] or "sampler" in doc.data:
        t = profile_from_doc(doc, path=file, default_name=Path(file).stem)
        trials = "until exhausted" if t.trials is None else f"{t.trials} trials"
        name = t.sampler if t.name == t.sampler else f"{t.name} ({t.sampler})"
        return f"tuner profile: {name}, {trials}"
    if "cases" in doc.data and "network" in doc.data:  # a Graph Challenge suite (harness graph)
        from harness.graph.suite import parse as parse_graph

        g = parse_graph(doc)
        return f"graph challenge suite: {len(g.cases)} case(s), {len(g.variants)} variant(s)"
    raise doc.error("", "neither a suite (no 'space' key) nor a tuner profile (no 'sampler' "
                        "key)")


def feasible_lines(suite: Suite, device: str | None = None, *,
                   every: bool = False) -> list[str]:
    """What `check` prints under a suite: the feasible points on `device` and why the rest
    cannot run, grouped by reason (most points first)."""
    from harness.tune.feasible import CONSTRAINT, UNSUPPORTED, feasibility

    space = suite.space
    if not space.enumerable():
        return ["feasible points: not listed (a continuous pruning_rate has no grid; "
                "trials say why a point cannot run)"]
    if space.size() * len(suite.dtypes) > _MAX_FEASIBILITY:
        return [f"feasible points: not listed (more than {_MAX_FEASIBILITY} combinations)"]
    device = device or suite.resolved_device()
    f = feasibility(space, device=device, dtypes=suite.dtypes, seed=suite.seed)
    groups = {kind: [(r.split(": ", 1)[1], n) for r, n in f.reasons() if r.startswith(kind)]
              for kind in (UNSUPPORTED, CONSTRAINT)}
    grid = len(f.feasible) + sum(n for _, n in groups[UNSUPPORTED])  # what space.grid yields
    lines = [f"on {device}: {len(f.feasible)} of {grid} grid points can run"]
    shown = f.feasible if every else f.feasible[:SHOWN_POINTS]
    lines += [f"  {p.label()}" for p in shown]
    if len(shown) < len(f.feasible):
        lines.append(f"  … and {len(f.feasible) - len(shown)} more (--all lists them)")
    titles = {UNSUPPORTED: "grid points no backend runs here",
              CONSTRAINT: "more combinations excluded by the suite's constraints"}
    for kind, title in titles.items():
        reasons = groups[kind]
        if not reasons:
            continue
        lines.append(f"{sum(n for _, n in reasons)} {title}:")
        lines += [f"  {n:>6}  {why}" for why, n in reasons[:SHOWN_REASONS]]
        rest = reasons[SHOWN_REASONS:]
        if rest:
            lines.append(f"  {sum(n for _, n in rest):>6}  for {len(rest)} other reason(s)")
    return lines


def _suite_summary(suite: Suite) -> str:
    space = suite.space
    t = suite.tuner
    name = t.sampler if t.name == t.sampler else f"{t.name} ({t.sampler})"
    tail = f"tuner {name}, {len(suite.objectives)} objective(s)"
    if not space.enumerable():
        return f"suite: continuous pruning_rate, {len(space.params())} parameters; {tail}"
    raw = space.size() * len(suite.dtypes)
    if raw > _MAX_GRID:
        return f"suite: {raw} combinations before canonicalisation and constraints; {tail}"
    device_dependent = any(c.param == "device" for rule in space.constraints
                           for c in rule.when + rule.require + rule.exclude)
    if not device_dependent:
        return f"suite: {sum(1 for _ in suite.grid('cpu'))} grid points; {tail}"
    # counted per device type rather than resolving 'auto', which would import torch
    devices = ("cpu", "cuda") if suite.device == "auto" else (suite.device,)
    counts = ", ".join(f"{sum(1 for _ in suite.grid(d))} on {d}" for d in devices)
    return f"suite: grid points {counts}; {tail}"
