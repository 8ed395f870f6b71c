"""Everything the kernel reads, as one NamedTuple of numbers and arrays.

Building it is the only place that knows both the config schema and the kernel's layout;
the kernel itself sees numbers, never pydantic models (STYLE.md: numbers in, numbers out).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import scipy.special

from runway.calendar import Calendar, parse_month
from runway.config import (
    BringAdsForward,
    CancelCompute,
    Config,
    Contract,
    DeferCompute,
    RaisePrice,
    SellStrategicStake,
    SlowPeopleGrowth,
)
from runway.dists import encode
from runway.layout import Condition, Kind, PolAction, PolCmp, PolMetric, Profile, Regime
from runway.model.params import PARAMS, bounds, field_bounds, get_path

PROFILES = {p.name.lower(): int(p) for p in Profile}
CONDITIONS = {c.name.lower(): int(c) for c in Condition}
REGIMES = tuple(r.name.lower() for r in Regime)
NEVER = 10**6
"""A month index beyond any horizon (e.g. the lapse of money that never lapses)."""


class Inputs(NamedTuple):
    """Kernel inputs.

    Times ``*_t`` are years since the calendar start; month indices are relative to the
    calendar start and may be negative (before it) or past the horizon.
    """

    stochastic: bool
    n_months: int
    n_years: int
    t: np.ndarray  # (n_months,) years since start at each month's middle
    year_idx: np.ndarray  # (n_months,) index of each month's year
    cash_start: int  # first month whose flows move the cash account
    # per-path parameters (see model.params.PARAMS)
    p_kind: np.ndarray
    p_par: np.ndarray  # (n_params, 4)
    p_lo: np.ndarray
    p_hi: np.ndarray
    # revenue timing
    users_anchor_t: float
    conv_start_t: float
    conv_target_t: float
    price_mult: np.ndarray  # (n_months,)
    ent_anchor_t: float
    llm_start_t: float
    llm_target_t: float
    ms_end_t: float
    # compute contracts (n_contracts,)
    c_value: np.ndarray
    c_gw: np.ndarray
    c_start: np.ndarray
    c_len: np.ndarray
    c_profile: np.ndarray
    c_ramp: np.ndarray
    c_norm: np.ndarray
    c_indexed: np.ndarray  # 1.0: priced per GW (follows the drawn cost per GW); 0.0: fixed $
    c_cp: np.ndarray
    n_counterparties: int
    share_kind: np.ndarray
    share_par: np.ndarray
    slip_kind: np.ndarray
    slip_par: np.ndarray
    draw_table: np.ndarray  # (n_params + 2 n_contracts, PERT_TABLE + 1) PERT inverse CDFs
    share_bounds: tuple[float, float]  # admissible interval of share_online (config metadata)
    slip_bounds: tuple[float, float]  # admissible interval of slip_months (config metadata)
    cpgw_ref: float
    pay_lag: int
    reneg_on: bool
    reneg_trigger: float
    reneg_share: float
    reneg_cost: float
    reneg_max: int
    # liquidity
    cash0: float
    facilities: float
    buffer: float
    cash_yield_m: float
    debt_rate_m: float
    s_amount: np.ndarray
    s_cond: np.ndarray
    s_per_gw: np.ndarray
    s_start: np.ndarray
    s_lapse: np.ndarray
    s_mask: np.ndarray  # (n_strategic, n_contracts) 1.0: the contract's GW count for per_gw money
    # financing
    fin_on: bool
    fin_trigger: float
    fin_lag: int
    fin_months_burn: float
    fin_min: float
    fin_max: float
    fin_max_dil: float
    fin_mom_el: float
    fin_mom_ref: float
    fin_size_sigma: float
    debt_x_arr: float
    ipo_earliest: int
    ipo_min_arr: float
    ipo_size: float
    reg_cum: np.ndarray  # (3, 3) cumulative transition rows
    reg_thr: np.ndarray  # (3, 3) -Phi^-1(reg_cum): move to j when the regime shock exceeds it
    reg_initial: int
    reg_close: np.ndarray
    reg_size: np.ndarray
    reg_val: np.ndarray
    reg_ipo: np.ndarray
    reg_ipo_thr: np.ndarray  # (3,) -Phi^-1(reg_ipo): an IPO happens when its shock exceeds it
    # fin: financing
    fin_retry: int  # months after a failed round attempt before the next
    distress_trigger: float  # runway (months) below which a distress window is open
    bridge_months_burn: float
    bridge_max: float  # $bn outstanding at most
    bridge_rate_m: float  # monthly accrual of the bridge
    reg_bridge: np.ndarray  # (3,) probability a bridge closes, by regime
    fin_projected: int  # 1: rounds sized on projected burn (financing.round_size_basis)
    # fin2: tranches, runway basis, committed money, funded facilities, round persistence
    fin_runway_projected: int  # 1: the runway trigger divides by projected burn
    fin_first_share: float  # share of a round paid round_lag months after signing
    fin_tranche_months: int  # months over which the rest is paid, equal monthly tranches
    funded_facilities: float  # $bn the funded path can draw (no-new-money path: facilities)
    committed: np.ndarray  # (n_months,) pre-vintage committed equity paid in the month, $bn
    committed_left: np.ndarray  # (n_months,) committed equity paid after the month, $bn
    round_rho: float  # AR(1) coefficient of the round shock's own part
    round_c: float  # sqrt(1 - round_rho**2)
    # shocks
    users_vol: float
    users_rho: float
    conv_vol: float
    conv_rho: float
    ent_vol: float
    ent_a: float
    sent_rho: float
    load: np.ndarray  # (5,) enterprise, users, price war, regime, round
    load_c: np.ndarray  # (5,) sqrt(1 - load**2): weight of each driver's own shock
    sent_c: float  # sqrt(1 - sent_rho**2)
    users_c: float  # users_vol * sqrt(1 - users_rho**2)
    conv_c: float  # conv_vol * sqrt(1 - conv_rho**2)
    ent_c: float  # ent_vol * sqrt(1 - ent_a**2)
    # per-month interpolation weights in [0, 1] (n_months,)
    w_conv: np.ndarray  # conversion: start -> target
    w_ent: np.ndarray  # enterprise share: start -> anchor year
    w_llm: np.ndarray  # LLM share of ads: 0 -> target
    w_oai: np.ndarray  # OpenAI share of LLM ads: start -> target
    w_ms: np.ndarray  # Microsoft revenue share: start -> end
    w_sbc: np.ndarray  # stock pay share: start -> opex.stock_pay_share_end_month
    m_anchor: int  # first month whose middle is at or after the enterprise anchor
    # cal2: vintage/contracts
    hist_end: int  # last history month (calendar.as_of); -1: no history
    act_line: np.ndarray  # (n_actuals,) 0 revenue, 1 fcf (config history.actuals)
    act_m0: np.ndarray  # (n_actuals,) first month of the period
    act_m1: np.ndarray  # (n_actuals,) last month of the period
    act_value: np.ndarray  # (n_actuals,) reported value, $bn over the period
    w_cons_pin: np.ndarray  # (n_months,) seam pin of consumer revenue: 0 at as-of -> 1 at t_c1
    w_ent_pin: np.ndarray  # (n_months,) seam pin of enterprise revenue: 0 at as-of -> 1 at t_A
    w_ads_pin: np.ndarray  # (n_months,) seam pin of advertising: 0 at as-of -> 1 at t_lT
    gw_plan: np.ndarray  # (n_months,) GW online as contracted (every share 1, no slip)
    # pol: policies (one entry per policy, config order; layout.PF / PI / PolAction)
    pol_n: int
    pol_threshold: np.ndarray  # trigger threshold (regime code, month index for date)
    pol_a: np.ndarray  # action numbers (layout.PolAction)
    pol_b: np.ndarray
    pol_c: np.ndarray
    pol_d: np.ndarray
    pol_metric: np.ndarray  # layout.PolMetric
    pol_cmp: np.ndarray  # layout.PolCmp
    pol_hold: np.ndarray  # months the trigger must hold
    pol_max_fires: np.ndarray
    pol_cooldown: np.ndarray  # months after a firing before the policy may fire again
    pol_action: np.ndarray  # layout.PolAction
    pol_months: np.ndarray  # defer: months deferred; bring_ads_forward: months earlier
    pol_mask: np.ndarray  # (n_policies, n_contracts) 1.0: the contract is acted on


PERT_TABLE = 4096
"""Intervals of a PERT parameter's inverse-CDF table (the kernel interpolates it linearly)."""


