"""Provenance recorded with every result (cached per process: cheap to call per measurement)."""

from __future__ import annotations

import functools
import importlib
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "cupy", "triton", "scipy", "numpy", "numba", "optuna")


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(mod if mod != "cupy" else _cupy_dist())
    except Exception:
        return None


def _cupy_dist() -> str:
    from importlib.metadata import distributions

    for d in distributions():
        name = (d.metadata["Name"] or "").lower()
        if name.startswith("cupy"):
            return name
    return "cupy"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def git_sha(cwd: str | None = None) -> str | None:
    """HEAD of the working tree holding the harness package (None outside git)."""
    where = cwd or str(Path(__file__).resolve().parent)
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@functools.cache
def _static() -> dict[str, Any]:
    import harness
    from harness.measure.context import CODE_FIELD, code_digest

    info: dict[str, Any] = {
        CODE_FIELD: code_digest(),
        "harness_version": harness.__version__, "schema_version": harness.SCHEMA_VERSION,
        "python": platform.python_version(), "hostname": socket.gethostname(),
        "platform": platform.platform(), "cpu_model": cpu_model(), "git_sha": git_sha(),
    }
    for lib in LIBRARIES:
        info[f"{lib}_version"] = _version(lib)
    return info


@functools.cache
def _device(device: str) -> dict[str, Any]:
    if device.split(":", 1)[0] != "cuda":
        return {"device_name": cpu_model()}
    import torch

    idx = torch.device(device).index
    idx = torch.cuda.current_device() if idx is None else idx
    props = torch.cuda.get_device_properties(idx)
    info: dict[str, Any] = {"device_name": props.name, "cuda_version": torch.version.cuda,
                            "device_uuid": str(getattr(props, "uuid", "")) or None,
                            "compute_capability": f"{props.major}.{props.minor}"}
    try:
        pynvml = importlib.import_module("pynvml")
        pynvml.nvmlInit()
        drv = pynvml.nvmlSystemGetDriverVersion()
        info["driver_version"] = drv.decode() if isinstance(drv, bytes) else drv
    except Exception:
        info["driver_version"] = None
    return info


def collect(device: str, threads: int | None, seed: int) -> dict:
    """Device, libraries, threads, git SHA, versions, seed, host (a fresh dict each call)."""
    info = dict(_static())
    info.update(_device(device))
    if threads is None and device.split(":", 1)[0] == "cpu":
        import torch

        threads = torch.get_num_threads()
    info.update(device=device, threads=threads, seed=seed)
    return info
