"""The monthly accounting step and the path loop, compiled with numba.

One function, :func:`step`, advances one path by one month given that month's shocks; the
fast kernel (:func:`run_chunks`) draws the shocks from per-chunk generators and calls it,
and tests call it with fixed shocks. Equations: ``docs/model.md``. Money is $bn per month
inside the kernel; rates in configs are per year.
"""

from __future__ import annotations

import math

import numpy as np

from numba import prange as numba_prange

from runway._jit import njit, njit_parallel
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
) = range(29)
N_STATE = 29

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

BIG = 1.0e12
INF_RUNWAY = 1.0e9


@njit
def phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit
def central_value(kind: int, par: np.ndarray) -> float:
    """Central value of an encoded parameter (mean, median, midpoint, mode or p50)."""
    if kind == UNIFORM:
        return 0.5 * (par[0] + par[1])
    if kind == TRIANGULAR or kind == PERT:
        return par[1]
    return par[0]  # FIXED, NORMAL mean, LOGNORMAL median, PERCENTILES p50


@njit
def draw_value(kind: int, par: np.ndarray, lo: float, hi: float, rng) -> float:
    """One draw of an encoded parameter, clipped to ``[lo, hi]``.

    Fixed values consume no random numbers, so collapsing a distribution changes only the
    draws of the parameters after it in the same path.
    """
    if kind == FIXED:
        x = par[0]
    elif kind == NORMAL:
        x = par[0] + par[1] * rng.standard_normal()
    elif kind == LOGNORMAL:
        x = par[0] * math.exp(par[1] * rng.standard_normal())
    elif kind == UNIFORM:
        x = par[0] + (par[1] - par[0]) * rng.random()
    elif kind == TRIANGULAR:
        a, c, b = par[0], par[1], par[2]
        u = rng.random()
        if b <= a:
            x = a
        elif u < (c - a) / (b - a):
            x = a + math.sqrt(u * (b - a) * (c - a))
        else:
            x = b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    elif kind == PERT:
        a, c, b = par[0], par[1], par[2]
        if b <= a:
            x = a
        else:
            alpha = 1.0 + 4.0 * (c - a) / (b - a)
            beta = 1.0 + 4.0 * (b - c) / (b - a)
            x = a + (b - a) * rng.beta(alpha, beta)
    elif kind == PERCENTILES:
        z = rng.standard_normal()
        x = par[0] + (par[1] if z < 0.0 else par[2]) * z
    else:
        x = np.nan
    return min(max(x, lo), hi)


@njit
def draw_path_params(inp, rng, theta, cshare, cslip) -> None:
    """Fill one path's parameter vector and per-contract share online and slip."""
    for i in range(theta.size):
        if inp.stochastic:
            theta[i] = draw_value(inp.p_kind[i], inp.p_par[i], inp.p_lo[i], inp.p_hi[i], rng)
        else:
            theta[i] = central_value(inp.p_kind[i], inp.p_par[i])
    for c in range(cshare.size):
        if inp.stochastic:
            cshare[c] = draw_value(inp.share_kind[c], inp.share_par[c], 0.0, 1.0, rng)
            cslip[c] = math.floor(
                draw_value(inp.slip_kind[c], inp.slip_par[c], 0.0, 120.0, rng) + 0.5
            )
        else:
            cshare[c] = central_value(inp.share_kind[c], inp.share_par[c])
            cslip[c] = math.floor(central_value(inp.slip_kind[c], inp.slip_par[c]) + 0.5)


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


@njit
def contract_scale0(inp, theta, cshare, c: int) -> float:
    """Total value paid under contract ``c`` before any renegotiation, $bn."""
    r = theta[P_CPGW] / inp.cpgw_ref if inp.c_indexed[c] > 0.0 else 1.0
    return inp.c_value[c] * cshare[c] * r


@njit
def remaining_owed(inp, theta, cshare, cslip, cscale, c: int, m: int) -> float:
    """Payments still scheduled under contract ``c`` after month ``m`` (incl. past the horizon)."""
    k0 = m - inp.c_start[c] - int(cslip[c]) + 1
    n = inp.c_len[c]
    s = 0.0
    for k in range(max(k0, 0), n):
        s += capacity_fraction(inp.c_profile[c], k, n, inp.c_ramp[c])
    return s / inp.c_norm[c] * contract_scale0(inp, theta, cshare, c) * cscale[c]