def pert_table(kind: int, par) -> np.ndarray:
    """Quantiles of a PERT parameter's standardised beta law at ``j / PERT_TABLE``, j = 0..N.

    PERT(low, mode, high) is ``low + (high - low) * Beta(1 + 4 (mode - low) / (high - low),
    1 + 4 (high - mode) / (high - low))``; the kernel draws it as ``low + (high - low) *
    Q(u)`` with ``Q`` this table interpolated linearly, one uniform per draw, no rejection.
    Zeros for any other kind. Interpolation error: the law is exact at the grid points, and
    between them off by at most ``max |Q''| / (8 N^2)``; the first and last cells (probability
    ``1 / N`` each) carry the largest error where ``Q`` has an infinite slope.
    """
    out = np.zeros(PERT_TABLE + 1)
    if kind != Kind.PERT:
        return out
    a, c, b = float(par[0]), float(par[1]), float(par[2])
    if b <= a:
        return out
    alpha = 1.0 + 4.0 * (c - a) / (b - a)
    beta = 1.0 + 4.0 * (b - c) / (b - a)
    out[:] = scipy.special.betaincinv(alpha, beta, np.linspace(0.0, 1.0, PERT_TABLE + 1))
    out[0], out[-1] = 0.0, 1.0
    return out


def _profile_norm(profile: int, length: int, ramp: int) -> float:
    if profile == 0:
        return float(length)
    if profile == 2:
        return (length + 1) / 2.0
    if ramp >= length:
        return length * (length + 1) / (2.0 * ramp)
    return (ramp + 1) / 2.0 + (length - ramp)


