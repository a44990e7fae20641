"""Compile the bundled kernels for a GPU target without a GPU (ahead of time, to PTX and cubin).

The Triton interpreter runs the kernels' arithmetic on the CPU but never lowers them, so it cannot
see what only the GPU compiler rejects or degrades: illegal tl.dot shapes, shared memory beyond the
device's limit, register spills, tensor-core use, vectorised loads. Triton's NVIDIA backend
(bundled ptxas included) compiles for any `GPUTarget` on a machine without a GPU, so this module
takes a launch exactly as `harness.kernels.launch.plan` builds it for a GPU, repeats the
specialisation a real launch would do (argument types, 16-byte divisibility of pointers and
integers) and compiles it for e.g. sm_90 (H100/H200) or sm_80 (A100).

It needs Triton imported *without* TRITON_INTERPRET (the interpreter replaces the kernels'
JITFunctions), so tests call it in a subprocess (`python -m harness.kernels.aot JOBS.json`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.kernels.launch import Launch

_PRECOMPILED: set[str] = set()  # specs this process has had compiled (skipped when asked again)

# Shared memory a block may use (opt-in maximum), bytes: CUDA C Programming Guide, table
# "Technical Specifications per Compute Capability".
MAX_SHARED = {80: 163 * 1024, 86: 99 * 1024, 89: 99 * 1024, 90: 227 * 1024}


@dataclass(frozen=True)
class Compiled:
    """What the compiler produced for one launch on one target."""

    arch: int
    shared_bytes: int
    registers: int  # per thread, from the cubin's resource usage
    local_bytes: int  # per-thread local memory: > 0 means register spills (or a stack array)
    mma: bool  # tensor-core instructions (mma.sync / wgmma) in the PTX
    tf32_mma: bool  # … with TF32 operands (fp32 inputs rounded to 10-bit mantissa)
    vector_loads: int  # ld.global.v2/v4 instructions in the PTX

    def as_dict(self) -> dict:
        return asdict(self)


def _resource_usage(cubin: bytes) -> tuple[int, int]:
    """(registers, local bytes) of the cubin's kernel, read with the cuobjdump Triton bundles."""
    import triton.backends.nvidia as nv

    tool = Path(nv.__file__).parent / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        text = subprocess.run([str(tool), "--dump-resource-usage", f.name], check=True,
                              capture_output=True, text=True).stdout
    reg = re.search(r"REG:(\d+)", text)
    local = re.search(r"LOCAL:(\d+)", text)
    if reg is None or local is None:
        raise RuntimeError(f"cannot read the resource usage from cuobjdump: {text!r}")
    return int(reg.group(1)), int(local.group(1))


def specialize(launch: Launch, target: Any) -> dict[str, Any]:
    """What Triton's JITFunction.run derives from a launch before it compiles (argument types,
    16-byte divisibility, constexprs, options), as plain JSON data, so that another process can
    compile the same kernel into the same Triton cache entry (see `precompile`)."""
    from triton import knobs
    from triton.compiler import make_backend
    from triton.runtime.jit import JITFunction, create_function_from_signature

    fn = launch.kernel
    if not isinstance(fn, JITFunction):
        raise RuntimeError("the kernels were decorated by the Triton interpreter "
                           "(TRITON_INTERPRET is set); compile in a process without it")
    backend = make_backend(target)
    # The keyword arguments JITFunction.run adds before binding (they enter the cache key).
    kwargs = {**launch.meta, "debug": bool(fn.debug or knobs.runtime.debug),
              "instrumentation_mode": knobs.compilation.instrumentation_mode}
    binder = create_function_from_signature(fn.signature, fn.params, backend)
    bound, spec, options = binder(*launch.args, **kwargs)
    _, signature, constexprs, attrs = fn._pack_args(backend, kwargs, bound, spec, options)
    return {"module": fn.module, "name": fn.fn.__qualname__,
            "target": [target.backend, target.arch, target.warp_size],
            "signature": signature, "kwargs": kwargs,
            "constexprs": [[list(k), v] for k, v in constexprs.items()],
            "attrs": [[list(k), v] for k, v in attrs.items()]}


def compile_spec(spec: dict[str, Any]) -> Any:
    """Compile a `specialize` result (in any process without TRITON_INTERPRET); the kernel lands
    in Triton's cache, where a later launch with the same specialisation finds it."""
    import importlib

    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, make_backend

    fn = getattr(importlib.import_module(spec["module"]), spec["name"])
    target = GPUTarget(*spec["target"])
    options = make_backend(target).parse_options(spec["kwargs"])
    src = ASTSource(fn, spec["signature"], {tuple(k): v for k, v in spec["constexprs"]},
                    {tuple(k): v for k, v in spec["attrs"]})
    return triton.compile(src, target=target, options=options.__dict__)


