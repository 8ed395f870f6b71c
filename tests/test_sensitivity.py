"""Sensitivity analysis (issue 14): the kernel's hold, tornado, Sobol' indices, drivers, CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import runway
from runway import engine
from runway.errors import RunwayError
from runway.sensitivity import drivers, sobol, tornado, uncertain_inputs
from runway.sensitivity.drivers import ks_distance, pawn_median
from runway.sensitivity.sobol import saltelli_indices

ROOT = Path(__file__).resolve().parents[1]
HSBC = ROOT / "configs" / "hsbc_2025_11.toml"
RUNWAY = shutil.which("runway") or str(Path(sys.executable).with_name("runway"))
NO_NOISE = {
    "shocks.users_vol": 0.0,
    "shocks.conversion_vol": 0.0,
    "shocks.enterprise_growth_vol": 0.0,
    "shocks.price_war_per_yr": 0.0,
    "financing.enabled": False,
}
"""With these the HSBC config's paths differ only through their drawn inputs (tested below)."""


def _digest(raw) -> str:
    return hashlib.sha256(
        raw.out.tobytes() + raw.annual_paths.tobytes() + raw.drawn.tobytes()
    ).hexdigest()


@pytest.fixture(scope="module")
def hsbc():
    return runway.load_config(HSBC)


def _fixed(cfg, keep=(), extra=None):
    """``cfg`` with every uncertain input at its median but ``keep``, and no monthly noise."""
    unc = uncertain_inputs(cfg)
    ov = {
        n.replace("[", ".").replace("]", ""): float(unc.quantile(n, 0.5)[0])
        for n in unc.names
        if n not in keep
    }
    return cfg.with_overrides({**ov, **NO_NOISE, **(extra or {})})


# --- the kernel's hold ----------------------------------------------------------------------
def test_no_hold_is_the_plain_run(hsbc):
    a = engine.run(hsbc, paths=600, chunk_size=128, baseline=False)
    b = engine.run(hsbc, paths=600, chunk_size=128, baseline=False, hold={})
    assert _digest(a) == _digest(b)


def test_hold_is_bit_identical_across_threads_and_chunks(hsbc):
    n = 700
    share = np.linspace(0.3, 0.45, n)
    share[::5] = np.nan  # drawn as usual
    hold = {"enterprise.share_anchor": share, "compute.contracts[1].slip_months": 11.6}
    runs = [
        engine.run(hsbc, paths=n, chunk_size=cs, threads=th, baseline=False, hold=hold)
        for cs, th in ((128, 1), (97, 2), (n, 2))
    ]
    assert len({_digest(r) for r in runs}) == 1
    plain = engine.run(hsbc, paths=n, chunk_size=128, baseline=False)
    r = runs[0]
    j = r.drawn_names.index("enterprise.share_anchor")
    k = r.drawn_names.index("compute.contracts[1].slip_months")
    nan = np.isnan(share)
    np.testing.assert_array_equal(r.drawn[~nan, j], share[~nan])
    np.testing.assert_array_equal(r.drawn[nan, j], plain.drawn[nan, j])
    assert np.all(r.drawn[:, k] == 12.0)  # rounded to whole months like a draw
    others = [i for i in range(len(r.drawn_names)) if i not in (j, k)]
    np.testing.assert_array_equal(r.drawn[:, others], plain.drawn[:, others])  # same draws
    assert not np.array_equal(r.out, plain.out)


def test_hold_bad_input(hsbc):
    with pytest.raises(RunwayError, match="not a per-path input"):
        engine.run(hsbc, paths=10, hold={"consumer.nope": 1.0})
    with pytest.raises(RunwayError, match="one per path"):
        engine.run(hsbc, paths=10, hold={"enterprise.share_anchor": np.ones(5)})


def test_no_noise_config_has_no_noise(hsbc):
    r = engine.run(_fixed(hsbc), paths=64, baseline=False)
    assert np.ptp(r.annual_path("funding_gap")[:, -1]) < 1e-9


# --- one uncertain input -------------------------------------------------------------------
def _one_input(hsbc):
    """Only the cost per GW matters; two other inputs are drawn over negligible ranges."""
    return _fixed(
        hsbc,
        keep=("compute.cost_per_gw_bn",),
        extra={
            "enterprise.share_anchor": {
                "dist": "pert",
                "low": 0.37,
                "mode": 0.3700005,
                "high": 0.370001,
            },
            "opex.rnd_people_growth_per_yr": {
                "dist": "triangular",
                "low": 0.4,
                "mode": 0.4000005,
                "high": 0.400001,
            },
        },
    )


