"""Accounting identities in every month, and a tiny path computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

import runway
from runway.config import config_from_dict

TOL = 1e-9


def check_identities(monthly, cash_start: int):
    for _, m in monthly.groupby("path"):
        opi = m.revenue - m.cost_of_sales - m.rnd - m.sga - m.revenue_share
        assert np.allclose(m.operating_income, opi, rtol=0, atol=TOL)
        assert np.allclose(m.revenue, m.consumer + m.enterprise + m.advertising, rtol=0, atol=TOL)
        assert np.allclose(
            m.fcf, m.operating_income + m.stock_pay + m.working_capital, rtol=0, atol=TOL
        )
        dcash = np.diff(m.cash.to_numpy())
        assert np.allclose(dcash, (m.fcf + m.financing).to_numpy()[1:], rtol=0, atol=TOL)
        assert np.allclose(m.cumulative_fcf, np.cumsum(m.fcf), rtol=0, atol=TOL)
        fin = (
            m.net_interest
            + m.equity_raised
            + m.debt_raised
            + m.ipo_raised
            + m.strategic_raised
            + m.facility_drawn
            + m.bridge_raised
            + m.equity_committed
        )
        assert np.allclose(m.financing, fin, rtol=0, atol=TOL)
        gap = m.funding_gap.to_numpy()
        assert np.all(np.diff(gap) >= -TOL) and np.all(gap >= 0)


def test_identities_deterministic(hsbc_det):
    check_identities(hsbc_det.monthly, hsbc_det.raw.inputs.cash_start)


def test_identities_stochastic(hsbc_cfg):
    res = runway.simulate(hsbc_cfg, paths=300, seed=11)
    check_identities(res.monthly, res.raw.inputs.cash_start)


TINY = {
    "scenario": {"name": "tiny"},
    "calendar": {"start": "2030-01", "end": "2030-12"},
    "consumer": {
        "users_anchor_bn": 1.0,
        "users_anchor_month": "2030-01",
        "users_ceiling_bn": 2.0,
        "users_growth_per_yr": 0.0,
        "conversion_start": 0.5,
        "conversion_start_month": "2030-01",
        "conversion_target": 0.5,
        "conversion_target_month": "2030-12",
        "price_usd_month": 2.0,
    },
    "enterprise": {
        "market_anchor_bn": 12.0,
        "anchor_year": 2030,
        "market_growth_per_yr": 0.0,
        "market_growth_anchor_per_yr": 0.0,
        "market_growth_after_per_yr": 0.0,
        "share_start": 0.5,
        "share_anchor": 0.5,
    },
    "advertising": {
        "ad_market_bn": 100.0,
        "ad_market_growth_per_yr": 0.0,
        "llm_share_start_month": "2030-01",
        "llm_share_target": 0.0,
        "llm_share_target_month": "2030-12",
        "openai_share_start": 0.5,
        "openai_share_target": 0.5,
    },
    "revenue_share": {"rate_start": 0.25, "rate_end": 0.25, "end_month": "2030-12"},
    "compute": {
        "cost_per_gw_bn": 50.0,
        "cost_per_gw_reference_bn": 50.0,
        "inference_share": 0.5,
        "vendor_financed_share": 0.0,
        "payment_lag_months": 0,
        "contracts": [
            {
                "name": "one",
                "counterparty": "Cloud",
                "value_bn": 12.0,
                "gw": 1.0,
                "start": "2030-03",
                "end": "2030-06",
                "profile": "flat",
                "share_online": 1.0,
                "slip_months": 0,
            }
        ],
        "renegotiation": {"enabled": False},
    },
    "opex": {
        "rnd_people_bn": 0.0,
        "rnd_people_growth_per_yr": 0.0,
        "sga_fixed_bn": 6.0,
        "sga_fixed_growth_per_yr": 0.0,
        "sga_pct_revenue": 0.0,
        "other_cogs_pct_revenue": 0.0,
        "stock_pay_share_start": 0.0,
        "stock_pay_share_end": 0.0,
        "stock_pay_share_end_month": "2030-12",
    },
    "liquidity": {"cash_bn": 1.0, "cash_as_of": "2029-12"},
    "financing": {
        "enabled": False,
        "regime": {
            "transition": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            "close_probability": [0, 0, 0],
            "size_multiplier": [1, 1, 1],
            "valuation_multiple": [1, 1, 1],
            "ipo_probability_month": [0, 0, 0],
        },
    },
}


def test_tiny_path_by_hand():
    """One flat contract ($12bn over Mar-Jun 2030 = $3bn a month), flat revenue, no financing.

    Revenue = 1bn users x 50% x $2 + $12bn/12 x 50% = $1.5bn a month; Microsoft 25% = 0.375.
    Without compute: operating income = 1.5 - 0.5 (SG&A) - 0.375 = 0.625.
    With compute: cost of sales = R&D = 1.5, so 1.5 - 1.5 - 1.5 - 0.5 - 0.375 = -2.375.
    Cash from $1bn: 1.625, 2.25, -0.125 (insolvent in March), -2.5, -4.875, -7.25,
    then +0.625 a month.
    """
    res = runway.simulate(config_from_dict(TINY), deterministic=True)
    m = res.monthly
    compute = np.array([0, 0, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0], dtype=float)
    op = np.where(compute > 0, -2.375, 0.625)
    cash = 1.0 + np.cumsum(op)
    assert np.array_equal(m.revenue.to_numpy(), np.full(12, 1.5))
    assert np.array_equal(m.revenue_share.to_numpy(), np.full(12, 0.375))
    assert np.array_equal(m.compute_rent.to_numpy(), compute)
    assert np.array_equal(m.cost_of_sales.to_numpy(), compute / 2)
    assert np.array_equal(m.operating_income.to_numpy(), op)
    assert np.array_equal(m.fcf.to_numpy(), op)
    assert np.array_equal(m.cash.to_numpy(), cash)
    assert np.array_equal(m.gw_online.to_numpy(), (compute > 0).astype(float))
    s = res.summary()
    assert res.paths.insolvent_month[0] == "2030-03"
    assert s["time_to_insolvency_months"]["p50"] == 3.0
    assert s["p_insolvent_by"]["2030"] == 1.0
    assert s["funding_gap"]["2030"]["p50"] == 7.25
    assert res.paths["owed_Cloud"][0] == pytest.approx(9.0)  # Apr-Jun still owed at insolvency
