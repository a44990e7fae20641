"""The NVML counter against a fake pynvml: power kinds, slowdown reasons, failures as reasons."""

from __future__ import annotations

import types

import pytest

from harness.counters import nvml


class FieldValue:
    def __init__(self, mw: int, ret: int = 0) -> None:
        self.nvmlReturn, self.valueType = ret, 1  # NVML_VALUE_TYPE_UNSIGNED_INT
        self.value = types.SimpleNamespace(uiVal=mw)


def fake_nvml(*, instant_mw: int | None = 95_000, average_mw: int = 300_000,
              reasons: list[int] | None = None) -> types.SimpleNamespace:
    """A pynvml stand-in: `reasons` are returned one per call (the last one repeats)."""
    seq = list(reasons or [0x1])
    energy = iter(range(0, 10**9, 5_000))  # mJ, +5 J per read

    def get_reasons(h):
        return seq.pop(0) if len(seq) > 1 else seq[0]

    def fields(h, ids):
        if instant_mw is None:
            return [FieldValue(0, ret=3)]  # NVML_ERROR_NOT_SUPPORTED
        return [FieldValue(instant_mw)]

    return types.SimpleNamespace(
        NVML_FI_DEV_POWER_INSTANT=186, NVML_CLOCK_SM=1, NVML_CLOCK_MEM=2,
        NVML_TEMPERATURE_GPU=0,
        nvmlDeviceGetFieldValues=fields, nvmlDeviceGetPowerUsage=lambda h: average_mw,
        nvmlDeviceGetClockInfo=lambda h, kind: 1980 if kind == 1 else 2619,
        nvmlDeviceGetTemperature=lambda h, kind: 41,
        nvmlDeviceGetCurrentClocksEventReasons=get_reasons,
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=97, memory=60),
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(used=3 * 2**30),
        nvmlDeviceGetTotalEnergyConsumption=lambda h: next(energy))


@pytest.fixture
def use(monkeypatch):
    def install(fake, handle=lambda nv, device: "h0"):
        monkeypatch.setattr(nvml, "_state", {"mod": fake})
        monkeypatch.setattr(nvml, "_handle", handle)
    return install


def test_instant_power_is_preferred_over_the_one_second_average(use):
    use(fake_nvml())
    c = nvml.NvmlCounter()
    c.start("cuda:0")
    out = c.stop()
    assert out["nvml.power_w"] == 95.0 and out["nvml.power_kind"] == "instant"


def test_average_power_when_the_driver_has_no_instant_field(use):
    use(fake_nvml(instant_mw=None))
    assert nvml.power_w(nvml._nvml(), "h0") == (300.0, "average_1s")


@pytest.mark.parametrize(("mask", "throttled"), [
    (0x1, False), (0x2, False), (0x10, False), (0x100, False), (0x1 | 0x2 | 0x10, False),
    (0x4, True), (0x8, True), (0x20, True), (0x40, True), (0x80, True), (0x1 | 0x40, True),
])
def test_only_slowdowns_count_as_throttled(mask, throttled):
    assert nvml.is_throttled(mask) is throttled


def test_a_device_nvml_cannot_open_is_a_reason_not_a_crash(use):
    def refuse(nv, device):
        raise RuntimeError("NVML_ERROR_NO_PERMISSION")

    use(fake_nvml(), handle=refuse)
    c = nvml.NvmlCounter()
    c.start("cuda:3")  # must not raise
    assert c.stop() == {"nvml.available": "unavailable: RuntimeError: NVML_ERROR_NO_PERMISSION"}
    e = c.energy(lambda: None, lambda: None, "cuda:3", min_s=0.0)
    assert e["nvml.energy"].startswith("unavailable: RuntimeError")


def test_the_energy_phase_samples_reasons_while_busy(use, monkeypatch):
    monkeypatch.setattr(nvml, "IDLE_SETTLE_S", 0.0)
    use(fake_nvml(reasons=[0x40, 0x1]))  # a thermal slowdown while the calls run, idle after
    calls = []
    e = nvml.NvmlCounter().energy(lambda: calls.append(1), lambda: None, "cuda:0", min_s=0.0)
    assert e["nvml.energy_phase.throttled"] is True
    assert e["nvml.energy_phase.clock_event_reasons"] == "hw_thermal"
    assert e["nvml.energy_phase.min_sm_clock_mhz"] == 1980
    assert e["nvml.idle_power_w"] == 95.0
    assert e["nvml.energy_calls"] == len(calls) == 16
    assert e["nvml.energy_j_per_call"] == pytest.approx(5.0 / 16)