@njit
def init_state(inp, st, rev_hist, fcf_hist, comp_hist, cscale, spaid) -> None:
    """State before month 0."""
    st[:] = 0.0
    st[S_PRICE_JUMP] = 1.0
    st[S_REGIME] = inp.reg_initial
    st[S_CASH] = inp.cash0
    st[S_SHADOW] = inp.cash0 + inp.facilities
    st[S_UNDRAWN] = inp.facilities
    st[S_ROUND_CD] = -1.0
    st[S_INSOLVENT] = -1.0
    st[S_IPO_MONTH] = -1.0
    st[S_MIN_CASH] = BIG
    rev_hist[:] = 0.0
    fcf_hist[:] = 0.0
    comp_hist[:] = 0.0
    cscale[:] = 1.0
    spaid[:] = 0.0


@njit
def step(m, inp, theta, cshare, cslip, st, rev_hist, fcf_hist, comp_hist, cscale, spaid, eps, row):
    """Advance one path by month ``m``.

    Parameters
    ----------
    m : int
        Month index on the calendar grid.
    inp : Inputs
        Kernel inputs (:func:`runway.model.build_inputs`).
    theta, cshare, cslip : ndarray
        The path's drawn parameters, per-contract share online and slip (months).
    st, rev_hist, fcf_hist, comp_hist, cscale, spaid : ndarray
        Path state, updated in place: scalars (``S_*``), the last 12 revenues, the last
        3 free cash flows, the last compute expenses (payment lag), per-contract
        renegotiation scale, strategic money paid so far.
    eps : ndarray of shape (N_EPS,)
        This month's standard normal shocks (all zero for the median path).
    row : ndarray of shape (N_LINES,)
        Output: this month's lines (``L_*``), $bn per month for flows.
    """
    t = inp.t[m]
    load = inp.load
    # Sentiment factor (AR(1), stationary sd 1) and the drivers' correlated shocks.
    rho = inp.sent_rho
    st[S_SENT] = rho * st[S_SENT] + math.sqrt(1.0 - rho * rho) * eps[E_SENT]
    f = st[S_SENT]
    z_ent = load[0] * f + math.sqrt(1.0 - load[0] * load[0]) * eps[E_ENT]
    z_users = load[1] * f + math.sqrt(1.0 - load[1] * load[1]) * eps[E_USERS]
    z_pw = load[2] * f + math.sqrt(1.0 - load[2] * load[2]) * eps[E_PRICE_WAR]
    z_reg = load[3] * f + math.sqrt(1.0 - load[3] * load[3]) * eps[E_REGIME]
    z_round = load[4] * f + math.sqrt(1.0 - load[4] * load[4]) * eps[E_ROUND]

    # Market regime: good sentiment pulls towards boom (state 0).
    r = int(st[S_REGIME])
    u = phi(-z_reg)
    nxt = 2
    for j in range(3):
        if u < inp.reg_cum[r, j]:
            nxt = j
            break
    st[S_REGIME] = nxt
    r = nxt

    # --- revenue -------------------------------------------------------------------------
    st[S_USERS_DEV] = inp.users_rho * st[S_USERS_DEV] + inp.users_vol * math.sqrt(
        1.0 - inp.users_rho * inp.users_rho
    ) * z_users
    ceil = theta[P_USERS_CEIL]
    anchor = min(theta[P_USERS_ANCHOR], 0.999 * ceil)
    users = ceil / (1.0 + (ceil / anchor - 1.0) * math.exp(-theta[P_USERS_K] * (t - inp.users_anchor_t)))
    users *= math.exp(st[S_USERS_DEV])

    st[S_CONV_DEV] = inp.conv_rho * st[S_CONV_DEV] + inp.conv_vol * math.sqrt(
        1.0 - inp.conv_rho * inp.conv_rho
    ) * eps[E_CONV]
    x0 = math.log(theta[P_CONV_START] / (1.0 - theta[P_CONV_START]))
    x1 = math.log(theta[P_CONV_TARGET] / (1.0 - theta[P_CONV_TARGET]))
    w = min(max((t - inp.conv_start_t) / (inp.conv_target_t - inp.conv_start_t), 0.0), 1.0)
    conv = 1.0 / (1.0 + math.exp(-(x0 + (x1 - x0) * w + st[S_CONV_DEV])))

    lam = 1.0 - math.exp(-theta[P_PW_RATE] / 12.0)
    if phi(z_pw) < lam:
        st[S_PRICE_JUMP] *= 1.0 - theta[P_PW_CUT]
        st[S_N_PRICE_WARS] += 1.0
    price = theta[P_PRICE] * inp.price_mult[m] * st[S_PRICE_JUMP]
    consumer = users * conv * price  # bn users x share x $/month = $bn/month

    a = inp.ent_vol * math.sqrt(1.0 - inp.ent_a * inp.ent_a)
    st[S_ENT_G] = inp.ent_a * st[S_ENT_G] + a * z_ent
    st[S_ENT_LVL] += st[S_ENT_G] / 12.0
    # Log growth rate falls linearly from r0 at the start to r1 at the anchor year's middle
    # (tA); the market is pinned at the anchor: log M(t) = log M_A - int_t^tA r(s) ds.
    ta = inp.ent_anchor_t
    r0 = math.log1p(theta[P_ENT_G0])
    r1 = math.log1p(theta[P_ENT_G1])
    if t < ta:
        integral = r0 * (ta - t) + (r1 - r0) / (2.0 * ta) * (ta * ta - t * t)
        market = theta[P_ENT_MKT] * math.exp(-integral)
    else:
        market = theta[P_ENT_MKT] * math.exp(math.log1p(theta[P_ENT_G_AFTER]) * (t - ta))
    ws = min(max(t / inp.ent_anchor_t, 0.0), 1.0) if inp.ent_anchor_t > 0.0 else 1.0
    share = theta[P_ENT_SHARE0] + (theta[P_ENT_SHARE1] - theta[P_ENT_SHARE0]) * ws
    enterprise = market / 12.0 * share * math.exp(st[S_ENT_LVL])

    ad_market = theta[P_AD_MKT] * math.exp(math.log1p(theta[P_AD_G]) * (t - 0.5))
    span = inp.llm_target_t - inp.llm_start_t
    wl = min(max((t - inp.llm_start_t) / span, 0.0), 1.0)
    wo = min(max(t / inp.llm_target_t, 0.0), 1.0) if inp.llm_target_t > 0.0 else 1.0
    oai = theta[P_OAI_SHARE0] + (theta[P_OAI_SHARE1] - theta[P_OAI_SHARE0]) * wo
    ads = ad_market / 12.0 * theta[P_LLM_SHARE] * wl * oai

    revenue = consumer + enterprise + ads

    # --- costs ---------------------------------------------------------------------------
    wm = min(max(t / inp.ms_end_t, 0.0), 1.0) if inp.ms_end_t > 0.0 else 1.0
    rev_share = (theta[P_MS0] + (theta[P_MS1] - theta[P_MS0]) * wm) * revenue

    compute = 0.0
    gw = 0.0
    for c in range(inp.c_value.size):
        k = m - inp.c_start[c] - int(cslip[c])
        cf = capacity_fraction(inp.c_profile[c], k, inp.c_len[c], inp.c_ramp[c])
        if cf > 0.0:
            compute += cf / inp.c_norm[c] * contract_scale0(inp, theta, cshare, c) * cscale[c]
            gw += cf * inp.c_gw[c] * cshare[c]
    st[S_MAX_GW] = max(st[S_MAX_GW], gw)

    ty = t - 0.5
    rnd_people = theta[P_RND0] / 12.0 * math.exp(math.log1p(theta[P_RND_G]) * ty)
    sga_fixed = theta[P_SGA0] / 12.0 * math.exp(math.log1p(theta[P_SGA_G]) * ty)
    cos = theta[P_INFER] * compute + theta[P_COGS_PCT] * revenue
    rnd = (1.0 - theta[P_INFER]) * compute + rnd_people
    sga = sga_fixed + theta[P_SGA_PCT] * revenue
    op_income = revenue - cos - rnd - sga - rev_share
    wt = min(max(t / inp.t[inp.n_months - 1], 0.0), 1.0)
    sbc_share = theta[P_SBC0] + (theta[P_SBC1] - theta[P_SBC0]) * wt
    stock_pay = sbc_share * (rnd_people + sga_fixed)

    # Compute is paid pay_lag months after it is expensed, less the vendor-financed share;
    # before month 0 the expense is taken to equal month 0's (steady payables at the start).
    lag = inp.pay_lag
    if m == 0:
        for i in range(lag + 1):
            comp_hist[i] = compute
    else:
        for i in range(lag, 0, -1):
            comp_hist[i] = comp_hist[i - 1]
        comp_hist[0] = compute
    paid = comp_hist[lag] * (1.0 - theta[P_VENDOR])
    wc = compute - paid
    fcf = op_income + stock_pay + wc
    st[S_CUM_FCF] += fcf

    for i in range(2, 0, -1):
        fcf_hist[i] = fcf_hist[i - 1]
    fcf_hist[0] = fcf
    rev_prev = rev_hist[11] if m >= 12 else rev_hist[m] if m > 0 else revenue
    for i in range(11, 0, -1):
        rev_hist[i] = rev_hist[i - 1]
    rev_hist[0] = revenue

    row[L_REVENUE] = revenue
    row[L_CONSUMER] = consumer
    row[L_ENTERPRISE] = enterprise
    row[L_ADS] = ads
    row[L_COST_OF_SALES] = cos
    row[L_RND] = rnd
    row[L_SGA] = sga
    row[L_REVENUE_SHARE] = rev_share
    row[L_OPERATING_INCOME] = op_income
    row[L_COMPUTE] = compute
    row[L_STOCK_PAY] = stock_pay
    row[L_WORKING_CAPITAL] = wc
    row[L_FCF] = fcf
    row[L_CUM_FCF] = st[S_CUM_FCF]
    row[L_USERS] = users
    row[L_CONVERSION] = conv
    row[L_PRICE] = price
    row[L_GW] = gw
    row[L_REGIME] = r
    for i in range(L_INTEREST, L_FINANCING + 1):
        row[i] = 0.0

    if m < inp.cash_start:
        # History before the cash anchor: balances are back-filled after the path.
        return

    # --- financing -----------------------------------------------------------------------
    arr = 12.0 * revenue
    interest = inp.cash_yield_m * max(st[S_CASH], 0.0) - inp.debt_rate_m * st[S_DEBT]
    cash = st[S_CASH] + fcf + interest
    shadow = st[S_SHADOW] + fcf

    strategic = 0.0
    shadow_strategic = 0.0
    for s in range(inp.s_amount.size):
        if m < inp.s_start[s] or m > inp.s_lapse[s]:
            continue
        due = 0.0
        cond = inp.s_cond[s]
        if cond == 0:
            due = inp.s_amount[s] - spaid[s]
        elif cond == 1:
            due = min(inp.s_amount[s], inp.s_per_gw[s] * st[S_MAX_GW]) - spaid[s]
        elif st[S_IPO_DONE] > 0.0:
            due = inp.s_amount[s] - spaid[s]
        if due > 0.0:
            spaid[s] += due
            strategic += due
            if cond != 2:
                shadow_strategic += due
    cash += strategic
    shadow += shadow_strategic

    burn = -(fcf_hist[0] + fcf_hist[1] + fcf_hist[2]) / 3.0
    equity = 0.0
    ipo = 0.0
    if inp.fin_on:
        momentum = revenue / rev_prev if rev_prev > 0.0 else 1.0
        momentum = min(max(momentum / inp.fin_mom_ref, 0.1), 10.0)
        mom = math.exp(inp.fin_mom_el * math.log(momentum))
        if st[S_ROUND_CD] >= 0.0:
            if st[S_ROUND_CD] <= 0.0:
                equity = st[S_ROUND_SIZE]
                if equity > 0.0:
                    st[S_N_ROUNDS] += 1.0
                st[S_ROUND_CD] = -1.0
            else:
                st[S_ROUND_CD] -= 1.0
        liquid = cash + equity + st[S_UNDRAWN] - inp.buffer
        runway = liquid / burn if burn > 0.0 else INF_RUNWAY
        if st[S_ROUND_CD] < 0.0 and runway < inp.fin_trigger:
            st[S_ATTEMPTS] += 1.0
            p_close = min(inp.reg_close[r] * mom, 1.0)
            size = 0.0
            if phi(-z_round) < p_close:
                sig = inp.fin_size_sigma
                noise = math.exp(sig * eps[E_ROUND_SIZE] - 0.5 * sig * sig) if inp.stochastic else 1.0
                size = inp.fin_months_burn * max(burn, 0.0) * inp.reg_size[r] * mom * noise
                valuation = arr * inp.reg_val[r] * mom
                size = min(max(size, inp.fin_min), inp.fin_max, inp.fin_max_dil * valuation)
            st[S_ROUND_SIZE] = size
            st[S_ROUND_CD] = inp.fin_lag
            if inp.fin_lag == 0:
                equity += size
                if size > 0.0:
                    st[S_N_ROUNDS] += 1.0
                st[S_ROUND_CD] = -1.0
        if st[S_IPO_DONE] == 0.0 and m >= inp.ipo_earliest and arr >= inp.ipo_min_arr:
            if phi(-eps[E_IPO]) < inp.reg_ipo[r]:
                ipo = inp.ipo_size
                st[S_IPO_DONE] = 1.0
                st[S_IPO_MONTH] = m
    cash += equity + ipo

    # Facilities are drawn, then new debt raised (not in a winter), to protect the buffer.
    facility = 0.0
    new_debt = 0.0
    if cash < inp.buffer and st[S_UNDRAWN] > 0.0:
        facility = min(st[S_UNDRAWN], inp.buffer - cash)
        st[S_UNDRAWN] -= facility
    cash += facility
    if inp.fin_on and cash < inp.buffer and r != 2:
        room = inp.debt_x_arr * arr - st[S_DEBT] - facility
        if room > 0.0:
            new_debt = min(room, inp.buffer - cash)
    cash += new_debt
    st[S_DEBT] += facility + new_debt

    # Distress: renegotiate a share of what is still owed under every compute contract.
    liquid = cash + st[S_UNDRAWN] - inp.buffer
    runway = liquid / burn if burn > 0.0 else INF_RUNWAY
    if inp.reneg_on and st[S_RENEG_N] < inp.reneg_max and runway < inp.reneg_trigger:
        cut = 1.0 - inp.reneg_share * (1.0 - inp.reneg_cost)
        for c in range(cscale.size):
            cscale[c] *= cut
        st[S_RENEG_N] += 1.0

    if cash < inp.buffer and st[S_INSOLVENT] < 0.0:
        st[S_INSOLVENT] = m
    st[S_MIN_CASH] = min(st[S_MIN_CASH], cash)
    st[S_GAP] = max(st[S_GAP], inp.buffer - shadow)
    st[S_CASH] = cash
    st[S_SHADOW] = shadow
    st[S_RAISED_EQUITY] += equity
    st[S_RAISED_DEBT] += new_debt
    st[S_RAISED_IPO] += ipo
    st[S_RAISED_STRATEGIC] += strategic
    st[S_RAISED_FACILITY] += facility

    row[L_INTEREST] = interest
    row[L_EQUITY] = equity
    row[L_DEBT_RAISED] = new_debt
    row[L_IPO] = ipo
    row[L_STRATEGIC] = strategic
    row[L_FACILITY] = facility
    row[L_FINANCING] = interest + equity + new_debt + ipo + strategic + facility
    row[L_CASH] = cash
    row[L_SHADOW] = shadow
    row[L_DEBT] = st[S_DEBT]
    row[L_FUNDING_GAP] = st[S_GAP]


