"""harness: find where pruning pays — benchmark and autotune pruned (sparse) layers.

`import harness` is cheap and works on any machine: heavy or optional libraries (torch, CuPy,
Triton, pynvml, Optuna) are imported lazily by the modules that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"
SCHEMA_VERSION = 3  # version of the store's tables; see harness.store
