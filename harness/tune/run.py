"""`tune()`: the main job — search a suite's space, measure each point, report the front.

Flow (one way): suite → study (Optuna, on the store's URL) → trials (objective.py: Point →
measurement, stored) → Pareto front → training stage (suite `train:`) → HTML report.
Resume is free: the study is loaded if it exists, and points already measured in the same
measurement context are reused from the store (`--fresh` starts a new study and measures again).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.tune.context import default_study_name
from harness.tune.front import FrontRow, format_table, front_rows
from harness.tune.objective import Budget, TrialContext, TrialFailed, make_objective, search_grid
from harness.tune.objectives import OBJECTIVES
from harness.tune.progress import TrialProgress, quiet_optuna
from harness.tune.samplers import make_sampler
from harness.tune.signals import StopFlag
from harness.tune.storage import optuna_storage

if TYPE_CHECKING:
    from harness.config.suite import Suite
    from harness.config.tuner import TunerProfile
    from harness.store.api import Store


@dataclass(frozen=True)
class TuneOptions:
    suite: str
    tuner: str | None = None
    trials: int | None = None  # per process; None: the tuner profile's budget
    timeout_s: float | None = None
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    device: str | None = None
    fresh: bool = False
    reuse_any_code: bool = False  # reuse stored timings although the measuring code changed
    report_dir: str | None = None  # default reports/<suite name>
    post: bool = True  # front table, training stage, report (workers skip it)
    quiet: bool = False
    started: float | None = None  # time.monotonic() when the command started (wall time shown)
    worker_index: int | None = None  # local worker i of --workers K: its own sampler seed


@dataclass(frozen=True)
class TuneResult:
    study: str
    run_id: int | None
    trials: int  # trials in the study after this run
    front: list[FrontRow] = field(default_factory=list)
    train: list[dict] = field(default_factory=list)
    report: Path | None = None
    stopped: bool = False


def _say(opts: TuneOptions, text: str) -> None:
    if not opts.quiet:
        print(text, file=sys.stderr, flush=True)


def _device(opts: TuneOptions, suite: Suite) -> str:
    device = opts.device or suite.resolved_device()
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} requested but CUDA is not available here "
                             "(use --device cpu or device: auto)")
        if ":" in device and not device.split(":", 1)[1].isdigit():
            raise InputError("--device: expected auto, cpu, cuda or cuda:N", value=device)
        if ":" in device and int(device.split(":", 1)[1]) >= torch.cuda.device_count():
            raise InputError(f"--device: expected one of cuda:0 … cuda:"
                             f"{torch.cuda.device_count() - 1}", value=device)
        from harness.config.resources import device_problem

        too_big = device_problem(device, suite.space.shapes, suite.dtypes)
        if too_big:
            raise InputError(f"{suite.path}: space.shape: {too_big}")
    elif device != "cpu":
        raise InputError("--device: expected auto, cpu, cuda or cuda:N", value=device)
    return device


def _objectives(suite: Suite, profile: TunerProfile) -> tuple[list[str], list[str]]:
    objs = profile.objectives or suite.objectives
    names = [o.name for o in objs]
    for n in names:
        OBJECTIVES.get(n)
    return names, [o.direction for o in objs]


def _sampler(suite: Suite, profile: TunerProfile) -> Any:
    grid = search_grid(suite.space, suite.dtypes) if profile.sampler == "grid" else {}
    return make_sampler(profile.sampler, profile.options, grid, suite.seed, source=profile.path)


def _study(store: Store, name: str, directions: list[str], sampler: Any,
           names: list[str] | None = None) -> Any:
    import optuna

    storage = optuna_storage(store)
    try:
        existing = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        existing = None
    if existing is not None:
        have = [d.name.lower() for d in existing.directions]
        if have != directions:
            raise InputError(f"study {name!r} exists with directions {have}, the suite asks for "
                             f"{directions}; use --study NAME or --fresh")
    study = optuna.create_study(storage=storage, study_name=name,
                                directions=directions,  # type: ignore[arg-type]  # validated names
                                sampler=sampler, load_if_exists=True)
    if names and study.metric_names != names:  # optuna-dashboard then shows the objectives' names
        import warnings

        with warnings.catch_warnings():  # flagged experimental in Optuna; stable since 3.2
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(names)
    return study


def tune(opts: TuneOptions) -> TuneResult:
    import optuna

    from harness.config.suite import load_suite
    from harness.config.tuner import load_tuner
    from harness.store import open_store

    suite = load_suite(opts.suite)
    profile = load_tuner(opts.tuner) if opts.tuner else suite.tuner
    from harness.tune.checks import check_options, worker_profile

    check_options(opts, suite, profile)  # every flag and limit, before anything is written
    profile = worker_profile(opts, suite, profile)
    device = _device(opts, suite)
    names, directions = _objectives(suite, profile)
    study_name = opts.study or default_study_name(suite.name, device)
    if opts.fresh and not opts.study:
        study_name += dt.datetime.now(dt.UTC).strftime("-%Y%m%d-%H%M%S")
    trials = opts.trials if opts.trials is not None else profile.trials
    timeout = opts.timeout_s if opts.timeout_s is not None else profile.timeout_s

    from harness.tune.feasible import runnable_space

    space, notes = runnable_space(suite.space, device=device, dtypes=suite.dtypes,
                                  seed=suite.seed, strict=True)  # nothing runs: exit 1 now
    for note in notes:
        _say(opts, f"harness tune: {note}")
    suite = replace(suite, space=space)
    _sampler(suite, profile)  # bad sampler options fail here, before the store is touched
    from harness.tune.checks import check_outputs

    check_outputs(opts, suite)

    store = open_store(opts.storage or profile.storage)
    try:
        if opts.workers > 1:
            from harness.store.urls import resolve
            from harness.tune.workers import run_workers

            quiet_optuna()  # its "new study" line would come raw before the workers' progress
            # created once here: the workers must not race to create it
            _study(store, study_name, directions, _sampler(suite, profile), names)
            run_workers(opts, study_name=study_name, trials=trials,
                        url=resolve(opts.storage or profile.storage))
            run_id = None
            stopped = False
        else:
            run_id, stopped = _search(opts, suite, profile, store, device, names, directions,
                                      study_name, trials, timeout)
        study = optuna.load_study(study_name=study_name, storage=optuna_storage(store))
        result = TuneResult(study=study_name, run_id=run_id, trials=len(study.trials),
                            stopped=stopped)
        if not opts.post:
            return result
        if run_id is None:  # the workers searched: the parent trains the front, once, in a run
            return _post_in_run(opts, suite, store, study, result, names, directions, device)
        return _post(opts, suite, store, study, result, names, directions, device)
    finally:
        store.close()


def _search(opts: TuneOptions, suite: Suite, profile: TunerProfile, store: Store, device: str,
            names: list[str], directions: list[str], study_name: str, trials: int | None,
            timeout: float | None) -> tuple[int, bool]:
    from harness.measure.contention import contended_note
    from harness.measure.recording import recording
    from harness.measure.reuse import reuse_refusal
    from harness.measure.runner import Bench
    from harness.tune.feasible import feasible_assignments
    from harness.tune.unmeasured import steer

    quiet_optuna()  # the progress lines report every trial
    counters = list(suite.measure.counters)
    if "energy" in names and "nvml" not in counters:
        from harness.counters.base import all_counters

        why = all_counters().get("nvml")().available(device)
        if why:
            raise InputError(f"objective 'energy' needs the NVML counter: {why}")
        counters.append("nvml")
    study = _study(store, study_name, directions, _sampler(suite, profile), names)
    config = {"suite": suite.path, "tuner": profile.name, "sampler": profile.sampler,
              "objectives": names, "directions": directions, "trials": trials,
              "device": device, "fresh": opts.fresh}
    measured: list[Any] = []
    with recording(store, "tune", suite.name, measure=suite.measure, device=device,
                   threads=suite.threads, seed=suite.seed, config=config, study=study_name,
                   code_in_key=not opts.reuse_any_code) as rec, StopFlag() as stop:
        bench = Bench(suite.measure, device=device, threads=suite.threads, counters=counters,
                      store=store, sink=measured.append)
        progress = TrialProgress(trials, quiet=opts.quiet)
        ctx = TrialContext(space=suite.space, dtypes=suite.dtypes, device=device,
                           seed=suite.seed, objectives=names, context_key=rec.context_key,
                           run_id=rec.run_id, store=store, measure=bench.measure,
                           fresh=opts.fresh, on_trial=progress,
                           reuse_refusal=lambda m: reuse_refusal(m, bench.policy),
                           # the grid sampler enumerates the whole space by name: it prunes
                           feasible=None if profile.sampler == "grid" else feasible_assignments(
                               suite.space, device=device, dtypes=suite.dtypes, seed=suite.seed))
        done = steer(study, ctx)
        _say(opts, f"harness tune: study {study_name!r} on {device} ({profile.sampler}, "
                   f"{trials if trials is not None else 'all'} trials), store "
                   f"{store.url_redacted}")
        # --trials N counts newly measured points: constraint violations, repeats of this
        # study's points and stored measurements reused do not use the budget
        budget = Budget(trials, done=done)
        if done is not None and done(study):  # resumed with every feasible point measured
            budget.exhausted = trials is not None
        else:
            study.optimize(make_objective(ctx), n_trials=None,
                           timeout=timeout, catch=(TrialFailed,),
                           callbacks=[budget, stop.callback])
        rec.status = "interrupted" if stop.requested else None
    if budget.exhausted:  # said even with --quiet: the run did less than asked
        print(f"harness tune: {budget.new} of {trials} new points measured: no more feasible "
              f"unmeasured points in this space ({budget.proposed} proposals)",
              file=sys.stderr, flush=True)
    run_id = rec.run_id
    note = contended_note(measured)
    if note:
        _say(opts, f"harness tune: {note}")
    return run_id, stop.requested


def _post_in_run(opts: TuneOptions, suite: Suite, store: Store, study: Any, result: TuneResult,
                 names: list[str], directions: list[str], device: str) -> TuneResult:
    """After `--workers`: the front, the training stage and the report, in a run of kind
    "train" of the study (the workers' runs hold the measurements), by the same run recipe."""
    from harness.measure.recording import recording

    with recording(store, "train", suite.name, measure=suite.measure, device=device,
                   threads=suite.threads, seed=suite.seed,
                   config={"suite": suite.path, "after": "workers"}, study=result.study) as rec:
        return _post(opts, suite, store, study, replace(result, run_id=rec.run_id), names,
                     directions, device)


def _post(opts: TuneOptions, suite: Suite, store: Store, study: Any, result: TuneResult,
          names: list[str], directions: list[str], device: str) -> TuneResult:
    front = front_rows(study)
    print(format_table(front, names))
    train_records: list[dict] = []
    decision = None
    if suite.train is not None and result.stopped:
        _say(opts, "harness tune: stopped on request: no training stage (run again to train)")
    elif suite.train is not None and front and result.run_id is not None:
        from harness.tune.train_stage import decide_and_store, run_training, time_untimed

        train_records = run_training(suite, store, result.run_id, front, device=device,
                                     say=lambda s: _say(opts, s), study=result.study,
                                     fresh=opts.fresh)
        timed = time_untimed(suite, store, result.run_id, front, train_records, device=device,
                             study=result.study)
        decision = decide_and_store(suite, store, result.run_id, front, timed)
    report = _report(opts, suite, store, result.study)
    if report is not None:
        print(f"report: {report}")
    from harness.answers import format_answer

    wall = time.monotonic() - opts.started if opts.started else None
    if decision is not None:  # the terminal ends with the answer, as stored
        print(format_answer(decision, wall))
    else:
        print("accuracy not measured (no training stage): the front above is speed only"
              + (f"\nwall time: {wall:.0f} s" if wall is not None else ""))
    return TuneResult(study=result.study, run_id=result.run_id, trials=result.trials,
                      front=front, train=train_records, report=report, stopped=result.stopped)


def _report(opts: TuneOptions, suite: Suite, store: Store, study: str) -> Path | None:
    from harness.core.paths import report_dir
    from harness.report.data import from_store
    from harness.report.html import write

    out = Path(opts.report_dir) if opts.report_dir else report_dir(suite.name)
    data = from_store(store, study=study, title=f"harness tune: {suite.name} ({study})")
    return write(data, out)

