"""`Bench`: the single entry point tune, bench and regress use to measure points.

Per point: backend "auto" resolved → `backend.supports` and the format's `supports` answered first
(status "unsupported" with the reason, no work) → problem, mask, float64 reference (cached per
problem) → dense → format conversion and `prepare` (outside timing) → verification against the
reference (status "invalid" with rel_error, never a speedup) → interleaved timing with the
problem's prepared dense baseline (`harness.measure.timer`) → counters (+ their energy phase) →
roofline → provenance → `Measurement`. An exception inside a backend or format becomes status
"error" with a one-line reason and the run goes on.

The recorded `Measurement.point` is the point as requested (its key is the store identity, also
for backend "auto"); the backend that ran is in `provenance["backend"]`. Timing bookkeeping is in
counters under "timer.*": timed_s (sum of timed calls of the whole interleaved group), setup_s
(problem, pruning, reference, conversion, prepare), wall_s, rounds, stopped.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.core import counter_keys as ck
from harness.core.measurement import Measurement
from harness.measure import alternatives
from harness.measure import problem as problems
from harness.measure import verify as verification
from harness.measure.clock import Clock, Sampler, make_sampler
from harness.measure.contention import NullProbe, Probe, default_probe
from harness.measure.provenance import collect
from harness.measure.roofline import peak_bandwidth, roofline
from harness.measure.stats import summarize
from harness.measure.timer import Policy, run_interleaved

if TYPE_CHECKING:
    from harness.core.point import Point
    from harness.counters.base import Counter
    from harness.store.api import Store


MAX_GROUP = 8  # variants interleaved with one dense baseline (memory, and round length)


class _LRU(OrderedDict):
    """A tiny LRU: 4096² problems are 64 MB each, so only a few are kept."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def fetch(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass
class _Variant:
    """A prepared, verified variant, or the Measurement that ends it early."""

    point: Point
    backend: str = ""
    run: Callable[[], Any] | None = None
    sync: Callable[[], None] = lambda: None
    operand_bytes: dict[str, int] = field(default_factory=dict)
    nnz: int = 0
    verified: bool = False
    rel_error: float | None = None
    setup_s: float = 0.0
    done: Measurement | None = None  # unsupported / invalid / error
    prepared: Any = None  # the backend's Prepared, for verifying again after timing
    reference: Any = None  # float64 product of the pruned weight

    def timed_call(self) -> Callable[[], Any]:
        """The timed call; only a variant without an early result (`done`) is timed."""
        if self.run is None:
            raise RuntimeError(f"variant {self.point.key()} has no callable to time")
        return self.run


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return text if len(text) <= 300 else text[:297] + "..."


def _check_output(prepared: Any, reference: Any, p: Point) -> tuple[float, str | None]:
    """One call of a prepared variant against the float64 reference: (rel_error, why it fails
    the dtype's tolerance, or None)."""
    out = prepared.run()
    prepared.sync()
    err = verification.rel_error(prepared.to_torch(out), reference)
    if verification.passes(err, p.dtype, p.device):
        return err, None
    return err, f"rel_error {err:.3g} > tolerance {verification.tolerance(p.dtype, p.device):g}"


