"""The numpy reference (benchmarks/reference.py) agrees with the numba kernel bit for bit.

Recipe: inputs from ``configs/hsbc_2025_11.toml`` (and a variant with every monthly shock
switched on and drawn parameters); per-path parameters from the kernel's own
``draw_path_params`` (Philox key 42, paths 0..n-1); shocks ``default_rng(7).standard_normal``
of shape (n_months, n_paths, N_EPS). The kernel's ``step`` runs path by path, the reference
on all paths at once; every monthly line must be equal (``np.array_equal``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks import reference as R

import runway
from runway import kernel as K
from runway.config import config_from_dict
from runway.layout import LINE_NAMES, N_EPS, N_LINES, N_PARAMS, L, P
from runway.model import build_inputs

ROOT = Path(__file__).resolve().parents[1]
N_PATHS = 50


def _base():
    return runway.load_config(ROOT / "configs" / "hsbc_2025_11.toml")


def _variant():
    d = _base().model_dump(mode="python")
    d["shocks"].update(
        users_vol=0.15,
        conversion_vol=0.2,
        enterprise_growth_vol=0.4,
        price_war_per_yr=1.5,
        price_war_cut=0.3,
        sentiment=dict(
            persistence=0.8,
            loading_enterprise=0.5,
            loading_users=0.3,
            loading_price_war=-0.4,
            loading_regime=0.6,
            loading_round=0.7,
        ),
    )
    d["consumer"]["conversion_target"] = {"dist": "pert", "low": 0.05, "mode": 0.10, "high": 0.20}
    d["consumer"]["users_ceiling_bn"] = {"dist": "lognormal", "median": 4.0, "sigma": 0.2}
    d["enterprise"]["share_anchor"] = {"dist": "percentiles", "p10": 0.25, "p50": 0.37, "p90": 0.45}
    d["compute"]["cost_per_gw_bn"] = {"dist": "triangular", "low": 40.0, "mode": 50.0, "high": 65.0}
    d["opex"]["rnd_people_growth_per_yr"] = {"dist": "uniform", "low": 0.2, "high": 0.6}
    d["advertising"]["ad_market_growth_per_yr"] = {"dist": "normal", "mean": 0.08, "sd": 0.02}
    d["compute"]["contracts"][1]["slip_months"] = {"dist": "uniform", "low": 0.0, "high": 18.0}
    d["compute"]["contracts"][1]["share_online"] = {"dist": "uniform", "low": 0.5, "high": 1.0}
    d["financing"]["round_lag_months"] = 0
    d["financing"]["debt_capacity_x_arr"] = 2.0
    d["financing"]["round_size_basis"] = "projected"  # fin: financing
    # fin2: tranches, the projected runway basis, committed money, funded facilities, appetite
    d["financing"].update(
        runway_basis="projected",
        round_first_tranche_share=0.3,
        round_tranche_months=4,
        committed=[
            {"name": "a", "month": "2025-09", "amount_bn": 8.0},
            {"name": "b", "month": "2026-02", "amount_bn": 12.0},
        ],
    )
    d["liquidity"]["funded_undrawn_facilities_bn"] = 6.0
    d["liquidity"]["strategic"].append(  # unconditional money counts as runway before it pays
        {"name": "later", "amount_bn": 10.0, "condition": "none", "start": "2026-03"}
    )
    d["shocks"]["round_persistence"] = 0.8
    return config_from_dict(d, "variant")


def _kernel_params(inp, n):
    """The kernel's own parameter draws for paths 0..n-1 under seed 42."""
    k = K.pack(inp)
    nc = inp.c_value.size
    theta = np.empty((n, N_PARAMS))
    cshare = np.empty((n, nc))
    cslip = np.empty((n, nc))
    key0, key1 = np.uint64(42), np.uint64(0)
    for p in range(n):
        K.draw_path_params(k, key0, key1, p, theta[p], cshare[p], cslip[p])
    return theta, cshare, cslip


def _init(k, theta, cshare, cslip):
    b = K.path_buffers(k)
    K.init_path(k, theta, cshare, cslip, b.pc, b.cpay, b.cgw, b.coff, b.traj, b.st, b.hist, b.sbuf)
    return b


def _kernel_rows(inp, theta, cshare, cslip, eps):
    """The kernel's step, one month per call, on the given shocks (n_months, n_paths, N_EPS)."""
    n = theta.shape[0]
    k = K.pack(inp)
    rows = np.zeros((n, inp.n_months, N_LINES))
    for p in range(n):
        b = _init(k, theta[p], cshare[p], cslip[p])
        eps_p = np.ascontiguousarray(eps[:, p, :].T)  # the kernel's layout: (N_EPS, n_months)
        for m in range(inp.n_months):
            K.step(m, m + 1, k, theta[p], b.pc, b.traj, b.st, b.hist, b.sbuf, eps_p, rows[p])
        K.backfill_history(k, rows[p])
    return rows


