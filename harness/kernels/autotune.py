"""Autotuning of the bundled kernels' meta-parameters, with a disk cache per device and key.

Not Triton's built-in autotuner: timing goes through an injectable `time_fn(callable) -> seconds`,
by default the measurement core's own sampler (CUDA events, L2 flushed before each sample), and the
winner is stored in a JSON file under `$HARNESS_CACHE_DIR` (default `~/.cache/harness/triton`), one
file per device. The file records the Triton and driver versions; on a mismatch the whole file is
discarded, since a new compiler or driver can change which config is fastest.

Each trial callable is a `functools.partial` of the kernel function whose `keywords["config"]` is
the candidate, so a fake timer in tests can read which config it is timing.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.kernels.config import KernelConfig, interpreter_active, validate_config

if TYPE_CHECKING:
    import torch

    from harness.formats.base import Operand

TimeFn = Callable[[Callable[[], Any]], float]
SCHEMA = 1


def cache_dir() -> Path:
    """`$HARNESS_CACHE_DIR` when set, else ~/.cache/harness/triton."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "harness" / "triton"


def device_name(device: Any) -> str:
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return "cpu-interpreter" if interpreter_active() else dev.type


def driver_version() -> str:
    """NVIDIA driver version via NVML, else the CUDA runtime torch was built with, else 'none'."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            v = pynvml.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else str(v)
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda-runtime-{torch.version.cuda}"
    except Exception:
        pass
    return "none"


def current_versions() -> dict[str, str]:
    import triton

    return {"triton": triton.__version__, "driver": driver_version()}


def tune_key(kind: str, op: Operand, x: torch.Tensor) -> str:
    """Shape and sparsity-pattern key: kind, M, K, N, geometry, dtype, nnz bucket (half-octaves
    of stored values, so nearby pruning rates share a tuned config)."""
    m, k = op.shape
    n = x.shape[1]
    geo = f"g{op.meta['group_size']}" if kind == "row_group" else \
        "b{}x{}".format(*op.meta["block"])
    nnz = op.arrays["values"].numel()
    bucket = round(2 * math.log2(nnz + 1))
    dtype = str(op.dtype).removeprefix("torch.")
    return f"{kind}|{m}x{k}x{n}|{geo}|{dtype}|nnz{bucket}"


class TuneCache:
    """JSON file of tuned configs for one device; discarded when versions differ.

    `config_type` (default KernelConfig) is any class with `as_dict`/`from_dict`: the CPU kernels
    (harness.kernels.cpu.tune) keep their configs in the same folder and format."""

    def __init__(self, device: str, *, directory: Path | str | None = None,
                 versions: Mapping[str, str] | None = None,
                 config_type: Any = KernelConfig) -> None:
        self.directory = Path(directory) if directory is not None else cache_dir()
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", device).strip("_") or "device"
        self.path = self.directory / f"{slug}.json"
        self.device = device
        self.versions = dict(versions) if versions is not None else current_versions()
        self.config_type = config_type
        self.entries: dict[str, dict] = self._load()

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if data.get("schema") != SCHEMA or data.get("versions") != self.versions:
            return {}  # another Triton or driver: tuned results may no longer hold
        return dict(data.get("entries", {}))

    def get(self, key: str) -> Any:
        e = self.entries.get(key)
        return self.config_type.from_dict(e["config"]) if e else None

    def put(self, key: str, config: Any, seconds: float) -> None:
        self.entries[key] = {"config": config.as_dict(), "seconds": seconds}
        self.directory.mkdir(parents=True, exist_ok=True)
        blob = json.dumps({"schema": SCHEMA, "device": self.device, "versions": self.versions,
                           "entries": self.entries}, indent=1, sort_keys=True)
        # Atomic replace: concurrent workers may tune on the same device.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(blob)
        os.replace(tmp, self.path)


def candidates(kind: str, n: int, *, group_size: int | None = None,
               block: tuple[int, int] | None = None,
               interpreter: bool = False) -> list[KernelConfig]:
    """GPU-legal search space (both row_group strategies); BLOCK_N never far above N."""
    top_n = max(1, 1 << max(0, (n - 1).bit_length()))
    warps, stages = ((4,), (2,)) if interpreter else ((4, 8), (2, 3))
    out: list[KernelConfig] = []
    if kind == "row_group":
        g = group_size or 32
        bns = [b for b in (1, 2, 4, 8, 16, 32, 64) if b <= top_n and b * 8 >= min(top_n, 64)]
        for bn, bk, w in product(bns, (64, 128, 256), warps):
            out.append(KernelConfig(block_n=bn, block_k=max(bk, g), num_warps=w, num_stages=2))
        tile_bns = sorted({max(16, b) for b in bns})
        for bm, bk, bn, w, s in product((32, 64, 128), (16, 32), tile_bns, warps, stages):
            out.append(KernelConfig(strategy="tile", block_m=bm, block_k=max(bk, g), block_n=bn,
                                    num_warps=w, num_stages=s))
    else:
        bns = [b for b in (16, 32, 64, 128) if b <= max(16, top_n)]
        for bn, w, s in product(bns, warps, stages):
            out.append(KernelConfig(block_n=bn, num_warps=w, num_stages=s))
    seen: set[KernelConfig] = set()
    legal = []
    for c in out:
        if c not in seen and validate_config(kind, c, interpreter=interpreter,
                                             group_size=group_size, block=block) is None:
            seen.add(c)
            legal.append(c)
    return legal


def default_time_fn(fn: Callable[[], Any], *, device: str = "cpu", warmup: int = 2,
                    reps: int = 10) -> float:
    """Median seconds of `reps` samples from harness.measure's sampler for `device`: CUDA events
    with the L2 flushed before each sample on a GPU (as the measurement core times), perf_counter
    on the CPU. Fixed reps, not the adaptive policy: a candidate only has to be ranked."""
    from harness.measure.clock import make_sampler

    sampler = make_sampler(device)
    for _ in range(warmup):
        fn()
    sampler.sync()
    return statistics.median(sampler.sample(fn) for _ in range(reps))


def _precompile(kind: str, op: Operand, x: torch.Tensor, pool: list[KernelConfig],
                workers: int) -> None:
    from triton.runtime import driver

    from harness.kernels.aot import precompile
    from harness.kernels.launch import plan

    launches = []
    for cfg in pool:
        try:
            launches.append(plan(kind, op, x, None, False, None, cfg, None, interpreter=False))
        except Exception:  # refused by the launcher: skipped when timing too
            continue
    try:
        precompile(launches, driver.active.get_current_target(), min(workers, len(launches)))
    except Exception as exc:  # Triton internals differ by version: then compile while timing
        warnings.warn(f"parallel precompile skipped ({type(exc).__name__}: {exc}); "
                      "candidates compile one by one", stacklevel=3)


def autotune(kind: str, op: Operand, x: torch.Tensor, *, time_fn: TimeFn | None = None,
             configs: Iterable[KernelConfig] | None = None, cache: TuneCache | None = None,
             use_cache: bool = True, precompile_workers: int | None = None) -> KernelConfig:
    """Fastest legal config for `kind` ('row_group' | 'bsr') on this operand and X.

    A cached result for the same device/key is returned without timing. On a GPU the candidates
    are first compiled in parallel processes (`precompile_workers`, default one per CPU core, 0 =
    off; harness.kernels.aot.precompile), so timing them finds each kernel in Triton's cache.
    Candidates that fail to compile or launch (e.g. out of shared memory) are skipped. Epilogue
    flags do not enter the key: the epilogue runs once per output tile and does not move the
    optimum.
    """
    from harness.kernels import bsr_mm, row_group_mm

    interp = interpreter_active()
    key = tune_key(kind, op, x)
    if use_cache and cache is None:
        cache = TuneCache(device_name(x.device))
    if use_cache and cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    geo = {"group_size": int(op.meta["group_size"])} if kind == "row_group" else \
        {"block": tuple(op.meta["block"])}
    pool = list(configs) if configs is not None else \
        candidates(kind, x.shape[1], interpreter=interp, **geo)
    pool = [c for c in pool if validate_config(kind, c, interpreter=interp, **geo) is None]
    if not pool:
        raise ValueError(f"no legal {kind} config to tune for key {key}")
    fn = row_group_mm if kind == "row_group" else bsr_mm
    gpu = x.device.type == "cuda" and not interp
    workers = (os.cpu_count() or 1) if precompile_workers is None else precompile_workers
    if gpu and workers > 1 and len(pool) > 2:
        _precompile(kind, op, x, pool, workers)
    timer = time_fn or partial(default_time_fn, device=str(x.device) if gpu else "cpu")
    best: tuple[float, KernelConfig] | None = None
    for cfg in pool:
        try:
            t = float(timer(partial(fn, op, x, config=cfg)))
        except Exception:  # a candidate that cannot compile/launch here is not a winner
            continue
        if best is None or t < best[0]:
            best = (t, cfg)
    if best is None:
        raise RuntimeError(f"every {kind} config failed to run for key {key}")
    if use_cache and cache is not None:
        cache.put(key, best[1], best[0])
    return best[1]
