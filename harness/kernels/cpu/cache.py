"""Where the CPU kernels' compiled code lives on disk.

Numba's own on-disk cache (`@njit(cache=True)`), pointed at a harness-owned folder through
`numba.config.CACHE_DIR` (what NUMBA_CACHE_DIR sets): `$NUMBA_CACHE_DIR` when the user set it,
else `$HARNESS_CACHE_DIR/numba`, else ~/.cache/harness/numba. Numba keys each entry on the kernel
source file's path and modification time, the argument types and the CPU model and features, so a
changed kernel or another machine recompiles and a new process on the same machine loads.

`configure` also lets LLVM use 512-bit vectors where the CPU has AVX-512: LLVM's tuning for
Intel's AVX-512 cores prefers 256-bit vectors (against clock drops on older parts), which halves
the FMA width the kernels can reach on a core with two 512-bit FMA units (the measured MKL peak
on the development VM needs them). The host's own feature string plus `-prefer-256-bit`; a user's
NUMBA_CPU_FEATURES wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def numba_cache_dir() -> Path:
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("HARNESS_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "harness") / "numba"


def configure() -> Path:
    """Point numba's cache locator at `numba_cache_dir()` (call before kernels are decorated)."""
    import numba

    path = numba_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    numba.config.CACHE_DIR = str(path)  # type: ignore[attr-defined]  # set by numba at import
    _wide_vectors()
    return path


def _wide_vectors() -> None:
    """Before the first compile: the JIT target machine reads config.CPU_FEATURES once."""
    import numba

    if os.environ.get("NUMBA_CPU_FEATURES") or numba.config.CPU_FEATURES is not None:  # type: ignore[attr-defined]
        return
    import llvmlite.binding as ll

    features = ll.get_host_cpu_features()
    if features.get("avx512f"):
        numba.config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"  # type: ignore[attr-defined]
