"""May a stored measurement stand in for a new one? Today's rules, applied to what was stored.

A stored measurement is reused only when it would pass today's checks: it is not contended, its
rounds were judged by a contention probe (measurements from before contention was checked are
measured again), its disturbed share is within today's limit, and it was not taken while the
device throttled. Errors are measured again (many are transient: memory, a busy device). Invalid
and unsupported outcomes are facts about the code and stay reusable. Noise is not a reason: the
stopping rule gives up at `max_time_s` today too, and a stored measurement's noise is shown with
it (its CI), so measuring it again in every run would only repeat it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.core import counter_keys as ck

if TYPE_CHECKING:
    from harness.core.measurement import Measurement
    from harness.measure.timer import Policy


def reuse_refusal(m: Measurement, policy: Policy) -> str | None:
    """None if `m` may be reused under `policy`, else why it must be measured again."""
    if m.status in ("invalid", "unsupported"):
        return None
    if m.status != "ok":
        return f"stored as {m.status}"
    counters = m.counters or {}
    if m.throttled:
        return "measured while the device throttled its clocks"
    if ck.TIMER_PROBE not in counters:
        return "measured before contention was checked"
    disturbed, total = ck.disturbed_rounds(counters)
    if total and disturbed / total > policy.contention.max_disturbed_share:
        return f"{disturbed} of {total} rounds disturbed"
    return None
