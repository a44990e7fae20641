"""The design's import rules, checked on the source (AST), so a seam cannot erode silently:

* measure, backends, pruning, formats and models never import tune, cli or report;
* report never imports backends or the timer (it draws stored results, it does not measure);
* only harness/tune/ imports optuna;
* `import harness` loads none of cupy, triton, pynvml (heavy or optional libraries are lazy).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "harness"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "measure": ("harness.tune", "harness.cli", "harness.report"),
    "backends": ("harness.tune", "harness.cli", "harness.report"),
    "pruning": ("harness.tune", "harness.cli", "harness.report"),
    "formats": ("harness.tune", "harness.cli", "harness.report"),
    "models": ("harness.tune", "harness.cli", "harness.report"),
    "report": ("harness.backends", "harness.measure.timer"),
}


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module name a file imports (absolute; relative imports resolved), with its line."""
    tree = ast.parse(path.read_text(), str(path))
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = parts[:len(parts) - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return out


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        area = rel.parts[0] if len(rel.parts) > 1 else ""
        for line, name in imports(path):
            for prefix in FORBIDDEN.get(area, ()):
                if _matches(name, prefix):
                    found.append(f"harness/{rel}:{line} imports {name} ({area} must not)")
            if _matches(name, "optuna") and area != "tune":
                found.append(f"harness/{rel}:{line} imports optuna (only harness/tune may)")
    return sorted(set(found))


def test_the_package_follows_the_import_rules():
    assert violations() == []


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "harness"
    (fake / "measure").mkdir(parents=True)
    (fake / "measure" / "bad.py").write_text("def f():\n    from ..tune import run\n")
    (fake / "store").mkdir()
    (fake / "store" / "worse.py").write_text("import optuna.storages\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    assert violations() == [
        "harness/measure/bad.py:2 imports harness.tune (measure must not)",
        "harness/measure/bad.py:2 imports harness.tune.run (measure must not)",
        "harness/store/worse.py:1 imports optuna (only harness/tune may)",
    ]


@pytest.mark.parametrize("heavy", ["cupy", "triton", "pynvml", "optuna", "numba"])
def test_import_harness_loads_no_heavy_library(heavy):
    code = f"import sys, harness, harness.cli.main; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"
