"""`harness info`: library versions, devices, and which backends and counters can run here.

Every probe answers a value or a reason; nothing here raises for a missing library or device.
`--json` prints the same facts as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from importlib import metadata, util
from typing import Any

HELP = "devices, library versions, backends and counters with their availability"

# module → distribution names that may provide it (first installed wins)
LIBRARIES = {
    "torch": ("torch",),
    "triton": ("triton",),
    "optuna": ("optuna",),
    "cupy": ("cupy", "cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x"),
    "pynvml": ("nvidia-ml-py", "pynvml"),
}
DEVICE_TYPES = ("cpu", "cuda")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    facts = gather()
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=False))
    else:
        print(render(facts))
    return 0


def gather() -> dict[str, Any]:
    from harness import __version__

    return {
        "harness": __version__,
        "python": platform.python_version(),
        "libraries": {name: library_version(name) for name in LIBRARIES},
        "cpu": cpu_info(),
        "cuda": cuda_info(),
        "backends": backends_info(),
        "counters": counters_info(),
    }


def library_version(module: str) -> str:
    """Installed version of `module`'s distribution, or 'not installed' (nothing imported)."""
    if util.find_spec(module) is None:
        return "not installed"
    for dist in LIBRARIES.get(module, (module,)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "installed (version unknown)"


def cpu_info() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    info: dict[str, Any] = {"model": model, "cores": os.cpu_count(), "usable_cores": usable}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except Exception as exc:  # torch missing or broken: report, do not fail
        info["torch_threads"] = f"unknown: {_one_line(exc)}"
    return info


def cuda_info() -> dict[str, Any]:
    """{'devices': [...]} or {'devices': [], 'reason': why there are none}."""
    try:
        import torch
    except Exception as exc:
        return {"devices": [], "reason": f"torch not importable: {_one_line(exc)}"}
    if torch.version.cuda is None:
        return {"devices": [], "reason": "torch was built without CUDA"}
    try:
        if not torch.cuda.is_available():
            return {"devices": [], "reason": "no CUDA device visible (driver or device missing)"}
        devices = []
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            devices.append({"index": i, "name": p.name,
                            "capability": f"{p.major}.{p.minor}",
                            "memory_gib": round(p.total_memory / 2**30, 1),
                            "multiprocessors": p.multi_processor_count})
        return {"devices": devices, "cuda": torch.version.cuda}
    except Exception as exc:
        return {"devices": [], "reason": _one_line(exc)}


def _registry(package: str, loader: str) -> tuple[Any, dict[str, Any]]:
    """(registry, {}), or (None, what to show instead) when its modules cannot be loaded:
    {} if the package is absent, {'_error': reason} if it is broken."""
    import importlib

    try:
        return getattr(importlib.import_module(f"harness.{package}.base"), loader)(), {}
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"harness.{package}"):
            return None, {}
        return None, {"_error": f"failed to load {package}: {_one_line(exc)}"}
    except Exception as exc:
        return None, {"_error": f"failed to load {package}: {_one_line(exc)}"}


def backends_info() -> dict[str, Any]:
    """{name: {device type: 'available' | reason}} or {'_error': reason}."""
    registry, failed = _registry("backends", "all_backends")
    if registry is None:
        return failed
    out: dict[str, Any] = {}
    for name, backend in registry.items():
        devices = getattr(backend, "devices", DEVICE_TYPES)
        out[name] = {dt: _probe(backend.available, dt) if dt in devices
                     else f"not supported on {dt}" for dt in DEVICE_TYPES}
    return out


def counters_info() -> dict[str, Any]:
    registry, failed = _registry("counters", "all_counters")
    if registry is None:
        return failed
    out: dict[str, Any] = {}
    for name, cls in registry.items():
        try:
            counter = cls()
        except Exception as exc:
            out[name] = {dt: f"error: {_one_line(exc)}" for dt in DEVICE_TYPES}
            continue
        out[name] = {dt: _probe(counter.available, dt) for dt in DEVICE_TYPES}
    return out


def _probe(available: Any, device: str) -> str:
    try:
        reason = available(device)
    except Exception as exc:  # the contract says never raise; report it if one does
        return f"error: {_one_line(exc)}"
    return "available" if reason is None else str(reason)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def render(facts: dict[str, Any]) -> str:
    lines = [f"harness {facts['harness']} on Python {facts['python']} ({sys.platform})",
             "libraries:"]
    lines += [f"  {k:<8} {v}" for k, v in facts["libraries"].items()]
    cpu = facts["cpu"]
    lines.append(f"cpu: {cpu['model']}; {cpu['cores']} cores ({cpu['usable_cores']} usable); "
                 f"torch threads: {cpu['torch_threads']}")
    cuda = facts["cuda"]
    if cuda["devices"]:
        lines.append(f"cuda: {len(cuda['devices'])} device(s), CUDA {cuda.get('cuda')}")
        lines += [f"  cuda:{d['index']} {d['name']} (sm {d['capability']}, "
                  f"{d['memory_gib']} GiB, {d['multiprocessors']} SMs)" for d in cuda["devices"]]
    else:
        lines.append(f"cuda: none: {cuda['reason']}")
    for title, table in (("backends", facts["backends"]), ("counters", facts["counters"])):
        if "_error" in table:
            lines.append(f"{title}: {table['_error']}")
        elif not table:
            lines.append(f"{title}: (none registered)")
        else:
            lines.append(f"{title}:")
            width = max(len(n) for n in table)
            for name, per_device in table.items():
                states = "; ".join(f"{dt}: {state}" for dt, state in per_device.items())
                lines.append(f"  {name:<{width}}  {states}")
    return "\n".join(lines)
