"""`--workers K`: K local worker processes cooperating on one study through the store's URL.

Each worker is `harness tune SUITE --workers 1 --no-post --study S --storage URL --trials T_i`,
where the T_i add up to the requested trials, so K workers × T trials give exactly K·T trials.
Workers on other machines (one per GPU) run the same command by hand against a PostgreSQL URL.
The URL reaches the children through the environment (HARNESS_STORAGE), never the command line,
so a password does not show in `ps`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from harness.core.errors import HarnessError


def shares(total: int, workers: int) -> list[int]:
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def worker_command(opts: Any, *, study_name: str, trials: int) -> list[str]:
    cmd = [sys.executable, "-m", "harness", "tune", opts.suite, "--workers", "1", "--no-post",
           "--study", study_name, "--trials", str(trials)]
    if opts.tuner:
        cmd += ["--tuner", opts.tuner]
    if opts.device:
        cmd += ["--device", opts.device]
    if opts.timeout_s is not None:
        cmd += ["--timeout", str(opts.timeout_s)]
    if opts.quiet:
        cmd += ["--quiet"]
    return cmd


def run_workers(opts: Any, *, study_name: str, trials: int | None, url: str) -> None:
    """Start the workers and wait for all of them (the caller created the study already)."""
    if trials is None:
        raise HarnessError("--workers needs a trial budget (--trials N or the profile's trials)")
    env = dict(os.environ, HARNESS_STORAGE=url)
    procs = [subprocess.Popen(worker_command(opts, study_name=study_name, trials=n), env=env)
             for n in shares(trials, opts.workers) if n > 0]
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        raise
    bad = [c for c in codes if c != 0]
    if bad:
        raise HarnessError(f"{len(bad)} of {len(procs)} workers failed (exit codes {bad})")
