"""Which process owns a run, and whether it is still alive: a run left `running` by a process
that was killed (kill -9, power loss, OOM killer) is marked `killed` the next time any command
opens the store on the same machine.

A run records the host name, the pid and the process's start time (Linux: field 22 of
/proc/<pid>/stat, so a pid reused by a later process is not mistaken for the owner). Runs of
other hosts are left alone: only their own machine can tell.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

KEY = "_process"  # the key under a run's stored config (stripped when runs are read)


def _start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def identity() -> dict[str, Any]:
    """This process: {'host', 'pid', 'start'}."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _start_time(pid)}


def is_gone(owner: Mapping[str, Any] | None) -> bool:
    """True only when `owner` ran on this host and that process no longer exists."""
    if not owner or owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    start = owner.get("start")
    now = _start_time(pid)
    return start is not None and now is not None and now != start  # the pid was reused
