"""Whole models to prune and serve: the built-ins (a registry) and the user's own factory.

A model is named either by a built-in name (`BUILTINS`) or by a factory `package.module:function`
of the user's own code, imported only when named (this runs the user's code). Every model comes
with the shape of one sample of its input (`in_shape`); a batch of `batch` samples is
`randn(batch, *in_shape)`, so the N of each Linear's GEMM follows from the batch (and, for a
sequence model, the sequence length inside `in_shape`).

Built-ins, all plain `torch.nn`:

* `fc`: the FC net of hartenstein-weight-pruning-gpus.md (Table 2), the very builder the training
  stage uses (`harness.train.models`, its default reading: a 784-wide input layer);
* `lenet300`: LeNet-300-100 (784-300-100-10), the training stage's builder;
* `cnn`: the training stage's small CNN (two 3×3 convolutions and a linear head), on 1×28×28;
* `bert_layer`: one transformer encoder layer of BERT-base size (width 768, FFN 3072, 12 heads,
  post-LayerNorm, GELU), on sequences of 128 tokens: N = batch × sequence;
* `llama_mlp`: the MLP block of Llama-7B (width 4096, hidden 11008, gate/up/down projections
  without bias, SiLU gating): down(silu(gate(x)) · up(x)); a batch is a number of tokens, N = tokens.

Attention and the MLP are written with plain `nn.Linear` layers (not `nn.MultiheadAttention`,
whose projections bypass their modules' forward), so every GEMM is a module the extraction sees.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.core.errors import InputError
from harness.core.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

MNIST_SHAPE = (784,)
MNIST_CLASSES = 10
BERT_SEQ = 128
FACTORY_FORM = "a built-in model name or a factory 'package.module:function'"
_FACTORY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class ModelDef:
    """A built-in: `build(seed, in_shape)` makes the module for samples of `in_shape`;
    `in_shape` is the default. `width`: the size of the last input dim, where it is fixed (a
    transformer's model width), else None (the MNIST nets take any input size)."""

    build: Callable[[int, tuple[int, ...]], nn.Module]
    in_shape: tuple[int, ...]
    width: int | None = None

    def check(self, name: str, in_shape: tuple[int, ...]) -> None:
        if self.width is not None and (len(in_shape) != len(self.in_shape)
                                       or in_shape[-1] != self.width):
            form = ", ".join(["…"] * (len(self.in_shape) - 1) + [str(self.width)])
            raise InputError(path="model.in_shape", value=in_shape,
                             expected=f"({form}) for the built-in {name}")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    module: nn.Module
    in_shape: tuple[int, ...]

    def sample(self, batch: int, seed: int = 0) -> torch.Tensor:
        """A seeded input batch of `batch` samples, in the model's parameter dtype."""
        return sample_input(self.module, self.in_shape, batch, seed)


BUILTINS: Registry[ModelDef] = Registry("model")


def sample_input(module: nn.Module, in_shape: tuple[int, ...], batch: int,
                 seed: int = 0) -> torch.Tensor:
    import torch

    param = next(module.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn((int(batch), *in_shape), generator=gen).to(dtype)


def _seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """Build with the global RNG forked, so the caller's random stream is not disturbed."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return build().eval()


def _train_builder(name: str) -> Callable[[int, tuple[int, ...]], nn.Module]:
    """The training stage's own builder (harness.train.models), 10 classes."""

    def build(seed: int, in_shape: tuple[int, ...]) -> nn.Module:
        from harness.train.models import build_model

        return build_model(name, in_shape, MNIST_CLASSES, seed=seed).eval()

    return build


BUILTINS.register("fc", ModelDef(_train_builder("fc"), MNIST_SHAPE))
BUILTINS.register("lenet300", ModelDef(_train_builder("lenet300"), MNIST_SHAPE))
BUILTINS.register("cnn", ModelDef(_train_builder("cnn"), (1, 28, 28)))


def encoder_layer(width: int = 768, hidden: int = 3072, heads: int = 12) -> nn.Module:
    """A post-LN transformer encoder layer (BERT's) of plain Linear layers; input (B, S, width)."""
    from torch import nn
    from torch.nn import functional as F

    if width % heads:
        raise ValueError(f"width {width} is not a multiple of heads {heads}")

    class EncoderLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = heads
            self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
            self.attn_out = nn.Linear(width, width)
            self.ffn_in, self.ffn_out = nn.Linear(width, hidden), nn.Linear(hidden, width)
            self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, s, w = x.shape

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(b, s, self.heads, w // self.heads).transpose(1, 2)

            a = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                               split(self.value(x)))
            x = self.norm1(x + self.attn_out(a.transpose(1, 2).reshape(b, s, w)))
            return self.norm2(x + self.ffn_out(F.gelu(self.ffn_in(x))))

    return EncoderLayer()


def gated_mlp(width: int = 4096, hidden: int = 11008) -> nn.Module:
    """Llama's MLP block: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases."""
    from torch import nn
    from torch.nn import functional as F

    class GatedMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate_proj = nn.Linear(width, hidden, bias=False)
            self.up_proj = nn.Linear(width, hidden, bias=False)
            self.down_proj = nn.Linear(hidden, width, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    return GatedMLP()


BUILTINS.register("bert_layer", ModelDef(lambda seed, _: _seeded(encoder_layer, seed),
                                         (BERT_SEQ, 768), width=768))
BUILTINS.register("llama_mlp", ModelDef(lambda seed, _: _seeded(gated_mlp, seed), (4096,),
                                        width=4096))


def _factory(spec: str) -> Callable[[], object]:
    """Import `package.module` and return its `function` (only now: this runs the user's code)."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(path="model", value=spec,
                         expected=f"{FACTORY_FORM} whose module imports ({exc})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InputError(path="model", value=spec,
                         expected=f"{FACTORY_FORM}; {module_name} has no function {attr!r}")
    return fn


def load_model(spec: str, *, in_shape: tuple[int, ...] | None = None,
               seed: int = 0) -> LoadedModel:
    """The model named by `spec`, in eval mode. A factory is called without arguments and must
    return an `nn.Module`; it needs `in_shape` (a built-in has its own, which `in_shape` replaces:
    another input size for the MNIST nets, another sequence length for `bert_layer`)."""
    if isinstance(spec, str) and spec in BUILTINS:
        d = BUILTINS.get(spec)
        shape = tuple(int(v) for v in in_shape) if in_shape is not None else d.in_shape
        d.check(spec, shape)
        return LoadedModel(spec, d.build(seed, shape), shape)
    if not (isinstance(spec, str) and _FACTORY.fullmatch(spec)):
        raise InputError(path="model", value=spec,
                         expected=f"{FACTORY_FORM} (built-ins: {', '.join(BUILTINS.names())})")
    if in_shape is None:
        raise InputError(path="model.in_shape", value=None,
                         expected=f"the input shape of one sample for the factory {spec}")
    module = _seeded(lambda: _check_module(spec, _factory(spec)()), seed)
    return LoadedModel(spec, module, tuple(int(d) for d in in_shape))


def _check_module(spec: str, made: object) -> nn.Module:
    from torch import nn

    if not isinstance(made, nn.Module):
        raise InputError(path="model", value=spec,
                         expected=f"a factory returning a torch.nn.Module, got {type(made).__name__}")
    return made
