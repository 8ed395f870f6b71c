"""The monthly accounting step and the path loop, compiled with numba.

One function, :func:`step`, advances one path by one month given that month's shocks; the
fast kernel (:func:`run_chunks`) draws the shocks from per-chunk generators and calls it,
and tests call it with fixed shocks. Equations: ``docs/model.md``. Money is $bn per month
inside the kernel; rates in configs are per year.

Layout for speed. The compiled functions do not take :class:`runway.model.Inputs` (a named
tuple of ~100 fields): numba copies a tuple that size whenever it is passed to a function,
about 1 us per call, which inside the month loop cost more than the whole model. They take
:class:`KernelInputs` instead, the same numbers packed into 14 arrays (:func:`pack`), read
with the integer constants ``F_*`` (float scalars), ``I_*`` (int scalars), ``M_*`` (monthly
rows), ``CF_*``/``CI_*`` (contract rows), ``SF_*``/``SI_*`` (strategic rows) and ``R_*``
(regime rows), like ``theta[P_*]``. Per-path constants that need ``exp``/``log`` are
computed once per path (:func:`init_path`), and exponential trends are carried by monthly
factors, so a month costs three ``exp`` calls and nine normal draws.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange as numba_prange

from runway._jit import njit, njit_inline, njit_parallel
from runway.dists import FIXED, LOGNORMAL, NORMAL, PERCENTILES, PERT, TRIANGULAR, UNIFORM
from runway.model.params import N_PARAMS

# --- per-path parameter indices (order of model.params.PARAMS) -----------------------------
(
    P_USERS_ANCHOR, P_USERS_CEIL, P_USERS_K, P_CONV_START, P_CONV_TARGET, P_PRICE,
    P_ENT_MKT, P_ENT_G0, P_ENT_G1, P_ENT_G_AFTER, P_ENT_SHARE0, P_ENT_SHARE1,
    P_AD_MKT, P_AD_G, P_LLM_SHARE, P_OAI_SHARE0, P_OAI_SHARE1, P_MS0, P_MS1,
    P_CPGW, P_INFER, P_VENDOR, P_RND0, P_RND_G, P_SGA0, P_SGA_G, P_SGA_PCT, P_COGS_PCT,
    P_SBC0, P_SBC1, P_PW_RATE, P_PW_CUT,
) = range(32)
assert N_PARAMS == 32

# --- shocks per path-month: standard normals ----------------------------------------------
E_SENT, E_USERS, E_CONV, E_ENT, E_PRICE_WAR, E_REGIME, E_ROUND, E_ROUND_SIZE, E_IPO = range(9)
N_EPS = 9

# --- path state -----------------------------------------------------------------------------
(
    S_USERS_DEV, S_CONV_DEV, S_ENT_G, S_ENT_LVL, S_PRICE_JUMP, S_SENT, S_REGIME,
    S_CASH, S_DEBT, S_SHADOW, S_UNDRAWN, S_ROUND_CD, S_ROUND_SIZE, S_IPO_DONE, S_RENEG_N,
    S_INSOLVENT, S_MAX_GW, S_MIN_CASH, S_GAP, S_IPO_MONTH, S_N_ROUNDS, S_ATTEMPTS,
    S_RAISED_EQUITY, S_RAISED_DEBT, S_RAISED_IPO, S_RAISED_STRATEGIC, S_RAISED_FACILITY,
    S_N_PRICE_WARS, S_CUM_FCF,
    # deterministic trends carried month to month by their monthly growth factors
    S_USERS_E, S_MKT, S_MKT_R, S_AD, S_RND, S_SGA, S_CSCALE,
    S_LAG_SLOT,  # ring slot of the current month's compute expense (m mod (pay_lag + 1))
) = range(37)
N_STATE = 37

# --- per-path constants derived from the drawn parameters (computed once per path) ----------
(
    C_X0, C_DX, C_USERS_A, C_USERS_Q, C_PW_Z, C_ENT_Q, C_ENT_LG_AFTER, C_ENT_AFTER_Q,
    C_AD_Q, C_RND_Q, C_SGA_Q, C_VENDOR_KEEP,
) = range(12)
N_CONST = 12

# --- monthly lines (one row per month per path) ---------------------------------------------
(
    L_REVENUE, L_CONSUMER, L_ENTERPRISE, L_ADS, L_COST_OF_SALES, L_RND, L_SGA, L_REVENUE_SHARE,
    L_OPERATING_INCOME, L_COMPUTE, L_STOCK_PAY, L_WORKING_CAPITAL, L_FCF, L_INTEREST,
    L_EQUITY, L_DEBT_RAISED, L_IPO, L_STRATEGIC, L_FACILITY, L_FINANCING,
    L_CUM_FCF, L_CASH, L_SHADOW, L_DEBT, L_FUNDING_GAP, L_USERS, L_CONVERSION, L_PRICE, L_GW,
    L_REGIME,
) = range(30)
N_LINES = 30
LINE_NAMES = (
    "revenue", "consumer", "enterprise", "advertising", "cost_of_sales", "rnd", "sga",
    "revenue_share", "operating_income", "compute_rent", "stock_pay", "working_capital", "fcf",
    "net_interest", "equity_raised", "debt_raised", "ipo_raised", "strategic_raised",
    "facility_drawn", "financing", "cumulative_fcf", "cash", "cash_no_new_money", "debt", "funding_gap",
    "users_bn", "conversion", "price_usd_month", "gw_online", "regime",
)
LINE_IS_FLOW = np.array(
    [1] * 20 + [0] * 10, dtype=np.bool_
)  # flows sum over a year; stocks take the year-end value
assert len(LINE_NAMES) == N_LINES == LINE_IS_FLOW.size
assert np.array_equal(LINE_IS_FLOW, np.arange(N_LINES) < L_CUM_FCF)  # summarise_path relies on it

# --- packed kernel inputs ------------------------------------------------------------------
(
    F_SENT_RHO, F_SENT_C, F_USERS_RHO, F_USERS_C, F_CONV_RHO, F_CONV_C, F_ENT_A, F_ENT_C,
    F_ENT_ANCHOR_T, F_USERS_ANCHOR_T, F_CASH_YIELD_M, F_DEBT_RATE_M, F_BUFFER, F_CASH0,
    F_FACILITIES, F_CPGW_REF, F_FIN_TRIGGER, F_FIN_MOM_REF, F_FIN_MOM_EL, F_FIN_SIZE_SIGMA,
    F_FIN_MONTHS_BURN, F_FIN_MIN, F_FIN_MAX, F_FIN_MAX_DIL, F_IPO_MIN_ARR, F_IPO_SIZE,
    F_DEBT_X_ARR, F_RENEG_TRIGGER, F_RENEG_SHARE, F_RENEG_COST,
) = range(30)
_F_FIELDS = (
    "sent_rho", "sent_c", "users_rho", "users_c", "conv_rho", "conv_c", "ent_a", "ent_c",
    "ent_anchor_t", "users_anchor_t", "cash_yield_m", "debt_rate_m", "buffer", "cash0",
    "facilities", "cpgw_ref", "fin_trigger", "fin_mom_ref", "fin_mom_el", "fin_size_sigma",
    "fin_months_burn", "fin_min", "fin_max", "fin_max_dil", "ipo_min_arr", "ipo_size",
    "debt_x_arr", "reneg_trigger", "reneg_share", "reneg_cost",
)
(
    I_N_MONTHS, I_N_YEARS, I_CASH_START, I_M_ANCHOR, I_PAY_LAG, I_FIN_ON, I_FIN_LAG,
    I_IPO_EARLIEST, I_RENEG_ON, I_RENEG_MAX, I_STOCHASTIC, I_REG_INITIAL,
) = range(12)
_I_FIELDS = (
    "n_months", "n_years", "cash_start", "m_anchor", "pay_lag", "fin_on", "fin_lag",
    "ipo_earliest", "reneg_on", "reneg_max", "stochastic", "reg_initial",
)
M_T, M_PRICE, M_W_CONV, M_W_ENT, M_W_LLM, M_W_OAI, M_W_MS, M_W_SBC = range(8)
_M_FIELDS = ("t", "price_mult", "w_conv", "w_ent", "w_llm", "w_oai", "w_ms", "w_sbc")
CF_VALUE, CF_GW, CF_NORM, CF_INDEXED = range(4)
_CF_FIELDS = ("c_value", "c_gw", "c_norm", "c_indexed")
CI_START, CI_LEN, CI_PROFILE, CI_RAMP, CI_CP = range(5)
_CI_FIELDS = ("c_start", "c_len", "c_profile", "c_ramp", "c_cp")
SF_AMOUNT, SF_PER_GW = range(2)
_SF_FIELDS = ("s_amount", "s_per_gw")
SI_COND, SI_START, SI_LAPSE = range(3)
_SI_FIELDS = ("s_cond", "s_start", "s_lapse")
R_CLOSE, R_SIZE, R_VAL, R_IPO_THR = range(4)
_R_FIELDS = ("reg_close", "reg_size", "reg_val", "reg_ipo_thr")


class KernelInputs(NamedTuple):
    """:class:`runway.model.Inputs` packed into a few arrays for the compiled functions."""

    fs: np.ndarray  # (30,) float scalars, F_*
    iv: np.ndarray  # (12,) int scalars, I_*
    mon: np.ndarray  # (8, n_months) monthly rows, M_*
    year_idx: np.ndarray  # (n_months,) index of each month's year
    con: np.ndarray  # (4, n_contracts) CF_*
    coni: np.ndarray  # (5, n_contracts) CI_*
    stf: np.ndarray  # (2, n_strategic) SF_*
    sti: np.ndarray  # (3, n_strategic) SI_*
    s_mask: np.ndarray  # (n_strategic, n_contracts)
    reg: np.ndarray  # (4, 3) R_*
    reg_thr: np.ndarray  # (3, 3) regime move thresholds
    load: np.ndarray  # (2, 5) sentiment loadings and the weights of the own shocks
    dkind: np.ndarray  # (N_PARAMS + 2 n_contracts,) kinds: parameters, shares online, slips
    dpar: np.ndarray  # (N_PARAMS + 2 n_contracts, 6) 4 distribution numbers, lower, upper bound
    cap: np.ndarray  # (n_contracts, longest term) capacity online j months into the term
    cap_tail: np.ndarray  # (n_contracts, longest term + 1) sum of cap[c, j:]


def pack(inp) -> KernelInputs:
    """Pack :class:`runway.model.Inputs` for the compiled functions."""

    def rows(names, dtype):
        return np.ascontiguousarray(
            np.array([np.asarray(getattr(inp, n), dtype=dtype) for n in names], dtype=dtype)
        )

    nc = inp.c_value.size
    ns = inp.s_amount.size
    dpar = np.zeros((N_PARAMS + 2 * nc, 6))
    dpar[:N_PARAMS, :4] = inp.p_par
    dpar[:N_PARAMS, 4] = inp.p_lo
    dpar[:N_PARAMS, 5] = inp.p_hi
    dpar[N_PARAMS : N_PARAMS + nc, :4] = inp.share_par
    dpar[N_PARAMS : N_PARAMS + nc, 5] = 1.0
    dpar[N_PARAMS + nc :, :4] = inp.slip_par
    dpar[N_PARAMS + nc :, 5] = 120.0
    longest = int(max(inp.c_len.max(initial=0), 1))
    cap = np.zeros((nc, longest))
    for c in range(nc):
        for j in range(int(inp.c_len[c])):
            cap[c, j] = capacity_fraction(
                int(inp.c_profile[c]), j, int(inp.c_len[c]), int(inp.c_ramp[c])
            )
    cap_tail = np.zeros((nc, longest + 1))
    for j in range(longest - 1, -1, -1):
        cap_tail[:, j] = cap_tail[:, j + 1] + cap[:, j]
    return KernelInputs(
        fs=np.array([float(getattr(inp, n)) for n in _F_FIELDS]),
        iv=np.array([int(getattr(inp, n)) for n in _I_FIELDS], dtype=np.int64),
        mon=rows(_M_FIELDS, np.float64),
        year_idx=np.ascontiguousarray(inp.year_idx, dtype=np.int64),
        con=rows(_CF_FIELDS, np.float64).reshape(len(_CF_FIELDS), nc),
        coni=rows(_CI_FIELDS, np.int64).reshape(len(_CI_FIELDS), nc),
        stf=rows(_SF_FIELDS, np.float64).reshape(len(_SF_FIELDS), ns),
        sti=rows(_SI_FIELDS, np.int64).reshape(len(_SI_FIELDS), ns),
        s_mask=np.ascontiguousarray(inp.s_mask, dtype=np.float64).reshape(ns, nc),
        reg=rows(_R_FIELDS, np.float64),
        reg_thr=np.ascontiguousarray(inp.reg_thr, dtype=np.float64),
        load=np.ascontiguousarray(np.stack([inp.load, inp.load_c]), dtype=np.float64),
        dkind=np.concatenate([inp.p_kind, inp.share_kind, inp.slip_kind]).astype(np.int64),
        dpar=dpar,
        cap=cap,
        cap_tail=cap_tail,
    )


BIG = 1.0e12
INF_RUNWAY = 1.0e9
LOG_MOM_LO = math.log(0.1)
LOG_MOM_HI = math.log(10.0)
"""Revenue momentum relative to its reference is clipped to [0.1, 10]."""
_H = 1.0 / 12.0  # one month in years


@njit
def phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit
def norm_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation and one Halley step).

    Relative error below 1e-13 on (0, 1); ``-inf`` at 0 and ``inf`` at 1. The upper half is
    computed as ``-norm_ppf(1 - p)`` (``1 - p`` is exact there), so the Halley step always
    works in the lower tail where ``erfc`` has full relative precision. Used once per path,
    to turn a monthly probability into a threshold on a standard normal shock.
    """
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    sign = 1.0
    if p > 0.5:
        p = 1.0 - p
        sign = -1.0
    a1, a2, a3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a4, a5, a6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b1, b2, b3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b4, b5 = 6.680131188771972e01, -1.328068155288572e01
    c1, c2, c3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c4, c5, c6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d1, d2 = 7.784695709041462e-03, 3.224671290700398e-01
    d3, d4 = 2.445134137142996e00, 3.754408661907416e00
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / (
            (((d1 * q + d2) * q + d3) * q + d4) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q / (
            ((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0
        )
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return sign * (x - u / (1.0 + 0.5 * x * u))


@njit_inline
def central_value(kind: int, p0: float, p1: float) -> float:
    """Central value of an encoded parameter (mean, median, midpoint, mode or p50)."""
    if kind == UNIFORM:
        return 0.5 * (p0 + p1)
    if kind == TRIANGULAR or kind == PERT:
        return p1
    return p0  # FIXED, NORMAL mean, LOGNORMAL median, PERCENTILES p50


@njit_inline
def draw_value(kind: int, p0: float, p1: float, p2: float, lo: float, hi: float, rng) -> float:
    """One draw of an encoded parameter (numbers ``p0, p1, p2``), clipped to ``[lo, hi]``.

    Fixed values consume no random numbers. A path's draws come from the chunk's one
    generator in a fixed order (parameters, shares online, slips, then the months' shocks),
    so collapsing a distribution shifts the draws of everything after it in that path.
    """
    if kind == FIXED:
        x = p0
    elif kind == NORMAL:
        x = p0 + p1 * rng.standard_normal()
    elif kind == LOGNORMAL:
        x = p0 * math.exp(p1 * rng.standard_normal())
    elif kind == UNIFORM:
        x = p0 + (p1 - p0) * rng.random()
    elif kind == TRIANGULAR:
        a, c, b = p0, p1, p2
        u = rng.random()
        if b <= a:
            x = a
        elif u < (c - a) / (b - a):
            x = a + math.sqrt(u * (b - a) * (c - a))
        else:
            x = b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    elif kind == PERT:
        a, c, b = p0, p1, p2
        if b <= a:
            x = a
        else:
            alpha = 1.0 + 4.0 * (c - a) / (b - a)
            beta = 1.0 + 4.0 * (b - c) / (b - a)
            x = a + (b - a) * rng.beta(alpha, beta)
    elif kind == PERCENTILES:
        z = rng.standard_normal()
        x = p0 + (p1 if z < 0.0 else p2) * z
    else:
        x = np.nan
    return min(max(x, lo), hi)


@njit_inline
def draw_path_params(k, rng, theta, cshare, cslip) -> None:
    """Fill one path's parameter vector and per-contract share online and slip (months)."""
    dkind = k.dkind
    dpar = k.dpar
    stochastic = k.iv[I_STOCHASTIC] != 0
    nc = cshare.size
    for i in range(N_PARAMS + 2 * nc):
        if stochastic:
            x = draw_value(
                dkind[i], dpar[i, 0], dpar[i, 1], dpar[i, 2], dpar[i, 4], dpar[i, 5], rng
            )
        else:
            x = central_value(dkind[i], dpar[i, 0], dpar[i, 1])
        if i < N_PARAMS:
            theta[i] = x
        elif i < N_PARAMS + nc:
            cshare[i - N_PARAMS] = x
        else:
            cslip[i - N_PARAMS - nc] = math.floor(x + 0.5)


@njit
def capacity_fraction(profile: int, k: int, length: int, ramp: int) -> float:
    """Share of a contract's capacity online ``k`` months into its term (0 outside it)."""
    if k < 0 or k >= length:
        return 0.0
    if profile == 0:
        return 1.0
    if profile == 2:
        return (k + 1.0) / length
    return min(1.0, (k + 1.0) / ramp)


@njit_inline
def init_path(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, hist, sbuf) -> None:
    """Per-path constants (``pc``, ``C_*``), contract coefficients and the state before month 0.

    Trends that are exponential in time (the users S-curve's exponential, the enterprise
    market, the ad market, people costs) are carried in the state as this month's value and
    multiplied by a constant monthly factor: ``x(t + 1/12) = x(t) * exp(g / 12)``. The
    enterprise market before its anchor has a log growth rate linear in time, so its monthly
    factor itself grows by the constant ``exp(2 c h^2)`` (``docs/model.md``).

    ``cpay[c]``: contract ``c``'s payment per month at full capacity ($bn); ``cgw[c]``: its
    GW at full capacity; ``coff[c]``: its first month after slip. ``hist``: rings of the
    last 12 revenues, 3 free cash flows and ``pay_lag + 1`` compute expenses. ``sbuf``
    (2, n_strategic): strategic money paid, and the largest GW online so far under the
    counterparties it is tied to.
    """
    fs = k.fs
    t0 = k.mon[M_T, 0]
    h = _H
    ceil = theta[P_USERS_CEIL]
    anchor = min(theta[P_USERS_ANCHOR], 0.999 * ceil)
    kk = theta[P_USERS_K]
    if anchor > 0.0:
        pc[C_USERS_A] = ceil / anchor - 1.0
        pc[C_USERS_Q] = math.exp(-kk * h)
    else:  # no users at the anchor: none ever (the S-curve starts from 0)
        pc[C_USERS_A] = np.inf
        pc[C_USERS_Q] = 1.0
    x0 = math.log(theta[P_CONV_START] / (1.0 - theta[P_CONV_START]))
    x1 = math.log(theta[P_CONV_TARGET] / (1.0 - theta[P_CONV_TARGET]))
    pc[C_X0] = x0
    pc[C_DX] = x1 - x0
    # A price war happens in a month with probability 1 - exp(-rate / 12): shock below Phi^-1.
    pc[C_PW_Z] = norm_ppf(-math.expm1(-theta[P_PW_RATE] * h))
    ta = fs[F_ENT_ANCHOR_T]
    r0 = math.log1p(theta[P_ENT_G0])
    r1 = math.log1p(theta[P_ENT_G1])
    cq = (r1 - r0) / (2.0 * ta) if ta > 0.0 else 0.0
    pc[C_ENT_Q] = math.exp(2.0 * cq * h * h)
    lga = math.log1p(theta[P_ENT_G_AFTER])
    pc[C_ENT_LG_AFTER] = lga
    pc[C_ENT_AFTER_Q] = math.exp(lga * h)
    lad = math.log1p(theta[P_AD_G])
    lrnd = math.log1p(theta[P_RND_G])
    lsga = math.log1p(theta[P_SGA_G])
    pc[C_AD_Q] = math.exp(lad * h)
    pc[C_RND_Q] = math.exp(lrnd * h)
    pc[C_SGA_Q] = math.exp(lsga * h)
    pc[C_VENDOR_KEEP] = 1.0 - theta[P_VENDOR]
    con = k.con
    coni = k.coni
    r_cpgw = theta[P_CPGW] / fs[F_CPGW_REF]
    for c in range(cpay.size):
        r = r_cpgw if con[CF_INDEXED, c] > 0.0 else 1.0
        cpay[c] = con[CF_VALUE, c] * cshare[c] * r / con[CF_NORM, c]
        cgw[c] = con[CF_GW, c] * cshare[c]
        coff[c] = coni[CI_START, c] + int(cslip[c])
    # The contract schedule: contract by contract, over its months on the calendar (the sum
    # over contracts runs in contract order, as a month-by-month loop would).
    traj[:, :] = 0.0
    n_months = k.iv[I_N_MONTHS]
    cap = k.cap
    s_mask = k.s_mask
    ns = sbuf.shape[1]
    for c in range(cpay.size):
        for m in range(max(coff[c], 0), min(coff[c] + coni[CI_LEN, c], n_months)):
            cf = cap[c, m - coff[c]]  # capacity_fraction(profile, j, length, ramp)
            traj[0, m] += cf * cpay[c]
            g = cf * cgw[c]
            traj[1, m] += g
            for s in range(ns):
                traj[2 + s, m] += g * s_mask[s, c]

    st[:] = 0.0
    st[S_PRICE_JUMP] = 1.0
    st[S_REGIME] = k.iv[I_REG_INITIAL]
    st[S_CASH] = fs[F_CASH0]
    st[S_SHADOW] = fs[F_CASH0] + fs[F_FACILITIES]
    st[S_UNDRAWN] = fs[F_FACILITIES]
    st[S_ROUND_CD] = -1.0
    st[S_INSOLVENT] = -1.0
    st[S_IPO_MONTH] = -1.0
    st[S_MIN_CASH] = BIG
    st[S_CSCALE] = 1.0
    st[S_USERS_E] = math.exp(-kk * (t0 - fs[F_USERS_ANCHOR_T])) if anchor > 0.0 else 1.0
    if k.iv[I_M_ANCHOR] > 0:
        st[S_MKT] = theta[P_ENT_MKT] * math.exp(-(r0 * (ta - t0) + cq * (ta * ta - t0 * t0)))
        st[S_MKT_R] = math.exp(r0 * h + cq * (2.0 * t0 * h + h * h))
    st[S_AD] = theta[P_AD_MKT] * math.exp(lad * (t0 - 0.5))
    st[S_RND] = theta[P_RND0] / 12.0 * math.exp(lrnd * (t0 - 0.5))
    st[S_SGA] = theta[P_SGA0] / 12.0 * math.exp(lsga * (t0 - 0.5))
    hist[:] = 0.0
    sbuf[:, :] = 0.0


@njit
def log_momentum(revenue: float, base: float, span: int, reference: float) -> float:
    """Log of revenue momentum relative to its reference, clipped to [log 0.1, log 10].

    Momentum is revenue growth over the last 12 months (annualised over the months
    available in the first year): ``(revenue / base) ** (12 / span) / reference``. Unknown
    growth (no history, or no revenue a year ago) is neutral: 0.
    """
    if span <= 0 or base <= 0.0:
        return 0.0
    if revenue <= 0.0:
        return LOG_MOM_LO
    x = 12.0 / span * math.log(revenue / base) - math.log(reference)
    return min(max(x, LOG_MOM_LO), LOG_MOM_HI)


@njit
def step(m0, m1, k, theta, pc, traj, st, hist, sbuf, eps, rows):
    """Advance one path through months ``m0 .. m1 - 1``, one monthly step at a time.

    The fast kernel calls it once per path with every month's shocks (``m0 = 0``,
    ``m1 = n_months``); the test harness calls it one month at a time (``m1 = m0 + 1``) with
    fixed shocks. The loop over months is inside the function because numba increments and
    decrements the reference count of every array argument on each call: with a call per
    month, those atomic operations cost more than the month's arithmetic.

    Parameters
    ----------
    m0, m1 : int
        First month and one past the last month, indices on the calendar grid.
    k : KernelInputs
        Packed inputs (:func:`pack`).
    theta, pc : ndarray
        The path's drawn parameters (``P_*``) and derived constants (``C_*``).
    traj : ndarray of shape (2 + n_strategic, n_months)
        The path's contract schedule (:func:`init_path`): compute payments before
        renegotiation, GW online, and GW online under each strategic tranche's counterparties.
    st, hist, sbuf : ndarray
        Path state, updated in place (:func:`init_path`).
    eps : ndarray of shape (n_months, N_EPS)
        Standard normal shocks per month (all zero for the median path).
    rows : ndarray of shape (n_months, N_LINES)
        Output: ``rows[m]`` gets month ``m``'s lines (``L_*``), $bn per month for flows.
    """
    fs, iv, mon, ld, reg_thr, reg, coni = k.fs, k.iv, k.mon, k.load, k.reg_thr, k.reg, k.coni
    stf, sti = k.stf, k.sti
    nl = iv[I_PAY_LAG] + 1
    for m in range(m0, m1):
        t = mon[M_T, m]
        # Sentiment factor: AR(1) with stationary sd 1, started from its stationary law.
        if m == 0:
            f = eps[m, E_SENT]
        else:
            f = fs[F_SENT_RHO] * st[S_SENT] + fs[F_SENT_C] * eps[m, E_SENT]
        st[S_SENT] = f
        z_ent = ld[0, 0] * f + ld[1, 0] * eps[m, E_ENT]
        z_users = ld[0, 1] * f + ld[1, 1] * eps[m, E_USERS]
        z_pw = ld[0, 2] * f + ld[1, 2] * eps[m, E_PRICE_WAR]
        z_reg = ld[0, 3] * f + ld[1, 3] * eps[m, E_REGIME]
        z_round = ld[0, 4] * f + ld[1, 4] * eps[m, E_ROUND]

        # Market regime: move to the first j whose threshold the shock exceeds (good sentiment
        # pulls towards boom, state 0); thresholds are -Phi^-1 of the cumulative transition row.
        r = int(st[S_REGIME])
        nxt = 2
        for j in range(3):
            if z_reg > reg_thr[r, j]:
                nxt = j
                break
        st[S_REGIME] = nxt
        r = nxt

        # --- revenue -------------------------------------------------------------------------
        st[S_USERS_DEV] = fs[F_USERS_RHO] * st[S_USERS_DEV] + fs[F_USERS_C] * z_users
        e = st[S_USERS_E]
        st[S_USERS_E] = e * pc[C_USERS_Q]
        users = theta[P_USERS_CEIL] / (1.0 + pc[C_USERS_A] * e) * math.exp(st[S_USERS_DEV])

        st[S_CONV_DEV] = fs[F_CONV_RHO] * st[S_CONV_DEV] + fs[F_CONV_C] * eps[m, E_CONV]
        conv = 1.0 / (1.0 + math.exp(-(pc[C_X0] + pc[C_DX] * mon[M_W_CONV, m] + st[S_CONV_DEV])))

        if z_pw < pc[C_PW_Z]:
            st[S_PRICE_JUMP] *= 1.0 - theta[P_PW_CUT]
            st[S_N_PRICE_WARS] += 1.0
        price = theta[P_PRICE] * mon[M_PRICE, m] * st[S_PRICE_JUMP]
        consumer = users * conv * price  # bn users x share x $/month = $bn/month

        st[S_ENT_G] = fs[F_ENT_A] * st[S_ENT_G] + fs[F_ENT_C] * z_ent
        st[S_ENT_LVL] += st[S_ENT_G] / 12.0
        # The market is pinned at the anchor: log M(t) = log M_A - int_t^tA r(s) ds, r linear.
        m_anchor = iv[I_M_ANCHOR]
        if m < m_anchor:
            market = st[S_MKT]
            st[S_MKT] = market * st[S_MKT_R]
            st[S_MKT_R] *= pc[C_ENT_Q]
        else:
            if m == m_anchor:
                lg = pc[C_ENT_LG_AFTER] * (t - fs[F_ENT_ANCHOR_T])
                st[S_MKT] = theta[P_ENT_MKT] * math.exp(lg)
            market = st[S_MKT]
            st[S_MKT] = market * pc[C_ENT_AFTER_Q]
        share = theta[P_ENT_SHARE0] + (theta[P_ENT_SHARE1] - theta[P_ENT_SHARE0]) * mon[M_W_ENT, m]
        enterprise = market / 12.0 * share * math.exp(st[S_ENT_LVL])

        ad_market = st[S_AD]
        st[S_AD] = ad_market * pc[C_AD_Q]
        oai = theta[P_OAI_SHARE0] + (theta[P_OAI_SHARE1] - theta[P_OAI_SHARE0]) * mon[M_W_OAI, m]
        ads = ad_market / 12.0 * theta[P_LLM_SHARE] * mon[M_W_LLM, m] * oai

        revenue = consumer + enterprise + ads

        # --- costs ---------------------------------------------------------------------------
        rev_share = (theta[P_MS0] + (theta[P_MS1] - theta[P_MS0]) * mon[M_W_MS, m]) * revenue

        # contracts: this month's payments and GW at full terms come from the path's
        # schedule (init_path); renegotiation scales the payments
        compute = traj[0, m] * st[S_CSCALE]
        gw = traj[1, m]
        ns = sbuf.shape[1]
        st[S_MAX_GW] = max(st[S_MAX_GW], gw)
        for s in range(ns):
            sbuf[1, s] = max(sbuf[1, s], traj[2 + s, m])

        rnd_people = st[S_RND]
        st[S_RND] = rnd_people * pc[C_RND_Q]
        sga_fixed = st[S_SGA]
        st[S_SGA] = sga_fixed * pc[C_SGA_Q]
        cos = theta[P_INFER] * compute + theta[P_COGS_PCT] * revenue
        rnd = (1.0 - theta[P_INFER]) * compute + rnd_people
        sga = sga_fixed + theta[P_SGA_PCT] * revenue
        op_income = revenue - cos - rnd - sga - rev_share
        sbc_share = theta[P_SBC0] + (theta[P_SBC1] - theta[P_SBC0]) * mon[M_W_SBC, m]
        stock_pay = sbc_share * (rnd_people + sga_fixed)

        # Compute is paid pay_lag months after it is expensed, less the vendor-financed share;
        # before month 0 the expense is taken to equal month 0's (steady payables at the start).
        # ring slot of month m is m % nl, kept in the state (no integer division per month)
        if m == 0:
            slot = 0
            for i in range(nl):
                hist[15 + i] = compute
        else:
            slot = int(st[S_LAG_SLOT]) + 1
            if slot == nl:
                slot = 0
            hist[15 + slot] = compute
        st[S_LAG_SLOT] = slot
        paid = hist[15 + (slot + 1 if slot + 1 < nl else 0)] * pc[C_VENDOR_KEEP]
        wc = compute - paid
        fcf = op_income + stock_pay + wc
        st[S_CUM_FCF] += fcf
        hist[12 + m % 3] = fcf
        j12 = m % 12
        rev_year_ago = hist[j12]  # revenue 12 months ago once m >= 12
        hist[j12] = revenue

        rows[m, L_REVENUE] = revenue
        rows[m, L_CONSUMER] = consumer
        rows[m, L_ENTERPRISE] = enterprise
        rows[m, L_ADS] = ads
        rows[m, L_COST_OF_SALES] = cos
        rows[m, L_RND] = rnd
        rows[m, L_SGA] = sga
        rows[m, L_REVENUE_SHARE] = rev_share
        rows[m, L_OPERATING_INCOME] = op_income
        rows[m, L_COMPUTE] = compute
        rows[m, L_STOCK_PAY] = stock_pay
        rows[m, L_WORKING_CAPITAL] = wc
        rows[m, L_FCF] = fcf
        rows[m, L_CUM_FCF] = st[S_CUM_FCF]
        rows[m, L_USERS] = users
        rows[m, L_CONVERSION] = conv
        rows[m, L_PRICE] = price
        rows[m, L_GW] = gw
        rows[m, L_REGIME] = r
        for i in range(L_INTEREST, L_FINANCING + 1):
            rows[m, i] = 0.0

        if m < iv[I_CASH_START]:
            # History before the cash anchor: balances are back-filled after the path.
            continue

        # --- financing -----------------------------------------------------------------------
        buffer = fs[F_BUFFER]
        arr = 12.0 * revenue
        interest = fs[F_CASH_YIELD_M] * max(st[S_CASH], 0.0) - fs[F_DEBT_RATE_M] * st[S_DEBT]
        cash = st[S_CASH] + fcf + interest
        shadow = st[S_SHADOW] + fcf

        strategic = 0.0
        shadow_strategic = 0.0
        for s in range(ns):
            if m < sti[SI_START, s] or m > sti[SI_LAPSE, s]:
                continue
            due = 0.0
            cond = sti[SI_COND, s]
            if cond == 0:
                due = stf[SF_AMOUNT, s] - sbuf[0, s]
            elif cond == 1:
                due = min(stf[SF_AMOUNT, s], stf[SF_PER_GW, s] * sbuf[1, s]) - sbuf[0, s]
            elif st[S_IPO_DONE] > 0.0:
                due = stf[SF_AMOUNT, s] - sbuf[0, s]
            if due > 0.0:
                sbuf[0, s] += due
                strategic += due
                if cond != 2:
                    shadow_strategic += due
        cash += strategic
        shadow += shadow_strategic

        burn = -(hist[12] + hist[13] + hist[14]) / 3.0
        equity = 0.0
        ipo = 0.0
        fin_on = iv[I_FIN_ON] != 0
        if fin_on:
            # A round attempted in month a with lag L closes (or fails) in month a + L.
            if st[S_ROUND_CD] > 0.0:
                st[S_ROUND_CD] -= 1.0
                if st[S_ROUND_CD] <= 0.0:
                    equity = st[S_ROUND_SIZE]
                    if equity > 0.0:
                        st[S_N_ROUNDS] += 1.0
                    st[S_ROUND_CD] = -1.0
            liquid = cash + equity + st[S_UNDRAWN] - buffer
            runway = liquid / burn if burn > 0.0 else INF_RUNWAY
            if st[S_ROUND_CD] < 0.0 and runway < fs[F_FIN_TRIGGER]:
                st[S_ATTEMPTS] += 1.0
                if m >= 12:
                    lm = log_momentum(revenue, rev_year_ago, 12, fs[F_FIN_MOM_REF])
                else:
                    lm = log_momentum(revenue, hist[0], m, fs[F_FIN_MOM_REF])
                mom = math.exp(fs[F_FIN_MOM_EL] * lm)
                p_close = min(reg[R_CLOSE, r] * mom, 1.0)
                size = 0.0
                if phi(-z_round) < p_close:
                    sig = fs[F_FIN_SIZE_SIGMA]
                    noise = 1.0
                    if iv[I_STOCHASTIC] != 0:
                        noise = math.exp(sig * eps[m, E_ROUND_SIZE] - 0.5 * sig * sig)
                    size = fs[F_FIN_MONTHS_BURN] * max(burn, 0.0) * reg[R_SIZE, r] * mom * noise
                    valuation = arr * reg[R_VAL, r] * mom
                    size = min(
                        max(size, fs[F_FIN_MIN]), fs[F_FIN_MAX], fs[F_FIN_MAX_DIL] * valuation
                    )
                if iv[I_FIN_LAG] == 0:
                    equity += size
                    if size > 0.0:
                        st[S_N_ROUNDS] += 1.0
                else:
                    st[S_ROUND_SIZE] = size
                    st[S_ROUND_CD] = iv[I_FIN_LAG]
            if st[S_IPO_DONE] == 0.0 and m >= iv[I_IPO_EARLIEST] and arr >= fs[F_IPO_MIN_ARR]:
                if eps[m, E_IPO] > reg[R_IPO_THR, r]:
                    ipo = fs[F_IPO_SIZE]
                    st[S_IPO_DONE] = 1.0
                    st[S_IPO_MONTH] = m
        cash += equity + ipo

        # Facilities are drawn, then new debt raised (not in a winter), to protect the buffer.
        facility = 0.0
        new_debt = 0.0
        if cash < buffer and st[S_UNDRAWN] > 0.0:
            facility = min(st[S_UNDRAWN], buffer - cash)
            st[S_UNDRAWN] -= facility
        cash += facility
        if fin_on and cash < buffer and r != 2:
            room = fs[F_DEBT_X_ARR] * arr - st[S_DEBT] - facility
            if room > 0.0:
                new_debt = min(room, buffer - cash)
        cash += new_debt
        st[S_DEBT] += facility + new_debt

        # Distress: renegotiate a share of what is still owed under every compute contract.
        liquid = cash + st[S_UNDRAWN] - buffer
        runway = liquid / burn if burn > 0.0 else INF_RUNWAY
        if iv[I_RENEG_ON] != 0 and st[S_RENEG_N] < iv[I_RENEG_MAX] and runway < fs[F_RENEG_TRIGGER]:
            st[S_CSCALE] *= 1.0 - fs[F_RENEG_SHARE] * (1.0 - fs[F_RENEG_COST])
            st[S_RENEG_N] += 1.0

        if cash < buffer and st[S_INSOLVENT] < 0.0:
            st[S_INSOLVENT] = m
        st[S_MIN_CASH] = min(st[S_MIN_CASH], cash)
        st[S_GAP] = max(st[S_GAP], buffer - shadow)
        st[S_CASH] = cash
        st[S_SHADOW] = shadow
        st[S_RAISED_EQUITY] += equity
        st[S_RAISED_DEBT] += new_debt
        st[S_RAISED_IPO] += ipo
        st[S_RAISED_STRATEGIC] += strategic
        st[S_RAISED_FACILITY] += facility

        rows[m, L_INTEREST] = interest
        rows[m, L_EQUITY] = equity
        rows[m, L_DEBT_RAISED] = new_debt
        rows[m, L_IPO] = ipo
        rows[m, L_STRATEGIC] = strategic
        rows[m, L_FACILITY] = facility
        rows[m, L_FINANCING] = interest + equity + new_debt + ipo + strategic + facility
        rows[m, L_CASH] = cash
        rows[m, L_SHADOW] = shadow
        rows[m, L_DEBT] = st[S_DEBT]
        rows[m, L_FUNDING_GAP] = st[S_GAP]


@njit_inline
def backfill_history(k, rows) -> None:
    """Balances before the cash anchor, from the anchor backwards with no financing."""
    cs = k.iv[I_CASH_START]
    cash0 = k.fs[F_CASH0]
    for m in range(cs - 1, -1, -1):
        nxt = rows[m + 1]
        if m == cs - 1:
            rows[m, L_CASH] = cash0
            rows[m, L_SHADOW] = cash0 + k.fs[F_FACILITIES]
        else:
            rows[m, L_CASH] = nxt[L_CASH] - nxt[L_FCF]
            rows[m, L_SHADOW] = nxt[L_SHADOW] - nxt[L_FCF]
        rows[m, L_DEBT] = 0.0
        rows[m, L_FUNDING_GAP] = 0.0


@njit_inline
def simulate_path(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, rng, eps, rows, st, hist, sbuf):
    """Draw one path's parameters and shocks and fill ``rows`` (n_months, N_LINES).

    Draw order, from the chunk's generator: the parameters, shares online and slips
    (:func:`draw_path_params`), then ``N_EPS`` normals per month, month by month.
    """
    draw_path_params(k, rng, theta, cshare, cslip)
    init_path(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, hist, sbuf)
    n_months = k.iv[I_N_MONTHS]
    if k.iv[I_STOCHASTIC] != 0:
        for m in range(n_months):
            for i in range(N_EPS):
                eps[m, i] = rng.standard_normal()
    else:
        eps[:, :] = 0.0
    step(0, n_months, k, theta, pc, traj, st, hist, sbuf, eps, rows)
    backfill_history(k, rows)


def path_buffers(inp):
    """Fresh per-path work arrays: theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, hist, sbuf."""
    nc = inp.c_value.size
    return (
        np.empty(N_PARAMS),
        np.empty(nc),
        np.empty(nc),
        np.empty(N_CONST),
        np.empty(nc),
        np.empty(nc),
        np.empty(nc, dtype=np.int64),
        np.empty((2 + inp.s_amount.size, inp.n_months)),
        np.empty(N_STATE),
        np.empty(15 + inp.pay_lag + 1),
        np.empty((2, inp.s_amount.size)),
    )


# --- per-path outcome columns -------------------------------------------------------------
(
    O_INSOLVENT, O_MIN_CASH, O_EQUITY, O_DEBT, O_IPO, O_STRATEGIC, O_FACILITY, O_N_ROUNDS,
    O_ATTEMPTS, O_IPO_MONTH, O_RENEGOTIATED, O_PRICE_WARS, O_MAX_GW,
) = range(13)
N_OUT = 13
OUT_NAMES = (
    "insolvent_month", "min_cash", "raised_equity", "raised_debt", "raised_ipo",
    "raised_strategic", "drawn_facilities", "n_rounds", "round_attempts", "ipo_month",
    "renegotiations", "price_wars", "max_gw_online",
)


@njit_inline
def summarise_path(k, cpay, coff, st, rows, annual, out, exposure):
    """Per-path outcomes: annual lines (n_years, N_LINES), scalars (N_OUT), exposure."""
    year_idx = k.year_idx
    n_months = k.iv[I_N_MONTHS]
    # months of a year are contiguous: sum each flow over its year in a register
    m0 = 0
    while m0 < n_months:
        y = year_idx[m0]
        m1 = m0
        while m1 < n_months and year_idx[m1] == y:
            m1 += 1
        for i in range(L_CUM_FCF):  # flows (LINE_IS_FLOW) sum over the year
            acc = 0.0
            for m in range(m0, m1):
                acc += rows[m, i]
            annual[y, i] = acc
        for i in range(L_CUM_FCF, N_LINES):  # stocks take the year-end value
            annual[y, i] = rows[m1 - 1, i]
        m0 = m1
    out[O_INSOLVENT] = st[S_INSOLVENT]
    out[O_MIN_CASH] = st[S_MIN_CASH] if st[S_MIN_CASH] < BIG else st[S_CASH]
    out[O_EQUITY] = st[S_RAISED_EQUITY]
    out[O_DEBT] = st[S_RAISED_DEBT]
    out[O_IPO] = st[S_RAISED_IPO]
    out[O_STRATEGIC] = st[S_RAISED_STRATEGIC]
    out[O_FACILITY] = st[S_RAISED_FACILITY]
    out[O_N_ROUNDS] = st[S_N_ROUNDS]
    out[O_ATTEMPTS] = st[S_ATTEMPTS]
    out[O_IPO_MONTH] = st[S_IPO_MONTH]
    out[O_RENEGOTIATED] = st[S_RENEG_N]
    out[O_PRICE_WARS] = st[S_N_PRICE_WARS]
    out[O_MAX_GW] = st[S_MAX_GW]
    # Compute obligations still owed per counterparty at insolvency (or at the horizon).
    m_ref = int(st[S_INSOLVENT]) if st[S_INSOLVENT] >= 0.0 else n_months - 1
    exposure[:] = 0.0
    coni = k.coni
    cap_tail = k.cap_tail
    for c in range(cpay.size):  # payments still scheduled after m_ref, renegotiation included
        j = min(max(m_ref - coff[c] + 1, 0), coni[CI_LEN, c])
        exposure[coni[CI_CP, c]] += cap_tail[c, j] * cpay[c] * st[S_CSCALE]


@njit
def run_chunk(k, rng, n_paths, fan, annual, out, exposure, monthly):
    """Simulate ``n_paths`` paths with one generator, writing each path's outputs.

    ``fan`` (n, 3, n_months): cash, revenue and burn (-fcf) per month; ``annual``
    (n, n_years, N_LINES); ``out`` (n, N_OUT); ``exposure`` (n, n_counterparties);
    ``monthly`` (n, n_months, N_LINES) or an empty array when full traces are not kept.
    """
    nc = k.con.shape[1]
    n_months = k.iv[I_N_MONTHS]
    theta = np.empty(N_PARAMS)
    cshare = np.empty(nc)
    cslip = np.empty(nc)
    pc = np.empty(N_CONST)
    cpay = np.empty(nc)
    cgw = np.empty(nc)
    coff = np.empty(nc, dtype=np.int64)
    traj = np.zeros((2 + k.stf.shape[1], n_months))
    eps = np.zeros((n_months, N_EPS))
    rows = np.zeros((n_months, N_LINES))
    st = np.zeros(N_STATE)
    hist = np.zeros(15 + k.iv[I_PAY_LAG] + 1)
    sbuf = np.zeros((2, k.stf.shape[1]))
    keep = monthly.shape[0] > 0
    for p in range(n_paths):
        simulate_path(
            k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, rng, eps, rows, st, hist, sbuf
        )
        for m in range(n_months):
            fan[p, 0, m] = rows[m, L_CASH]
            fan[p, 1, m] = rows[m, L_REVENUE]
            fan[p, 2, m] = -rows[m, L_FCF]
        summarise_path(k, cpay, coff, st, rows, annual[p], out[p], exposure[p])
        if keep:
            monthly[p, :, :] = rows


@njit_parallel
def _run_chunks(k, rngs, offsets, fan, annual, out, exposure, monthly):
    n_chunks = offsets.size - 1
    keep = monthly.shape[0] > 0
    for ii in numba_prange(n_chunks):
        i = np.int64(ii)
        a = offsets[i]
        b = offsets[i + 1]
        mon = monthly[a:b] if keep else monthly[0:0]
        run_chunk(k, rngs[i], b - a, fan[a:b], annual[a:b], out[a:b], exposure[a:b], mon)


def run_chunks(inp, rngs, offsets, fan, annual, out, exposure, monthly) -> None:
    """Run chunk ``i`` on paths ``offsets[i]:offsets[i+1]`` with generator ``rngs[i]``, in parallel.

    ``inp`` is :class:`runway.model.Inputs` or an already packed :class:`KernelInputs`. Each
    chunk writes only its own slice, so results do not depend on the thread count.
    """
    k = inp if isinstance(inp, KernelInputs) else pack(inp)
    _run_chunks(k, rngs, offsets, fan, annual, out, exposure, monthly)
