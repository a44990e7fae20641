"""NVML counters (nvidia-ml-py, imported lazily) for CUDA devices.

Around the timed region: power (W), SM and memory clocks (MHz), temperature (°C), clock-event
(throttle) reasons, GPU and memory utilisation (%), memory used (MiB). `throttled` is True when
any reason other than "GPU idle" is set (the reasons are also listed by name).

Energy is a separate phase (`energy`): NVML's total-energy counter (mJ) updates only every
10–20 ms, so it is differenced over ≥ 1 s of back-to-back calls and divided by the call count;
idle power is read first, after the device has been quiet for a moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.counters.base import Counter

ENERGY_MIN_S = 1.0
IDLE_SETTLE_S = 0.05
REASONS = {0x1: "gpu_idle", 0x2: "applications_clocks", 0x4: "sw_power_cap",
           0x8: "hw_slowdown", 0x10: "sync_boost", 0x20: "sw_thermal", 0x40: "hw_thermal",
           0x80: "hw_power_brake", 0x100: "display_clock", 0x200: "board_limit",
           0x400: "reliability"}
_state: dict[str, Any] = {}


def _nvml() -> Any:
    """The initialised pynvml module; raises RuntimeError with a one-line reason."""
    if "mod" in _state:
        return _state["mod"]
    if "error" in _state:
        raise RuntimeError(_state["error"])
    try:
        import pynvml
    except ImportError:
        _state["error"] = "unavailable: nvidia-ml-py (pynvml) not installed"
        raise RuntimeError(_state["error"]) from None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, …
        _state["error"] = f"unavailable: NVML could not start ({exc}; no NVIDIA driver?)"
        raise RuntimeError(_state["error"]) from None
    _state["mod"] = pynvml
    return pynvml


def reason_names(mask: int) -> list[str]:
    return [name for bit, name in REASONS.items() if mask & bit]


def is_throttled(mask: int) -> bool:
    return bool(mask & ~0x1)


def _handle(nv: Any, device: str) -> Any:
    """NVML handle of a torch device, by UUID (NVML and CUDA may number devices differently)."""
    import torch

    idx = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
    uuid = getattr(torch.cuda.get_device_properties(idx), "uuid", None)
    if uuid is not None:
        try:
            return nv.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
        except Exception:
            pass
    return nv.nvmlDeviceGetHandleByIndex(idx)


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # a query the GPU does not support: record, do not crash
        return f"unavailable: {exc}"


def read_state(nv: Any, h: Any) -> dict[str, float | int | str | bool]:
    out: dict[str, float | int | str | bool] = {}
    out["nvml.power_w"] = _safe(lambda: nv.nvmlDeviceGetPowerUsage(h) / 1000.0)
    out["nvml.sm_clock_mhz"] = _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))
    out["nvml.mem_clock_mhz"] = _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM))
    out["nvml.temperature_c"] = _safe(
        lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
    get_reasons = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
        nv.nvmlDeviceGetCurrentClocksThrottleReasons
    mask = _safe(lambda: int(get_reasons(h)))
    if isinstance(mask, int):
        out["nvml.clock_event_reasons"] = ",".join(reason_names(mask)) or "none"
        out["nvml.throttled"] = is_throttled(mask)
    util = _safe(lambda: nv.nvmlDeviceGetUtilizationRates(h))
    if not isinstance(util, str):
        out["nvml.util_gpu_pct"], out["nvml.util_mem_pct"] = int(util.gpu), int(util.memory)
    mem = _safe(lambda: nv.nvmlDeviceGetMemoryInfo(h))
    if not isinstance(mem, str):
        out["nvml.mem_used_mib"] = round(mem.used / 2**20, 1)
    return out


class NvmlCounter(Counter):
    name = "nvml"

    def __init__(self) -> None:
        self._h: Any = None
        self._start: dict[str, Any] = {}

    def available(self, device: str = "cpu") -> str | None:
        if device.split(":", 1)[0] != "cuda":
            return f"unavailable: NVML observes CUDA devices, not {device}"
        try:
            _nvml()
        except RuntimeError as exc:
            return str(exc)
        return None

    def start(self, device: str) -> None:
        nv = _nvml()
        self._h = _handle(nv, device)
        self._start = read_state(nv, self._h)

    def stop(self) -> dict[str, float | int | str | bool]:
        out = read_state(_nvml(), self._h)
        # throttled if it was throttled at either end of the region
        out["nvml.throttled"] = bool(out.get("nvml.throttled")) or bool(
            self._start.get("nvml.throttled"))
        return out

    def energy(self, run: Callable[[], Any], sync: Callable[[], None], device: str,
               min_s: float = ENERGY_MIN_S) -> dict[str, float | int | str | bool]:
        nv = _nvml()
        h = _handle(nv, device)
        sync()
        time.sleep(IDLE_SETTLE_S)
        out: dict[str, float | int | str | bool] = {
            "nvml.idle_power_w": _safe(lambda: nv.nvmlDeviceGetPowerUsage(h) / 1000.0)}
        try:
            e0 = nv.nvmlDeviceGetTotalEnergyConsumption(h)
        except Exception as exc:
            out["nvml.energy"] = f"unavailable: {exc}"
            return out
        calls, t0 = 0, time.perf_counter()
        while True:  # queue calls in chunks; sync to know how much time really passed
            for _ in range(16):
                run()
            calls += 16
            sync()
            if time.perf_counter() - t0 >= min_s:
                break
        e1 = nv.nvmlDeviceGetTotalEnergyConsumption(h)
        out["nvml.energy_j_per_call"] = (e1 - e0) * 1e-3 / calls
        out["nvml.energy_calls"] = calls
        out["nvml.energy_phase_s"] = time.perf_counter() - t0
        return out
