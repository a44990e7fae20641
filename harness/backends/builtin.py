"""Registers the built-in backends (imported by `harness.backends.base.all_backends`).

Each module registers one instance in `BACKENDS` when imported and imports its library lazily,
so importing them is cheap and works without CUDA, CuPy or a GPU. A module that fails to import
(a missing or broken optional module, e.g. the bundled Triton kernels) is skipped and its error
kept in `IMPORT_ERRORS`, so one broken backend never takes the registry down.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

MODULES = (
    "harness.backends.torch_dense",
    "harness.backends.torch_sparse",
    "harness.backends.scipy_cpu",
    "harness.backends.cupy_backend",
    "harness.backends.semi_structured",
    "harness.backends.triton_backend",
    "harness.backends.numba_cpu",
)

IMPORT_ERRORS: dict[str, str] = {}  # module → "ErrorType: message", for `harness info`


def load(modules: Iterable[str]) -> dict[str, str]:
    """Import each backend module; returns {module: error} for those that failed."""
    errors = {}
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as err:  # any import-time failure is reported, never raised
            errors[module] = f"{type(err).__name__}: {err}"
    return errors


IMPORT_ERRORS.update(load(MODULES))
