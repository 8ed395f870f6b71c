"""Property-based tests (hypothesis) over the valid config space.

Each example is the shipped HSBC config (``configs/hsbc_2025_11.toml``) as a dict with every
section redrawn by hypothesis inside the bounds the schema documents: each drawable
parameter is a number or a distribution (normal, lognormal, uniform, triangular, PERT,
percentiles) inside its field's ``[lo, hi]``; contract and strategic tables, financing and
regime settings, shocks, and the calendar span (1 to 600 months) vary too. The config is
validated (an example the schema rejects is a bug in the strategy, not skipped) and run
with a handful of paths. Every run must give:

- finite numbers in every output table (``paths``, ``annual``, ``fan``, ``monthly``) and a
  ``summary()`` that serialises as strict JSON (no NaN or inf);
- the accounting identities of ``tests/test_accounting.py`` in every month of every path;
- probabilities in [0, 1] and ordered quantiles; quantiles inside the range of the sample.

Months that the config relates to the calendar (targets, contract and strategic dates)
are drawn within five years of it; the growth anchors (users S-curve, enterprise market)
anywhere in the ten years around it that validation allows
(``config.MAX_ANCHOR_GAP_YEARS``; ``test_edge_cases.py`` shows why).

The default profile runs a bounded number of examples (CI); ``-m slow`` adds a longer run.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import hsbc_dict

import runway
from runway import config as C
from runway.calendar import MAX_MONTHS, format_month, parse_month
from runway.config import MAX_BN, config_from_dict
from runway.dists import central

TOL = 1e-9
"""Absolute tolerance of the identities, as in ``tests/test_accounting.py``."""
REL = 16 * np.finfo(float).eps
"""Rounding allowance relative to the magnitude of the terms: the kernel adds up to ~8
terms per identity, each addition rounding by at most half an ulp of the running sum. At
HSBC magnitudes ($1e3bn) it is ~4e-12, far below TOL; it only matters for the huge
(but finite) values the extreme corners of the schema produce."""

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
THOROUGH = settings(FAST, max_examples=200)

MONTH_SLACK = 60
"""Related months are drawn within this many months of the calendar."""
ANCHOR_SLACK = 12 * C.MAX_ANCHOR_GAP_YEARS


# --- strategies ------------------------------------------------------------------------------
def _bounds(model: type, name: str) -> tuple[float, float]:
    extra = model.model_fields[name].json_schema_extra
    assert isinstance(extra, dict)
    return max(float(extra["lo"]), -MAX_BN), min(float(extra["hi"]), MAX_BN)


def _params(model: type) -> list[str]:
    return [
        n
        for n, f in model.model_fields.items()
        if isinstance(f.json_schema_extra, dict) and "lo" in f.json_schema_extra
    ]


def _num(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def param(draw, lo: float, hi: float, central_hi: float | None = None):
    """A number or a distribution whose central value lies in [lo, central_hi or hi] and
    whose support, when finite, lies in [lo, hi] (what the schema accepts)."""
    chi = hi if central_hi is None else central_hi
    kind = draw(
        st.sampled_from(
            ["fixed", "normal", "lognormal", "uniform", "triangular", "pert", "percentiles"]
        )
    )
    width = hi - lo
    if kind == "fixed" or (kind == "lognormal" and chi <= 0):
        return draw(_num(lo, chi))
    if kind == "normal":
        return {"dist": "normal", "mean": draw(_num(lo, chi)), "sd": draw(_num(0, max(width, 1.0)))}
    if kind == "lognormal":
        med = draw(_num(max(lo, 1e-9 * max(chi, 1e-300)), chi).filter(lambda x: x > 0))
        return {"dist": "lognormal", "median": med, "sigma": draw(_num(0, 50))}
    if kind == "percentiles":
        p50 = draw(_num(lo, chi))
        room = MAX_BN - abs(p50)  # every number of a distribution is at most MAX_BN in magnitude
        return {
            "dist": "percentiles",
            "p10": p50 - draw(_num(0, min(width, room))),
            "p50": p50,
            "p90": p50 + draw(_num(0, min(width, room))),
        }
    # bounded: low <= central <= high inside [lo, hi]
    c = draw(_num(lo, chi))
    low = draw(_num(lo, c))
    high = draw(_num(c, hi))
    if kind == "uniform":
        # the midpoint is the central value: keep it at or below chi
        high = min(high, 2 * chi - low) if chi < hi else high
        return {"dist": "uniform", "low": low, "high": max(high, low)}
    return {"dist": kind, "low": low, "mode": c, "high": high}


@st.composite
def params_of(draw, model: type) -> dict:
    """Every drawable parameter of a config section, each within its documented bounds."""
    return {n: draw(param(*_bounds(model, n))) for n in _params(model)}


@st.composite
def regime(draw) -> dict:
    def row(i: int) -> list[float]:
        w = draw(st.lists(_num(0, 1), min_size=3, max_size=3))
        if sum(w) <= 0:
            w = [0.0, 0.0, 0.0]
            w[i] = 1.0
        s = math.fsum(w)
        return [x / s for x in w]

    prob = st.lists(_num(0, 1), min_size=3, max_size=3)
    mult = st.lists(_num(0, 1e4), min_size=3, max_size=3)
    return {
        "initial": draw(st.sampled_from(["boom", "normal", "winter"])),
        "transition": [row(i) for i in range(3)],
        "close_probability": draw(prob),
        "size_multiplier": draw(mult),
        "valuation_multiple": draw(mult),
        "ipo_probability_month": draw(prob),
    }


@st.composite
def config_dict(draw) -> dict:
    d = hsbc_dict()
    start = parse_month(f"{draw(st.integers(2000, 2080))}-01") + draw(st.integers(0, 11))
    n = draw(st.integers(1, MAX_MONTHS))
    end = start + n - 1
    d["calendar"] = {"start": format_month(start), "end": format_month(end)}
    d.pop("history")  # no as-of month in a drawn calendar: no reported history (test_vintage.py)

    def month(lo: int = -MONTH_SLACK, hi: int | None = None) -> int:
        return start + draw(st.integers(lo, (n + MONTH_SLACK) if hi is None else hi))

    d["run"] = {"paths": 10, "seed": 0, "chunk_size": 8}

    con = draw(params_of(C.Consumer))
    ceil_c = central(_as_param(con["users_ceiling_bn"]))
    lo, hi = _bounds(C.Consumer, "users_anchor_bn")
    con["users_anchor_bn"] = draw(param(lo, hi, central_hi=ceil_c * (1 - 1e-9)))
    conv0 = month()
    llm0 = month()
    pts = sorted(set(draw(st.lists(st.integers(-MONTH_SLACK, n + MONTH_SLACK), max_size=4))))
    con.update(
        users_anchor_month=format_month(month(-ANCHOR_SLACK, n - 1 + ANCHOR_SLACK)),
        conversion_start_month=format_month(conv0),
        conversion_target_month=format_month(conv0 + draw(st.integers(1, n + MONTH_SLACK))),
        price_schedule=[[format_month(start + k), draw(_num(1e-6, 100))] for k in pts],
    )
    d["consumer"] = con

    ent = draw(params_of(C.Enterprise))
    gap = C.MAX_ANCHOR_GAP_YEARS
    ent["anchor_year"] = draw(st.integers(start // 12 - gap, end // 12 + gap))
    d["enterprise"] = ent

    ads = draw(params_of(C.Advertising))
    ads.update(
        llm_share_start_month=format_month(llm0),
        llm_share_target_month=format_month(llm0 + draw(st.integers(1, n + MONTH_SLACK))),
    )
    d["advertising"] = ads
    d["revenue_share"] = {**draw(params_of(C.RevenueShare)), "end_month": format_month(month())}

    contracts = []
    for i in range(draw(st.integers(0, 4))):
        c0 = month()
        contracts.append(
            {
                "name": f"c{i}",
                "counterparty": draw(st.sampled_from(["Alpha", "Beta", "Gamma"])),
                "value_bn": draw(_num(0, MAX_BN)),
                "gw": draw(_num(0, MAX_BN)),
                "start": format_month(c0),
                "end": format_month(c0 + draw(st.integers(0, MAX_MONTHS))),
                "profile": draw(st.sampled_from(["flat", "ramp", "back_loaded"])),
                "ramp_months": draw(st.integers(1, MAX_MONTHS)),
                "share_online": draw(param(0.0, 1.0)),
                "slip_months": draw(param(0.0, 120.0)),
                "pricing": draw(st.sampled_from(["fixed", "per_gw"])),
            }
        )
    d["compute"] = {
        **draw(params_of(C.Compute)),
        "cost_per_gw_reference_bn": draw(_num(1, 1000)),
        "payment_lag_months": draw(st.integers(0, 24)),
        "contracts": contracts,
        "renegotiation": {
            "enabled": draw(st.booleans()),
            "trigger_runway_months": draw(_num(0, 120)),
            "share": draw(_num(0, 1)),
            "cost": draw(_num(0, 1)),
            "max_count": draw(st.integers(0, 12)),
        },
    }
    d["opex"] = {**draw(params_of(C.Opex)), "stock_pay_share_end_month": format_month(month())}

    strategic = []
    for i in range(draw(st.integers(0, 3))):
        s0 = month()
        s = {
            "name": f"s{i}",
            "amount_bn": draw(_num(0, MAX_BN)),
            "condition": draw(st.sampled_from(["none", "per_gw", "ipo"])),
            "per_gw_bn": draw(_num(0, MAX_BN)),
            "start": format_month(s0),
        }
        if draw(st.booleans()):
            s["lapse"] = format_month(s0 + draw(st.integers(0, n + MONTH_SLACK)))
        strategic.append(s)
    d["liquidity"] = {
        "cash_bn": draw(_num(0, MAX_BN)),
        "cash_as_of": format_month(start + draw(st.integers(-1, n - 2)) if n > 1 else start - 1),
        "undrawn_facilities_bn": draw(_num(0, MAX_BN)),
        "min_cash_buffer_bn": draw(_num(0, MAX_BN)),
        "cash_yield": draw(_num(0, 1)),
        "debt_rate": draw(_num(0, 1)),
        "strategic": strategic,
    }

    rmin = draw(_num(0, MAX_BN))
    d["financing"] = {
        "enabled": draw(st.booleans()),
        "runway_trigger_months": draw(_num(0, 120)),
        "round_lag_months": draw(st.integers(0, 36)),
        "round_months_of_burn": draw(_num(0, 120)),
        "round_min_bn": rmin,
        "round_max_bn": draw(_num(rmin, MAX_BN)),
        "max_dilution": draw(_num(0, 1)),
        "momentum_elasticity": draw(_num(0, 10)),
        "momentum_reference": draw(st.floats(0, 100, exclude_min=True)),
        "round_size_sigma": draw(_num(0, 3)),
        "debt_capacity_x_arr": draw(_num(0, 10)),
        "ipo_earliest": format_month(month()),
        "ipo_min_arr_bn": draw(_num(0, MAX_BN)),
        "ipo_size_bn": draw(_num(0, MAX_BN)),
        "regime": draw(regime()),
    }

    below_one = st.floats(0, 1, exclude_max=True, allow_nan=False)
    loading = _num(-1, 1)
    d["shocks"] = {
        "users_vol": draw(_num(0, 5)),
        "users_persistence": draw(below_one),
        "conversion_vol": draw(_num(0, 5)),
        "conversion_persistence": draw(below_one),
        "enterprise_growth_vol": draw(_num(0, 5)),
        "enterprise_growth_reversion_per_yr": draw(_num(0, 50)),
        **draw(params_of(C.Shocks)),
        "sentiment": {
            "persistence": draw(below_one),
            "loading_enterprise": draw(loading),
            "loading_users": draw(loading),
            "loading_price_war": draw(loading),
            "loading_regime": draw(loading),
            "loading_round": draw(loading),
        },
    }
    return d


def _as_param(v):
    """A drawn parameter (number or dict) as the schema's value, to take its central value."""
    from pydantic import TypeAdapter

    from runway.dists import Param

    return TypeAdapter(Param).validate_python(v)


