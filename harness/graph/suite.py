"""suites/graph_challenge.yaml, parsed into a frozen GraphSuite.

Parsed with the project's safe YAML loader and validated here; every error is one line naming
the file, line, key, the value given and what was expected (exit code 2 through the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from harness.config.yamlload import Document, load, loads
from harness.graph.inputs import INPUTS
from harness.graph.radixnet import CONFIGS, PERMUTATIONS
from harness.graph.variants import VARIANTS

NETWORK_SOURCES = ("radixnet", "tsv")
DEVICES = ("cpu", "cuda", "all")


@dataclass(frozen=True)
class Case:
    neurons: int
    layers: int
    inputs: int | None = None  # overrides inputs.count for this case


@dataclass(frozen=True)
class TuneSpace:
    """The suite's `tune:` section: one case and the choices `harness tune` searches."""

    case: Case
    variants: tuple[str, ...]
    batches: tuple[int | None, ...]  # inputs per batch (None: all at once)
    threads: tuple[int | None, ...]  # CPU threads (None: the libraries' default)
    sampler: str = "tpe"  # a harness tune sampler (harness.tune.samplers)
    trials: int = 12


@dataclass(frozen=True)
class GraphSuite:
    name: str
    file: str
    seed: int
    network_source: str
    network_path: str | None
    permute: str  # radixnet.PERMUTATIONS
    input_source: str
    input_path: str | None
    count: int | None
    categories_path: str | None
    cases: tuple[Case, ...]
    device: str
    variants: tuple[str, ...]
    repeats: int
    max_time_s: float | None
    batch: int | None
    threads: int | None
    tune: TuneSpace | None = None