def _price_multiplier(cfg: Config, cal: Calendar) -> np.ndarray:
    pts = cfg.consumer.price_schedule
    months = np.arange(cal.n_months, dtype=float)
    if not pts:
        return np.ones(cal.n_months)
    xs = np.array([cal.index(m) for m, _ in pts], dtype=float)
    ys = np.array([v for _, v in pts], dtype=float)
    return np.interp(months, xs, ys)


def _ramp(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Linear weight from 0 at ``t0`` to 1 at ``t1``, clipped to [0, 1] (a step when t1 <= t0)."""
    if t1 <= t0:
        return (t >= t1).astype(np.float64)
    return np.clip((t - t0) / (t1 - t0), 0.0, 1.0)


def _t(cal: Calendar, month: str) -> float:
    """Years since start of a month's middle."""
    return (cal.index(month) + 0.5) / 12.0


# cal2: vintage/contracts
ACTUAL_LINES = {"revenue": 0, "fcf": 1}


def _gw_plan(cfg: Config, cal: Calendar) -> np.ndarray:
    """GW online per month as contracted: every contract in full (share 1), on time (no slip).

    The revenue curve of a config is the demand of its contract table; a path (or a config)
    with less capacity online than contracted is short of compute (docs/model.md section 2.2).
    """
    from runway.kernel.numeric import capacity_fraction

    out = np.zeros(cal.n_months)
    for c in cfg.compute.contracts:
        n = parse_month(c.end) - parse_month(c.start) + 1
        off = cal.index(c.start)
        g = c.gw
        for j in range(max(0, -off), min(n, cal.n_months - off)):
            out[off + j] += g * capacity_fraction(PROFILES[c.profile], j, n, c.ramp_months)
    return out


def _pin(t: np.ndarray, t_h: float | None, t1: float) -> np.ndarray:
    """Seam pin: 0 up to the as-of month's middle ``t_h``, linear to 1 at ``t1`` (1: no history)."""
    if t_h is None:
        return np.ones(t.size)
    return _ramp(t, t_h, t1) * (t > t_h)


def build_inputs(cfg: Config, *, stochastic: bool = True) -> Inputs:
    """Flatten a config into kernel inputs.

    Parameters
    ----------
    cfg : Config
        A validated config.
    stochastic : bool
        False for a deterministic run: every parameter at its central value, every shock at
        its median (normal shocks 0), so the run is one path.
    """
    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    kinds, pars, los, his = [], [], [], []
    for _, dotted in PARAMS:
        k, p = encode(get_path(cfg, dotted))  # type: ignore[arg-type]
        lo, hi = bounds(cfg, dotted)
        kinds.append(k)
        pars.append(p)
        los.append(lo)
        his.append(hi)

    cs = cfg.compute.contracts
    counterparties = sorted({c.counterparty for c in cs})
    share = [encode(c.share_online) for c in cs]
    slip = [encode(c.slip_months) for c in cs]
    c_len = np.array([parse_month(c.end) - parse_month(c.start) + 1 for c in cs], dtype=np.int64)
    c_profile = np.array([PROFILES[c.profile] for c in cs], dtype=np.int64)
    c_ramp = np.array([c.ramp_months for c in cs], dtype=np.int64)

    st = cfg.liquidity.strategic
    fin = cfg.financing
    reg = fin.regime
    sh = cfg.shocks
    ent_decay = float(np.exp(-sh.enterprise_growth_reversion_per_yr / 12.0))
    t = cal.years_from_start()
    conv_start_t = _t(cal, cfg.consumer.conversion_start_month)
    conv_target_t = _t(cal, cfg.consumer.conversion_target_month)
    ent_anchor_t = (cal.index(f"{cfg.enterprise.anchor_year:04d}-01") + 6.0) / 12.0
    llm_start_t = _t(cal, cfg.advertising.llm_share_start_month)
    llm_target_t = _t(cal, cfg.advertising.llm_share_target_month)
    ms_end_t = _t(cal, cfg.revenue_share.end_month)
    hist_end = cal.index(cfg.calendar.as_of) if cfg.calendar.as_of is not None else -1
    t_h = float(t[hist_end]) if hist_end >= 0 else None
    acts = cfg.history.actuals
    reg_cum = np.cumsum(np.array(reg.transition, dtype=np.float64), axis=1)
    load = np.array(
        [
            sh.sentiment.loading_enterprise,
            sh.sentiment.loading_users,
            sh.sentiment.loading_price_war,
            sh.sentiment.loading_regime,
            sh.sentiment.loading_round,
        ],
        dtype=np.float64,
    )
    # fin2: pre-vintage committed equity by month (a tranche past the horizon is ignored)
    committed = np.zeros(cal.n_months)
    for c in fin.committed:
        i = cal.index(c.month)
        if 0 <= i < cal.n_months:
            committed[i] += c.amount_bn
    return Inputs(
        stochastic=bool(stochastic),
        n_months=cal.n_months,
        n_years=len(cal.years),
        t=t,
        year_idx=cal.year_of_month(),
        cash_start=cal.index(cfg.liquidity.cash_as_of) + 1,
        p_kind=np.array(kinds, dtype=np.int64),
        p_par=np.array(pars, dtype=np.float64),
        p_lo=np.array(los, dtype=np.float64),
        p_hi=np.array(his, dtype=np.float64),
        users_anchor_t=_t(cal, cfg.consumer.users_anchor_month),
        conv_start_t=conv_start_t,
        conv_target_t=conv_target_t,
        price_mult=_price_multiplier(cfg, cal),
        ent_anchor_t=ent_anchor_t,
        llm_start_t=llm_start_t,
        llm_target_t=llm_target_t,
        ms_end_t=ms_end_t,
        c_value=np.array([c.value_bn for c in cs], dtype=np.float64),
        c_gw=np.array([c.gw for c in cs], dtype=np.float64),
        c_start=np.array([cal.index(c.start) for c in cs], dtype=np.int64),
        c_len=c_len,
        c_profile=c_profile,
        c_ramp=c_ramp,
        c_norm=np.array(
            [
                _profile_norm(int(p), int(n), int(r))
                for p, n, r in zip(c_profile, c_len, c_ramp, strict=True)
            ],
            dtype=np.float64,
        ),
        c_indexed=np.array([1.0 if c.pricing == "per_gw" else 0.0 for c in cs], dtype=np.float64),
        c_cp=np.array([counterparties.index(c.counterparty) for c in cs], dtype=np.int64),
        n_counterparties=len(counterparties),
        share_kind=np.array([k for k, _ in share], dtype=np.int64),
        share_par=np.array([p for _, p in share], dtype=np.float64).reshape(len(cs), 4),
        slip_kind=np.array([k for k, _ in slip], dtype=np.int64),
        slip_par=np.array([p for _, p in slip], dtype=np.float64).reshape(len(cs), 4),
        draw_table=np.array(
            [pert_table(int(k), p) for k, p in zip(kinds, pars, strict=True)]
            + [pert_table(int(k), p) for k, p in share + slip]
        ).reshape(len(kinds) + 2 * len(cs), PERT_TABLE + 1),
        share_bounds=field_bounds(Contract, "share_online"),
        slip_bounds=field_bounds(Contract, "slip_months"),
        cpgw_ref=cfg.compute.cost_per_gw_reference_bn,
        pay_lag=cfg.compute.payment_lag_months,
        reneg_on=cfg.compute.renegotiation.enabled,
        reneg_trigger=cfg.compute.renegotiation.trigger_runway_months,
        reneg_share=cfg.compute.renegotiation.share,
        reneg_cost=cfg.compute.renegotiation.cost,
        reneg_max=cfg.compute.renegotiation.max_count,
        cash0=cfg.liquidity.cash_bn,
        facilities=cfg.liquidity.undrawn_facilities_bn,
        buffer=cfg.liquidity.min_cash_buffer_bn,
        cash_yield_m=cfg.liquidity.cash_yield / 12.0,
        debt_rate_m=cfg.liquidity.debt_rate / 12.0,
        s_amount=np.array([s.amount_bn for s in st], dtype=np.float64),
        s_cond=np.array([CONDITIONS[s.condition] for s in st], dtype=np.int64),
        s_per_gw=np.array([s.per_gw_bn for s in st], dtype=np.float64),
        s_start=np.array([cal.index(s.start) for s in st], dtype=np.int64),
        s_lapse=np.array([cal.index(s.lapse) if s.lapse else NEVER for s in st], dtype=np.int64),
        s_mask=np.array(
            [
                [
                    1.0 if not s.counterparties or c.counterparty in s.counterparties else 0.0
                    for c in cs
                ]
                for s in st
            ],
            dtype=np.float64,
        ).reshape(len(st), len(cs)),
        fin_on=fin.enabled,
        fin_trigger=fin.runway_trigger_months,
        fin_lag=fin.round_lag_months,
        fin_months_burn=fin.round_months_of_burn,
        fin_min=fin.round_min_bn,
        fin_max=fin.round_max_bn,
        fin_max_dil=fin.max_dilution,
        fin_mom_el=fin.momentum_elasticity,
        fin_mom_ref=fin.momentum_reference,
        fin_size_sigma=fin.round_size_sigma,
        debt_x_arr=fin.debt_capacity_x_arr,
        ipo_earliest=cal.index(fin.ipo_earliest),
        ipo_min_arr=fin.ipo_min_arr_bn,
        ipo_size=fin.ipo_size_bn,
        reg_cum=reg_cum,
        reg_thr=-scipy.special.ndtri(reg_cum),
        reg_initial=REGIMES.index(reg.initial),
        reg_close=np.array(reg.close_probability, dtype=np.float64),
        reg_size=np.array(reg.size_multiplier, dtype=np.float64),
        reg_val=np.array(reg.valuation_multiple, dtype=np.float64),
        reg_ipo=np.array(reg.ipo_probability_month, dtype=np.float64),
        reg_ipo_thr=-scipy.special.ndtri(np.array(reg.ipo_probability_month, dtype=np.float64)),
        # fin: financing
        fin_retry=fin.retry_months,
        distress_trigger=fin.distress_runway_months,
        bridge_months_burn=fin.bridge_months_of_burn,
        bridge_max=fin.bridge_max_bn,
        bridge_rate_m=fin.bridge_rate / 12.0,
        reg_bridge=np.array(reg.bridge_probability, dtype=np.float64),
        fin_projected=int(fin.round_size_basis == "projected"),
        fin_runway_projected=int(fin.runway_basis == "projected"),
        fin_first_share=fin.round_first_tranche_share,
        fin_tranche_months=fin.round_tranche_months,
        funded_facilities=(
            cfg.liquidity.undrawn_facilities_bn
            if cfg.liquidity.funded_undrawn_facilities_bn is None
            else cfg.liquidity.funded_undrawn_facilities_bn
        ),
        committed=committed,
        committed_left=committed.sum() - np.cumsum(committed),
        round_rho=sh.round_persistence,
        round_c=math.sqrt(1.0 - sh.round_persistence**2),
        users_vol=sh.users_vol,
        users_rho=sh.users_persistence,
        conv_vol=sh.conversion_vol,
        conv_rho=sh.conversion_persistence,
        ent_vol=sh.enterprise_growth_vol,
        ent_a=ent_decay,
        sent_rho=sh.sentiment.persistence,
        load=load,
        load_c=np.sqrt(1.0 - load * load),
        sent_c=math.sqrt(1.0 - sh.sentiment.persistence**2),
        users_c=sh.users_vol * math.sqrt(1.0 - sh.users_persistence**2),
        conv_c=sh.conversion_vol * math.sqrt(1.0 - sh.conversion_persistence**2),
        ent_c=sh.enterprise_growth_vol * math.sqrt(1.0 - ent_decay * ent_decay),
        w_conv=_ramp(t, conv_start_t, conv_target_t),
        w_ent=_ramp(t, 0.0, ent_anchor_t),
        w_llm=_ramp(t, llm_start_t, llm_target_t),
        w_oai=_ramp(t, 0.0, llm_target_t),
        w_ms=_ramp(t, 0.0, ms_end_t),
        w_sbc=_ramp(t, 0.0, _t(cal, cfg.opex.stock_pay_share_end_month)),
        m_anchor=int(np.searchsorted(t, ent_anchor_t, side="left")),
        hist_end=hist_end,
        act_line=np.array([ACTUAL_LINES[a.line] for a in acts], dtype=np.int64),
        act_m0=np.array([cal.index(a.from_month) for a in acts], dtype=np.int64),
        act_m1=np.array([cal.index(a.to_month) for a in acts], dtype=np.int64),
        act_value=np.array([a.value_bn for a in acts], dtype=np.float64),
        w_cons_pin=_pin(t, t_h, conv_target_t),
        w_ent_pin=_pin(t, t_h, ent_anchor_t),
        w_ads_pin=_pin(t, t_h, llm_target_t),
        gw_plan=_gw_plan(cfg, cal),
        **_policy_inputs(cfg, cal),  # pol: policies
    )


# pol: policies
_CMPS = {"<": PolCmp.LT, "<=": PolCmp.LE, ">": PolCmp.GT, ">=": PolCmp.GE, "==": PolCmp.EQ}


def _policy_inputs(cfg: Config, cal: Calendar) -> dict[str, Any]:
    """The ``pol_*`` fields: each policy's trigger and action as numbers (layout.PF, PI)."""
    pols = cfg.policies
    n = len(pols)
    f = {k: np.zeros(n) for k in ("pol_threshold", "pol_a", "pol_b", "pol_c", "pol_d")}
    names = ("pol_metric", "pol_cmp", "pol_hold", "pol_max_fires", "pol_cooldown")
    i = {k: np.zeros(n, dtype=np.int64) for k in (*names, "pol_action", "pol_months")}
    mask = np.zeros((n, len(cfg.compute.contracts)))
    for q, p in enumerate(pols):
        tr, a = p.trigger, p.action
        metric = PolMetric[tr.metric.upper()]
        i["pol_metric"][q] = metric
        i["pol_cmp"][q] = _CMPS[tr.comparison]
        i["pol_hold"][q] = tr.hold_months
        i["pol_max_fires"][q] = tr.max_fires
        i["pol_cooldown"][q] = tr.cooldown_months
        if metric == PolMetric.REGIME:
            f["pol_threshold"][q] = REGIMES.index(str(tr.threshold))
        elif metric == PolMetric.DATE:
            f["pol_threshold"][q] = cal.index(str(tr.threshold))
        else:
            f["pol_threshold"][q] = float(tr.threshold)
        i["pol_action"][q] = PolAction[a.kind.upper()]
        nums: tuple[float, ...] = ()
        if isinstance(a, DeferCompute):
            nums = (a.share, a.penalty)
            i["pol_months"][q] = a.months
        elif isinstance(a, CancelCompute):
            nums = (a.share, a.penalty)
        elif isinstance(a, SlowPeopleGrowth):
            nums = (a.factor,)
        elif isinstance(a, RaisePrice):
            nums = (a.pct, a.conversion_elasticity)
        elif isinstance(a, BringAdsForward):
            i["pol_months"][q] = a.months
        elif isinstance(a, SellStrategicStake):
            nums = (a.amount_bn, a.probability)
        else:  # RenegotiatePolicy
            nums = (a.share, a.cost, a.success_probability)
        for key, x in zip(("pol_a", "pol_b", "pol_c", "pol_d"), nums, strict=False):
            f[key][q] = x
        cp = getattr(a, "counterparty", "all")
        for c, con in enumerate(cfg.compute.contracts):
            mask[q, c] = 1.0 if cp == "all" or con.counterparty == cp else 0.0
    return {"pol_n": n, **f, **i, "pol_mask": mask}