@njit
def backfill_history(inp, rows) -> None:
    """Balances before the cash anchor, from the anchor backwards with no financing."""
    for m in range(inp.cash_start - 1, -1, -1):
        nxt = rows[m + 1]
        if m + 1 >= inp.cash_start:
            rows[m, L_CASH] = inp.cash0 if m == inp.cash_start - 1 else nxt[L_CASH] - nxt[L_FCF]
            rows[m, L_SHADOW] = inp.cash0 + inp.facilities if m == inp.cash_start - 1 else 0.0
        else:
            rows[m, L_CASH] = nxt[L_CASH] - nxt[L_FCF]
            rows[m, L_SHADOW] = nxt[L_SHADOW] - nxt[L_FCF]
        rows[m, L_DEBT] = 0.0
        rows[m, L_FUNDING_GAP] = 0.0


@njit
def simulate_path(inp, theta, cshare, cslip, rng, eps, rows, st, rev_hist, fcf_hist, comp_hist, cscale, spaid):
    """Draw one path's parameters and shocks and fill ``rows`` (n_months, N_LINES)."""
    draw_path_params(inp, rng, theta, cshare, cslip)
    init_state(inp, st, rev_hist, fcf_hist, comp_hist, cscale, spaid)
    for m in range(inp.n_months):
        if inp.stochastic:
            for i in range(N_EPS):
                eps[i] = rng.standard_normal()
        else:
            eps[:] = 0.0
        step(m, inp, theta, cshare, cslip, st, rev_hist, fcf_hist, comp_hist, cscale, spaid, eps, rows[m])
    backfill_history(inp, rows)


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