class _Reader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def section(self, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        return self.doc.mapping(self.doc.data.get(key), key, allowed)

    def choice(self, mapping: dict[str, Any], key: str, path: str, options: tuple[str, ...] | list[str],
               default: str) -> str:
        value = mapping.get(key, default)
        if value not in options:
            raise self.doc.error(path, expected=f"one of {', '.join(options)}", value=value)
        return value

    @overload
    def integer(self, mapping: dict[str, Any], key: str, path: str, default: int | None, *,
                minimum: int = 1, nullable: Literal[False]) -> int: ...
    @overload
    def integer(self, mapping: dict[str, Any], key: str, path: str, default: int | None, *,
                minimum: int = 1, nullable: bool = True) -> int | None: ...

    def integer(self, mapping: dict[str, Any], key: str, path: str, default: int | None, *,
                minimum: int = 1, nullable: bool = True) -> int | None:
        value = mapping.get(key, default)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            null = " or null" if nullable else ""
            raise self.doc.error(path, expected=f"an integer ≥ {minimum}{null}", value=value)
        return value

    def number(self, mapping: dict[str, Any], key: str, path: str,
               default: float | None) -> float | None:
        value = mapping.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.doc.error(path, expected="a positive number or null", value=value)
        return float(value)

    def text(self, mapping: dict[str, Any], key: str, path: str) -> str | None:
        value = mapping.get(key)
        if value is not None and not isinstance(value, str):
            raise self.doc.error(path, expected="a path (string) or null", value=value)
        return value


def parse(doc: Document) -> GraphSuite:
    r = _Reader(doc)
    data = doc.data
    r.doc.refuse_unknown(data, "", ("name", "seed", "network", "inputs", "cases", "device", "variants",
                            "measure", "tune"))
    name = data.get("name", Path(doc.file).stem)
    if not isinstance(name, str) or not name:
        raise doc.error("name", expected="a non-empty string", value=name)
    seed = r.integer(data, "seed", "seed", 0, minimum=0, nullable=False)
    net = r.section("network", ("source", "path", "permute"))
    inp = r.section("inputs", ("source", "path", "count", "categories"))
    meas = r.section("measure", ("repeats", "max_time_s", "batch", "threads"))
    network_source = r.choice(net, "source", "network.source", NETWORK_SOURCES, "radixnet")
    network_path = r.text(net, "path", "network.path")
    if network_source == "tsv" and not network_path:
        raise doc.error("network.path", expected="the folder holding neuron{N}/n{N}-l{k}.tsv "
                        "when network.source is tsv", value=network_path)
    input_source = r.choice(inp, "source", "inputs.source", INPUTS.names(), "mnist")
    input_path = r.text(inp, "path", "inputs.path")
    if input_source == "tsv" and not input_path:
        raise doc.error("inputs.path", expected="sparse-images-{N}.tsv or its folder when "
                        "inputs.source is tsv", value=input_path)
    cases = _cases(r, data.get("cases"))
    device = r.choice(data, "device", "device", DEVICES, "cpu")
    variants = _variants(r, data.get("variants", "all"), device)
    return GraphSuite(
        name=name, file=doc.file, seed=seed, network_source=network_source,
        network_path=network_path,
        permute=r.choice(net, "permute", "network.permute", PERMUTATIONS, "challenge"),
        input_source=input_source, input_path=input_path,
        count=r.integer(inp, "count", "inputs.count", None),
        categories_path=r.text(inp, "categories", "inputs.categories"),
        cases=cases, device=device, variants=variants,
        repeats=r.integer(meas, "repeats", "measure.repeats", 3, nullable=False),
        max_time_s=r.number(meas, "max_time_s", "measure.max_time_s", None),
        batch=r.integer(meas, "batch", "measure.batch", None),
        threads=r.integer(meas, "threads", "measure.threads", None),
        tune=_tune(r, data.get("tune"), device),
    )


def _tune(r: _Reader, value: Any, device: str) -> TuneSpace | None:
    if value is None:
        return None
    doc = r.doc
    if not isinstance(value, dict):
        raise doc.error("tune", expected="a mapping {case, variants, batch, threads, sampler, "
                        "trials}", value=value)
    r.doc.refuse_unknown(value, "tune", ("case", "variants", "batch", "threads", "sampler", "trials"))
    (case,) = _cases(r, [value.get("case")], path="tune.case")
    from harness.tune.samplers import SAMPLERS  # the registry only; Optuna loads lazily

    return TuneSpace(
        case=case, variants=_variants(r, value.get("variants", "all"), device, "tune.variants"),
        batches=_choices(r, value, "batch"), threads=_choices(r, value, "threads"),
        sampler=r.choice(value, "sampler", "tune.sampler", SAMPLERS.names(), "tpe"),
        trials=r.integer(value, "trials", "tune.trials", 12, nullable=False))


def _choices(r: _Reader, section: dict[str, Any], key: str) -> tuple[int | None, ...]:
    value = section.get(key, [None])
    path = f"tune.{key}"
    if not isinstance(value, list) or not value:
        raise r.doc.error(path, expected="a non-empty list of positive integers or null",
                          value=value)
    return tuple(r.integer({key: v}, key, f"{path}[{i}]", None) for i, v in enumerate(value))


def _cases(r: _Reader, value: Any, path: str | None = None) -> tuple[Case, ...]:
    doc = r.doc
    if not isinstance(value, list) or not value:
        raise doc.error("cases", expected="a non-empty list of {neurons, layers}", value=value)
    out = []
    where = path
    for i, item in enumerate(value):
        path = where or f"cases[{i}]"
        if not isinstance(item, dict):
            raise doc.error(path, expected="a mapping {neurons, layers}", value=item)
        r.doc.refuse_unknown(item, path, ("neurons", "layers", "inputs"))
        neurons = item.get("neurons")
        if neurons not in CONFIGS:
            raise doc.error(f"{path}.neurons", expected="one of "
                            + ", ".join(str(n) for n in CONFIGS), value=neurons)
        layers = r.integer(item, "layers", f"{path}.layers", None, nullable=False)
        out.append(Case(neurons, layers, r.integer(item, "inputs", f"{path}.inputs", None)))
    return tuple(out)


def _variants(r: _Reader, value: Any, device: str, path: str = "variants") -> tuple[str, ...]:
    doc = r.doc
    if value == "all":
        return tuple(n for n in VARIANTS.names()
                     if device == "all" or VARIANTS.get(n).device == device)
    if not isinstance(value, list) or not value:
        raise doc.error(path, expected="all or a non-empty list of variant names",
                        value=value)
    for i, name in enumerate(value):
        if name not in VARIANTS:
            raise doc.error(f"{path}[{i}]", expected="one of " + ", ".join(VARIANTS.names()),
                            value=name)
    return tuple(value)


def load_suite(path: str | Path) -> GraphSuite:
    return parse(load(path))


def loads_suite(text: str, file: str = "<string>") -> GraphSuite:
    return parse(loads(text, file))
