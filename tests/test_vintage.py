"""A dated vintage (issue 12, helper cal2): history, contract pricing, horizon, revenue vs compute.

- History: every month up to the vintage's as-of month is the same on every path, and the
  reported actuals hold there (H1-2025 revenue $4.3bn, openai-revenue-h1-2025).
- Contract pricing: only contracts priced per GW follow the drawn cost per GW.
- Horizon: a year's per-path numbers do not depend on ``calendar.end`` (same seed).
- Revenue vs compute: cutting one contract's share online lowers both its cost and revenue.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_config

import runway
from runway.calendar import parse_month
from runway.errors import ConfigError

N = 400
SEED = 123


def _run(mutate=None, n=N):
    cfg = make_config(mutate)
    return runway.simulate(cfg, paths=n, seed=SEED)


# --- horizon ----------------------------------------------------------------------------------
def test_calendar_end_does_not_change_earlier_years():
    """2030-12 -> 2035-12: every 2025-2030 per-path number is identical (same seed)."""

    def longer(d):
        d["calendar"]["end"] = "2035-12"

    short, long_ = _run(), _run(longer)
    years = list(short.calendar.years)
    assert years == list(range(2025, 2031))
    k = len(years)
    for line in short.raw.annual_keep:
        a = short.raw.annual_path(line)
        b = long_.raw.annual_path(line)[:, :k]
        assert np.array_equal(a, b), line
    # every line's annual quantiles over the common years, too
    common = short.annual.index.get_level_values("year").isin(years)
    sa = short.annual[common]
    la = long_.annual.loc[sa.index]
    assert np.array_equal(sa.to_numpy(), la.to_numpy())
    # insolvency by end-2030 and the month it happens
    last = parse_month("2030-12") - parse_month("2025-01")
    ia = short.raw.outcomes["insolvent_month"]
    ib = long_.raw.outcomes["insolvent_month"]
    by_a = (ia >= 0) & (ia <= last)
    by_b = (ib >= 0) & (ib <= last)
    assert np.array_equal(by_a, by_b)
    assert np.array_equal(ia[by_a], ib[by_b])
    assert by_a.any()  # the comparison covers insolvent paths, not only survivors


def test_stock_pay_end_month_is_required_and_dated():
    def drop(d):
        del d["opex"]["stock_pay_share_end_month"]

    with pytest.raises(ConfigError, match="stock_pay_share_end_month"):
        make_config(drop)


# --- contract pricing -------------------------------------------------------------------------
def test_only_per_gw_contracts_follow_the_cost_per_gw():
    """Doubling the cost per GW doubles per-GW contracts' bills and leaves fixed ones alone."""

    def one_contract(pricing, cpgw):
        def f(d):
            c = dict(d["compute"]["contracts"][0])  # azure: starts 2025-01, share and slip fixed
            c["pricing"] = pricing
            d["compute"]["contracts"] = [c]
            d["compute"]["cost_per_gw_bn"] = cpgw
            d["liquidity"]["strategic"] = []

        return f

    def rent(pricing, cpgw):
        r = runway.simulate(make_config(one_contract(pricing, cpgw)), deterministic=True)
        return r.monthly["compute_rent"].to_numpy()

    fixed50, fixed100 = rent("fixed", 50.0), rent("fixed", 100.0)
    per50, per100 = rent("per_gw", 50.0), rent("per_gw", 100.0)
    assert fixed50.sum() > 0
    assert np.array_equal(fixed50, fixed100)
    np.testing.assert_allclose(per100, 2.0 * per50, rtol=1e-12)


def test_hsbc_pricing_says_which_is_which():
    cfg = make_config()
    pricing = {c.name: c.pricing for c in cfg.compute.contracts}
    assert {n for n, p in pricing.items() if p == "fixed"} == {
        "azure",
        "stargate_oracle",
        "aws",
        "coreweave",
        "google",
    }


def test_pricing_is_validated():
    def bad(d):
        d["compute"]["contracts"][0]["pricing"] = "indexed"

    with pytest.raises(ConfigError, match=r"compute\.contracts\.0\.pricing"):
        make_config(bad)


# --- history ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stoch():
    cfg = make_config()
    return runway.simulate(cfg, paths=200, seed=SEED)


def test_history_months_identical_on_every_path(stoch):
    mon = stoch.raw.monthly  # (n, n_months, N_LINES)
    h = parse_month("2025-06") - parse_month("2025-01")
    assert mon.shape[0] == 200
    assert np.array_equal(mon[:, : h + 1], np.broadcast_to(mon[:1, : h + 1], mon[:, : h + 1].shape))
    # and the paths do differ after the as-of month (the test is not vacuous)
    assert np.ptp(mon[:, h + 6, stoch.raw.line_names.index("revenue")]) > 0


def test_history_holds_the_reported_actuals(hsbc_det, stoch):
    for res in (hsbc_det, stoch):
        mon = res.raw.monthly
        rev = mon[:, :6, res.raw.line_names.index("revenue")].sum(axis=1)
        fcf = mon[:, :6, res.raw.line_names.index("fcf")].sum(axis=1)
        np.testing.assert_allclose(rev, 4.3, rtol=1e-12)  # openai-revenue-h1-2025
        np.testing.assert_allclose(fcf, -2.5, rtol=1e-12)  # openai-burn-h1-2025


