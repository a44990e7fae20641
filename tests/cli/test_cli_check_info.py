"""`harness check` and `harness info` through the CLI entry point."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.cli import cmd_info
from harness.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _copy_shipped(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "suites", tmp_path / "suites")
    shutil.copytree(ROOT / "tuners", tmp_path / "tuners")


def _listing(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def test_check_shipped_files_ok_and_writes_nothing(tmp_path, monkeypatch, capsys):
    _copy_shipped(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _listing(tmp_path)
    assert main(["check", "suites", "tuners/nsga2.yaml", "tuners/grid.yaml"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    lines = out.out.splitlines()
    assert "ok  suites/fc.yaml (suite: 130 grid points; tuner motpe (tpe), 2 objective(s))" in lines
    assert "ok  suites/llm.yaml (suite: grid points 480 on cpu, 495 on cuda; tuner nsga2, 2 objective(s))" in lines
    assert "ok  suites/quick.yaml (suite: 28 grid points; tuner tpe, 2 objective(s))" in lines
    assert any(x.startswith("ok  suites/llama_mlp.yaml (model suite: llama_mlp at batch 16")
               for x in lines)
    assert any(x.startswith("ok  suites/bert_layer.yaml (model suite: bert_layer at batch 1")
               for x in lines)
    assert "ok  tuners/grid.yaml (tuner profile: grid, until exhausted)" in lines
    assert _listing(tmp_path) == before


def test_check_from_another_directory_finds_profiles_next_to_the_suite(tmp_path, monkeypatch,
                                                                       capsys):
    _copy_shipped(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "repo/suites/fc.yaml"]) == 0
    assert capsys.readouterr().out.startswith("ok  repo/suites/fc.yaml (suite: 130 grid points")


def test_check_needs_a_file(capsys):
    assert main(["check"]) == 2


def test_check_continuous_space(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("space: {shape: [8, 8, 2], pruning_rate: {low: 0.5, high: 0.9},"
                              " format: csr, group_size: [1, 2]}\n")
    assert main(["check", "s.yaml"]) == 0
    assert "continuous pruning_rate, 2 parameters" in capsys.readouterr().out


def test_info_runs_and_lists_backends_and_counters(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("harness ")
    for word in ("libraries:", "torch", "optuna", "cupy", "pynvml", "cpu:", "cuda:"):
        assert word in out
    assert "backends:" in out and "counters:" in out


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert set(facts) >= {"python", "libraries", "cpu", "cuda", "backends", "counters"}
    assert facts["cpu"]["cores"] >= 1
    import torch

    if not torch.cuda.is_available():
        assert facts["cuda"]["devices"] == [] and facts["cuda"]["reason"]
    for table in (facts["backends"], facts["counters"]):
        for name, states in table.items():
            if name != "_error":
                assert set(states) == {"cpu", "cuda"}
                assert all(isinstance(v, str) and v for v in states.values())


def test_info_without_registries_or_cuda(monkeypatch, capsys):
    """Builtin modules not written yet, torch without CUDA: info still answers."""
    import harness.backends.base as backends_base
    import harness.counters.base as counters_base

    def missing_backends():
        raise ModuleNotFoundError("No module named 'harness.backends.builtin'",
                                  name="harness.backends.builtin")

    def missing_counters():
        raise ModuleNotFoundError("No module named 'harness.counters.builtin'",
                                  name="harness.counters.builtin")

    monkeypatch.setattr(backends_base, "all_backends", missing_backends)
    monkeypatch.setattr(counters_base, "all_counters", missing_counters)
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backends: (none registered)" in out
    assert "counters: (none registered)" in out
    assert "cuda: none: " in out


def test_info_reports_a_broken_backend_instead_of_crashing(monkeypatch):
    from harness.backends.base import Backend
    from harness.core.registry import Registry

    class Broken(Backend):
        name, formats, devices, dtypes = "broken", frozenset({"csr"}), frozenset({"cpu"}), \
            frozenset({"float32"})

        def available(self, device: str = "cpu") -> str | None:
            raise RuntimeError("boom")

        def prepare(self, operand, x):  # pragma: no cover - never called
            raise NotImplementedError

    reg: Registry = Registry("backend")
    reg.register("broken", Broken())
    import harness.backends.base as backends_base

    monkeypatch.setattr(backends_base, "all_backends", lambda: reg)
    table = cmd_info.backends_info()
    assert table == {"broken": {"cpu": "error: RuntimeError: boom",
                                "cuda": "not supported on cuda"}}


@pytest.mark.parametrize("module", ["torch", "optuna", "surely_not_a_module_xyz"])
def test_library_version(module):
    v = cmd_info.library_version(module)
    assert v == "not installed" if module.startswith("surely") else v[0].isdigit()
