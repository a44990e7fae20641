"""NVML counters (nvidia-ml-py, imported lazily) for CUDA devices.

Around the timed region: power (W), SM and memory clocks (MHz), temperature (°C), clock-event
(throttle) reasons, GPU and memory utilisation (%), memory used (MiB). `throttled` is True when a
*slowdown* reason is set — power cap, thermal, hardware slowdown or power brake — not for the
idle state or for clock settings (applications clocks, sync boost, display clock); every reason
is also listed by name.

Power is NVML's instantaneous reading (field NVML_FI_DEV_POWER_INSTANT) where the driver has it:
on Ampere and newer `nvmlDeviceGetPowerUsage` returns a 1 s average, which right after a burst of
work says more about that work than about the moment (NVML API reference). `nvml.power_kind`
says which was read.

Energy is a separate phase (`energy`): NVML's total-energy counter (mJ) updates only every
10–20 ms, so it is differenced over ≥ 1 s of back-to-back calls and divided by the call count;
idle power is read first, after the device has been quiet for a moment. That phase is also when
the GPU is busy long enough to throttle, so the clock-event reasons and the SM clock are sampled
while it runs (`nvml.energy_phase.*`).

A counter never raises: a device NVML cannot open gives `nvml.available = "unavailable: …"`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.core import counter_keys as ck
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


SLOWDOWN = 0x4 | 0x8 | 0x20 | 0x40 | 0x80  # power cap, hw slowdown, thermal, power brake
_VALUE_FIELD = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal",
                6: "usVal"}  # nvmlValueType_t → member of c_nvmlValue_t


def is_throttled(mask: int) -> bool:
    return bool(mask & SLOWDOWN)


def power_w(nv: Any, h: Any) -> tuple[float, str]:
    """(watts, 'instant' | 'average_1s'): the instantaneous field where the driver has it."""
    field = getattr(nv, "NVML_FI_DEV_POWER_INSTANT", None)
    if field is not None:
        try:
            fv = nv.nvmlDeviceGetFieldValues(h, [field])[0]
            if int(fv.nvmlReturn) == 0:
                return float(getattr(fv.value, _VALUE_FIELD[int(fv.valueType)])) / 1000.0, \
                    "instant"
        except Exception:  # an older driver: fall back to the averaged reading
            pass
    return nv.nvmlDeviceGetPowerUsage(h) / 1000.0, "average_1s"


def _reasons(nv: Any, h: Any) -> int:
    get = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
        nv.nvmlDeviceGetCurrentClocksThrottleReasons
    return int(get(h))


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
    power = _safe(lambda: power_w(nv, h))
    if isinstance(power, str):
        out[ck.NVML_POWER_W] = power
    else:
        out[ck.NVML_POWER_W], out[ck.NVML_POWER_KIND] = power
    out[ck.NVML_SM_CLOCK_MHZ] = _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))
    out[ck.NVML_MEM_CLOCK_MHZ] = _safe(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM))
    out[ck.NVML_TEMPERATURE_C] = _safe(
        lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
    mask = _safe(lambda: _reasons(nv, h))
    if isinstance(mask, int):
        out[ck.NVML_CLOCK_EVENT_REASONS] = ",".join(reason_names(mask)) or "none"
        out[ck.NVML_THROTTLED] = is_throttled(mask)
    util = _safe(lambda: nv.nvmlDeviceGetUtilizationRates(h))
    if not isinstance(util, str):
        out[ck.NVML_UTIL_GPU_PCT], out[ck.NVML_UTIL_MEM_PCT] = int(util.gpu), int(util.memory)
    mem = _safe(lambda: nv.nvmlDeviceGetMemoryInfo(h))
    if not isinstance(mem, str):
        out[ck.NVML_MEM_USED_MIB] = round(mem.used / 2**20, 1)
    return out


class NvmlCounter(Counter):
    name = "nvml"

    def __init__(self) -> None:
        self._h: Any = None
        self._start: dict[str, Any] = {}
        self._error: str | None = None

    def available(self, device: str = "cpu") -> str | None:
        if device.split(":", 1)[0] != "cuda":
            return f"unavailable: NVML observes CUDA devices, not {device}"
        try:
            _nvml()
        except RuntimeError as exc:
            return str(exc)
        return None

    def start(self, device: str) -> None:
        try:
            nv = _nvml()
            self._h = _handle(nv, device)
            self._start = read_state(nv, self._h)
            self._error = None
        except Exception as exc:  # e.g. no permission on this device: a reason, not a crash
            self._error = f"unavailable: {type(exc).__name__}: {exc}"

    def stop(self) -> dict[str, float | int | str | bool]:
        if self._error is not None:
            return {ck.NVML_AVAILABLE: self._error}
        out = read_state(_nvml(), self._h)
        # throttled if it was throttled at either end of the region
        out[ck.NVML_THROTTLED] = bool(out.get(ck.NVML_THROTTLED)) or bool(
            self._start.get(ck.NVML_THROTTLED))
        return out

    def energy(self, run: Callable[[], Any], sync: Callable[[], None], device: str,
               min_s: float = ENERGY_MIN_S) -> dict[str, float | int | str | bool]:
        try:
            nv = _nvml()
            h = _handle(nv, device)
        except Exception as exc:
            return {ck.NVML_ENERGY: f"unavailable: {type(exc).__name__}: {exc}"}
        sync()
        time.sleep(IDLE_SETTLE_S)
        idle = _safe(lambda: power_w(nv, h)[0])
        out: dict[str, float | int | str | bool] = {ck.NVML_IDLE_POWER_W: idle}
        try:
            e0 = nv.nvmlDeviceGetTotalEnergyConsumption(h)
        except Exception as exc:
            out[ck.NVML_ENERGY] = f"unavailable: {exc}"
            return out
        calls, t0, mask, clocks = 0, time.perf_counter(), 0, []
        while True:  # queue calls in chunks; sync to know how much time really passed
            for _ in range(16):
                run()
            calls += 16
            # sampled while the chunk still runs: the busy GPU's reasons and clock
            busy = _safe(lambda: (_reasons(nv, h), nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)))
            if not isinstance(busy, str):
                mask |= busy[0]
                clocks.append(busy[1])
            sync()
            if time.perf_counter() - t0 >= min_s:
                break
        e1 = nv.nvmlDeviceGetTotalEnergyConsumption(h)
        out[ck.NVML_ENERGY_J_PER_CALL] = (e1 - e0) * 1e-3 / calls
        out[ck.NVML_ENERGY_CALLS] = calls
        out[ck.NVML_ENERGY_PHASE_S] = time.perf_counter() - t0
        if clocks:
            out[ck.NVML_ENERGY_PHASE_REASONS] = ",".join(reason_names(mask)) or "none"
            out[ck.NVML_ENERGY_PHASE_THROTTLED] = is_throttled(mask)
            out[ck.NVML_ENERGY_PHASE_MIN_SM_CLOCK_MHZ] = min(clocks)
        return out