def test_history_joins_the_model_and_no_draw_rescales_it(hsbc_det):
    """The central path is continuous at the seam; a market draw acts forward from the as-of."""
    rev = hsbc_det.monthly["revenue"].to_numpy()
    growth = rev[1:13] / rev[:12]
    # H1 2025 is the reported $4.3bn spread geometrically at one growth factor g, ending where
    # it joins the model's July: no jump at June -> July, whose growth is g too (section 2.1)
    g = growth[0]
    np.testing.assert_allclose(growth[:6], g, rtol=1e-9)
    assert rev[:6].sum() == pytest.approx(4.3, rel=1e-9)
    # January 2025 sits near the reported ARR at the end of 2024 ($6bn, openai-arr-compute)
    assert 12 * rev[0] == pytest.approx(6.0, rel=0.10)
    assert np.all(growth > 1.0)  # and revenue grows every month of 2025 after it

    def only_market_drawn(d):
        for table in d.values():
            if not isinstance(table, dict):
                continue
            for key, v in list(table.items()):
                if isinstance(v, dict) and "dist" in v and key != "market_anchor_bn":
                    table[key] = central_of(v)
        for c in d["compute"]["contracts"]:
            for key in ("share_online", "slip_months"):
                if isinstance(c[key], dict):
                    c[key] = central_of(c[key])
        sh = d["shocks"]
        sh.update(users_vol=0.0, conversion_vol=0.0, enterprise_growth_vol=0.0)
        sh["price_war_per_yr"] = 0.0
        d["compute"]["renegotiation"]["enabled"] = False  # it gives up capacity, and revenue

    res = runway.simulate(make_config(only_market_drawn), paths=50, seed=SEED)
    names = res.raw.line_names
    ent = res.raw.monthly[:, :, names.index("enterprise")]
    drawn = res.raw.drawn[:, res.raw.drawn_names.index("enterprise.market_anchor_bn")]
    assert res.raw.drawn_names == ("enterprise.market_anchor_bn",)
    central_ent = hsbc_det.monthly["enterprise"].to_numpy()
    h = parse_month("2025-06") - parse_month("2025-01")
    assert np.array_equal(ent[:, : h + 1], np.broadcast_to(central_ent[: h + 1], (50, h + 1)))
    w = runway.model.build_inputs(make_config(), stochastic=False).w_ent_pin
    m = np.arange(h + 1, central_ent.size)
    # after it the draw's log ratio enters with the pin's weight, in full from the anchor (2030)
    want = central_ent[m] * (drawn[:, None] / 386.0) ** w[m]
    np.testing.assert_allclose(ent[:, m], want, rtol=1e-9)
    assert np.ptp(drawn) > 100.0
    assert w[h + 1] < 0.02 and w[parse_month("2030-07") - parse_month("2025-01")] == 1.0


def central_of(v: dict) -> float:
    kind = v["dist"]
    if kind in ("pert", "triangular"):
        return v["mode"]
    if kind == "percentiles":
        return v["p50"]
    if kind == "normal":
        return v["mean"]
    if kind == "lognormal":
        return v["median"]
    return 0.5 * (v["low"] + v["high"])


def test_history_validation():
    def drawn_started(d):
        d["compute"]["contracts"][0]["share_online"] = {"dist": "uniform", "low": 0.5, "high": 1}

    with pytest.raises(ConfigError, match=r"compute\.contracts\.0\.share_online.*history"):
        make_config(drawn_started)

    def late(d):
        d["history"]["actuals"][0]["to_month"] = "2025-09"

    with pytest.raises(ConfigError, match="history.actuals.0.from_month"):
        make_config(late)

    def after_cash(d):
        d["calendar"]["as_of"] = "2025-09"

    with pytest.raises(ConfigError, match="calendar.as_of"):
        make_config(after_cash)

    def no_as_of(d):
        del d["calendar"]["as_of"]

    with pytest.raises(ConfigError, match="history.actuals"):
        make_config(no_as_of)


# --- revenue depends on compute online --------------------------------------------------------
def test_cutting_share_online_lowers_cost_and_revenue():
    """Paired (same seed): one contract's share online cut to 0.5 lowers its rent and revenue."""

    def cut(d):
        c = d["compute"]["contracts"][5]  # nvidia_10gw, drawn share online
        assert c["name"] == "nvidia_10gw"
        c["share_online"] = 0.5
        d["compute"]["renegotiation"]["enabled"] = False  # distress feedback would confound

    def full(d):
        d["compute"]["contracts"][5]["share_online"] = 1.0
        d["compute"]["renegotiation"]["enabled"] = False

    a = runway.simulate(make_config(full), paths=100, seed=SEED)
    b = runway.simulate(make_config(cut), paths=100, seed=SEED)
    names = a.raw.line_names
    m30 = slice(parse_month("2030-01") - parse_month("2025-01"), None)
    for line in ("compute_rent", "revenue"):
        i = names.index(line)
        ya = a.raw.monthly[:, m30, i].sum(axis=1)
        yb = b.raw.monthly[:, m30, i].sum(axis=1)
        assert np.all(yb < ya), line
    # history is untouched by the cut
    h = parse_month("2025-06") - parse_month("2025-01")
    assert np.array_equal(a.raw.monthly[:, : h + 1], b.raw.monthly[:, : h + 1])


def test_no_link_without_elasticity():
    def off(d):
        d["compute"]["revenue_compute_elasticity"] = 0.0
        d["compute"]["contracts"][5]["share_online"] = 0.5

    def off_full(d):
        d["compute"]["revenue_compute_elasticity"] = 0.0
        d["compute"]["contracts"][5]["share_online"] = 1.0

    a = runway.simulate(make_config(off_full), deterministic=True)
    b = runway.simulate(make_config(off), deterministic=True)
    assert np.array_equal(a.monthly["revenue"].to_numpy(), b.monthly["revenue"].to_numpy())
