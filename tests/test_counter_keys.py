"""Counter keys are named once (harness.core.counter_keys): no module spells a stored key itself,
and the constants keep the stored form (prefix, unique values)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from harness.core import counter_keys as ck

PKG = Path(__file__).resolve().parents[1] / "harness"
KEY = re.compile(r"^(timer|nvml|cpu|numba|roofline|dense_alt)\.[a-z_]+(\.[a-z_]+)?$")
# modules whose owners switch to the constants separately (each names one key of its own)
PENDING = {"report/figures/hardware.py"}


def spelled_keys(path: Path) -> list[tuple[int, str]]:
    """String literals that look like a stored counter key, docstrings excluded."""
    tree = ast.parse(path.read_text(), str(path))
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs and KEY.match(n.value)]


def constants() -> dict[str, str]:
    return {k: v for k, v in vars(ck).items() if k.isupper() and isinstance(v, str)}


def test_no_module_spells_a_counter_key_itself():
    found = [f"harness/{p.relative_to(PKG)}:{line} {key!r}"
             for p in sorted(PKG.rglob("*.py"))
             if p.name != "counter_keys.py" and str(p.relative_to(PKG)) not in PENDING
             for line, key in spelled_keys(p)]
    assert found == []


def test_the_scan_sees_a_spelled_key(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""Reads "timer.rounds" in its docstring."""\nX = {"timer.rounds": 1}\n')
    assert spelled_keys(bad) == [(2, "timer.rounds")]


def test_constants_keep_the_stored_form():
    keys = {k: v for k, v in constants().items()
            if k not in ("THROTTLED_SUFFIX", "DENSE_ALT_PREFIX")}
    assert len(set(keys.values())) == len(keys), "two constants name one key"
    for name, value in keys.items():
        assert KEY.match(value), value
        assert name.startswith(value.split(".", 1)[0].upper() + "_"), (name, value)
    assert ck.TIMER_DISTURBED_ROUNDS == "timer.disturbed_rounds"  # stored databases use it
    assert ck.NUMBA_COMPILE_S == "numba.compile_s"
    assert all(v.endswith(ck.THROTTLED_SUFFIX) for v in (ck.NVML_THROTTLED,
                                                          ck.NVML_ENERGY_PHASE_THROTTLED))


def test_disturbed_rounds_reads_the_stored_counts():
    assert ck.disturbed_rounds({"timer.disturbed_rounds": 2, "timer.total_rounds": 7}) == (2, 7)
    assert ck.disturbed_rounds(None) == (0, 0) == ck.disturbed_rounds({"timer.total_rounds": None})
