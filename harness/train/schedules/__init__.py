"""Pruning schedules, registered in `SCHEDULES` by importing this package."""

from harness.train.schedules import admm, gradual, group_lasso, iterative, oneshot  # noqa: F401
from harness.train.schedules.base import SCHEDULES

__all__ = ["SCHEDULES"]