run_settings = st.fixed_dictionaries(
    {
        "paths": st.integers(1, 24),
        "chunk_size": st.integers(1, 16),
        "seed": st.integers(0, 2**63 - 1),
        "deterministic": st.booleans(),
    }
)


# --- checks ----------------------------------------------------------------------------------
def _close(a: np.ndarray, b: np.ndarray, magnitude: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= TOL + REL * magnitude))


def check_identities(res) -> None:
    """The identities of ``tests/test_accounting.py``, vectorised over paths."""
    m = res.monthly
    n = res.raw.n_paths
    g = {c: m[c].to_numpy().reshape(n, -1) for c in m.columns if c not in ("path", "month")}

    def mag(*xs):
        return sum(np.abs(x) for x in xs)

    opi = g["revenue"] - g["cost_of_sales"] - g["rnd"] - g["sga"] - g["revenue_share"]
    assert _close(
        g["operating_income"],
        opi,
        mag(g["revenue"], g["cost_of_sales"], g["rnd"], g["sga"], g["revenue_share"]),
    )
    rev = g["consumer"] + g["enterprise"] + g["advertising"]
    assert _close(g["revenue"], rev, mag(g["consumer"], g["enterprise"], g["advertising"]))
    fcf = g["operating_income"] + g["stock_pay"] + g["working_capital"]
    assert _close(g["fcf"], fcf, mag(g["operating_income"], g["stock_pay"], g["working_capital"]))
    parts = (
        "net_interest",
        "equity_raised",
        "debt_raised",
        "ipo_raised",
        "strategic_raised",
        "facility_drawn",
        "bridge_raised",
        "equity_committed",
    )
    assert _close(g["financing"], sum(g[p] for p in parts), mag(*(g[p] for p in parts)))
    dcash = np.diff(g["cash"], axis=1)
    flow = (g["fcf"] + g["financing"])[:, 1:]
    assert _close(
        dcash,
        flow,
        mag(g["cash"][:, 1:], g["cash"][:, :-1], g["fcf"][:, 1:], g["financing"][:, 1:]),
    )
    cum = np.cumsum(g["fcf"], axis=1)
    assert _close(g["cumulative_fcf"], cum, np.cumsum(np.abs(g["fcf"]), axis=1))
    gap = g["funding_gap"]
    assert np.all(np.diff(gap, axis=1) >= -TOL) and np.all(gap >= 0)


