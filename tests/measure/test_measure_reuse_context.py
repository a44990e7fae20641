"""The reuse key (measuring code included) and the rule that decides whether a stored
measurement may stand in for a new one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.core.measurement import Measurement
from harness.core.point import Point, PruneSpec
from harness.measure.context import CODE_FIELD, code_digest, context_key
from harness.measure.reuse import reuse_refusal
from harness.measure.stats import summarize
from harness.measure.timer import Policy

PROV = {"device_name": "cpu", "threads": 2, "harness_version": "0.1.0", CODE_FIELD: "aaaa"}


def test_the_key_changes_with_the_measuring_code_unless_told_not_to():
    other = {**PROV, CODE_FIELD: "bbbb"}
    assert context_key({"warmup": 1}, "cpu", PROV) != context_key({"warmup": 1}, "cpu", other)
    assert context_key({"warmup": 1}, "cpu", PROV, code=False) == \
        context_key({"warmup": 1}, "cpu", other, code=False)
    assert context_key({"warmup": 1}, "cpu", PROV) == context_key({"warmup": 1}, "cpu", dict(PROV))
    bumped = {**PROV, "harness_version": "0.2.0"}
    assert context_key({}, "cpu", PROV, code=False) != context_key({}, "cpu", bumped, code=False)


def test_the_code_digest_follows_the_measuring_sources(tmp_path):
    for pkg in ("core", "measure", "backends", "kernels", "formats", "pruning", "report"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "a.py").write_text("x = 1\n")
    before = code_digest(str(tmp_path))
    (tmp_path / "report" / "a.py").write_text("x = 2\n")  # not measuring code
    code_digest.cache_clear()
    assert code_digest(str(tmp_path)) == before
    (tmp_path / "measure" / "a.py").write_text("x = 2\n")
    code_digest.cache_clear()
    assert code_digest(str(tmp_path)) != before
    code_digest.cache_clear()


def test_provenance_carries_the_digest_of_this_checkout():
    from harness.measure.provenance import collect

    assert collect("cpu", 1, 0)[CODE_FIELD] == code_digest()


def _ok(samples=(1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0), **counters) -> Measurement:
    p = Point(8, 8, 2, format="csr", prune=PruneSpec("unstructured", 0.5))
    base = {"timer.probe": "ProcProbe", "timer.total_rounds": 4, "timer.disturbed_rounds": 0}
    return Measurement(p, "ok", samples_s=tuple(samples), stats=summarize(samples),
                       verified=True, speedup=1.5, speedup_ci=(1.4, 1.6),
                       counters={**base, **counters})


@pytest.mark.parametrize("status", ["invalid", "unsupported"])
def test_facts_about_the_code_are_reused(status):
    assert reuse_refusal(Measurement(_ok().point, status, reason="x"), Policy()) is None


def test_clean_quiet_measurements_are_reused_and_the_rest_measured_again():
    pol = Policy()
    assert reuse_refusal(_ok(), pol) is None
    assert "contended" in reuse_refusal(replace(_ok(), status="contended", speedup=None,
                                                speedup_ci=None), pol)
    assert "error" in reuse_refusal(Measurement(_ok().point, "error", reason="oom"), pol)
    old = replace(_ok(), counters={})  # stored before contention was checked
    assert "before contention" in reuse_refusal(old, pol)
    assert "disturbed" in reuse_refusal(_ok(**{"timer.disturbed_rounds": 3}), pol)
    assert "throttled" in reuse_refusal(replace(_ok(), throttled=True), pol)
    noisy = [1.0, 2.0, 0.5, 3.0, 1.5, 0.7, 2.5]  # noise alone is no reason: it is shown, not hid
    assert reuse_refusal(_ok(noisy), pol) is None
    strict = replace(pol, contention=replace(pol.contention, max_disturbed_share=0.1))
    assert reuse_refusal(_ok(**{"timer.disturbed_rounds": 1}), pol) is None
    assert "disturbed" in reuse_refusal(_ok(**{"timer.disturbed_rounds": 1}), strict)
