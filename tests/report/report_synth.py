"""Synthetic results shaped like a real fc run (hartenstein seed, Fig. 3–5) for report tests."""

from __future__ import annotations

import random

from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec
from harness.report import ReportData
from harness.store.api import RunRow

GROUPS = (1, 2, 4, 8, 16, 32, 64)
RATES = (0.80, 0.84, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98)
# per-nonzero cost relative to dense (smaller for larger, coalesced groups) and fixed overhead:
# gives break-even ≈ 94% for g=1 and ≈ 84% for g=32, 1.57× at 90% for g=32 (seed, Fig. 3)
COST = {1: 16.1, 2: 12.5, 4: 9.4, 8: 7.3, 16: 6.5, 32: 6.05, 64: 6.3}
OVERHEAD = 0.032
DENSE_S = 32e-6
ACCURACY = {1: 0.9662, 2: 0.9655, 4: 0.9601, 8: 0.9530, 16: 0.9381, 32: 0.9052, 64: 0.8610}
PROVENANCE = {
    "device": "NVIDIA H100 80GB HBM3",
    "driver": "570.86",
    "cuda": "12.8",
    "torch": "2.13.0",
    "git_sha": "d0e0feb",
    "threads": 16,
    "harness": "0.1.0",
    "storage_url": "postgresql://bench:hunter2@db.example/harness",
}


def _stats(median: float, rng: random.Random) -> tuple[tuple[float, ...], Stats]:
    samples = tuple(median * (1 + rng.gauss(0, 0.01)) for _ in range(15))
    s = sorted(samples)
    mean = sum(s) / len(s)
    sd = (sum((x - mean) ** 2 for x in s) / (len(s) - 1)) ** 0.5
    return samples, Stats(
        n=len(s),
        median=median,
        iqr=s[11] - s[3],
        mean=mean,
        stdev=sd,
        min=s[0],
        rel_noise=sd / mean,
    )


def measurement(
    point: Point, speedup: float, rng: random.Random, *, energy: bool = True
) -> Measurement:
    median = DENSE_S / speedup
    samples, stats = _stats(median, rng)
    nnz = (1 - point.prune.rate) * point.m * point.k
    nbytes = {
        "values": int(nnz * 4),
        "indices": int(nnz * 4),
        "pointers": 4 * (point.m + 1),
        "activations": point.k * point.n * 4,
        "output": point.m * point.n * 4,
    }
    bw = sum(nbytes.values()) / median / 1e9
    counters = {"nvml.energy_j_per_call": 350.0 * median * 0.8} if energy else {}
    return Measurement(
        point=point,
        status="ok",
        samples_s=samples,
        stats=stats,
        verified=True,
        rel_error=3e-7,
        speedup=speedup,
        speedup_ci=(speedup * 0.98, speedup * 1.02),
        baseline_key=point.baseline().key(),
        bytes=nbytes,
        flops=int(2 * nnz * point.n),
        bandwidth_gbs=bw,
        peak_fraction=bw / 3350.0,
        counters=counters,
        provenance=PROVENANCE,
        wall_s=0.4,
    )


def fc_measurements(
    seed: int = 0, *, fmt: str = "csr", backend: str = "torch"
) -> list[Measurement]:
    rng = random.Random(seed)
    out = []
    for g in GROUPS:
        for r in RATES:
            speedup = 1 / (COST[g] * (1 - r) + OVERHEAD) * (1 + rng.gauss(0, 0.015))
            p = Point(
                4096,
                4096,
                50,
                "float32",
                "cuda:0",
                fmt,
                backend,
                PruneSpec("row_group", r, g, aggregation="rms"),
            )
            out.append(measurement(p, speedup, rng))
    # a bundled row-group kernel for the larger groups: a second format on the same problem
    for g in (16, 32, 64):
        for r in RATES:
            speedup = 1 / (COST[g] * 0.75 * (1 - r) + 0.09) * (1 + rng.gauss(0, 0.015))
            p = Point(
                4096,
                4096,
                50,
                "float32",
                "cuda:0",
                "row_group",
                "triton",
                PruneSpec("row_group", r, g, aggregation="rms"),
            )
            out.append(measurement(p, speedup, rng))
    bad = Point(
        4096,
        4096,
        50,
        "float32",
        "cuda:0",
        "semi_structured",
        "cusparselt",
        PruneSpec("nm", 0.5, nm=(2, 4)),
    )
    out.append(
        Measurement(
            point=bad,
            status="unsupported",
            reason="cusparselt does not support dtype float32 (supports: bfloat16, float16)",
        )
    )
    inv = Point(
        4096,
        4096,
        50,
        "float16",
        "cuda:0",
        "bsr",
        "triton",
        PruneSpec("block", 0.9, block=(16, 16)),
    )
    out.append(
        Measurement(
            point=inv,
            status="invalid",
            reason="rel. error 3.1e-02 > tolerance 1e-02",
            rel_error=0.031,
        )
    )
    return out


def fc_train() -> list[dict]:
    recs = [
        {
            "accuracy": 0.9648,
            "loss": 0.118,
            "pattern": "dense",
            "group_size": 1,
            "pruning_rate": 0.0,
            "aggregation": "",
            "schedule": "",
            "epochs": 30,
            "time_s": 41.0,
            "dense": True,
        }
    ]
    for g in GROUPS:
        recs.append(
            {
                "accuracy": ACCURACY[g],
                "loss": 0.12 + (0.97 - ACCURACY[g]),
                "pattern": "row_group",
                "group_size": g,
                "pruning_rate": 0.9,
                "aggregation": "rms",
                "schedule": "one_shot",
                "epochs": 30,
                "time_s": 44.0,
                "dense": False,
            }
        )
    return recs


def fc_runs() -> list[RunRow]:
    return [
        RunRow(
            id=1,
            kind="tune",
            suite="fc",
            study="fc",
            context_key="ctx1",
            status="finished",
            started_at="2026-11-23T05:10:00+00:00",
            finished_at="2026-11-23T05:42:11+00:00",
            config={},
            provenance=PROVENANCE,
        )
    ]


EVIL = "<script>alert(1)</script>"


def fc_data(**kw) -> ReportData:
    base = dict(
        title="harness report: fc",
        measurements=tuple(fc_measurements()),
        train=tuple(fc_train()),
        runs=tuple(fc_runs()),
        source="sqlite:///runs/fc.db",
        scope="study fc",
        generated_at="2026-11-23T06:00:00+00:00",
    )
    base.update(kw)
    return ReportData(**base)


def evil_data() -> ReportData:
    """Markup in every string a suite or the store can carry."""
    ms = fc_measurements()[:10]
    evil_point = Point(
        64, 64, 8, "float32", "cpu", EVIL, EVIL, PruneSpec(EVIL, 0.5, aggregation=EVIL)
    )
    ms.append(Measurement(point=evil_point, status="error", reason=EVIL, provenance={EVIL: EVIL}))
    ok = ms[0]
    ms.append(
        Measurement(
            point=evil_point,
            status="ok",
            verified=True,
            speedup=1.3,
            stats=ok.stats,
            provenance={"device": EVIL},
        )
    )
    train = [dict(t, pattern=EVIL, schedule=EVIL) for t in fc_train()]
    return fc_data(measurements=tuple(ms), train=tuple(train), title=EVIL, scope=EVIL, source=EVIL)