@njit
def summarise_path(inp, theta, cshare, cslip, st, cscale, rows, annual, out, exposure):
    """Per-path outcomes: annual lines (n_years, N_LINES), scalars (N_OUT), exposure."""
    annual[:, :] = 0.0
    for m in range(inp.n_months):
        y = inp.year_idx[m]
        for i in range(N_LINES):
            if LINE_IS_FLOW[i]:
                annual[y, i] += rows[m, i]
            else:
                annual[y, i] = rows[m, i]
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
    m_ref = int(st[S_INSOLVENT]) if st[S_INSOLVENT] >= 0.0 else inp.n_months - 1
    exposure[:] = 0.0
    for c in range(cscale.size):
        exposure[inp.c_cp[c]] += remaining_owed(inp, theta, cshare, cslip, cscale, c, m_ref)


@njit
def run_chunk(inp, rng, n_paths, fan, annual, out, exposure, monthly):
    """Simulate ``n_paths`` paths with one generator, writing each path's outputs.

    ``fan`` (n, 3, n_months): cash, revenue and burn (-fcf) per month; ``annual``
    (n, n_years, N_LINES); ``out`` (n, N_OUT); ``exposure`` (n, n_counterparties);
    ``monthly`` (n, n_months, N_LINES) or an empty array when full traces are not kept.
    """
    nc = inp.c_value.size
    theta = np.empty(N_PARAMS)
    cshare = np.empty(nc)
    cslip = np.empty(nc)
    eps = np.zeros(N_EPS)
    rows = np.zeros((inp.n_months, N_LINES))
    st = np.zeros(N_STATE)
    rev_hist = np.zeros(12)
    fcf_hist = np.zeros(3)
    comp_hist = np.zeros(inp.pay_lag + 1)
    cscale = np.ones(nc)
    spaid = np.zeros(inp.s_amount.size)
    keep = monthly.shape[0] > 0
    for p in range(n_paths):
        simulate_path(inp, theta, cshare, cslip, rng, eps, rows, st, rev_hist, fcf_hist, comp_hist, cscale, spaid)
        for m in range(inp.n_months):
            fan[p, 0, m] = rows[m, L_CASH]
            fan[p, 1, m] = rows[m, L_REVENUE]
            fan[p, 2, m] = -rows[m, L_FCF]
        summarise_path(inp, theta, cshare, cslip, st, cscale, rows, annual[p], out[p], exposure[p])
        if keep:
            monthly[p, :, :] = rows


@njit_parallel
def run_chunks(inp, rngs, offsets, fan, annual, out, exposure, monthly):
    """Run chunk ``i`` on paths ``offsets[i]:offsets[i+1]`` with generator ``rngs[i]``, in parallel.

    Each chunk writes only its own slice, so results do not depend on the thread count.
    """
    n_chunks = offsets.size - 1
    keep = monthly.shape[0] > 0
    for ii in numba_prange(n_chunks):
        i = np.int64(ii)
        a = offsets[i]
        b = offsets[i + 1]
        mon = monthly[a:b] if keep else monthly[0:0]
        run_chunk(inp, rngs[i], b - a, fan[a:b], annual[a:b], out[a:b], exposure[a:b], mon)
