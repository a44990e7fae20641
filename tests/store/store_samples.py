"""Sample records for the store tests (imported by test modules; not a test module itself)."""

from __future__ import annotations

from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec

PROVENANCE = {"device": "cpu", "torch": "2.13.0", "git_sha": "0123abcd", "threads": 2,
              "schema_version": 1}


def point(rate: float = 0.9, group: int = 32, seed: int = 0) -> Point:
    return Point(m=4096, k=4096, n=50, dtype="float32", device="cpu", format="csr",
                 backend="torch_sparse",
                 prune=PruneSpec(pattern="row_group", rate=rate, group_size=group,
                                 aggregation="rms", seed=seed),
                 seed=seed)


def ok_measurement(p: Point | None = None, *, provenance: dict | None = None) -> Measurement:
    p = p or point()
    samples = (1.0e-3, 1.1e-3, 0.1 + 0.2, 1 / 3, 2.0 ** -30)  # floats that are not round
    return Measurement(
        point=p, status="ok", samples_s=samples,
        stats=Stats(n=5, median=1 / 3, iqr=0.123456789012345678, mean=0.1 + 0.2,
                    stdev=1e-310, min=2.0 ** -30, rel_noise=0.004999999999999999),
        verified=True, rel_error=3.0e-7, speedup=1.5700000000000001, speedup_ci=(1.49, 1.66),
        baseline_key=p.baseline().key(),
        bytes={"values": 1_000_000, "indices": 500_000, "pointers": 4100, "activations": 819200,
               "output": 819200},
        flops=2 * 4096 * 4096 * 50 * 10, bandwidth_gbs=812.25, peak_fraction=0.4,
        counters={"energy_j": 0.0123, "sm_clock_mhz": 1410, "throttle_reasons": ["power_cap"],
                  "nested": {"temp_c": 61.5}},
        throttled=True, provenance=dict(PROVENANCE if provenance is None else provenance),
        wall_s=2.5,
    )


def unsupported_measurement(p: Point | None = None) -> Measurement:
    return Measurement(point=p or point(), status="unsupported",
                       reason="not available on this machine: CUDA not present")


def downgrade(url: str, table: str, version: int) -> None:
    """Make a current database look like schema `version`: drop `table` (the one the next
    version added) and write the old version number."""
    import sqlalchemy

    from harness.store import schema as tables

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP TABLE {table}"))
            conn.execute(tables.meta.update().where(tables.meta.c.key == "schema_version")
                         .values(value=str(version)))
        assert table not in sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()
