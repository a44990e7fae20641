"""The "rest" of a model (everything but its Linear layers), two ways, in one interleaved run:
dense model time − Σ each Linear layer timed alone (what harness.models.share predicts with),
and the model with each Linear replaced by a stub returning its recorded output.

    python benchmarks/model_rest.py [--threads 2]

For the Llama-7B MLP block at 16 tokens and the FC net at batch 50 (harness.models.builtin).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch
    from torch import nn

    from harness.models.builtin import load_model
    from harness.models.extract import extract

    class Stub(nn.Module):
        def __init__(self, out: torch.Tensor) -> None:
            super().__init__()
            self.out = out

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out

    def record(outs: dict, name: str, _module, _inputs, output) -> None:
        outs[name] = output.clone()

    torch.set_num_threads(args.threads)
    for name, batch, rounds in (("llama_mlp", 16, 30), ("fc", 50, 300)):
        loaded = load_model(name, seed=0)
        model, x = loaded.module.eval(), loaded.sample(batch, 0)
        ext = extract(model, x)
        outs: dict[str, torch.Tensor] = {}
        hooks = [m.register_forward_hook(partial(record, outs, n))
                 for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            model(x)
        for h in hooks:
            h.remove()
        stub = copy.deepcopy(model)
        for n, o in outs.items():
            parent, _, leaf = n.rpartition(".")
            setattr(stub.get_submodule(parent) if parent else stub, leaf, Stub(o))
        variants = {"model": partial(model, x), "stub": partial(stub, x)}
        for n in outs:
            variants[n] = partial(model.get_submodule(n), torch.randn(*ext.layer(n).input_shape))
        samples: dict[str, list[float]] = {k: [] for k in variants}
        with torch.no_grad():
            for f in variants.values():
                for _ in range(3):
                    f()
            for _ in range(rounds):
                for k, f in variants.items():
                    t0 = time.perf_counter()
                    f()
                    samples[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in samples.items()}
        layers = sum(med[n] for n in outs)
        print(f"{name}: model {med['model'] * 1e3:.3f} ms, Σ layers alone {layers * 1e3:.3f} ms, "
              f"model − layers {(med['model'] - layers) * 1e3:.3f} ms, stubbed model "
              f"{med['stub'] * 1e3:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
