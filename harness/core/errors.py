"""Error types that cross module boundaries.

`InputError` is the one way bad user input is reported: the CLI prints `str(err)` on one line and
exits with code 2 (no traceback unless `--debug`). Its message names the file, the line, the YAML
path, the value given and what was expected, e.g.

    suites/x.yaml:12: space.group_size: expected a positive integer or a list of them, got -4

Exit codes (harness.cli.main): 0 ok; 1 a check failed (a regression) or the work could not
complete because the environment failed under it (`FaultError`: the store was lost, the disk
filled up, the database is corrupt, a worker failed) — one line, no traceback; 2 bad input,
including a store that cannot be opened, a foreign database and an output path that cannot be
written (checked before any work); 130 interrupted.
"""

from __future__ import annotations

from typing import Any


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HarnessError(Exception):
    """Base of harness's own errors."""


class InputError(HarnessError):
    """Bad user input (suite, tuner profile, CLI argument, storage URL). Exit code 2."""

    def __init__(
        self,
        message: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
        value: Any = ...,
        expected: str | None = None,
    ) -> None:
        self.file, self.line, self.path = file, line, path
        self.value, self.expected = value, expected
        if message is None:
            parts = []
            if expected is not None:
                parts.append(f"expected {expected}")
            if value is not ...:
                parts.append(f"got {_short(value)}")
            message = ", ".join(parts) or "invalid input"
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.path}: " if self.path else ""
        return f"{where}{key}{self.detail}".replace("\n", " ")


class FaultError(HarnessError):
    """The environment failed during the work (store lost, disk full, corrupt database, a
    worker failed). Exit code 1, one line."""


class UnsupportedError(HarnessError):
    """A combination (format × device × dtype × backend) that cannot run. Not a crash: the
    measurement is recorded as `unsupported: <reason>`."""


class VerificationError(HarnessError):
    """A kernel's output disagrees with the float64 reference of the pruned weight."""