def _finite_frame(df, allow_nan: tuple[str, ...] = ()) -> None:
    num = df.select_dtypes(include=[np.number, bool])
    for col in num.columns:
        if col in allow_nan:
            continue
        x = num[col].to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        assert not bad.any(), f"{col}: {int(bad.sum())} non-finite value(s), e.g. {x[bad][:3]}"


def check_result(res) -> None:
    """Everything a run must satisfy whatever the (valid) config."""
    n = res.raw.n_paths
    paths = res.paths
    _finite_frame(paths, allow_nan=("months_to_insolvency",))
    mti = paths["months_to_insolvency"].to_numpy()
    assert np.array_equal(np.isnan(mti), paths["censored"].to_numpy())
    assert np.all(mti[~np.isnan(mti)] >= 1)
    for col in (
        "raised_equity",
        "raised_debt",
        "raised_ipo",
        "raised_strategic",
        "drawn_facilities",
    ):
        assert np.all(paths[col] >= 0), col

    m = res.monthly
    assert m is not None  # at most 1,000 paths keep their trace
    _finite_frame(m)
    annual = res.annual
    _finite_frame(annual)
    assert np.all(annual.p05 <= annual.p50) and np.all(annual.p50 <= annual.p95)
    _finite_frame(res.annual_wide())
    fan = res.fan
    # the survivors' fan is NaN exactly where no path is left (fin2); finite everywhere else
    none_left = (fan.metric == "cash_survivors") & (fan.share_excluded == 1.0)
    _finite_frame(fan[~none_left])
    assert fan[none_left][["mean", "p05", "p50", "p95"]].isna().all().all()
    live = fan[~none_left]
    q = live[["p05", "p25", "p50", "p75", "p95"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)
    check_identities(res)
    for col in (
        "consumer",
        "enterprise",
        "advertising",
        "compute_rent",
        "users_bn",
        "gw_online",
        "price_usd_month",
    ):
        assert np.all(m[col] >= 0), col
    assert np.all((m.conversion >= 0) & (m.conversion <= 1))
    assert set(np.unique(m.regime)) <= {0.0, 1.0, 2.0}
    # streamed quantiles lie inside the sample they summarise
    for line, col, sign in (("cash", "cash", 1), ("revenue", "revenue", 1), ("burn", "fcf", -1)):
        x = sign * m[col].to_numpy().reshape(n, -1)
        sel = (fan.metric == line).to_numpy()
        f = fan[sel]
        assert np.all(f.p05.to_numpy() >= x.min(axis=0)), line
        assert np.all(f.p95.to_numpy() <= x.max(axis=0)), line

    s = res.summary()
    json.dumps(s, allow_nan=False)  # strict JSON: no NaN or inf anywhere
    for year in s["annual"].values():
        for metric, stats in year.items():
            assert None not in stats.values(), metric
    p = np.array(list(s["p_insolvent_by"].values()))
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) >= 0)
    assert p[-1] == pytest.approx(1 - paths["censored"].mean(), abs=1e-12)
    for gap in s["funding_gap"].values():
        assert 0 <= gap["p05"] <= gap["p50"] <= gap["p95"]
    t = s["time_to_insolvency_months"]
    ts = [math.inf if t[k] is None else t[k] for k in ("p05", "p50", "p95")]
    assert ts == sorted(ts)
    assert 0 < t["mean_censored"] <= t["horizon_months"]
    for k, v in s["mcse"].items():
        assert v is None or (math.isfinite(v) and v >= 0), k


def _simulate(d: dict, rs: dict):
    cfg = config_from_dict(d, "hypothesis")
    if rs["deterministic"]:
        return runway.simulate(cfg, deterministic=True)
    return runway.simulate(cfg, paths=rs["paths"], seed=rs["seed"], chunk_size=rs["chunk_size"])


@FAST
@given(d=config_dict(), rs=run_settings)
def test_valid_configs_give_sound_results(d, rs):
    check_result(_simulate(d, rs))


@pytest.mark.slow
@THOROUGH
@given(d=config_dict(), rs=run_settings)
def test_valid_configs_give_sound_results_thorough(d, rs):
    check_result(_simulate(d, rs))


@FAST
@given(d=config_dict())
def test_strategy_stays_in_the_valid_space(d):
    """Every drawn config validates: the strategy covers the schema's space, not beyond it."""
    config_from_dict(d, "hypothesis")
