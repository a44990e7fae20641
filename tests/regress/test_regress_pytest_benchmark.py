"""Export to pytest-benchmark's JSON (read back by pytest-benchmark itself) and import."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import InputError
from harness.core.measurement import Measurement, Stats
from harness.core.point import Point, PruneSpec
from harness.regress import pytest_benchmark as pb


def _m(rate: float, samples: list[float]) -> Measurement:
    p = Point(64, 64, 8, format="csr", backend="torch_sparse",
              prune=PruneSpec(pattern="row_group", rate=rate, group_size=4))
    st = Stats(len(samples), sorted(samples)[len(samples) // 2], 0.0, sum(samples) / len(samples),
               0.0, min(samples), 0.0)
    return Measurement(point=p, status="ok", samples_s=tuple(samples), stats=st, verified=True,
                       speedup=1.5, speedup_ci=(1.4, 1.6))


def test_export_is_read_by_pytest_benchmark(tmp_path):
    from pytest_benchmark.storage.file import FileStorage

    ms = [_m(0.5, [1e-3, 1.1e-3, 0.9e-3]), _m(0.9, [5e-4, 6e-4, 5.5e-4])]
    path = pb.write(ms, tmp_path / "Linux-CPython-3.11-64bit" / "0001_run.json",
                    provenance={"git_sha": "abc", "hostname": "h"})

    class _Log:
        def warning(self, *a, **k):
            raise AssertionError(a)

    storage = FileStorage(str(tmp_path), default_machine_id="Linux-CPython-3.11-64bit",
                          logger=_Log())
    loaded = list(storage.load_benchmarks(str(path)))
    assert len(loaded) == 2
    first = next(b for b in loaded if "rate=0.5" in b["name"])
    assert first["median"] == pytest.approx(1e-3)
    assert first["rounds"] == 3
    assert first["data"] == [1e-3, 1.1e-3, 0.9e-3]


def test_round_trip_samples_by_point_key(tmp_path):
    ms = [_m(0.5, [1.0, 2.0, 3.0])]
    path = pb.write(ms, tmp_path / "x.json")
    samples = pb.read_samples(path)
    assert samples == {ms[0].point.key(): [1.0, 2.0, 3.0]}


def test_bad_files_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        pb.read_samples(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.json"):
        pb.read_samples(bad)
    nodata = tmp_path / "nodata.json"
    nodata.write_text(json.dumps({"benchmarks": [{"name": "a", "stats": {"median": 1}}]}))
    with pytest.raises(InputError, match=r"benchmarks\[0\]"):
        pb.read_samples(nodata)
