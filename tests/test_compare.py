"""``runway compare``: runs side by side, each difference with its MCSE."""

from __future__ import annotations

import json
import sys

import pytest

import runway
from runway import compare as cmp
from runway.condition import HEADLINE_METRICS
from test_condition import write_run

PATHS = 2000


@pytest.fixture(scope="module")
def runs(hsbc_cfg, tmp_path_factory):
    base = tmp_path_factory.mktemp("cmp")
    a = write_run(runway.simulate(hsbc_cfg, paths=PATHS, seed=11), base / "seed11")
    b = write_run(runway.simulate(hsbc_cfg, paths=PATHS, seed=12), base / "seed12")
    return a, b


def _all_diffs(d):
    """Every (name, diff, mcse) of one differences dictionary."""
    out = [(f"p_insolvent_by_{y}", v["diff"], v["mcse"]) for y, v in d["p_insolvent_by"].items()]
    for metric in HEADLINE_METRICS:
        for y, row in d[metric].items():
            out += [(f"{metric}_{y}_{k}", v["diff"], v["mcse"]) for k, v in row.items()]
    return out


def test_two_seeds_differ_within_mcse(runs):
    c = cmp.compare(cmp.load_runs(list(runs)))
    (d,) = c.diffs
    assert d["paired"] is False  # different seeds: independent
    diffs = _all_diffs(d)
    assert len(diffs) == 6 * (1 + 2 * 4)
    big = [(n, x, se) for n, x, se in diffs if x is not None and se and abs(x) > 4 * se]
    assert not big, big  # each within 4 MCSE (a normal exceeds 4 sigma with probability 6e-5)
    z2 = [n for n, x, se in diffs if x is not None and se and abs(x) > 2 * se]
    assert len(z2) <= 0.25 * len(diffs), z2  # about 5% expected; correlated numbers


def test_run_against_itself_is_zero(runs):
    a, _ = runs
    c = cmp.compare(cmp.load_runs([a, a]))
    (d,) = c.diffs
    assert d["paired"] is True
    for name, x, se in _all_diffs(d):
        assert x == 0.0 and se == 0.0, name


def test_paired_is_tighter_than_independent(hsbc_cfg, runs, tmp_path):
    """Same seed, a changed input: paired differences have a smaller MCSE than independent."""
    a, b = runs
    cfg = runway.config.apply_override_strings(hsbc_cfg, ["consumer.conversion_target=0.12"])
    c_dir = write_run(runway.simulate(cfg, paths=PATHS, seed=11), tmp_path / "conv")
    paired = cmp.compare(cmp.load_runs([a, c_dir])).diffs[0]
    indep = cmp.compare(cmp.load_runs([b, c_dir])).diffs[0]
    assert paired["paired"] and not indep["paired"]
    for key in ("mean", "p50"):
        assert paired["revenue"]["2030"][key]["mcse"] < indep["revenue"]["2030"][key]["mcse"]


def test_cli_writes_the_report(runs, tmp_path, monkeypatch, capsys):
    from runway.cli import main

    a, b = runs
    out = tmp_path / "compare"
    monkeypatch.setattr(sys, "argv", ["runway", "compare", str(a), str(b), "--out", str(out)])
    main()
    printed = capsys.readouterr().out
    assert "P(out of cash by end-2030)" in printed
    for f in ("compare.json", "report.md", "report.html", "pd_curves.png", "funding_gap_fans.png",
              "cash_fans.png"):  # fmt: skip
        assert (out / f).is_file(), f
    s = json.loads((out / "compare.json").read_text())
    assert len(s["runs"]) == 2 and s["differences"][0]["paired"] is False
    md = (out / "report.md").read_text()
    assert "minus base" in md and "independent" in md and "MCSE" in md


def test_conditioned_directory_is_compared_with_its_weights(runs, tmp_path):
    from runway import backtest as bt
    from runway import condition as C

    a, b = runs
    f = tmp_path / "a.toml"
    f.write_text('[[actual]]\nname = "Rev"\nmeasure = "revenue"\nperiod = "2026"\n'
                 'value_bn = 30\nuncertainty_bn = 3\nsource = "s"\n')  # fmt: skip
    cond = C.condition(a, bt.load_actuals(f))
    cdir = C.write(cond, tmp_path / "cond", str(f))
    c = cmp.compare(cmp.load_runs([b, cdir]))
    assert c.diffs[0]["paired"] is False and c.runs[1].weights is not None
    assert c.headlines[1]["revenue"]["2026"]["p50"]["value"] == pytest.approx(
        cond.after["revenue"]["2026"]["p50"]["value"]
    )


@pytest.mark.parametrize("case", ["missing", "not_a_run", "one"])
def test_bad_input_is_one_line_exit_2(runs, tmp_path, monkeypatch, capsys, case):
    from runway.cli import main

    a, _ = runs
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    args = {"missing": [str(a), str(tmp_path / "nope")], "not_a_run": [str(a), str(junk)],
            "one": [str(a)]}[case]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["runway", "compare", *args, "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_damaged_conditioned_directory_is_one_line(runs, tmp_path, monkeypatch, capsys):
    from runway import backtest as bt
    from runway import condition as C
    from runway.cli import main

    a, b = runs
    f = tmp_path / "a.toml"
    f.write_text('[[actual]]\nname = "Rev"\nmeasure = "revenue"\nperiod = "2026"\n'
                 'value_bn = 30\nuncertainty_bn = 3\nsource = "s"\n')  # fmt: skip
    cdir = C.write(C.condition(a, bt.load_actuals(f)), tmp_path / "cond", str(f))
    (cdir / "weights.parquet").write_bytes(b"not parquet")
    monkeypatch.setattr(sys, "argv", ["runway", "compare", str(b), str(cdir), "--out",
                                      str(tmp_path / "o")])  # fmt: skip
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "weights.parquet" in err and "\n" not in err