def test_one_uncertain_input_takes_all_variance(hsbc):
    cfg = _one_input(hsbc)
    t = tornado(cfg, outputs=["funding_gap_2030_p50", "funding_gap_2030_mean"], paths=200)
    for _, d in t.groupby("output"):
        top = d.sort_values("rank")
        assert top.iloc[0]["input"] == "compute.cost_per_gw_bn"
        assert top.iloc[0]["swing"] > 10.0  # $bn
        assert (top.iloc[1:]["swing"] < 0.02 * top.iloc[0]["swing"]).all()
    s = sobol(cfg, outputs=["funding_gap_2030", "fcf_2030"], n=256, groups=False)
    for _, d in s.groupby("output"):
        d = d.set_index("input")
        assert d.loc["compute.cost_per_gw_bn", "ST"] > 0.95
        assert d.loc["compute.cost_per_gw_bn", "S1"] > 0.95
        rest = d.drop(index="compute.cost_per_gw_bn")
        assert (rest["ST"].abs() < 0.02).all() and (rest["S1"].abs() < 0.02).all()
        assert "shocks" in rest.index  # the model's noise is a factor of its own


# --- additive inputs with known variances --------------------------------------------------
def test_additive_toy_matches_analytic_first_order():
    """y = 2 x1 + x2 + 0.5 e: x1 ~ U(0, 1), x2 ~ N(0, 1), e the evaluation's own noise."""
    from scipy.stats import norm

    noise = {s: np.random.default_rng(100 + s).standard_normal(4096) for s in (0, 1)}

    def evaluate(vals, stream):
        return {"y": 2.0 * vals[:, 0] + vals[:, 1] + 0.5 * noise[stream][: vals.shape[0]]}

    def quantile(c, u):
        return u if c == 0 else norm.ppf(u)

    df = saltelli_indices([("x1", "x1", 1), ("x2", "x2", 1)], quantile, evaluate, 4096, seed=3)
    d = df.set_index("input")
    v = {"x1": 4.0 / 12.0, "x2": 1.0, "shocks": 0.25}
    total = sum(v.values())
    for k, var in v.items():
        exact = var / total
        assert abs(d.loc[k, "S1"] - exact) <= d.loc[k, "S1_conf"], (k, d.loc[k].to_dict())
        assert abs(d.loc[k, "ST"] - exact) <= d.loc[k, "ST_conf"], (k, d.loc[k].to_dict())


def test_additive_model_inputs_match_analytic_first_order(hsbc):
    """FCF 2030 is linear in R&D staff cost and fixed SG&A (checked); both drawn uniform."""
    base = _fixed(hsbc)
    lo = {"opex.rnd_people_bn": (4.0, 6.0), "opex.sga_fixed_bn": (3.0, 7.0)}
    slope = {}
    for key, (a, b) in lo.items():
        f = [
            engine.run(
                base.with_overrides({key: x}), deterministic=True, baseline=False
            ).annual_path("fcf")[0, -1]
            for x in (a, (a + b) / 2, b)
        ]
        assert abs((f[0] + f[2]) / 2 - f[1]) < 1e-6 * max(1.0, abs(f[1]))  # linear
        slope[key] = (f[2] - f[0]) / (b - a)
    cfg = base.with_overrides(
        {k: {"dist": "uniform", "low": a, "high": b} for k, (a, b) in lo.items()}
    )
    s = sobol(cfg, outputs=["fcf_2030"], n=1024, groups=False).set_index("input")
    var = {k: slope[k] ** 2 * (b - a) ** 2 / 12.0 for k, (a, b) in lo.items()}
    for k in lo:
        exact = var[k] / sum(var.values())
        assert abs(s.loc[k, "S1"] - exact) <= max(s.loc[k, "S1_conf"], 1e-3), (k, exact)
        assert abs(s.loc[k, "ST"] - exact) <= max(s.loc[k, "ST_conf"], 1e-3), (k, exact)
    assert abs(s.loc["shocks", "ST"]) < 1e-6


