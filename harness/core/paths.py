"""Where harness writes: safe names for output folders, writability checked up front, and
atomic writes.

Rules (DESIGN: "every write goes where the user asked, atomically"):
- A folder derived from a name in a file (a suite's `name:`, a study name) is one path
  component below `reports/`: `safe_component` maps anything else (separators, `..`, NUL,
  an absolute path) to a harmless component, so a suite can never make harness write elsewhere.
- An output path the user gives (`-o DIR`, `--json FILE`) is checked *before* any work:
  `check_dir` / `check_file` raise a one-line InputError naming the flag when it cannot be
  written, so a long run never ends in a traceback at its last step.
- Files are written to a temporary file in the same folder, flushed to disk and renamed over
  the target (`os.replace`): a reader sees the old file or the new one, never a truncated one
  (disk full leaves the old file in place), and a symlink at the target is replaced, never
  followed, so its target outside the folder is not touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.core.errors import InputError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be used as one folder name (None: it can). Used to refuse suite and
    study names in `harness check` and at the start of every command."""
    if "\x00" in name:
        return "contains a NUL character"
    if any(ord(c) < 32 for c in name):
        return "contains a control character"
    if "/" in name or "\\" in name:
        return "contains a path separator ('/' or '\\')"
    if ".." in name:
        return "contains '..'"
    if os.path.isabs(name) or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    return None


def safe_component(name: str, default: str = "report") -> str:
    """`name` as one harmless path component: letters, digits, '.', '_' and '-' only, no
    leading dots (so never '.' or '..')."""
    return _UNSAFE.sub("_", name).strip("._") or default


def report_dir(name: str, root: str | Path = "reports") -> Path:
    """The default report folder of a suite or study: `reports/<sanitised name>`."""
    return Path(root) / safe_component(name)


def _refused(flag: str, path: Path, expected: str) -> InputError:
    # the whole path, not shortened: the user must see which one
    return InputError(f"expected {expected}, got {str(path)!r}", path=flag)


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and not p.is_symlink() and p != p.parent:
        p = p.parent
    return p


def check_dir(path: str | Path, flag: str) -> Path:
    """Raise a one-line InputError naming `flag` unless `path` is a folder harness can create
    or write into. Nothing is created."""
    p = Path(path)
    if "\x00" in str(p):
        raise _refused(flag, p, "a folder path without NUL")
    if p.exists() and not p.is_dir():
        raise _refused(flag, p, "a folder (it is an existing file)")
    base = _nearest_existing(p.absolute())
    if not base.is_dir():
        raise _refused(flag, p, f"a folder path ({base} is a file, not a folder)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _refused(flag, p, f"a writable folder ({base} is not "
                                                           "writable)")
    return p


def check_file(path: str | Path, flag: str) -> Path:
    """Raise a one-line InputError naming `flag` unless `path` can be written as a file (not a
    folder; its folder exists or can be created, and is writable). Nothing is created."""
    p = Path(path)
    if "\x00" in str(p):
        raise _refused(flag, p, "a file path without NUL")
    if p.is_dir() or str(path).endswith(("/", os.sep)):
        raise _refused(flag, p, "a file path (it is a folder)")
    base = _nearest_existing(p.absolute().parent)
    if not base.is_dir():
        raise _refused(flag, p, f"a file path in a folder ({base} is a file, not a folder)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _refused(flag, p, f"a file path in a writable folder ({base} is not writable)")
    return p


@contextlib.contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in `path`'s folder; on success it is renamed over `path`
    (atomically; a symlink at `path` is replaced, not followed); on error it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:  # the data must be on disk before the rename makes it live
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp made it 0600
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: os.umask can only be read by setting it


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically (see `atomic_target`)."""
    with atomic_target(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
