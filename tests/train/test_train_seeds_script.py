"""benchmarks/train_seeds.py on digits with one-epoch settings: the claims run per seed, and the
table has one row per case with mean ± sd over the seeds."""

from __future__ import annotations

import json

from benchmark_scripts import load


def test_zhang_at_g8_on_the_fc_net_tabulates_mean_and_sd_over_seeds(tmp_path, capsys):
    script = load("train_seeds")
    out = tmp_path / "zhang.json"
    res = script.main(["zhang", "--dataset", "digits", "--model", "fc", "--structures",
                       "row_group:0.9:8", "--seeds", "0", "1", "--pretrain", "1", "--finetune",
                       "1", "--admm-iters", "2", "--threads", "1", "--json", str(out)])
    cases = {s["case"]: s for s in res["summary"]}
    assert set(cases) == {"dense", "admm", "oneshot", "oneshot 3 ep"}
    admm = cases["admm"]
    assert admm["seeds"] == 2 and admm["g"] == 8 and admm["rate"] == 0.9
    accs = [r["accuracy"] for r in res["rows"] if r["case"] == "admm"]
    assert admm["accuracy"] == sum(accs) / 2
    assert admm["accuracy_sd"] == abs(accs[0] - accs[1]) / 2
    assert 0 <= admm["admm_rel_residual"] and len(res["rows"]) == 2 * 4
    text = capsys.readouterr().out
    assert "| admm | row_group | 0.9 | 8 |" in text
    assert json.loads(out.read_text())["summary"] == json.loads(json.dumps(res["summary"]))


def test_a_bad_structure_is_one_line(capsys):
    import pytest

    script = load("train_seeds")
    with pytest.raises(SystemExit) as err:
        script.main(["zhang", "--structures", "row_group"])
    assert err.value.code == 2
    assert "expected pattern:rate[:g]" in capsys.readouterr().err
