"""``runway condition``: PSIS reweighting of a run by later actuals (synthetic checks)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import runway
from runway import backtest as bt
from runway import condition as C
from runway.errors import RunwayError
from runway.stats import weighted as W

PATHS = 2000
QUARTERS = [f"{y}Q{i}" for y in range(2025, 2031) for i in range(1, 5)][2:]  # after 2025-06
MONTH_END = {"1": "03", "2": "06", "3": "09", "4": "12"}


def write_run(res, d):
    """The files of a run directory that condition and compare read (no plots or report)."""
    from runway.io import dump_json, write_run_dir
    from runway.outputs import resolved_config_toml, write_paths_parquet, write_quarters_parquet

    s = res.summary(diagnostics=False)
    return write_run_dir(
        d,
        {
            "summary.json": dump_json(s),
            "paths.parquet": lambda p: write_paths_parquet(res.paths, p),
            "quarters.parquet": lambda p: write_quarters_parquet(res, p),
            "fan.parquet": lambda p: res.fan.to_parquet(p, index=False),
            "config.resolved.toml": lambda p: p.write_text(resolved_config_toml(res, s)),
        },
    )


@pytest.fixture(scope="module")
def run_dir(hsbc_cfg, tmp_path_factory):
    res = runway.simulate(hsbc_cfg, paths=PATHS, seed=11)
    return write_run(res, tmp_path_factory.mktemp("cond") / "run")


def _actuals(q: pd.DataFrame, i: int, quarters, rel: float, cash: bool = True):
    acts = []
    for qq in quarters:
        r = float(q.loc[i, f"revenue_{qq}"])
        acts.append(
            bt.Actual(
                name=f"revenue {qq}", measure="revenue", period=f"{qq[:4]}-Q{qq[5]}",
                value_bn=r, uncertainty_bn=rel * abs(r), source="synthetic",
            )
        )  # fmt: skip
        if cash:
            c = float(q.loc[i, f"cash_{qq}"])
            acts.append(
                bt.Actual(
                    name=f"cash {qq}", measure="cash", period=f"{qq[:4]}-{MONTH_END[qq[5]]}",
                    value_bn=c, uncertainty_bn=rel * abs(c) + 0.5, source="synthetic",
                )
            )  # fmt: skip
    return acts


def _width(h, metric, year="2030"):
    row = h[metric][year]
    return row["p95"]["value"] - row["p05"]["value"]


def test_quarters_match_the_annual_columns(run_dir, hsbc_cfg):
    q = pd.read_parquet(run_dir / "quarters.parquet")
    res = runway.simulate(hsbc_cfg, paths=50, seed=11)  # the same first 50 paths
    pd.testing.assert_frame_equal(q.iloc[:50], res.quarters)  # the file is Result.quarters
    p = pd.read_parquet(run_dir / "paths.parquet")
    assert len(q) == PATHS and q["revenue_2026Q1"].dtype == np.float32
    for y in (2025, 2027, 2030):
        rev = q[[f"revenue_{y}Q{i}" for i in range(1, 5)]].to_numpy(float).sum(axis=1)
        burn = q[[f"burn_{y}Q{i}" for i in range(1, 5)]].to_numpy(float).sum(axis=1)
        scale = 1e-6 * np.maximum(1.0, np.abs(p[f"revenue_{y}"].to_numpy()))
        assert np.all(np.abs(rev - p[f"revenue_{y}"]) <= 10 * scale + 1e-4)
        assert np.allclose(burn, -p[f"fcf_{y}"], rtol=1e-5, atol=1e-4)
        assert np.allclose(q[f"cash_{y}Q4"], p[f"cash_{y}"], rtol=1e-6, atol=1e-4)
    every = [f"{y}Q{i}" for y in range(2025, 2031) for i in range(1, 5)]
    lines = [ln for ln in bt.RAISED_LINES if ln != "facility_drawn"]  # raised_total's sources
    raised = sum(q[f"{ln}_{qq}"].to_numpy(float) for ln in lines for qq in every)
    assert np.allclose(raised, p["raised_total"], rtol=1e-5, atol=1e-3)


def test_truth_path_narrows_the_2030_outcomes(run_dir):
    """One path's quarterly revenue and cash as actuals: its 2030 outcomes come back."""
    q = pd.read_parquet(run_dir / "quarters.parquet")
    p = pd.read_parquet(run_dir / "paths.parquet")
    rng = np.random.default_rng(2026)
    for i in rng.choice(PATHS, size=3, replace=False):
        c = C.condition(run_dir, _actuals(q, int(i), QUARTERS, rel=0.02))
        assert len(c.used) == 2 * len(QUARTERS) and not c.skipped
        for metric in ("revenue", "funding_gap"):
            truth = float(p.loc[i, f"{metric}_2030"])
            after = c.after[metric]["2030"]
            assert after["p05"]["value"] <= truth <= after["p95"]["value"]
            assert _width(c.after, metric) < 0.2 * _width(c.before, metric)
            assert abs(after["p50"]["value"] - truth) <= 0.05 * abs(truth) + 1.0
        assert c.pareto_k == c.pareto_k or np.isinf(c.pareto_k)  # a number (inf: degenerate)
        assert c.contradicted == [] and c.best_chi2 < 1e-6  # the truth path is in the run
        assert c.reliable == c.k_ok == (np.isfinite(c.pareto_k) and c.pareto_k <= C.K_HAT_MAX)
        s = C.summary(c, "synthetic")
        assert "pareto_k" in s["diagnostics"] and s["diagnostics"]["ess"] == pytest.approx(c.ess)
        assert (s["warning"] is None) == c.reliable