def compile_launch(launch: Launch, arch: int = 90) -> Compiled:
    """Compile `launch` (from `plan(..., interpreter=False)`) for sm_`arch`; raises on failure."""
    from triton.backends.compiler import GPUTarget

    kernel = compile_spec(specialize(launch, GPUTarget("cuda", arch, 32)))
    ptx = kernel.asm["ptx"]
    registers, local = _resource_usage(kernel.asm["cubin"])
    mma_lines = [ln for ln in ptx.splitlines() if "mma" in ln and not ln.lstrip().startswith("//")]
    return Compiled(arch=arch, shared_bytes=int(kernel.metadata.shared), registers=registers,
                    local_bytes=local, mma=bool(mma_lines),
                    tf32_mma=any(".tf32" in ln for ln in mma_lines),
                    vector_loads=len(re.findall(r"ld\.global[\w.:]*\.v[24]\.", ptx)))


def precompile(launches: list[Launch], target: Any, workers: int) -> list[str | None]:
    """Compile many launches in `workers` parallel processes (Triton compiles under the GIL, so
    threads do not help): the autotuner's candidates then launch from the cache instead of
    compiling one after another. Returns per launch None or the compile error (a candidate that
    does not compile is skipped later, as before)."""
    all_specs = [specialize(launch, target) for launch in launches]
    digests = [json.dumps(spec, sort_keys=True) for spec in all_specs]
    todo = [i for i, d in enumerate(digests) if d not in _PRECOMPILED]  # once per process
    errors: list[str | None] = [None] * len(all_specs)
    specs = [all_specs[i] for i in todo]
    if not specs:
        return errors
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    chunks = [list(range(i, len(specs), workers)) for i in range(min(workers, len(specs)))]
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for c, idx in enumerate(chunks):
            path = Path(tmp) / f"specs{c}.json"
            path.write_text(json.dumps([specs[i] for i in idx]))
            procs.append((idx, subprocess.Popen(
                [sys.executable, "-m", "harness.kernels.aot", "--specs", str(path)], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        for idx, proc in procs:
            out, err = proc.communicate()
            lines = out.splitlines()
            for j, i in enumerate(idx):
                errors[todo[i]] = json.loads(lines[j])["error"] if j < len(lines) else \
                    f"compile worker exited {proc.returncode}: {err.strip()[-300:]}"
                if errors[todo[i]] is None:
                    _PRECOMPILED.add(digests[todo[i]])
    return errors


# -- the job runner tests use in a subprocess ---------------------------------------------------

def _job(job: dict[str, Any]) -> dict[str, Any]:
    """One job: build a pruned operand like the kernel tests do, plan its launch, compile it."""
    import torch

    from harness.formats.base import get_format
    from harness.kernels.config import KernelConfig
    from harness.kernels.launch import plan

    dtype = getattr(torch, job["dtype"])
    m, k, n = job["shape"]
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(m, k, generator=gen)
    if job["kind"] == "row_group":
        g = job["group_size"]
        keep = (torch.rand(m, -(-k // g), generator=gen) < 0.1).repeat_interleave(g, 1)[:, :k]
        op = get_format("row_group").encode((w * keep).to(dtype), group_size=g)
    else:
        r, c = job["block"]
        keep = (torch.rand(-(-m // r), -(-k // c), generator=gen) < 0.1)
        keep = keep.repeat_interleave(r, 0).repeat_interleave(c, 1)[:m, :k]
        op = get_format("bsr").encode((w * keep).to(dtype), block=(r, c))
    x = torch.randn(k, n, generator=gen).to(dtype)
    bias = torch.randn(m, generator=gen).to(dtype) if job.get("epilogue") else None
    cfg = KernelConfig.from_dict(job["config"]) if job.get("config") else None
    launch = plan(job["kind"], op, x, bias, bool(job.get("epilogue")),
                  1.0 if job.get("epilogue") else None, cfg, None, interpreter=False)
    try:
        out = compile_launch(launch, job.get("arch", 90)).as_dict()
    except Exception as exc:  # reported per job: one illegal config must not hide the others
        out = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
    return {**out, "config": launch.config.as_dict()}


def _compile_quietly(spec: dict[str, Any]) -> str | None:
    try:
        compile_spec(spec)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return None


def main(argv: list[str]) -> int:
    """`python -m harness.kernels.aot JOBS.json`: a JSON list of jobs in, one result per line out.
    `python -m harness.kernels.aot --specs SPECS.json`: compile `specialize` results (precompile)."""
    if argv[0] == "--specs":
        for spec in json.loads(Path(argv[1]).read_text()):
            print(json.dumps({"error": _compile_quietly(spec)}), flush=True)
        return 0
    for job in json.loads(Path(argv[0]).read_text()):
        print(json.dumps({"job": job, "result": _job(job)}), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess by the tests
    sys.exit(main(sys.argv[1:]))