# --- drivers ---------------------------------------------------------------------------------
def test_ks_and_pawn_twins_match_scipy_and_salib():
    from SALib.analyze import pawn
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(5)
    n = 3000
    x = rng.random((n, 3))
    x[:, 2] = np.floor(x[:, 2] * 5)  # ties, like slips in months
    y = x[:, 0] + 0.3 * rng.random(n)
    t = y > np.quantile(y, 0.9)
    for j in range(3):
        got = ks_distance(x[:, j], t, np.ones((1, n)))[0]
        assert got == pytest.approx(ks_2samp(x[t, j], x[~t, j]).statistic, abs=1e-12)
    ref = pawn.analyze({"num_vars": 3, "names": list("abc"), "bounds": [[0, 1]] * 3}, x, y, S=10)
    got = [pawn_median(x[:, j], y, np.ones((1, n)))[0] for j in range(3)]
    np.testing.assert_allclose(got, ref["median"], atol=1e-12)


def test_drivers_find_the_one_input(hsbc):
    cfg = _fixed(hsbc, keep=("compute.cost_per_gw_bn", "enterprise.share_anchor"))
    res = runway.simulate(
        cfg.with_overrides(
            {
                "enterprise.share_anchor": {
                    "dist": "pert",
                    "low": 0.37,
                    "mode": 0.3700005,
                    "high": 0.370001,
                }
            }
        ),
        paths=2000,
    )
    d = drivers(res)
    gap = d[d.target == "funding_gap_2030_worst_decile"].set_index("input")
    assert gap.loc["compute.cost_per_gw_bn", "rank"] == 1
    assert gap.loc["compute.cost_per_gw_bn", "ks"] > 0.9  # the worst decile = the top costs
    assert gap.loc["compute.cost_per_gw_bn", "direction"] == "higher"
    assert gap.loc["enterprise.share_anchor", "ks"] < 0.1


# --- run directory and CLI -------------------------------------------------------------------
def test_run_writes_inputs_and_drivers(tmp_path, hsbc):
    from runway.outputs import write_outputs

    res = runway.simulate(hsbc, paths=400)
    out = write_outputs(res, tmp_path / "run")
    import pandas as pd

    inp = pd.read_parquet(out / "inputs.parquet")
    assert list(inp.columns) == ["path"] + list(res.raw.drawn_names)
    np.testing.assert_array_equal(inp.drop(columns="path").to_numpy(), res.raw.drawn)
    s = json.loads((out / "summary.json").read_text())
    assert set(s["sensitivity"]["targets"]) == {
        "funding_gap_2030_worst_decile",
        "insolvent_by_2030",
    }
    md = (out / "report.md").read_text()
    assert "## What drives it" in md and "Drivers of the worst tenth" in md
    assert "Not computed in this run" not in md
    # the same drivers from the directory
    d1, d2 = drivers(res), drivers(out)
    np.testing.assert_allclose(d1["ks"], d2["ks"])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([RUNWAY, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--method", "spider"], "--method must be one of"),
        (["--outputs", "gap_of_doom"], "--outputs: unknown statistic"),
        (["--method", "sobol", "--target-mcse", "0.01"], "--target-mcse applies"),
        (["--method", "drivers"], "reads a run directory"),
        (["--paths", "3"], "--paths must be at least"),
    ],
)
def test_cli_bad_input(tmp_path, args, needle):
    r = _cli("sensitivity", str(HSBC), *args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_tornado_writes_its_directory(tmp_path):
    r = _cli(
        "sensitivity",
        str(HSBC),
        "--paths",
        "64",
        "--outputs",
        "p_insolvent_by_2030,funding_gap_2030_p50",
        "--out",
        str(tmp_path / "t"),
        "-q",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    d = tmp_path / "t"
    for f in ("sensitivity.csv", "sensitivity.json", "tornado.png", "report.md", ".complete"):
        assert (d / f).is_file(), f
    js = json.loads((d / "sensitivity.json").read_text())
    assert js["meta"]["method"] == "tornado" and js["meta"]["paths_per_run"] == 64
    assert {r["output"] for r in js["rows"]} == {"p_insolvent_by_2030", "funding_gap_2030_p50"}


def test_tornado_target_mcse_grows_the_paths(hsbc):
    outs = ["p_insolvent_by_2030", "funding_gap_2030_p50"]
    loose = tornado(hsbc, outputs=outs, paths=64, target_mcse=0.9, groups=False)
    assert (loose["paths"] == 64).all()  # met at once
    strict = tornado(hsbc, outputs=outs, paths=64, target_mcse=1e-6, max_paths=128)
    assert (strict["paths"] == 128).all()  # doubled, then stopped at the cap
    plain = tornado(hsbc, outputs=outs, paths=128)
    np.testing.assert_array_equal(strict["swing"], plain["swing"])  # the plain run of 128
