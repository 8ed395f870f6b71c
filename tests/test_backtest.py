"""``runway backtest``: percentiles, 90% band and interval score of sourced actuals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from runway import backtest as bt
from runway.cli import app
from runway.errors import RunwayError


def _run_dir(tmp_path, n=100):
    """A run directory by hand: path p has revenue p/100 $bn a month in 2026, cash p."""
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    rows = []
    for p in range(n):
        for mo in months:
            rows.append(
                dict(path=p, month=mo, revenue=p / 100.0, fcf=-1.0, cash=float(p),
                     equity_raised=0.0, debt_raised=0.0, ipo_raised=0.0, strategic_raised=0.0,
                     facility_drawn=5.0 if mo == "2026-04" else 0.0,
                     bridge_raised=1.0 if mo == "2026-02" else 0.0,
                     equity_committed=2.0 if mo == "2026-03" else 0.0,
                     round_signed=float(p) if mo == "2026-05" else 0.0)
            )  # fmt: skip
    d = tmp_path / "run"
    d.mkdir()
    pd.DataFrame(rows).to_csv(d / "monthly.csv", index=False)
    (d / "summary.json").write_text(json.dumps({"cash_as_of": "2025-12"}))
    return d


def _actual(**kw):
    base = dict(name="x", measure="revenue", period="2026-Q1", value_bn=1.0, source="test")
    return bt.Actual(**{**base, **kw})


def test_percentile_band_and_score(tmp_path):
    d = _run_dir(tmp_path)
    # Q1 revenue of path p is 3 p / 100: 0, 0.03, ..., 2.97
    v = 3 * np.arange(100) / 100.0
    lo, hi = np.quantile(v, [0.05, 0.95])
    rows = bt.backtest(d, [_actual(value_bn=1.5), _actual(value_bn=10.0), _actual(period="2025")])
    assert len(rows) == 2  # the 2025 actual is not after the as-of month
    r = rows[0]
    assert r.percentile == pytest.approx(0.505) and r.inside_90  # 50 below, 1 equal (mid-rank)
    assert r.interval_score == pytest.approx(hi - lo)
    r = rows[1]
    assert r.percentile == 1.0 and not r.inside_90
    assert r.interval_score == pytest.approx((hi - lo) + 20 * (10.0 - hi))


def test_measures(tmp_path):
    d = _run_dir(tmp_path)
    burn, cash, raised, signed = bt.backtest(
        d,
        [
            _actual(measure="burn", value_bn=3.0),  # every path burns 3 in a quarter
            _actual(measure="cash", period="2026-03", value_bn=49.5),
            _actual(measure="raised", period="2026-H1", value_bn=3.0),
            _actual(measure="signed", period="2026-Q2", value_bn=49.5),
        ],
    )
    assert burn.percentile == 0.5 and burn.p05 == burn.p95 == 3.0
    assert cash.percentile == pytest.approx(0.5)
    # the bridge (1) and the committed tranche (2); the facility draw (5) is not a raise
    assert raised.p50 == 3.0
    assert signed.percentile == pytest.approx(0.5)  # path p signs a round of p in May


def test_predictive_adds_the_actuals_own_error(tmp_path):
    """Every path burns exactly 3 in Q1; an actual of 4 +- 1 sits at Phi(1) of V + N(0, 1)."""
    from scipy.stats import norm

    d = _run_dir(tmp_path)
    (r,) = bt.backtest(d, [_actual(measure="burn", value_bn=4.0, uncertainty_bn=1.0)])
    assert r.percentile == pytest.approx(norm.cdf(1.0), abs=1e-12)
    assert r.path_percentile == 1.0  # above every path
    assert r.p05 == pytest.approx(3.0 + norm.ppf(0.05), abs=1e-6)
    assert r.p95 == pytest.approx(3.0 + norm.ppf(0.95), abs=1e-6)
    assert r.inside_90 and r.inside_98


def test_shipped_actuals_are_valid_and_sourced():
    acts = bt.load_actuals(bt.shipped_actuals())
    assert len(acts) >= 9
    assert all(a.source for a in acts)
    names = {a.name for a in acts}
    assert {"Revenue 2025", "Revenue H1 2025", "Revenue Q1 2026", "Cash burn Q1 2026"} <= names


def test_bad_actuals_file(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text('[[actual]]\nname = "x"\nmeasure = "profit"\nperiod = "2026"\nvalue_bn = 1\n'
                 'source = "s"\n')  # fmt: skip
    with pytest.raises(RunwayError, match="measure"):
        bt.load_actuals(f)


def test_cli(tmp_path):
    d = _run_dir(tmp_path)
    f = tmp_path / "a.toml"
    f.write_text('[[actual]]\nname = "Q1"\nmeasure = "revenue"\nperiod = "2026-Q1"\n'
                 'value_bn = 1.5\nsource = "s"\n')  # fmt: skip
    res = CliRunner().invoke(app, ["backtest", str(d), "--actuals", str(f)])
    assert res.exit_code == 0, res.output
    assert "| Q1 | 2026-Q1 | 1.5 | 50.5 |" in res.output
    assert "percentile of the paths" in res.output


def test_large_runs_keep_no_quarterly_record(monkeypatch):
    """Quarterly lines cost 4 bytes x 11 lines x 24 quarters a path: kept up to a cap."""
    from tests.conftest import make_config

    from runway import engine

    cfg = make_config(None)
    monkeypatch.setattr(engine, "MAX_QUARTER_PATHS", 64)
    small = engine.run(cfg, paths=64, seed=1, chunk_size=32, baseline=False)
    large = engine.run(cfg, paths=96, seed=1, chunk_size=32, baseline=False)
    assert small.quarterly is not None and small.quarterly.shape[0] == 64
    assert large.quarterly is None
    forced = engine.run(cfg, paths=96, seed=1, chunk_size=32, baseline=False, quarters=True)
    assert forced.quarterly is not None and forced.quarterly.shape[0] == 96


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A real run directory of 64 paths (quarters.parquet, paths.parquet, summary.json)."""
    d = tmp_path_factory.mktemp("bt") / "run"
    res = CliRunner().invoke(app, ["run", "-n", "64", "-o", str(d), "-q"])
    assert res.exit_code == 0, res.output
    return d


def test_run_directory_matches_summary(small_run):
    """``runway backtest RUNDIR`` (quarters.parquet read a column at a time) gives the rows
    ``runway run`` wrote into summary.json from the engine's own quarterly array."""
    summary = json.loads((small_run / "summary.json").read_text())["backtest"]["rows"]
    rows = bt.to_summary(bt.backtest(small_run, bt.load_actuals(bt.shipped_actuals())), "")
    assert rows["rows"] == summary


@pytest.mark.parametrize("broken", ["quarters.parquet", "paths.parquet"])
def test_unreadable_per_path_file_is_one_line(small_run, tmp_path, broken, monkeypatch, capsys):
    import shutil
    import sys

    from runway import cli

    d = tmp_path / "run"
    shutil.copytree(small_run, d)
    if broken == "paths.parquet":
        (d / "quarters.parquet").unlink()  # the backtest falls back on the per-path years
    (d / broken).write_text("not parquet")
    monkeypatch.setattr(cli, "_DEBUG", False)
    monkeypatch.setattr(sys, "argv", ["runway", "backtest", str(d)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and broken in lines[0] and "runway run" in lines[0], err
