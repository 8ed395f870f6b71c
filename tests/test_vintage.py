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


def _run(mutate=None, n=N, keep_monthly=False):
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
