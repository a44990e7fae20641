"""`--workers K`: K local worker processes cooperating on one study through the store's URL.

Each worker is `harness tune SUITE --workers 1 --no-post --study S --trials T_i --worker-index i`
plus every option of the parent that changes what a worker does (`--tuner`, `--device`,
`--timeout`, `--fresh`, `--quiet`), where the T_i add up to the requested trials, so K workers ×
T trials give exactly K·T trials. Worker i derives its own sampler seed from the study's
(`samplers.worker_seed`), so workers do not all propose the same start-up points. Workers on
other machines (one per GPU) run the same command by hand against a PostgreSQL URL.

The URL reaches the children through the environment (HARNESS_STORAGE), never the command line,
so a password does not show in `ps`.

Signals: SIGTERM or SIGINT to the parent is passed on to every worker (each stops after its
trial in flight) and the parent waits for all of them, then reports the stop (exit 130); a
second signal kills the workers at once. On Linux each worker also gets SIGTERM if the parent
dies without passing anything on (`kill -9`), so no worker is left running on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from harness.core.errors import FaultError, InputError

STOPPED = 130  # a worker's exit code after a clean stop on a signal


def shares(total: int, workers: int) -> list[int]:
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def worker_command(opts: Any, *, study_name: str, trials: int, index: int = 0) -> list[str]:
    cmd = [sys.executable, "-m", "harness", "tune", opts.suite, "--workers", "1", "--no-post",
           "--study", study_name, "--trials", str(trials), "--worker-index", str(index)]
    if opts.tuner:
        cmd += ["--tuner", opts.tuner]
    if opts.device:
        cmd += ["--device", opts.device]
    if opts.timeout_s is not None:
        cmd += ["--timeout", repr(float(opts.timeout_s))]
    if opts.fresh:
        cmd += ["--fresh"]
    if opts.reuse_any_code:
        cmd += ["--reuse-any-code"]
    if opts.quiet:
        cmd += ["--quiet"]
    return cmd


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the parent dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Forward:
    """While active: SIGTERM/SIGINT are passed to the workers (the first as SIGTERM, a second
    as SIGKILL) instead of stopping the parent, which keeps waiting for them."""

    def __init__(self, procs: list[subprocess.Popen]) -> None:
        self.procs, self.count = procs, 0
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        kill = signal.SIGTERM if self.count == 1 else signal.SIGKILL
        if self.count == 1:
            print(f"\nharness tune: {signal.Signals(signum).name} received; passed to the "
                  f"{len(self.procs)} workers, waiting for their trials in flight (again to "
                  "kill them)", file=sys.stderr, flush=True)
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(kill)
                except ProcessLookupError:
                    pass

    def __enter__(self) -> _Forward:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def run_workers(opts: Any, *, study_name: str, trials: int | None, url: str) -> None:
    """Start the workers and wait for all of them (the caller created the study already).
    Raises KeyboardInterrupt after a signal stopped them (every worker has exited by then)."""
    if trials is None:
        raise InputError(path="--workers", value=opts.workers,
                         expected="a trial budget to share (--trials N or the profile's trials)")
    env = dict(os.environ, HARNESS_STORAGE=url)
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    procs: list[subprocess.Popen] = []
    with _Forward(procs) as forward:
        for i, n in enumerate(shares(trials, opts.workers)):
            if n > 0 and not forward.count:
                procs.append(subprocess.Popen(
                    worker_command(opts, study_name=study_name, trials=n, index=i), env=env,
                    preexec_fn=preexec))
        codes = [p.wait() for p in procs]  # EINTR is retried inside (PEP 475)
    if forward.count:
        raise KeyboardInterrupt
    bad = [c for c in codes if c not in (0, STOPPED)]
    if bad:
        raise FaultError(f"{len(bad)} of {len(procs)} workers failed (exit codes {bad})")
