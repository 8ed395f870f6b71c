"""Numerical edge cases: corners of the valid config space give finite, sensible outputs.

Each case runs the HSBC config with a few values pushed to a corner, checks everything
``tests/test_properties.py::check_result`` checks (finite tables, strict-JSON summary,
accounting identities, probabilities in [0, 1], ordered quantiles), with every warning an
error (numpy's overflow/invalid RuntimeWarnings included; numba's ``error_model="numpy"``
warns about nothing, hence the explicit finiteness checks), and then what the corner
implies (no revenue: nobody invests; no costs: never insolvent; ...).

Two problems these cases found (NaN users from an inf * 0 in the S-curve; streamed quantiles
out of order beyond the histogram's range) are fixed; their tests stay at the end as regressions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.conftest import hsbc_dict
from tests.test_properties import check_result

import runway
from runway.config import MAX_BN, config_from_dict

HORIZON_END = "2074-12"  # 2025-01 .. 2074-12: the longest horizon the model supports (600 months)


def run(
    mutate, *, paths: int = 64, seed: int = 7, chunk_size: int = 16, deterministic: bool = False
):
    d = hsbc_dict()
    mutate(d)
    cfg = config_from_dict(d, "edge")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if deterministic:
            res = runway.simulate(cfg, deterministic=True)
        else:
            res = runway.simulate(cfg, paths=paths, seed=seed, chunk_size=chunk_size)
        check_result(res)
    return res


def lines(res, name: str) -> np.ndarray:
    """ndarray of shape (n_paths, n_months): one monthly line of every path."""
    return res.monthly[name].to_numpy().reshape(res.raw.n_paths, -1)


def _drop_actuals(d: dict, line: str) -> None:
    """A corner without this line has no reported history of it either (section 2.1)."""
    acts = d.get("history", {}).get("actuals", [])
    d.setdefault("history", {})["actuals"] = [a for a in acts if a["line"] != line]


def no_revenue(d: dict) -> None:
    _drop_actuals(d, "revenue")
    d["consumer"]["price_usd_month"] = 0.0
    d["enterprise"]["market_anchor_bn"] = 0.0
    d["advertising"]["llm_share_target"] = 0.0


def no_users(d: dict) -> None:
    d["consumer"]["users_anchor_bn"] = 0.0


def no_costs(d: dict) -> None:
    _drop_actuals(d, "fcf")  # the reported burn is costs
    d["compute"]["contracts"] = []
    for s in d["liquidity"]["strategic"]:  # no contracts left to name
        s["counterparties"] = []
    for k in ("rnd_people_bn", "sga_fixed_bn", "sga_pct_revenue", "other_cogs_pct_revenue"):
        d["opex"][k] = 0.0
    d["revenue_share"]["rate_start"] = 0.0
    d["revenue_share"]["rate_end"] = 0.0


def no_new_money(d: dict) -> None:
    d["financing"]["enabled"] = False
    d["liquidity"]["undrawn_facilities_bn"] = 0.0
    d["liquidity"]["funded_undrawn_facilities_bn"] = 0.0
    d["liquidity"]["strategic"] = []
    d["financing"]["committed"] = []  # fin2: equity signed before the vintage is new money too


RAISED = ("raised_equity", "raised_debt", "raised_ipo", "raised_bridge")


@pytest.mark.parametrize(
    "variant", [no_revenue, no_users], ids=["no_revenue", "no_users_no_enterprise_no_ads"]
)
def test_zero_revenue(variant) -> None:
    def mutate(d):
        no_revenue(d)
        variant(d)

    res = run(mutate)
    for name in ("revenue", "consumer", "enterprise", "advertising", "revenue_share"):
        assert np.all(lines(res, name) == 0.0), name
    # rounds and bridges are capped at max_dilution x (ARR x multiple) = 0, debt at a multiple
    # of ARR = 0, and no IPO below ipo_min_arr_bn: only committed money arrives
    p = res.paths
    assert np.all(p[list(RAISED)].to_numpy() == 0.0)
    assert np.all(p.round_attempts > 0)  # the trigger still fires
    # with HSBC's $1.8tn of compute and no revenue, every path runs out of cash
    assert res.summary()["p_insolvent_by"]["2030"] == 1.0


def test_zero_costs() -> None:
    res = run(no_costs)
    for name in ("cost_of_sales", "rnd", "sga", "revenue_share", "compute_rent", "stock_pay"):
        assert np.all(lines(res, name) == 0.0), name
    assert np.all(lines(res, "fcf") == lines(res, "revenue"))
    cash = lines(res, "cash")
    assert np.all(np.diff(cash, axis=1) >= 0)  # no outflow at all
    s = res.summary()
    assert all(p == 0.0 for p in s["p_insolvent_by"].values())
    assert all(g["p95"] == 0.0 for g in s["funding_gap"].values())
    assert np.all(res.paths.round_attempts == 0)  # never any burn, so never a round


def test_zero_revenue_and_zero_costs_keep_cash_constant() -> None:
    def mutate(d):
        no_revenue(d)
        no_costs(d)
        no_new_money(d)
        d["liquidity"]["cash_bn"] = 0.0  # exactly at the (zero) buffer: not below it

    res = run(mutate)
    assert np.all(lines(res, "cash") == 0.0)
    assert np.all(lines(res, "fcf") == 0.0)
    assert all(p == 0.0 for p in res.summary()["p_insolvent_by"].values())


def test_no_new_money_cash_is_the_funding_gap_path() -> None:
    """Without financing, facilities or strategic money, cash is the no-new-money balance and
    the funding gap is the deepest shortfall below the buffer so far. The no-new-money
    account pays compute at full contract terms, so renegotiation (a management reaction of
    the funded path) is switched off too (docs/model.md §6)."""

    def mutate(d):
        no_new_money(d)
        d["compute"]["renegotiation"]["enabled"] = False

    res = run(mutate)
    p = res.paths
    assert np.all(p[[*RAISED, "raised_strategic", "drawn_facilities"]].to_numpy() == 0.0)
    assert np.all(p.round_attempts == 0)
    cash = lines(res, "cash")
    assert np.array_equal(cash, lines(res, "cash_no_new_money"))
    start = res.raw.inputs.cash_start
    shortfall = np.maximum.accumulate(np.maximum(-cash[:, start:], 0.0), axis=1)
    assert np.array_equal(lines(res, "funding_gap")[:, start:], shortfall)


def test_huge_cash_over_the_longest_horizon() -> None:
    def mutate(d):
        d["calendar"]["end"] = HORIZON_END
        d["liquidity"]["cash_bn"] = MAX_BN
        d["liquidity"]["cash_yield"] = 1.0  # 100%/yr for 50 years: e^48 growth, still finite

    res = run(mutate)
    s = res.summary()
    assert all(p == 0.0 for p in s["p_insolvent_by"].values())
    # the gap counts no interest (HSBC's definition): $1,000tn covers HSBC's years, not 50 years
    # of 40%/yr growth in R&D staff
    assert all(s["funding_gap"][str(y)]["p95"] == 0.0 for y in range(2025, 2031))
    assert s["time_to_insolvency_months"]["p05"] is None  # beyond the horizon
    cash = lines(res, "cash")
    assert np.all(cash > 0.9 * MAX_BN) and np.all(cash[:, -1] > 1e20)  # compounding dominates


def test_extreme_growth_at_the_top_of_the_allowed_ranges() -> None:
    def mutate(d):
        d["calendar"]["end"] = HORIZON_END
        e = d["enterprise"]
        e.update(
            market_anchor_bn=MAX_BN,
            anchor_year=2015,
            market_growth_per_yr=20.0,
            market_growth_anchor_per_yr=20.0,
            market_growth_after_per_yr=20.0,
        )
        d["advertising"].update(
            ad_market_bn=MAX_BN, ad_market_growth_per_yr=5.0, llm_share_target=1.0
        )
        d["consumer"].update(users_growth_per_yr=10.0, users_ceiling_bn=10.0, price_usd_month=1e4)
        d["opex"].update(
            rnd_people_bn=MAX_BN,
            rnd_people_growth_per_yr=10.0,
            sga_fixed_bn=MAX_BN,
            sga_fixed_growth_per_yr=10.0,
            sga_pct_revenue=5.0,
            other_cogs_pct_revenue=5.0,
        )
        d["liquidity"].update(cash_bn=MAX_BN, cash_yield=1.0, debt_rate=1.0)
        d["financing"].update(debt_capacity_x_arr=10.0, round_max_bn=MAX_BN)

    res = run(mutate)
    rev = lines(res, "revenue")
    assert np.all(np.isfinite(rev)) and rev.max() > 1e60  # astronomically large, yet finite


def test_extreme_decline_with_the_anchor_a_decade_after_the_horizon() -> None:
    """Growth of -90%/yr up to an anchor ten years after the horizon: the early market is the
    anchor extrapolated back 60 years (x 10^60), finite."""

    def mutate(d):
        d["calendar"]["end"] = HORIZON_END
        d["enterprise"].update(
            market_anchor_bn=MAX_BN,
            anchor_year=2084,
            market_growth_per_yr=-0.9,
            market_growth_anchor_per_yr=-0.9,
            market_growth_after_per_yr=-0.9,
        )
        d["opex"].update(rnd_people_growth_per_yr=-0.9, sga_fixed_growth_per_yr=-0.9)
        d["advertising"]["ad_market_growth_per_yr"] = -0.9
        # the model's own early market, not the reported H1-2025 revenue (section 2.1)
        del d["calendar"]["as_of"]
        d.pop("history")

    run(mutate)
    det = run(mutate, deterministic=True)
    ent = lines(det, "enterprise")[0]
    assert ent[0] > 1e60 and np.all(np.diff(ent) <= 0)  # a constant share of a shrinking market


def test_price_wars_every_month_drive_the_price_to_zero() -> None:
    def mutate(d):
        d["calendar"]["end"] = HORIZON_END
        d["shocks"]["price_war_per_yr"] = 12.0
        d["shocks"]["price_war_cut"] = 0.95

    res = run(mutate)
    price = lines(res, "price_usd_month")
    # a jump a month with probability 1 - e^-1: ~380 cuts of 95% in 600 months, far below 1e-300
    assert np.all(res.paths.price_wars > 200)
    assert np.all(price >= 0) and np.all(price[:, -1] < 1e-100)


def test_one_month_horizon() -> None:
    def mutate(d):
        d["calendar"] = {"start": "2025-07", "end": "2025-07"}  # no history: it starts after
        d["liquidity"]["cash_as_of"] = "2025-06"
        d.pop("history")

    res = run(mutate, paths=20)
    assert res.monthly.shape[0] == 20
    assert list(res.summary()["p_insolvent_by"]) == ["2025"]


def test_conversion_and_correlations_at_their_bounds() -> None:
    def mutate(d):
        d["consumer"].update(conversion_start=1e-6, conversion_target=1 - 1e-6)
        s = d["shocks"]
        s.update(
            users_persistence=0.999999,
            conversion_persistence=0.999999,
            conversion_vol=5.0,
            users_vol=5.0,
            enterprise_growth_vol=5.0,
            enterprise_growth_reversion_per_yr=0.0,
        )
        s["sentiment"] = {
            "persistence": 0.999999,
            "loading_enterprise": 1.0,
            "loading_users": -1.0,
            "loading_price_war": 1.0,
            "loading_regime": -1.0,
            "loading_round": 1.0,
        }

    res = run(mutate)
    conv = lines(res, "conversion")
    assert np.all((conv >= 0) & (conv <= 1))


def test_absorbing_winter_with_nothing_closing() -> None:
    def mutate(d):
        reg = d["financing"]["regime"]
        reg.update(
            initial="winter",
            transition=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            close_probability=[0.0, 0.0, 0.0],
            ipo_probability_month=[0.0, 0.0, 0.0],
        )

    res = run(mutate)
    assert np.all(lines(res, "regime") == 2.0)
    p = res.paths
    assert np.all(p.raised_equity == 0) and np.all(p.raised_ipo == 0) and np.all(p.raised_debt == 0)


@pytest.mark.parametrize("paths", [1, 2])
def test_tiny_runs(paths: int) -> None:
    res = run(lambda d: None, paths=paths)
    s = res.summary()
    assert s["diagnostics"]["rhat"] is None


def test_more_seed_streams_than_paths_per_stream() -> None:
    """Six chunks of one path: more chains than draws, too short for ESS and R-hat."""
    res = run(lambda d: None, paths=6, chunk_size=1)
    d = res.summary()["diagnostics"]
    assert all(v is None for v in (*d["ess"].values(), *d["rhat"].values()))


def test_deterministic_run_has_no_mcse_noise() -> None:
    res = run(lambda d: None, deterministic=True)
    s = res.summary()
    assert s["paths"] == 1 and s["mcse"]["funding_gap_2030_mean"] == 0.0


# --- regressions: both were strict xfails until the kernel and quantiles fixed them ----------
def test_kernel_users_s_curve_from_zero_users_far_from_the_anchor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """users_anchor_bn = 0 far from the anchor once gave inf * 0 = NaN users (counted solvent)."""
    from runway import engine

    build = engine.build_inputs

    def far_anchor(cfg, *, stochastic=True):
        return build(cfg, stochastic=stochastic)._replace(users_anchor_t=-80.0)

    monkeypatch.setattr(engine, "build_inputs", far_anchor)

    def mutate(d):
        d["consumer"].update(users_anchor_bn=0.0, users_growth_per_yr=10.0)

    res = run(mutate, paths=8)
    assert np.all(lines(res, "users_bn") == 0.0)


def test_streamed_quantiles_stay_ordered_beyond_the_histogram_range() -> None:
    """Beyond the histogram's range lo + (hi - lo) f once cancelled to a value outside the bin."""
    from runway.quantiles import StreamingQuantiles

    # one month of cash ($bn) of 9 paths of a config test_properties drew (decades of cost growth)
    x = np.array(
        [
            -5.012637308224119e19,
            687232.0,
            687193.1161499023,
            -5.53233579800583e17,
            -269787001426811.38,
            -5078117083.811843,
            -287340277631670.75,
            -4.815765389449683e27,
            -7.22852480949999e17,
        ]
    )
    sq = StreamingQuantiles(np.array([1e-2]))
    sq.update(x[:, None])
    q = np.array([sq.quantile(v)[0] for v in (0.05, 0.25, 0.5, 0.75, 0.95)])
    assert np.all(np.diff(q) >= 0), q
    assert np.all((q >= x.min()) & (q <= x.max())), q
