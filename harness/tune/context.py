"""The default study name of a tuning run (the reuse key lives in harness.measure.context)."""

from __future__ import annotations


def default_study_name(suite_name: str, device: str) -> str:
    return f"{suite_name}-{device.split(':', 1)[0]}"
