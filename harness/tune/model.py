"""`harness tune` on a model suite (harness.models.suite): a per-layer search over a whole model.

Each layer-shape group (harness.models.extract: layers of equal GEMM shape) gets its own choice
(format/backend, group size, rate), suggested by Optuna, for two objectives: the predicted model
time (↓) and the model's pruning rate (↑, weights removed / all Linear and Conv2d weights).

    predicted model time = T_rest + Σ_layers T(layer, choice)

T_rest and each dense layer time come from one interleaved run of the dense model
(harness.models.share: the layer modules themselves, x·Wᵀ). Each distinct (shape, choice) is
measured twice, once per study:
  * by the measurement core (`Bench`): the backend's product on a K×N operand, verified against
    float64 and stored with its raw samples — the kernel's evidence;
  * as the exported model runs it: the shape's first layer pruned and exported
    (harness.models.export.pruned_layer: the backend wrapper, its input copy and a Conv2d's
    unfolding included), interleaved with that dense layer module. Its time in the prediction is
    the dense layer's time × (exported / dense) of that run, so drift between runs cancels.
The prediction uses the second. The kernel alone is not the layer: on the small CNN at batch 50
the kernels' times predicted 2.56× for a configuration whose exported model ran at 0.26×
(im2col and the wrapper cost more than the products saved), and Bench's dense baseline W·X ran
1.6× faster than nn.Linear's x·Wᵀ at N = 16. Masks alone bring no speed
(ouyang-pruning-in-dnn-survey.md); the row groups are those of hartenstein-weight-pruning-gpus.md.

The uniform configurations (one choice for every layer) are evaluated first as baselines; they
also measure every (shape, choice) the search can propose, so the trials are arithmetic. At the
end the fastest configuration at or above the suite's `target_rate` is exported with real sparse
execution and timed end to end against the dense model (harness.models.export.evaluate), beside
the best uniform one. Conv2d layers are searched and exported as their im2col GEMMs (grouped ones
stay dense).

`harness tune` stores the study as a run of kind "model": every (shape, choice) measurement with
its raw samples, and one record of the outcome (harness.tune.model_record: candidates, front,
uniform baselines, the exported configurations timed end to end), which `harness report` draws.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.models.suite import DENSE, ModelSuite, Option

if TYPE_CHECKING:
    import torch

    from harness.core.measurement import Measurement
    from harness.models.export import LayerChoice, ModelResult
    from harness.models.extract import Extraction, ShapeGroup
    from harness.models.share import Shares
    from harness.store.api import Store
    from harness.tune.model_train import AccuracyStage

Choice = tuple[Option, float]  # (option, rate); a dense option's rate is ignored


@dataclass(frozen=True)
class Candidate:
    """A whole-model configuration: one choice per searchable shape group (by group key)."""

    choices: tuple[tuple[str, Option, float], ...]
    time_s: float  # predicted model time
    rate: float  # model pruning rate
    uniform: bool = False
    trial: int | None = None

    def label(self) -> str:
        if self.uniform:
            opt, rate = self.choices[0][1], self.choices[0][2]
            return f"uniform {opt.label}" + ("" if opt.dense else f" {rate:.0%}")
        return "; ".join(f"{k}: {o.label}" + ("" if o.dense else f" {r:.0%}")
                         for k, o, r in self.choices)


@dataclass
class ModelSearch:
    """The model, its dense shares and the cache of measured (shape, choice) times."""

    suite: ModelSuite
    module: Any  # torch.nn.Module
    x: torch.Tensor
    ext: Extraction
    shares: Shares
    bench: Any  # harness.measure.runner.Bench
    device: str = "cpu"
    say: Callable[[str], None] = lambda _: None
    probe: Any = None  # harness.measure.contention.Probe; None: the device's
    cache: dict[tuple[str, Option, float], float | None] = field(default_factory=dict)
    reasons: dict[tuple[str, Option, float], str] = field(default_factory=dict)
    # (shape, choice) → the exported layer's time as the prediction uses it (module docstring)
    layer_cache: dict[tuple[str, Option, float], float | None] = field(default_factory=dict)
    contended: list[str] = field(default_factory=list)  # the layer-timing runs' probe verdicts

    # -- the model's layers --------------------------------------------------------------------

    def groups(self) -> tuple[ShapeGroup, ...]:
        """Shape groups whose every layer can run sparse (Linear; ungrouped, zero-padded
        Conv2d as its im2col GEMM)."""
        from harness.models.export import sparse_refusal

        return tuple(g for g in self.ext.groups if all(
            sparse_refusal(self.module.get_submodule(self.ext.layer(n).module_name)) is None
            for n in g.layers))

    def dense_s(self, key: str) -> float:
        for layer, g in ((t, self.ext.group_of(t.name)) for t in self.shares.layers):
            if g.key == key:
                return layer.time_s
        raise KeyError(key)

    def _modules(self, group: ShapeGroup) -> list[str]:
        return list(dict.fromkeys(self.ext.layer(n).module_name for n in group.layers))

    def weights(self) -> tuple[dict[str, int], int]:
        """Weights per searchable group (each module once) and of all prunable layers."""
        from harness.pruning.model import prunable_layers

        modules = dict(prunable_layers(self.module))
        total = sum(m.weight.numel() for m in modules.values())
        seen: set[str] = set()
        per: dict[str, int] = {}
        for g in self.groups():
            names = [n for n in self._modules(g) if n not in seen]
            seen.update(names)
            per[g.key] = sum(modules[n].weight.numel() for n in names)
        return per, total

    # -- measurements --------------------------------------------------------------------------

    def _point(self, group: ShapeGroup, opt: Option, rate: float) -> Any:
        return group.point(device=self.device, format=opt.format, backend=opt.backend,
                           prune=opt.spec(rate), seed=self.suite.seed)

    def prefetch(self, wanted: Sequence[tuple[ShapeGroup, Option, float]]) -> None:
        """Measure every (shape, choice) not cached yet, in one `Bench.measure_many` call
        (each shape's variants interleaved with its dense baseline)."""
        from harness.backends.resolve import unsupported_reason

        todo: dict[tuple[str, Option, float], tuple[ShapeGroup, Option, float]] = {}
        for g, opt, rate in wanted:
            key = (g.key, opt, rate)
            if opt.dense or key in self.cache or key in todo:
                continue
            _, reason = unsupported_reason(self._point(g, opt, rate))
            if reason is not None:
                self.cache[key], self.reasons[key] = None, reason
            else:
                todo[key] = (g, opt, rate)
        if not todo:
            return
        self.say(f"  measuring {len(todo)} (shape, choice) pairs")
        for (g, opt, rate), m in zip(todo.values(), self.bench.measure_many(
                [self._point(g, opt, rate) for g, opt, rate in todo.values()]), strict=True):
            key = (g.key, opt, rate)
            if m.status == "ok" and m.stats is not None:
                self.cache[key] = m.stats.median
            else:
                self.cache[key], self.reasons[key] = None, m.reason or m.status
        self._time_layers([t for k, t in todo.items() if self.cache[k] is not None])

    def _time_layers(self, todo: Sequence[tuple[ShapeGroup, Option, float]]) -> None:
        """Each (shape, choice) as the exported model runs it, interleaved per shape with the
        dense layer module (at most MAX_GROUP choices a run): layer_cache = dense layer time ×
        (exported / dense) of the run (module docstring)."""
        import torch

        from harness.core.errors import UnsupportedError
        from harness.measure.runner import MAX_GROUP
        from harness.measure.timer import Policy
        from harness.models.export import LayerChoice, pruned_layer
        from harness.models.share import layer_input, medians, time_variants

        policy = Policy.from_settings(self.suite.measure, self.device)
        by_group: dict[str, list[tuple[ShapeGroup, Option, float]]] = {}
        for item in todo:
            by_group.setdefault(item[0].key, []).append(item)
        for key, items in by_group.items():
            layer = self.ext.layer(items[0][0].layers[0])
            dense = self.module.get_submodule(layer.module_name)
            xin = layer_input(self.module, self.ext, layer.name, self.suite.seed)
            for start in range(0, len(items), MAX_GROUP):
                variants: dict[str, Callable[[], Any]] = {"dense": partial(dense, xin)}
                names: dict[str, tuple[str, Option, float]] = {}
                for _, opt, rate in items[start:start + MAX_GROUP]:
                    try:
                        mod = pruned_layer(dense, LayerChoice(opt.format, opt.backend,
                                                              opt.spec(rate)),
                                           name=layer.module_name, n=layer.n,
                                           dtype=layer.dtype, device=self.device)
                    except UnsupportedError as exc:
                        self.layer_cache[(key, opt, rate)] = None
                        self.reasons[(key, opt, rate)] = str(exc)
                        continue
                    with torch.no_grad():
                        mod(xin)  # prepares the backend (compiles, tunes) outside the timing
                    name = f"{opt.label} {rate:g}"
                    variants[name], names[name] = partial(mod, xin), (key, opt, rate)
                if not names:
                    continue
                res = time_variants(variants, device=self.device, policy=policy,
                                    probe=self.probe, hot=self.suite.measure.mode == "hot")
                why = res.contended(policy)
                if why:
                    self.contended.append(f"{key}: {why}")
                    self.say(f"  {key}: {why}")
                med = medians(res)
                for name, k in names.items():
                    self.layer_cache[k] = self.dense_s(key) * med[name] / med["dense"]

    def layer_s(self, group: ShapeGroup, opt: Option, rate: float) -> float | None:
        if opt.dense:
            return self.dense_s(group.key)
        self.prefetch([(group, opt, rate)])
        key = (group.key, opt, rate)
        return None if self.cache[key] is None else self.layer_cache.get(key)

    def layer_times(self) -> tuple[dict[str, Any], ...]:
        """Every (shape, choice) measured: its kernel's median (Bench) and the exported layer's
        time the prediction uses, or why it cannot run."""
        return tuple({"group": k, "option": o.label, "rate": r, "kernel_s": v,
                      "layer_s": self.layer_cache.get((k, o, r)),
                      "reason": self.reasons.get((k, o, r), "")}
                     for (k, o, r), v in self.cache.items())

    def candidate(self, assign: Mapping[str, Choice], *, uniform: bool = False,
                  trial: int | None = None) -> Candidate | str:
        """The configuration's predicted model time and pruning rate, or why it cannot run."""
        per, total = self.weights()
        t = self.shares.rest_s
        removed = 0.0
        by_key = {g.key: g for g in self.groups()}
        for layer in self.shares.layers:
            key = self.ext.group_of(layer.name).key
            opt, rate = assign.get(key, (DENSE, 0.0))
            s = self.layer_s(by_key[key], opt, rate) if key in by_key else layer.time_s
            if s is None:
                return f"{key} {opt.label} {rate:.0%}: {self.reasons[(key, opt, rate)]}"
            t += s
        for key, (opt, rate) in assign.items():
            removed += 0.0 if opt.dense else rate * per[key]
        choices = tuple((k, o, 0.0 if o.dense else r) for k, (o, r) in assign.items())
        return Candidate(choices, t, removed / total if total else 0.0, uniform, trial)

    def config(self, cand: Candidate) -> dict[str, LayerChoice]:
        """Module name → LayerChoice for export (dense choices leave the layer alone)."""
        from harness.models.export import LayerChoice

        by_key = {g.key: g for g in self.groups()}
        out: dict[str, LayerChoice] = {}
        for key, opt, rate in cand.choices:
            if opt.dense:
                continue
            for name in self._modules(by_key[key]):
                out.setdefault(name, LayerChoice(opt.format, opt.backend, opt.spec(rate)))
        return out


@dataclass(frozen=True)
class ModelTuneResult:
    suite: str
    dense_model_s: float
    candidates: tuple[Candidate, ...]
    front: tuple[Candidate, ...]
    chosen: Candidate | None
    best_uniform: Candidate | None
    chosen_result: ModelResult | None = None
    uniform_result: ModelResult | None = None
    failures: tuple[str, ...] = ()
    target_rate: float = 0.9
    shares: Shares | None = None  # the dense model's per-layer times
    layer_groups: Mapping[str, str] = field(default_factory=dict)  # layer name → shape group
    layer_times: tuple[Mapping[str, Any], ...] = ()  # ModelSearch.layer_times()
    contended: tuple[str, ...] = ()  # the layer-timing runs the probe judged disturbed
    accuracy: AccuracyStage | None = None  # the suite's `train:` (chosen: within its budget)

    @property
    def best_per_layer(self) -> Candidate | None:
        """The fastest configuration the search found that is not uniform, at or above the
        target rate (compared with the best uniform one there)."""
        return fastest_at([c for c in self.candidates if not c.uniform], self.target_rate)


def is_model_suite(path: str | Path) -> bool:
    from harness.config.yamlload import load
    from harness.models.suite import is_model_suite as data_is_model_suite

    return data_is_model_suite(load(path).data)


def pareto_front(cands: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """Candidates no other beats in both time (↓) and rate (↑), fastest first: the one front
    function (harness.pareto.front), with equal (time, rate) pairs listed once."""
    from harness.pareto import front

    seen: set[tuple[float, float]] = set()
    out = []
    for c in front(list(cands), ["minimize", "maximize"], values=lambda c: (c.time_s, c.rate)):
        if (c.time_s, c.rate) not in seen:
            seen.add((c.time_s, c.rate))
            out.append(c)
    return tuple(out)


def fastest_at(cands: Sequence[Candidate], target: float) -> Candidate | None:
    ok = [c for c in cands if c.rate >= target - 1e-9]
    return min(ok, key=lambda c: c.time_s, default=None)


EQUAL_RATE_BAND = 0.01  # "equal model pruning rate": within one percentage point above


@dataclass(frozen=True)
class RateComparison:
    """At one uniform baseline's model rate: the fastest uniform configuration there and the
    fastest per-layer one pruning as much, but at most EQUAL_RATE_BAND more."""

    rate: float
    uniform: Candidate
    per_layer: Candidate | None

    @property
    def time_ratio(self) -> float | None:
        """Per-layer model time ÷ uniform model time (< 1: the per-layer choice is faster)."""
        return None if self.per_layer is None else self.per_layer.time_s / self.uniform.time_s


def at_equal_rates(cands: Sequence[Candidate],
                   band: float = EQUAL_RATE_BAND) -> tuple[RateComparison, ...]:
    """Per-layer against uniform at equal model pruning rate, for each uniform rate (the
    issue's question: does choosing per layer beat one choice for all, at the same rate?)."""
    best: dict[float, Candidate] = {}
    for c in cands:
        if c.uniform and (c.rate not in best or c.time_s < best[c.rate].time_s):
            best[c.rate] = c
    layered = [c for c in cands if not c.uniform]
    return tuple(RateComparison(r, best[r], min(
        (c for c in layered if r - 1e-9 <= c.rate <= r + band + 1e-9),
        key=lambda c: c.time_s, default=None)) for r in sorted(best))


def prepare(suite: ModelSuite, *, device: str | None = None,
            say: Callable[[str], None] = lambda _: None, probe: Any = None,
            store: Store | None = None,
            sink: Callable[[Measurement], Any] | None = None) -> ModelSearch:
    """Load the model, extract its layers, measure the dense shares; make the study's Bench.
    `probe`: the contention probe of every timed run (default: the device's); `store`: where
    the device's peaks are kept; `sink`: receives every (shape, choice) measurement."""
    from harness.measure.runner import Bench
    from harness.measure.timer import Policy
    from harness.models.builtin import load_model
    from harness.models.extract import extract
    from harness.models.share import measure_shares

    dev = device or suite.device
    if suite.threads is not None:
        import torch

        torch.set_num_threads(suite.threads)
    loaded = load_model(suite.model, in_shape=suite.in_shape, seed=suite.seed)
    module = loaded.module.to(dev)
    x = loaded.sample(suite.batch, suite.seed).to(dev)
    ext = extract(module, x)
    shares = measure_shares(module, x, ext, device=dev,
                            policy=Policy.from_settings(suite.measure, dev),
                            hot=suite.measure.mode == "hot", probe=probe)
    say(f"harness tune: {suite.name}: {suite.model} at batch {suite.batch}, "
        f"{len(ext.layers)} layers in {len(ext.groups)} shapes, dense "
        f"{shares.model_s * 1e3:.3g} ms (layers {shares.layers_s / shares.model_s:.0%})")
    bench = Bench(suite.measure, device=dev, threads=suite.threads, probe=probe,
                  dense_alternatives=False, store=store, sink=sink)
    return ModelSearch(suite, module, x, ext, shares, bench, dev, say, probe)


def uniform_baselines(search: ModelSearch) -> tuple[list[Candidate], list[str]]:
    """Every uniform configuration of the suite's choices (measuring what they need)."""
    suite = search.suite
    groups = search.groups()
    grid = [(opt, rate) for opt in suite.options for rate in suite.rates]
    search.prefetch([(g, opt, rate) for opt, rate in grid for g in groups])
    out: list[Candidate] = []
    failed: list[str] = []
    for opt, rate in grid:
        c = search.candidate({g.key: (opt, rate) for g in groups}, uniform=True)
        if isinstance(c, Candidate):
            out.append(c)
        else:
            failed.append(c)
    return out, failed


def search_layers(search: ModelSearch, *, trials: int,
                  timeout_s: float | None = None) -> tuple[list[Candidate], list[str]]:
    """The Optuna study: per shape group an option and a rate; (time ↓, rate ↑)."""
    import optuna

    from harness.tune.progress import quiet_optuna
    from harness.tune.samplers import make_sampler

    suite = search.suite
    options = {o.label: o for o in suite.layer_options}
    grid: dict[str, list[Any]] = {}
    for g in search.groups():
        grid[f"{g.key}.option"] = list(options)
        grid[f"{g.key}.rate"] = list(suite.rates)
    quiet_optuna()
    study = optuna.create_study(directions=["minimize", "maximize"],
                                sampler=make_sampler(suite.sampler, {}, grid, suite.seed,
                                                     source=suite.file))
    found: list[Candidate] = []
    failed: list[str] = []

    def objective(trial: Any) -> tuple[float, float]:
        assign = {g.key: (options[trial.suggest_categorical(f"{g.key}.option",
                                                            grid[f"{g.key}.option"])],
                          float(trial.suggest_categorical(f"{g.key}.rate",
                                                          grid[f"{g.key}.rate"])))
                  for g in search.groups()}
        c = search.candidate(assign, trial=trial.number)
        if not isinstance(c, Candidate):
            failed.append(c)
            raise optuna.TrialPruned(c)
        found.append(c)
        search.say(f"  trial {trial.number}: {c.label()}: predicted "
                   f"{search.shares.model_s / c.time_s:.2f}x at {c.rate:.1%}")
        return c.time_s, c.rate

    study.optimize(objective, n_trials=trials, timeout=timeout_s)
    return found, failed


def tune_model(path: str | Path | ModelSuite, *, trials: int | None = None,
               timeout_s: float | None = None, device: str | None = None,
               quiet: bool = False, export: bool = True,
               probe: Any = None, store: Store | None = None,
               sink: Callable[[Measurement], Any] | None = None) -> ModelTuneResult:
    """Uniform baselines, the per-layer study, the front; then export and time the fastest
    configuration at or above target_rate and the best uniform one. `path`: the suite file, or
    the suite already loaded; `store` and `sink`: as `prepare` (run_cli stores the study
    through them)."""
    from harness.measure.timer import Policy
    from harness.models.export import evaluate
    from harness.models.suite import load_suite

    suite = path if isinstance(path, ModelSuite) else load_suite(path)
    say = (lambda _: None) if quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    search = prepare(suite, device=device, say=say, probe=probe, store=store, sink=sink)
    data = None
    if suite.train is not None:  # a dataset that does not fit the model fails before any timing
        from harness.tune.model_train import load_data

        data = load_data(search)
    uniforms, failed_u = uniform_baselines(search)
    found, failed_t = search_layers(search, trials=trials or suite.trials, timeout_s=timeout_s)
    cands = (*uniforms, *found)
    chosen = fastest_at(cands, suite.target_rate)
    best_u = fastest_at(uniforms, suite.target_rate)
    accuracy = None
    if data is not None:  # the answer: the fastest within the accuracy budget, not the fastest
        from harness.tune.model_train import train_candidates

        accuracy = train_candidates(search, cands, data, say)
        best = accuracy.best(cands)
        chosen = None if best is None else cands[best]
    results: list[ModelResult | None] = [None, None]
    if export:
        policy = Policy.from_settings(suite.measure, search.device)
        for i, c in enumerate((chosen, best_u)):
            if c is None or (i == 1 and c == chosen):
                continue
            say(f"  exporting {c.label()}")
            # a trained configuration is exported with its fine-tuned weights
            module = search.module if accuracy is None else \
                accuracy.models.get(cands.index(c), search.module)
            results[i] = evaluate(module, search.config(c), search.x,
                                  device=search.device, policy=policy,
                                  probe=probe, hot=suite.measure.mode == "hot")
    return ModelTuneResult(suite.name, search.shares.model_s, cands, pareto_front(cands), chosen,
                           best_u, results[0], results[1] if best_u != chosen else results[0],
                           tuple(dict.fromkeys((*failed_u, *failed_t))), suite.target_rate,
                           search.shares,
                           {t.name: search.ext.group_of(t.name).key for t in search.ext.layers},
                           search.layer_times(), tuple(search.contended), accuracy)


# -- terminal ------------------------------------------------------------------------------------

def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def format_front(result: ModelTuneResult) -> str:
    lines = [f"front ({len(result.front)} of {len(result.candidates)} configurations):",
             f"  {'predicted':>9} {'rate':>6}  configuration"]
    for c in result.front:
        lines.append(f"  {_x(result.dense_model_s / c.time_s):>9} {c.rate:>6.1%}  {c.label()}")
    return "\n".join(lines)


def format_uniforms(result: ModelTuneResult) -> str:
    """The uniform baselines: the fastest uniform option at each rate (search predictions)."""
    best: dict[float, Candidate] = {}
    for c in result.candidates:
        if c.uniform and (c.rate not in best or c.time_s < best[c.rate].time_s):
            best[c.rate] = c
    lines = ["uniform baselines (fastest option per rate):"]
    for rate in sorted(best):
        c = best[rate]
        lines.append(f"  {rate:>6.1%}  {_x(result.dense_model_s / c.time_s):>7}  {c.label()}")
    return "\n".join(lines)


def format_equal_rates(result: ModelTuneResult) -> str:
    """Per-layer against uniform at equal model rate (search predictions), one line per rate."""
    lines = [f"per-layer against uniform at equal model rate (per-layer within "
             f"+{EQUAL_RATE_BAND:.0%} of it; model time per-layer / uniform):"]
    for cmp in at_equal_rates(result.candidates):
        if cmp.per_layer is None:
            lines.append(f"  {cmp.rate:>6.1%}  no per-layer configuration found at this rate")
            continue
        ratio = cmp.time_ratio
        verdict = "faster" if ratio is not None and ratio < 1 else "not faster"
        lines.append(f"  {cmp.rate:>6.1%}  {ratio:.2f} ({verdict}; per-layer at "
                     f"{cmp.per_layer.rate:.1%}: {cmp.per_layer.label()})")
    return "\n".join(lines)


def format_layers(r: ModelResult) -> str:
    """The per-layer table: layer, shape, share of dense time, chosen config, layer speedup."""
    rows = [("layer", "shape (MxKxN)", "share", "configuration", "speedup")]
    for layer in r.layers:
        rows.append((layer.name, "x".join(map(str, layer.shape)), f"{layer.share:.1%}",
                     layer.choice, _x(layer.speedup)))
    if r.rest_s is not None and r.dense_model_s:
        rows.append(("(rest)", "", f"{r.rest_s / r.dense_model_s:.1%}", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  " + "  ".join(c.ljust(w) if i in (0, 1, 3) else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)


def format_outcome(title: str, c: Candidate, r: ModelResult | None, dense_s: float) -> str:
    head = f"{title}: {c.label()} (model pruning {c.rate:.1%}; search predicted " \
           f"{_x(dense_s / c.time_s)})"
    if r is None:
        return head
    if not r.check.ok:
        return (f"{head}\n  export NOT verified: rel error {r.check.rel_error:.3g} > "
                f"{r.check.tolerance:.3g}")
    from harness.tune.model_record import pays_off

    tail = f" (contended: {r.contended})" if r.contended else ""
    pays = pays_off(r)
    return (f"{head}\n{format_layers(r)}\n  predicted {_x(r.predicted_speedup)} / measured "
            f"{_x(r.measured_speedup)} end to end, model pruning {r.pruning_rate:.1%}{tail}"
            + ("" if pays is None else f"\n  {pays}"))


def format_accuracy(result: ModelTuneResult) -> str:
    """The accuracy stage's table: each trained configuration, fastest first."""
    stage = result.accuracy
    assert stage is not None
    lines = [f"accuracy ({stage.dataset}, fine-tuned; dense {stage.dense_accuracy:.4f}; budget: "
             f"{stage.budget}):",
             f"  {'predicted':>9} {'rate':>6} {'accuracy':>8} {'vs dense':>9}  within  "
             f"configuration"]
    for t in sorted(stage.trained, key=lambda t: result.candidates[t.candidate].time_s):
        c = result.candidates[t.candidate]
        lines.append(f"  {_x(result.dense_model_s / c.time_s):>9} {c.rate:>6.1%} "
                     f"{t.accuracy:>8.4f} {-t.drop * 100:>+8.2f}p  {'yes' if t.within_budget else 'no':<6}  "
                     f"{c.label()}")
    return "\n".join(lines)


def format_result(result: ModelTuneResult, target: float) -> str:
    parts = [format_front(result), format_uniforms(result), format_equal_rates(result)]
    if result.accuracy is not None:
        parts.append(format_accuracy(result))
    title = f"fastest at >= {target:.0%}" + (
        "" if result.accuracy is None else " within the accuracy budget")
    if result.chosen is None:
        parts.append(f"no configuration at the model pruning rate {target:.0%} is within the "
                     f"accuracy budget ({result.accuracy.budget})" if result.accuracy is not None
                     else f"no configuration reaches the model pruning rate {target:.0%}")
    else:
        parts.append(format_outcome(title, result.chosen, result.chosen_result,
                                    result.dense_model_s))
    if result.best_uniform is not None and result.best_uniform != result.chosen:
        parts.append(format_outcome("best uniform", result.best_uniform, result.uniform_result,
                                    result.dense_model_s))
    elif result.best_uniform is not None:
        parts.append("the best uniform configuration is the fastest one")
    layered, uni = result.best_per_layer, result.best_uniform
    if layered is not None and uni is not None:
        parts.append(f"best per-layer (search): {layered.label()} at {layered.rate:.1%}: "
                     f"predicted {_x(result.dense_model_s / layered.time_s)}, model time "
                     f"{layered.time_s / uni.time_s:.2f} of the best uniform's "
                     f"({uni.rate:.1%})")
    if result.failures:
        parts.append("could not run: " + "; ".join(result.failures[:5]))
    return "\n\n".join(parts)


def run_cli(args: argparse.Namespace) -> int:
    """`harness tune MODEL_SUITE` (the flags of harness.cli.cmd_tune that apply): the study is
    stored as a run of kind "model" (its measurements and its record, harness.tune.model_record)
    and drawn in the report folder (default reports/<suite name>)."""
    from harness.core.errors import InputError
    from harness.core.paths import check_dir, report_dir
    from harness.measure.recording import recording
    from harness.models.suite import load_suite
    from harness.store import open_store
    from harness.store.urls import resolve
    from harness.tune import model_record
    from harness.tune.checks import check_study
    from harness.tune.context import default_study_name

    started = time.monotonic()
    suite = load_suite(args.suite)
    flag = getattr(args, "device", None)
    device = suite.device if flag in (None, "auto") else flag
    check_study(getattr(args, "study", None))
    study = getattr(args, "study", None) or default_study_name(suite.name, device)
    if getattr(args, "workers", 1) > 1:
        raise InputError(path="--workers", value=args.workers,
                         expected="1 for a model suite (its per-layer search runs in one process)")
    post = not getattr(args, "no_post", False)
    out = getattr(args, "report_dir", None)
    if post:  # checked before any work, not found out at the end
        out = check_dir(out, "--report-dir") if out else check_dir(report_dir(suite.name),
                                                                   "report folder")
    storage = getattr(args, "storage", None)
    resolve(storage, create=False)  # the URL's form, before anything is measured
    trials = getattr(args, "trials", None) or suite.trials
    config = {"suite": str(args.suite), "model": suite.model, "batch": suite.batch,
              "trials": trials, "device": device, "target_rate": suite.target_rate}
    store = open_store(storage)
    try:
        with recording(store, "model", suite.name, measure=suite.measure, device=device,
                       threads=suite.threads, seed=suite.seed, config=config,
                       study=study) as rec:
            result = tune_model(suite, trials=trials,
                                timeout_s=getattr(args, "timeout_s", None), device=device,
                                quiet=getattr(args, "quiet", False), store=store, sink=rec.add)
            store.add_model_result(rec.run_id, model_record.build(result, suite, device=device,
                                                                  trials=trials))
        print(format_result(result, suite.target_rate))
        if post and out is not None:
            print(f"report: {_report(store, rec.run_id, study, suite.name, out)}")
    finally:
        store.close()
    print(f"({time.monotonic() - started:.0f} s)")
    if result.chosen_result is None or not result.chosen_result.check.ok:
        why = ("no configuration at the suite's target_rate is within the accuracy budget"
               if result.accuracy is not None and result.chosen is None
               else "no verified configuration at the suite's target_rate")
        print(f"harness tune: error: {why}", file=sys.stderr)
        return 1
    return 0


def _report(store: Store, run_id: int, study: str, suite: str, out: Path) -> Path:
    """This run's report (each run measures afresh: earlier runs of the study would repeat its
    kernel points; `harness report --study` draws them all)."""
    from harness.report.data import from_store
    from harness.report.html import write

    return write(from_store(store, run_id=run_id,
                            title=f"harness tune: {suite} ({study}, run {run_id})"), out)


__all__ = ["Candidate", "ModelSearch", "ModelTuneResult", "format_layers", "format_result",
           "is_model_suite", "pareto_front", "run_cli", "search_layers", "tune_model",
           "uniform_baselines"]
