"""`harness check FILE…`: validate suites and tuner profiles; never writes anything.

A file is a suite if it has `space`, a tuner profile if it lies under a `tuners/` directory or
has `sampler`. Prints `ok  FILE (summary)` per good file and one line per bad file on stderr;
exit code 0 if all are good, 2 otherwise. A directory stands for its *.yaml / *.yml files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.core.errors import InputError

HELP = "validate suites and tuner profiles"

_MAX_GRID = 1_000_000  # larger raw spaces are summarised, not enumerated


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="suite or tuner profile YAML files (or directories of them)")


def run(args: argparse.Namespace) -> int:
    bad = 0
    for file in _expand(args.files):
        try:
            summary = check_file(file)
        except InputError as exc:
            print(str(exc), file=sys.stderr)
            bad += 1
        else:
            print(f"ok  {file} ({summary})")
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
    from harness.config.suite import suite_from_doc
    from harness.config.tuner import profile_from_doc
    from harness.config.yamlload import load

    doc = load(file)
    if "space" in doc.data:
        return _suite_summary(suite_from_doc(doc))
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


def _suite_summary(suite) -> str:
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