class Bench:
    def __init__(self, settings: Any, *, device: str, threads: int | None = None,
                 counters: Sequence[str] = (), clock: Clock | None = None,
                 store: Store | None = None,
                 progress: Callable[[str], None] | None = None,
                 probe: Probe | None = None,
                 sink: Callable[[Measurement], Any] | None = None,
                 dense_alternatives: bool | None = None) -> None:
        """`probe` judges each timed round (default: the OS's view of this process on a real
        CPU clock, nothing with an injected clock); `sink` receives every measurement as soon
        as it is made (the run recipe stores it there, so an interrupt loses only the group of
        interleaved points in flight); `dense_alternatives` times each problem's dense product
        in the device's cheaper dtypes too (`harness.measure.alternatives`; default: on with a
        real clock)."""
        self.settings = settings
        self.device = device
        self.threads = threads
        self.policy = Policy.from_settings(settings, device)
        self.hot = getattr(settings, "mode", "cold") == "hot"
        self.verify = bool(getattr(settings, "verify", True))
        self.counter_names = tuple(counters) or tuple(getattr(settings, "counters", ()) or ())
        self.clock = clock
        self.store = store
        self.progress = progress
        self.probe = probe or (NullProbe() if clock is not None else default_probe(device))
        self.sink = sink
        self.dense_alternatives = clock is None if dense_alternatives is None \
            else dense_alternatives
        self._alt: dict[tuple, dict[str, Any]] = {}  # per problem: alternatives.summary
        self._blocks: dict[str, int] = {}  # calls per sample of each timed variant
        self._sampler: Sampler | None = None  # made on first use
        self._problems = _LRU(2)
        self._pruned = _LRU(3)
        self._dense = _LRU(2)  # prepared dense baselines per problem
        self._variants = _LRU(4)  # prepared (and verified) variants per point
        self._baselines: dict[tuple, Measurement] = {}
        self._warm: set = set()  # keys of prepared variants already warmed up and timed
        self._dense_medians: dict[tuple, list[float]] = {}  # per problem, one per timed group
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))

    # -- public API ---------------------------------------------------------------------------

    def measure(self, point: Point) -> Measurement:
        """One variant, interleaved with its problem's dense baseline."""
        return self.measure_many([point])[0]

    def measure_many(self, points: Sequence[Point]) -> list[Measurement]:
        """Groups points by problem; each group is timed in rounds dense, A, B, …

        A problem with more than MAX_GROUP variants is split into chunks, each interleaved with
        the problem's (cached, prepared) dense baseline, so prepared operands stay few.
        """
        by_problem: OrderedDict[tuple, list[int]] = OrderedDict()
        for i, p in enumerate(points):
            by_problem.setdefault(problems.problem_key(p), []).append(i)
        groups = [idx[j:j + MAX_GROUP] for idx in by_problem.values()
                  for j in range(0, len(idx), MAX_GROUP)]
        out: list[Measurement | None] = [None] * len(points)
        done = 0
        for idx in groups:
            group = [points[i] for i in idx]
            for i, m in zip(idx, self._measure_group(group), strict=True):
                out[i] = m
            done += len(idx)
            if self.progress is not None:
                self.progress(f"{done}/{len(points)} points measured")
        return [m for m in out if m is not None]

    def baseline_drift(self) -> dict[tuple, float]:
        """Per problem: how far its dense baseline's median moved across the groups this Bench
        timed (max/min − 1). On a shared machine this is the machine's own drift: times taken
        at different moments differ by about this much, while interleaved speedups do not."""
        return {k: max(v) / min(v) - 1.0 for k, v in self._dense_medians.items()
                if v and min(v) > 0}

    def baseline(self, point: Point) -> Measurement:
        """The dense measurement of the point's problem; measured once per Bench and reused once
        it is clean ('ok'); a contended or failed one is returned as it is and measured again
        next time."""
        key = problems.problem_key(point)
        if key in self._baselines:
            return self._baselines[key]
        return self._measure_group([point.baseline()])[0]

    # -- preparation --------------------------------------------------------------------------

    def _sampler_(self) -> Sampler:
        if self._sampler is None:
            self._sampler = make_sampler(self.device, hot=self.hot, clock=self.clock)
        return self._sampler

    def _problem(self, point: Point) -> problems.Problem:
        return self._problems.fetch(problems.problem_key(point),
                                    lambda: problems.make_problem(point))

    def _pruned_of(self, point: Point) -> problems.Pruned:
        key = (problems.problem_key(point), point.prune)
        return self._pruned.fetch(key, lambda: problems.prune(self._problem(point), point.prune))

    def _dense_variant(self, point: Point) -> _Variant:
        base = point.baseline()
        return self._dense.fetch(problems.problem_key(point), lambda: self._prepare(base))

    def _prepare(self, point: Point) -> _Variant:
        """Support checks, conversion, prepare and verification of one point (never raises)."""
        from harness.backends.base import all_backends
        from harness.backends.resolve import unsupported_reason
        from harness.formats.base import get_format

        v = _Variant(point)
        t0 = time.perf_counter()
        try:
            v.backend, reason = unsupported_reason(point)
            backend = all_backends().get(v.backend)
            fmt = get_format(point.format)
            spec = point.prune
            if reason is not None:
                v.done = Measurement(point, "unsupported", reason=str(reason),
                                     provenance={"backend": v.backend})
                return v
            pruned = self._pruned_of(point)
            operand = fmt.encode(pruned.weight, block=spec.block, group_size=spec.group_size,
                                 nm=spec.nm)
            v.operand_bytes = dict(fmt.nbytes(operand))
            v.nnz = pruned.nnz
            prepared = backend.prepare(operand, self._problem(point).x)
            v.run, v.sync, v.prepared = prepared.run, prepared.sync, prepared
            v.setup_s = time.perf_counter() - t0
            if self.verify:
                self._verify(v, prepared, pruned)
            emulated = getattr(prepared, "emulated", None)
            if emulated and v.done is None:
                checked = (f"output verified (rel_error {v.rel_error:.2g})" if v.verified
                           else "output not verified")
                v.done = Measurement(point, "unsupported", reason=f"{emulated}: {checked}, but "
                                     "its timings mean nothing on this machine",
                                     verified=v.verified, rel_error=v.rel_error,
                                     provenance={"backend": v.backend})
        except Exception as exc:  # a backend/format failure is a result, not a crash
            v.done = Measurement(point, "error", reason=_one_line(exc),
                                 provenance={"backend": v.backend},
                                 wall_s=time.perf_counter() - t0)
        return v

    def _verify(self, v: _Variant, prepared: Any, pruned: problems.Pruned) -> None:
        p = v.point
        from harness.core.dtypes import to_torch

        verification.poison((p.m, p.n), to_torch(p.dtype), p.device)
        err, why = _check_output(prepared, pruned.reference, p)
        v.rel_error = err
        if why is None:
            v.verified = True
            v.reference = pruned.reference
            return
        v.done = Measurement(p, "invalid", reason=why, rel_error=err,
                             provenance={"backend": v.backend})

    # -- one problem --------------------------------------------------------------------------

    def _measure_group(self, group: Sequence[Point]) -> list[Measurement]:
        t_group = time.perf_counter()
        first = group[0]
        fresh_base = problems.problem_key(first) not in self._dense
        base = self._dense_variant(first)
        if fresh_base:
            self._warm.discard(base.point.key())
        variants: list[_Variant] = []
        for p in group:
            fresh = p.key() not in self._variants
            if fresh:  # (re)prepared: a new callable, so it warms up again
                self._warm.discard(p.key())
            v = base if p.key() == first.baseline().key() else \
                self._variants.fetch(p.key(), partial(self._prepare, p))
            variants.append(v)
            if not fresh and v is not base:
                v = replace(v, setup_s=0.0)  # cached: no setup spent in this call
                variants[-1] = v
        if base.done is not None:  # no baseline → nothing in this problem can get a speedup
            why = f"dense baseline {base.done.status}: {base.done.reason}"
            return self._emit([v.done or Measurement(v.point, "error", reason=why)
                               for v in variants])
        runnable = {base.point.key(): base}
        for v in variants:
            if v.done is None:
                runnable.setdefault(v.point.key(), v)
        pkey = problems.problem_key(first)
        alts = self._alternatives(first) if pkey not in self._alt else {}
        runnable.update({k: v for k, v in alts.items() if v.done is None})
        try:
            counters = self._start_counters()
            res = run_interleaved({k: v.timed_call() for k, v in runnable.items()}, self.policy,
                                  self._sampler_(), self.clock, self.progress,
                                  warmed=self._warm & set(runnable), probe=self.probe,
                                  blocks={k: b for k, b in self._blocks.items()
                                          if k in runnable and k in self._warm})
            observed = self._stop_counters(counters)
            self._warm.update(runnable)
            self._blocks.update(res.blocks)
            wrong = {k: bad for k, v in runnable.items() if (bad := self._verify_again(v))}
        except Exception as exc:
            why = _one_line(exc)
            return self._emit([v.done or Measurement(v.point, "error", reason=why)
                               for v in variants])
        t_peak = time.perf_counter()
        peak = self._peak()  # measured once per device; not part of this measurement's wall
        t_group += time.perf_counter() - t_peak
        observed = {**observed, **self._timing_record(res)}
        contended = res.contended(self.policy)
        if res.n_rounds == 0:  # every round disturbed: what was timed, as it is, no speedup
            return self._emit([v.done or self._all_disturbed(v, res, observed, contended or "")
                               for v in variants])
        dense_median = summarize(res.samples[base.point.key()]).median
        history = self._dense_medians.setdefault(pkey, [])
        if not contended:  # the machine's drift is read from clean baselines only
            history.append(dense_median)
        # this group's baseline against the problem's first in this Bench: the machine's drift
        observed = {**observed, ck.TIMER_BASELINE_MEDIAN_S: dense_median,
                    ck.TIMER_BASELINE_DRIFT: dense_median / history[0] - 1.0
                    if history and history[0] > 0 else 0.0}
        if alts and not contended:  # a cheaper dense dtype, timed in these rounds
            self._alt[pkey] = alternatives.summary({
                v.point.dtype: None if k in wrong or v.done is not None
                else res.speedup(k, base.point.key())[0] for k, v in alts.items()})
        observed.update(self._alt.get(pkey, {}))
        results: dict[str, Measurement] = {}
        # setup spent in this call: a cached dense baseline cost nothing here
        setup = sum(v.setup_s for v in runnable.values() if v is not base or fresh_base)
        for key, v in runnable.items():
            if key in alts:
                continue  # stored as counters of the problem's measurements, not on their own
            energy = self._energy(counters, v) if key != base.point.key() or len(runnable) == 1 \
                else {}
            m = self._build(v, base, res, {**observed, ck.TIMER_BLOCK: res.blocks[key], **energy},
                            peak, setup, time.perf_counter() - t_group)
            if key in wrong:
                m = replace(m, status="invalid", reason=wrong[key], speedup=None,
                            speedup_ci=None, verified=False)
            elif contended:
                m = replace(m, status="contended", reason=contended, speedup=None,
                            speedup_ci=None)
            results[key] = m
        if pkey not in self._baselines and results[base.point.key()].status == "ok":
            self._baselines[pkey] = results[base.point.key()]
        return self._emit([v.done or results[v.point.key()] for v in variants])

    def _alternatives(self, point: Point) -> dict[str, _Variant]:
        """The problem's dense product in the device's cheaper dtypes, prepared and verified
        (none when this Bench does not time them)."""
        if not self.dense_alternatives:
            return {}
        return {p.key(): self._prepare(p) for p in alternatives.candidates(point)}

    def _all_disturbed(self, v: _Variant, res: Any, observed: dict, reason: str) -> Measurement:
        key = v.point.key()
        samples = res.discarded[key]
        prov = collect(self.device, self.threads, v.point.seed)
        prov["backend"] = v.backend
        return Measurement(v.point, "contended", reason=reason, samples_s=tuple(samples),
                           stats=summarize(samples), verified=v.verified, rel_error=v.rel_error,
                           counters={**observed, ck.TIMER_BLOCK: res.blocks[key],
                                     ck.TIMER_WALL_S: res.wall_s, ck.TIMER_ROUNDS: 0,
                                     ck.TIMER_STOPPED: res.stopped},
                           provenance=prov, wall_s=res.wall_s)

    def _emit(self, measurements: list[Measurement]) -> list[Measurement]:
        if self.sink is not None:
            for m in measurements:
                self.sink(m)
        return measurements

    def _timing_record(self, res: Any) -> dict[str, Any]:
        """How the samples were taken, stored with every measurement of the group."""
        return {ck.TIMER_MODE: getattr(self._sampler_(), "mode", "cold" if not self.hot else "hot"),
                ck.TIMER_FLUSH_BYTES: getattr(self._sampler_(), "flush_bytes", None),
                ck.TIMER_PROBE: type(self.probe).__name__,
                ck.TIMER_TOTAL_ROUNDS: res.total_rounds,
                ck.TIMER_DISTURBED_ROUNDS: len(res.disturbed),
                ck.TIMER_DISTURBED: res.disturbed[:5],
                ck.TIMER_DISCARDED_SAMPLES: sum(len(x) for x in res.discarded.values())}

    def _verify_again(self, v: _Variant) -> str | None:
        """A kernel right on its first call and wrong later is wrong: check it after timing."""
        if not (self.verify and v.verified and v.prepared is not None
                and v.reference is not None):
            return None
        _, why = _check_output(v.prepared, v.reference, v.point)
        return None if why is None else f"wrong after timing: {why} (right before)"

    def _build(self, v: _Variant, base: _Variant, res: Any, observed: dict, peak: Any,
               setup_s: float, wall_s: float) -> Measurement:
        key, bkey = v.point.key(), base.point.key()
        samples = res.samples[key]
        stats = summarize(samples)
        speedup, ci, _ = res.speedup(key, bkey)
        bw = peak.bandwidth if peak is not None else None
        fps = peak.flops(v.point.dtype) if peak is not None else None
        rl = roofline(v.point, v.operand_bytes, v.nnz, stats.median, bw, fps)
        # the roofline's bound (peak_fraction = bound / median) and the backend's own counters
        # (e.g. numba.compile_s), which its timed callable carries
        roof = {ck.ROOFLINE_BOUND_S: rl["bound_s"], ck.ROOFLINE_LIMIT: rl["limit"],
                ck.ROOFLINE_PEAK_GBS: bw / 1e9 if bw else None,
                ck.ROOFLINE_PEAK_GFLOPS: fps / 1e9 if fps else None}
        observed = {**observed, **{k: val for k, val in roof.items() if val is not None},
                    **dict(getattr(v.run, "counters", None) or {})}
        counters = {**observed, ck.TIMER_TIMED_S: res.timed_s, ck.TIMER_WALL_S: res.wall_s,
                    ck.TIMER_SETUP_S: setup_s, ck.TIMER_ROUNDS: res.n_rounds,
                    ck.TIMER_STOPPED: res.stopped,
                    ck.TIMER_SAMPLES_PER_ROUND:
                    self.policy.samples_per_round}
        prov = collect(self.device, self.threads, v.point.seed)
        prov["backend"] = v.backend
        return Measurement(v.point, "ok", samples_s=tuple(samples), stats=stats,
                           verified=v.verified, rel_error=v.rel_error, speedup=speedup,
                           speedup_ci=(float(ci[0]), float(ci[1])), baseline_key=bkey,
                           bytes=rl["bytes"], flops=rl["flops"],
                           bandwidth_gbs=rl["bandwidth_gbs"], peak_fraction=rl["peak_fraction"],
                           counters=counters,
                           throttled=any(k.endswith(ck.THROTTLED_SUFFIX) and val is True
                                         for k, val in observed.items()),
                           provenance=prov, wall_s=wall_s)

    # -- counters and peak --------------------------------------------------------------------

    def _start_counters(self) -> list[tuple[Counter, str | None]]:
        from harness.counters.base import all_counters

        registry = all_counters()
        started: list[tuple[Counter, str | None]] = []
        for name in self.counter_names:
            counter = registry.get(name)()
            reason = counter.available(self.device)
            if reason is not None:
                started.append((counter, reason))
                continue
            counter.start(self.device)
            started.append((counter, None))
        return started

    @staticmethod
    def _stop_counters(started: list[tuple[Counter, str | None]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for counter, reason in started:
            if reason is not None:
                out[f"{counter.name}.available"] = reason
                continue
            try:
                out.update(counter.stop())
            except Exception as exc:
                out[f"{counter.name}.available"] = f"unavailable: {_one_line(exc)}"
        return out

    @staticmethod
    def _energy(started: list[tuple[Counter, str | None]], v: _Variant) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for counter, reason in started:
            energy = getattr(counter, "energy", None)
            if reason is None and energy is not None and v.run is not None:
                try:
                    out.update(energy(v.run, v.sync, v.point.device))
                except Exception as exc:
                    out[f"{counter.name}.energy"] = f"unavailable: {_one_line(exc)}"
        return out

    def _peak(self) -> Any:
        """The device's roofline.Peaks (bandwidth now, FLOP/s per dtype on first use), None
        with a fake clock (tests): no real roof to compare with."""
        from harness.measure.roofline import Peaks

        if self.clock is not None:
            return None
        try:
            bandwidth = peak_bandwidth(self.device, self.threads, self.store)
        except Exception:
            bandwidth = None
        return Peaks(self.device, self.threads, self.store, bandwidth)
