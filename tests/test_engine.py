"""The stochastic engine: reproducibility, collapse to the deterministic path, statistics.

Statistical tolerances are multiples of the Monte Carlo standard error of the quantity tested.
"""

from __future__ import annotations

import copy

import numpy as np
from tests.conftest import hsbc_dict, make_config
from tests.test_accounting import TINY

import runway
from runway.config import config_from_dict
from runway.dists import central
from runway.model.params import PARAMS, get_path


def test_same_seed_identical_on_1_and_2_threads(hsbc_cfg):
    a = runway.simulate(hsbc_cfg, paths=5000, seed=3, threads=1, chunk_size=512)
    b = runway.simulate(hsbc_cfg, paths=5000, seed=3, threads=2, chunk_size=512)
    assert a.paths.equals(b.paths)
    assert a.summary()["annual"] == b.summary()["annual"]
    assert a.fan.equals(b.fan)


def test_other_seed_differs(hsbc_cfg):
    a = runway.simulate(hsbc_cfg, paths=2000, seed=3)
    b = runway.simulate(hsbc_cfg, paths=2000, seed=4)
    assert not np.array_equal(a.paths["funding_gap_2030"], b.paths["funding_gap_2030"])


def _collapse(d):
    """Every distribution at its central value; every shock and discrete event switched off."""
    cfg = make_config()
    for _, dotted in PARAMS:
        section, name = dotted.rsplit(".", 1)
        node = d
        for part in section.split("."):  # a section the config leaves out takes its defaults
            node = node.setdefault(part, {})
        node[name] = central(get_path(cfg, dotted))
    for c, cc in zip(d["compute"]["contracts"], cfg.compute.contracts, strict=True):
        c["share_online"] = central(cc.share_online)
        c["slip_months"] = central(cc.slip_months)
    sh = d["shocks"]
    sh.update(users_vol=0.0, conversion_vol=0.0, enterprise_growth_vol=0.0, price_war_per_yr=0.0)
    reg = d["financing"]["regime"]
    reg["transition"] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    reg["close_probability"] = [1.0 if p > 0.5 else 0.0 for p in reg["close_probability"]]
    reg["ipo_probability_month"] = [1.0 if p > 0.5 else 0.0 for p in reg["ipo_probability_month"]]
    d["financing"]["round_size_sigma"] = 0.0
    d["financing"]["momentum_elasticity"] = 0.0  # closing probability exactly 0 or 1


def test_collapsed_stochastic_run_is_the_deterministic_path(hsbc_det):
    d = hsbc_dict()
    _collapse(d)
    cfg = config_from_dict(d)
    # The reported sentiment index (cal1: shocks) filters the common innovation, which no
    # switch turns off; no other line reads it. The round appetite (fin2) filters the round
    # shock, which closing probabilities of exactly 0 or 1 make irrelevant. Both are left out.
    drop = ["path", "month", "sentiment", "round_appetite"]
    det = runway.simulate(cfg, deterministic=True).monthly.drop(columns=drop)
    res = runway.simulate(cfg, paths=40, seed=5)
    for _, m in res.monthly.groupby("path"):
        assert np.array_equal(m.drop(columns=drop).to_numpy(float), det.to_numpy(float))
    # Collapsing changed no operating line of HSBC's deterministic path.
    for line in ("revenue", "compute_rent", "fcf", "cash_no_new_money", "funding_gap"):
        assert np.array_equal(det[line].to_numpy(), hsbc_det.monthly[line].to_numpy())


def test_regime_long_run_shares_match_stationary_distribution():
    """Time shares of boom/normal/winter over a long horizon vs the chain's stationary law."""
    d = copy.deepcopy(TINY)
    d["calendar"] = {"start": "2030-01", "end": "2079-12"}  # 600 months
    P = np.array([[0.9, 0.1, 0.0], [0.05, 0.9, 0.05], [0.0, 0.2, 0.8]])
    d["financing"]["regime"]["transition"] = P.tolist()
    res = runway.simulate(config_from_dict(d), paths=1000, seed=17, chunk_size=100)
    reg = res.monthly.pivot(index="path", columns="month", values="regime").to_numpy()[:, 120:]
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi /= pi.sum()
    for s in range(3):
        per_path = (reg == s).mean(axis=1)  # paths are independent: their means give the MCSE
        se = per_path.std(ddof=1) / np.sqrt(per_path.size)
        assert abs(per_path.mean() - pi[s]) < 4 * se, (s, per_path.mean(), pi[s], se)


def test_zero_volatility_insolvency_month_is_analytic():
    """$1bn cash, $0.9bn a month of burn, no financing: insolvent in month ceil(1/0.9) = 2."""
    d = copy.deepcopy(TINY)
    d["compute"]["contracts"][0].update(start="2030-01", end="2030-12", value_bn=24.0)
    # monthly: revenue 1.5, compute 2 (cos 1, R&D 1), SG&A 0.5, Microsoft 0.375 -> -1.375
    res = runway.simulate(config_from_dict(d), paths=500, seed=1)
    burn = 1.375
    expected = int(np.ceil(1.0 / burn))  # months after the anchor
    assert np.all(res.months_to_insolvency == expected)


def test_conversion_stays_inside_unit_interval():
    def wild(d):
        d["shocks"]["conversion_vol"] = 3.0
        d["consumer"]["conversion_target"] = {"dist": "uniform", "low": 0.001, "high": 0.999}

    res = runway.simulate(make_config(wild), paths=800, seed=2)
    conv = res.monthly.conversion.to_numpy()
    assert np.all(conv > 0.0) and np.all(conv < 1.0)
    assert conv.min() < 0.01 and conv.max() > 0.95  # the test reaches the edges


def test_lower_conversion_target_raises_insolvency_paired():
    """Same seed, conversion target 5% vs 15%: P(insolvent by 2030) rises, paired by path."""

    def target(x):
        def f(d):
            d["consumer"]["conversion_target"] = {
                "dist": "pert",
                "low": x - 0.01,
                "mode": x,
                "high": x + 0.01,
            }

        return f

    lo = runway.simulate(make_config(target(0.05)), paths=20000, seed=9)
    hi = runway.simulate(make_config(target(0.15)), paths=20000, seed=9)
    a = lo.paths["insolvent_month"].notna() & (lo.paths["insolvent_month"] <= "2030-12")
    b = hi.paths["insolvent_month"].notna() & (hi.paths["insolvent_month"] <= "2030-12")
    diff = a.to_numpy(float) - b.to_numpy(float)
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert diff.mean() > 3 * se, (diff.mean(), se)


def test_per_path_outputs_are_compact(hsbc_cfg):
    res = runway.simulate(hsbc_cfg, paths=2000, seed=1)
    assert res.monthly is None or len(res.paths) <= 1000
    assert len(res.paths) == 2000
    p = res.summary()["p_insolvent_by"]
    assert all(0.0 <= v <= 1.0 for v in p.values())
    assert list(p.values()) == sorted(p.values())
