"""Built-in counters: registry, CPU values, RAPL from fake files, NVML unavailable without a GPU."""

from __future__ import annotations

import pytest

from harness.counters import cpu, nvml
from harness.counters.base import Counter, all_counters


@pytest.mark.parametrize("name", ["cpu", "nvml"])
def test_registered_counters_follow_the_contract(name):
    cls = all_counters().get(name)
    c = cls()
    assert isinstance(c, Counter) and c.name == name
    reason = c.available("cpu")
    assert reason is None or reason.startswith("unavailable")
    if reason is None:
        c.start("cpu")
        out = c.stop()
        assert out and all(k.startswith(f"{name}.") for k in out)


def test_cpu_counter_reads_rss_and_frequency():
    c = cpu.CpuCounter()
    c.start("cpu")
    out = c.stop()
    assert out["cpu.peak_rss_mb"] > 1
    assert isinstance(out["cpu.freq_mhz"], float | str)


def test_rapl_energy_from_fake_powercap(tmp_path):
    dom = tmp_path / "intel-rapl:0"
    dom.mkdir()
    (dom / "energy_uj").write_text("1000000\n")
    (dom / "max_energy_range_uj").write_text("5000000\n")
    sub = tmp_path / "intel-rapl:0:0"  # a sub-domain must not be double counted
    sub.mkdir()
    (sub / "energy_uj").write_text("7\n")
    c = cpu.CpuCounter(str(tmp_path / "intel-rapl:*" / "energy_uj"))
    assert c.rapl.files == [str(dom / "energy_uj")]
    c.start("cpu")
    (dom / "energy_uj").write_text("500000\n")  # wrapped around: 4 J to the max + 0.5 J
    assert c.stop()["cpu.energy_j"] == pytest.approx(4.5)

    calls = []

    def run():
        calls.append(1)
        (dom / "energy_uj").write_text(str(500000 + 1000 * len(calls)))

    out = c.energy(run, lambda: None, "cpu", min_s=0.01)
    assert out["cpu.energy_calls"] == len(calls)
    assert out["cpu.energy_j_per_call"] == pytest.approx(1e-3)


def test_rapl_missing_is_a_reason(tmp_path):
    c = cpu.CpuCounter(str(tmp_path / "none*" / "energy_uj"))
    c.start("cpu")
    assert c.stop()["cpu.rapl"].startswith("unavailable")
    assert c.energy(lambda: None, lambda: None, "cpu")["cpu.rapl"].startswith("unavailable")


def test_nvml_reason_bits():
    assert nvml.is_throttled(0x4) and nvml.is_throttled(0x41)
    assert not nvml.is_throttled(0x1) and not nvml.is_throttled(0)
    assert nvml.reason_names(0x44) == ["sw_power_cap", "hw_thermal"]


def test_nvml_on_cpu_device_is_unavailable():
    assert nvml.NvmlCounter().available("cpu").startswith("unavailable")


@pytest.mark.gpu
def test_nvml_reads_a_gpu():
    import torch

    c = nvml.NvmlCounter()
    assert c.available("cuda:0") is None
    c.start("cuda:0")
    out = c.stop()
    assert out["nvml.sm_clock_mhz"] > 0 and isinstance(out["nvml.throttled"], bool)
    a = torch.randn(512, 512, device="cuda")
    e = c.energy(lambda: a @ a, torch.cuda.synchronize, "cuda:0", min_s=1.0)
    assert e["nvml.energy_j_per_call"] > 0 and e["nvml.idle_power_w"] > 0


def test_nvml_without_driver_is_a_reason(monkeypatch):
    import types

    fake = types.ModuleType("pynvml")

    def init():
        raise OSError("NVML Shared Library Not Found")

    fake.nvmlInit = init
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    monkeypatch.setattr(nvml, "_state", {})
    reason = nvml.NvmlCounter().available("cuda:0")
    assert reason.startswith("unavailable") and "Shared Library Not Found" in reason
