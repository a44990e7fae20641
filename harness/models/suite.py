"""A model suite (`suites/llama_mlp.yaml`): a whole model to prune per layer, parsed into a frozen
ModelSuite by its own small loader.

    name: llama_mlp
    model: llama_mlp            # a built-in (harness.models.builtin) or package.module:function
    in_shape: null              # one sample's input shape (a factory needs it)
    batch: 16                   # samples per served batch (tokens for llama_mlp)
    device: cpu
    threads: null               # torch threads (the numba kernels follow torch's count)
    seed: 0
    trials: 40                  # Optuna trials of the per-layer search
    sampler: tpe                # a harness tune sampler (harness.tune.samplers)
    target_rate: 0.9            # the exported configuration's least model pruning rate
    choices:                    # what each layer shape may get
      formats:
        - {format: row_group, backend: numba, pattern: row_group, group_sizes: [8, 16, 32, 64]}
        - {format: csr, backend: numba, pattern: unstructured}
      rates: [0.5, 0.7, 0.9, 0.95]
      dense: true               # a layer may also stay dense
    measure: {mode: hot, max_time_s: 1.0, rounds: 5}   # the measurement core's timing rules
    train:                      # optional, fc / lenet300 / cnn only: the accuracy of the answer
      dataset: mnist            # digits | mnist | synthetic (harness.train.data)
      pretrain_epochs: 10       # the dense model (cached, as the training stage's)
      finetune_epochs: 2        # each trained configuration, its masks fixed
      batch_size: 128
      lr: 0.05
      optimizer: sgd
      candidates: 4             # the fastest at ≥ target_rate (and the fastest uniform per rate)
      max_accuracy_drop: 0.01   # the accuracy budget against the dense model (0.01 = one point)
      min_accuracy: null        # and/or an absolute floor

Every error is one line naming the file, line, key, the value given and what was expected
(harness.core.errors.InputError, exit code 2 through the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.yamlload import Document, load, loads
from harness.core.point import PruneSpec

DEVICES = ("cpu", "cuda")
MODES = ("hot", "cold")
TOP_KEYS = ("name", "model", "in_shape", "batch", "device", "threads", "seed", "trials",
            "sampler", "target_rate", "choices", "measure", "train")
TRAIN_KEYS = ("dataset", "data_path", "pretrain_epochs", "finetune_epochs", "batch_size", "lr",
              "optimizer", "candidates", "max_accuracy_drop", "min_accuracy")
FORMAT_KEYS = ("format", "backend", "pattern", "group_sizes")
MEASURE_INTS = ("warmup", "min_samples", "rounds")
MEASURE_FLOATS = ("min_time_s", "max_time_s", "target_rel_noise")


@dataclass(frozen=True)
class Option:
    """One way to serve a layer, before its rate: format, backend, pattern, group size."""

    format: str = "dense"
    backend: str = "torch"
    pattern: str = "unstructured"
    group_size: int = 1

    @property
    def dense(self) -> bool:
        return self.format == "dense"

    @property
    def label(self) -> str:
        geo = f" g={self.group_size}" if self.pattern == "row_group" else ""
        return "dense" if self.dense else f"{self.format}/{self.backend} {self.pattern}{geo}"

    def spec(self, rate: float) -> PruneSpec:
        return PruneSpec(self.pattern, rate, self.group_size) if not self.dense else PruneSpec()


DENSE = Option()


@dataclass(frozen=True)
class ModelSuite:
    name: str
    file: str
    model: str
    in_shape: tuple[int, ...] | None
    batch: int
    device: str
    threads: int | None
    seed: int
    trials: int
    sampler: str
    target_rate: float
    options: tuple[Option, ...]  # sparse options; DENSE is added when `allow_dense`
    rates: tuple[float, ...]
    allow_dense: bool
    measure: Any  # harness.measure.settings.MeasureSettings
    train: Any = None  # harness.config.settings.TrainSpec: the accuracy stage (None: none)

    @property
    def layer_options(self) -> tuple[Option, ...]:
        return (*self.options, DENSE) if self.allow_dense else self.options


def is_model_suite(data: Any) -> bool:
    """A model suite names a `model:`; GEMM suites have a `space:`, graph suites `cases:`."""
    return isinstance(data, dict) and "model" in data and "space" not in data


class _Reader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def integer(self, value: Any, path: str, *, minimum: int = 1,
                nullable: bool = False) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            null = " or null" if nullable else ""
            raise self.doc.error(path, expected=f"an integer ≥ {minimum}{null}", value=value)
        return value

    def count(self, value: Any, path: str, minimum: int = 1) -> int:
        out = self.integer(value, path, minimum=minimum)
        assert out is not None
        return out

    def fraction(self, value: Any, path: str, *, upper: float = 1.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value < upper + 1e-12:
            raise self.doc.error(path, expected=f"a number in (0, {upper:g}]", value=value)
        return float(value)

    def choice(self, value: Any, path: str, options: list[str] | tuple[str, ...]) -> str:
        if value not in options:
            raise self.doc.error(path, expected=f"one of {', '.join(options)}", value=value)
        return value

    def names(self, value: Any, path: str, what: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise self.doc.error(path, expected=f"a non-empty list of {what}", value=value)
        return value


def parse(doc: Document) -> ModelSuite:
    r = _Reader(doc)
    data = doc.data
    r.doc.refuse_unknown(data, "", TOP_KEYS)
    name = data.get("name", Path(doc.file).stem)
    if not isinstance(name, str) or not name:
        raise doc.error("name", expected="a non-empty string", value=name)
    model = _model(r, data.get("model"))
    in_shape = data.get("in_shape")
    if in_shape is not None:
        shape = r.names(in_shape, "in_shape", "positive integers")
        in_shape = tuple(r.count(v, f"in_shape[{i}]") for i, v in enumerate(shape))
    from harness.config.names import SAMPLERS  # the names the suite language accepts

    options, rates, allow_dense = _choices(r, data.get("choices"))
    return ModelSuite(
        name=name, file=doc.file, model=model, in_shape=in_shape,
        batch=r.count(data.get("batch"), "batch"),
        device=r.choice(data.get("device", "cpu"), "device", DEVICES),
        threads=r.integer(data.get("threads"), "threads", nullable=True),
        seed=r.count(data.get("seed", 0), "seed", minimum=0),
        trials=r.count(data.get("trials", 20), "trials"),
        sampler=r.choice(data.get("sampler", "tpe"), "sampler", SAMPLERS),
        target_rate=r.fraction(data.get("target_rate", 0.9), "target_rate"),
        options=options, rates=rates, allow_dense=allow_dense,
        measure=_measure(r, data.get("measure")),
        train=None if data.get("train") is None else _train(r, data["train"], model))


def _model(r: _Reader, value: Any) -> str:
    from harness.models.builtin import _FACTORY, BUILTINS, FACTORY_FORM

    if not isinstance(value, str) or not (value in BUILTINS or _FACTORY.fullmatch(value)):
        raise r.doc.error("model", expected=f"{FACTORY_FORM} (built-ins: "
                          f"{', '.join(BUILTINS.names())})", value=value)
    return value


def _choices(r: _Reader, value: Any) -> tuple[tuple[Option, ...], tuple[float, ...], bool]:
    from harness.backends.base import all_backends
    from harness.formats import builtin  # noqa: F401  (registers the built-in formats)
    from harness.formats.base import FORMATS
    from harness.pruning import patterns  # noqa: F401  (registers the built-in patterns)
    from harness.pruning.base import PATTERNS

    if value is None:
        raise r.doc.error("choices", expected="a mapping {formats, rates, dense}", value=value)
    section = r.doc.mapping(value, "choices", ("formats", "rates", "dense"))
    options: list[Option] = []
    for i, item in enumerate(r.names(section.get("formats"), "choices.formats",
                                     "{format, backend, pattern, group_sizes}")):
        path = f"choices.formats[{i}]"
        item = r.doc.mapping(item, path, FORMAT_KEYS)
        fmt = r.choice(item.get("format"), f"{path}.format",
                       [n for n in FORMATS.names() if n != "dense"])
        backend = r.choice(item.get("backend"), f"{path}.backend", all_backends().names())
        pattern = r.choice(item.get("pattern", "unstructured"), f"{path}.pattern",
                           PATTERNS.names())
        sizes = item.get("group_sizes", [1])
        sizes = [r.count(g, f"{path}.group_sizes[{j}]")
                 for j, g in enumerate(r.names(sizes, f"{path}.group_sizes", "group sizes"))]
        options += [Option(fmt, backend, pattern, g) for g in sizes]
    rates = tuple(r.fraction(v, f"choices.rates[{i}]", upper=0.999) for i, v in
                  enumerate(r.names(section.get("rates"), "choices.rates",
                                    "pruning rates in (0, 1)")))
    dense = section.get("dense", True)
    if not isinstance(dense, bool):
        raise r.doc.error("choices.dense", expected="true or false", value=dense)
    return tuple(dict.fromkeys(options)), tuple(sorted(set(rates))), dense


def _measure(r: _Reader, value: Any) -> Any:
    from harness.measure.settings import MeasureSettings

    section = r.doc.mapping(value, "measure", (*MEASURE_INTS, *MEASURE_FLOATS, "mode"))
    kw: dict[str, Any] = {"mode": r.choice(section.get("mode", "hot"), "measure.mode", MODES)}
    for key in MEASURE_INTS:
        if key in section:
            kw[key] = r.count(section[key], f"measure.{key}", minimum=0 if key == "warmup" else 1)
    for key in MEASURE_FLOATS:
        if key in section:
            v = section[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise r.doc.error(f"measure.{key}", expected="a positive number", value=v)
            kw[key] = float(v)
    return MeasureSettings(**kw)


# a model suite's training defaults (the kernel suites' TrainSpec has its own)
TRAIN_DEFAULTS = {"dataset": "mnist", "pretrain_epochs": 10, "finetune_epochs": 2,
                  "batch_size": 128, "candidates": 4}


def _train(r: _Reader, value: Any, model: str) -> Any:
    """The accuracy stage: the kernel suites' `train:` rules (their schema, their TrainSpec)
    for the fields that apply; the model is the suite's."""
    from harness.config.names import DATASETS, MODELS
    from harness.config.settings import parse_train
    from harness.config.suite import check_data_path
    from harness.config.validate import validate_property

    if model not in MODELS:
        raise r.doc.error("train", f"expected a model the training stage builds "
                          f"({', '.join(MODELS)}) for a train section, got model {model!r}")
    section = r.doc.mapping(value, "train", TRAIN_KEYS)
    r.choice(section.get("dataset", TRAIN_DEFAULTS["dataset"]), "train.dataset", DATASETS)
    validate_property(r.doc, "suite", "train", section, "train")
    check_data_path(r.doc, section.get("data_path"))
    return parse_train(r.doc, {**TRAIN_DEFAULTS, **section, "model": model}, "train")


def load_suite(path: str | Path) -> ModelSuite:
    return parse(load(path))


def loads_suite(text: str, file: str = "<string>") -> ModelSuite:
    return parse(loads(text, file))