def test_mild_evidence_is_reliable(run_dir):
    """Four quarters of revenue at 10%: k-hat below 0.7, many effective paths, 2026 narrows."""
    q = pd.read_parquet(run_dir / "quarters.parquet")
    c = C.condition(run_dir, _actuals(q, 7, QUARTERS[:4], rel=0.10, cash=False))
    assert c.reliable and c.warning() is None
    assert c.pareto_k < C.K_HAT_MAX and c.ess > 0.05 * PATHS
    assert _width(c.after, "revenue", "2026") < 0.9 * _width(c.before, "revenue", "2026")
    assert abs(np.sum(c.weights) - 1.0) < 1e-12 and np.all(c.weights >= 0)


def test_before_is_the_run(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    c = C.condition(
        run_dir, _actuals(pd.read_parquet(run_dir / "quarters.parquet"), 3, QUARTERS[:2], 0.1)
    )
    for y, p in s["p_insolvent_by"].items():
        assert c.before["p_insolvent_by"][y]["value"] == pytest.approx(p, abs=1e-12)
        assert c.before["p_insolvent_by"][y]["mcse"] == pytest.approx(
            s["mcse"][f"p_insolvent_by_{y}"]
        )
    for y, g in s["funding_gap"].items():
        b = c.before["funding_gap"][y]
        assert b["mean"]["value"] == pytest.approx(g["mean"], rel=1e-9)
        for k in ("p05", "p50", "p95"):  # definition 5 against numpy's 7: within one MCSE
            se = s["mcse"][f"funding_gap_{y}_{k}"] or 1e-9
            assert abs(b[k]["value"] - g[k]) <= se


def test_contradictory_actual_is_flagged(run_dir, tmp_path, monkeypatch, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[[actual]]\nname = "Cash Mar 2026"\nmeasure = "cash"\nperiod = "2026-03"\n'
                 'value_bn = 10000\nuncertainty_bn = 1\nsource = "impossible"\n')  # fmt: skip
    c = C.condition(run_dir, bt.load_actuals(f))
    assert not c.reliable and not (c.pareto_k <= C.K_HAT_MAX)
    assert c.contradicted == ["Cash Mar 2026"] and c.best_chi2 > c.chi2_max
    assert "not reliable" in c.warning().lower() and "newer vintage" in c.warning()
    from runway.cli import main

    out = tmp_path / "cond"
    monkeypatch.setattr(sys, "argv", ["runway", "condition", str(run_dir), "--actuals", str(f),
                                      "--out", str(out)])  # fmt: skip
    main()
    printed = capsys.readouterr().out
    assert "WARNING: NOT RELIABLE" in printed and "Pareto k-hat" in printed
    s = json.loads((out / "summary.json").read_text())
    assert s["diagnostics"]["reliable"] is False and s["warning"]
    md = (out / "report.md").read_text()
    assert "NOT RELIABLE" in md and "newer vintage" in md
    assert (out / "report.html").is_file() and (out / "weights.parquet").is_file()


def test_bad_input(run_dir, tmp_path, monkeypatch, capsys):
    f = tmp_path / "zero.toml"
    f.write_text('[[actual]]\nname = "Rev"\nmeasure = "revenue"\nperiod = "2026-Q1"\n'
                 'value_bn = 5\nsource = "s"\n')  # fmt: skip
    with pytest.raises(RunwayError, match="uncertainty_bn"):
        C.condition(run_dir, bt.load_actuals(f))
    old = tmp_path / "old.toml"
    old.write_text('[[actual]]\nname = "H1"\nmeasure = "revenue"\nperiod = "2025-H1"\n'
                   'value_bn = 4.3\nuncertainty_bn = 0.2\nsource = "s"\n')  # fmt: skip
    with pytest.raises(RunwayError, match="after the run's as-of month 2025-06"):
        C.condition(run_dir, bt.load_actuals(old))
    from runway.cli import main

    monkeypatch.setattr(sys, "argv", ["runway", "condition", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope" in err and "\n" not in err


def test_weighted_estimators_reduce_to_the_plain_ones():
    rng = np.random.default_rng(1)
    x = rng.normal(size=5001)
    w = W.uniform(x.size)
    assert W.proportion(x > 0, w)[0] == pytest.approx(np.mean(x > 0))
    assert W.mean(x, w)[0] == pytest.approx(x.mean())
    from runway.stats.mcse import quantile_mcse

    for q in (0.05, 0.5, 0.95):
        v, se = W.quantile(x, w, q)
        assert abs(v - np.quantile(x, q)) <= np.diff(np.sort(x)).max()
        assert se == pytest.approx(quantile_mcse(x, q), rel=0.25)
    # a weight vector of one path is that path
    w1 = np.zeros(x.size)
    w1[17] = 1.0
    assert W.quantile(x, w1, 0.5)[0] == x[17] and W.ess(w1) == 1.0


def test_actual_every_path_misses_alike_is_flagged(run_dir):
    """Equal misses leave the weights (and k-hat) alone; the run is contradicted all the same."""
    q = pd.read_parquet(run_dir / "quarters.parquet")
    cols = [f"{ln}_{qq}" for ln in bt.RAISED_LINES for qq in ("2025Q3", "2025Q4")]
    top = float(q[cols].to_numpy(float).sum(axis=1).max())
    a = bt.Actual(name="Raised H2 2025", measure="raised", period="2025-H2",
                  value_bn=top + 50.0, uncertainty_bn=1.0, source="synthetic")  # fmt: skip
    c = C.condition(run_dir, [a])
    assert c.contradicted == ["Raised H2 2025"] and not c.reliable
    assert "more than 3 uncertainties from every path" in c.warning()
    # the same quantity within the run's range is not flagged by this test
    ok = bt.Actual(name="Raised H2 2025", measure="raised", period="2025-H2",
                   value_bn=top, uncertainty_bn=1.0, source="synthetic")  # fmt: skip
    assert C.condition(run_dir, [ok]).contradicted == []


def test_backtest_reads_quarters_at_any_path_count(run_dir):
    """Without monthly.csv, quarters, halves and quarter-end cash come from quarters.parquet."""
    q = pd.read_parquet(run_dir / "quarters.parquet")
    acts = [
        bt.Actual(name="Rev Q1", measure="revenue", period="2026-Q1", value_bn=5.0, source="s"),
        bt.Actual(name="Raised H1", measure="raised", period="2026-H1", value_bn=1.0, source="s"),
        bt.Actual(name="Cash Sep", measure="cash", period="2026-09", value_bn=9.0, source="s"),
        bt.Actual(name="Cash Oct", measure="cash", period="2026-10", value_bn=9.0, source="s"),
        bt.Actual(name="Rev 2031", measure="revenue", period="2031-Q1", value_bn=9.0, source="s"),
    ]
    rev, raised, sep, octo, late = bt.backtest(run_dir, acts)
    assert rev.basis == raised.basis == sep.basis == "quarters.parquet"
    v = q["revenue_2026Q1"].to_numpy(float)
    assert rev.percentile == pytest.approx((np.sum(v < 5.0) + 0.5 * np.sum(v == 5.0)) / v.size)
    assert sep.p50 == pytest.approx(float(np.quantile(q["cash_2026Q3"].to_numpy(float), 0.5)))
    assert octo.inside_90 is None and "monthly.csv" in octo.basis
    assert late.inside_90 is None and "outside" in late.basis