@pytest.mark.parametrize("which", ["base", "variant"])
def test_reference_matches_kernel_exactly(which):
    cfg = _base() if which == "base" else _variant()
    inp = build_inputs(cfg, stochastic=True)
    theta, cshare, cslip = _kernel_params(inp, N_PATHS)
    eps = np.random.default_rng(7).standard_normal((inp.n_months, N_PATHS, N_EPS))
    want = _kernel_rows(inp, theta, cshare, cslip, eps)
    got = R.run_paths(inp, theta, cshare, cslip, eps, lib=R.EXACT)
    assert got.shape == want.shape
    for i, name in enumerate(LINE_NAMES):
        assert np.array_equal(got[:, :, i], want[:, :, i]), name
    if which == "variant":
        # the variant exercises the stochastic branches, not just the central path
        assert np.ptp(theta[:, P.CONV_TARGET]) > 0
        assert np.any(want[:, :, L.EQUITY] > 0)
        assert np.ptp(want[:, -1, L.REGIME]) > 0
        assert np.any(want[:, :, L.STRATEGIC] > 0)


def test_whole_path_call_equals_month_by_month():
    """The fast kernel calls step once per path over every month: same lines as month by month."""
    inp = build_inputs(_variant(), stochastic=True)
    theta, cshare, cslip = _kernel_params(inp, 5)
    eps = np.random.default_rng(3).standard_normal((inp.n_months, 5, N_EPS))
    by_month = _kernel_rows(inp, theta, cshare, cslip, eps)
    k = K.pack(inp)
    for p in range(5):
        b = _init(k, theta[p], cshare[p], cslip[p])
        rows = np.zeros((inp.n_months, N_LINES))
        eps_p = np.ascontiguousarray(eps[:, p].T)
        K.step(0, inp.n_months, k, theta[p], b.pc, b.traj, b.st, b.hist, b.sbuf, eps_p, rows)
        K.backfill_history(k, rows)
        assert np.array_equal(rows, by_month[p])


def test_norm_ppf_inverts_the_normal_cdf():
    """The kernel's inverse normal CDF (price-war thresholds) agrees with scipy to ~1e-15."""
    import scipy.special

    p = np.concatenate([np.geomspace(1e-300, 0.5, 400), 1.0 - np.geomspace(1e-16, 0.5, 400)])
    got = np.array([K.norm_ppf(x) for x in p])
    want = scipy.special.ndtri(p)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert K.norm_ppf(0.0) == -np.inf and K.norm_ppf(1.0) == np.inf


def test_central_params_match_kernel():
    inp = build_inputs(_variant(), stochastic=False)
    theta, cshare, cslip = _kernel_params(inp, 1)
    t2, s2, l2 = R.central_params(inp, 3)
    assert np.array_equal(t2, np.repeat(theta, 3, axis=0))
    assert np.array_equal(s2, np.repeat(cshare, 3, axis=0))
    assert np.array_equal(l2, np.repeat(cslip, 3, axis=0))


def test_fast_math_agrees_to_rounding():
    """numpy's own exp/log (FAST) differ from libm by ulps only: lines agree to ~1e-12."""
    inp = build_inputs(_variant(), stochastic=True)
    theta, cshare, cslip = _kernel_params(inp, 8)
    eps = np.random.default_rng(7).standard_normal((inp.n_months, 8, N_EPS))
    exact = R.run_paths(inp, theta, cshare, cslip, eps, lib=R.EXACT)
    fast = R.run_paths(inp, theta, cshare, cslip, eps, lib=R.FAST)
    rev = L.REVENUE
    np.testing.assert_allclose(fast[:, :, rev], exact[:, :, rev], rtol=1e-9)


def test_every_parameter_reaches_both_implementations():
    """Path ``i`` moves parameter ``i`` alone (1% up, or +0.001 where it is 0; the price-war
    rate x3, since a threshold moves a line only when a month's shock crosses it): every move
    changes the kernel's lines, and the reference still equals the kernel bit for bit.

    A parameter added to the layout (``runway.layout.PARAMS``) and used by a kernel block but
    not by the reference fails here, whatever its value in the shipped configs.
    """
    inp = build_inputs(_variant(), stochastic=True)
    theta0, cshare0, cslip0 = _kernel_params(inp, 1)
    theta = np.repeat(theta0, N_PARAMS + 1, axis=0)  # the last path moves nothing
    cshare = np.repeat(cshare0, N_PARAMS + 1, axis=0)
    cslip = np.repeat(cslip0, N_PARAMS + 1, axis=0)
    for i in range(N_PARAMS):
        x = theta[i, i]
        theta[i, i] = (3.0 if i == P.PW_RATE else 1.01) * x if x != 0.0 else 0.001
    eps = np.repeat(np.random.default_rng(11).standard_normal((inp.n_months, 1, N_EPS)),
                    N_PARAMS + 1, axis=1)  # fmt: skip
    want = _kernel_rows(inp, theta, cshare, cslip, eps)
    got = R.run_paths(inp, theta, cshare, cslip, eps, lib=R.EXACT)
    for j, name in enumerate(LINE_NAMES):
        assert np.array_equal(got[:, :, j], want[:, :, j]), name
    dead = [P(i).name for i in range(N_PARAMS) if np.array_equal(want[i], want[-1])]
    assert dead == [], f"parameters that move no line: {dead}"
