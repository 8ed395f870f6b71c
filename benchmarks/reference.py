"""A plain numpy implementation of runway's monthly step, vectorised over paths.

This is what a user would write in a notebook instead of the numba kernel
(:mod:`runway.kernel`): every state scalar becomes an array of shape ``(n_paths,)`` and the
branches become ``np.where``. With the same per-path parameters and shocks it reproduces the
kernel's monthly lines bit for bit (``tests/test_reference.py``), because it performs the same
floating-point operations in the same order, on the same elementary functions.

Elementary functions (measured on numpy 2.4 / numba 0.68.1, x86-64 with AVX-512)
-------------------------------------------------------------------------------
numba compiles ``math.exp``, ``math.log``, ``math.log1p`` and ``math.erfc`` to calls into the
C library (glibc's libm), which agree exactly with CPython's ``math`` module. numpy's own
``np.exp``, ``np.log`` and ``np.log1p`` use SIMD implementations that differ from libm by
one ulp on a few percent of inputs (about 14% for ``exp``, 17% for ``log1p``, 0.2% for
``log`` on 3M test values), and ``scipy.special.erfc`` (Cephes) differs on about 23%.
``np.sqrt`` and the arithmetic operators are correctly rounded and always agree.

So the reference has two sets of elementary functions:

- :data:`EXACT`: libm through ``np.frompyfunc(math.f)`` -- bit-identical to the kernel,
  about 20x slower per call; used by the tests.
- :data:`FAST`: ``np.exp``/``np.log``/``np.log1p`` and ``scipy.special.erfc`` -- what a
  user would write; agrees with the kernel to a few ulp per month (the paths can still part
  where a shock sits exactly on a threshold, which has probability ~0); used by the
  benchmark, so numpy is timed at its best.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.special

from runway import kernel as K
from runway.dists import FIXED, LOGNORMAL, NORMAL, PERCENTILES, PERT, TRIANGULAR, UNIFORM
from runway.kernel import (
    BIG,
    E_CONV,
    E_ENT,
    E_IPO,
    E_PRICE_WAR,
    E_REGIME,
    E_ROUND,
    E_ROUND_SIZE,
    E_SENT,
    E_USERS,
    INF_RUNWAY,
    L_ADS,
    L_CASH,
    L_COMPUTE,
    L_CONSUMER,
    L_CONVERSION,
    L_COST_OF_SALES,
    L_CUM_FCF,
    L_DEBT,
    L_DEBT_RAISED,
    L_ENTERPRISE,
    L_EQUITY,
    L_FACILITY,
    L_FCF,
    L_FINANCING,
    L_FUNDING_GAP,
    L_GW,
    L_INTEREST,
    L_IPO,
    L_OPERATING_INCOME,
    L_PRICE,
    L_REGIME,
    L_REVENUE,
    L_REVENUE_SHARE,
    L_RND,
    L_SGA,
    L_SHADOW,
    L_STOCK_PAY,
    L_STRATEGIC,
    L_USERS,
    L_WORKING_CAPITAL,
    N_EPS,
    N_LINES,
    N_STATE,
    P_AD_G,
    P_AD_MKT,
    P_COGS_PCT,
    P_CONV_START,
    P_CONV_TARGET,
    P_CPGW,
    P_ENT_G0,
    P_ENT_G1,
    P_ENT_G_AFTER,
    P_ENT_MKT,
    P_ENT_SHARE0,
    P_ENT_SHARE1,
    P_INFER,
    P_LLM_SHARE,
    P_MS0,
    P_MS1,
    P_OAI_SHARE0,
    P_OAI_SHARE1,
    P_PRICE,
    P_PW_CUT,
    P_PW_RATE,
    P_RND0,
    P_RND_G,
    P_SBC0,
    P_SBC1,
    P_SGA0,
    P_SGA_G,
    P_SGA_PCT,
    P_USERS_ANCHOR,
    P_USERS_CEIL,
    P_USERS_K,
    P_VENDOR,
    S_ATTEMPTS,
    S_CASH,
    S_CONV_DEV,
    S_CUM_FCF,
    S_DEBT,
    S_ENT_G,
    S_ENT_LVL,
    S_GAP,
    S_INSOLVENT,
    S_IPO_DONE,
    S_IPO_MONTH,
    S_MAX_GW,
    S_MIN_CASH,
    S_N_PRICE_WARS,
    S_N_ROUNDS,
    S_PRICE_JUMP,
    S_RAISED_DEBT,
    S_RAISED_EQUITY,
    S_RAISED_FACILITY,
    S_RAISED_IPO,
    S_RAISED_STRATEGIC,
    S_REGIME,
    S_RENEG_N,
    S_ROUND_CD,
    S_ROUND_SIZE,
    S_SENT,
    S_SHADOW,
    S_UNDRAWN,
    S_USERS_DEV,
)
from runway.model import Inputs
from runway.model.params import N_PARAMS


class MathLib(NamedTuple):
    """Elementwise elementary functions on float64 arrays."""

    exp: object
    log: object
    log1p: object
    erfc: object


def _libm(fn):
    uf = np.frompyfunc(fn, 1, 1)

    def f(x):
        return np.asarray(uf(x), dtype=np.float64)

    return f


EXACT = MathLib(_libm(math.exp), _libm(math.log), _libm(math.log1p), _libm(math.erfc))
"""libm via CPython's ``math``: bit-identical to the numba kernel."""
FAST = MathLib(np.exp, np.log, np.log1p, scipy.special.erfc)
"""numpy's SIMD functions and Cephes erfc: what a user would write (1-ulp differences)."""

_SQRT2 = math.sqrt(2.0)


class State(NamedTuple):
    """Path state, one row per path. Arrays are Fortran-ordered so ``a[:, i]`` is contiguous.

    ``st`` (n, N_STATE) holds the kernel's ``S_*`` scalars; ``rev_hist`` (n, 12),
    ``fcf_hist`` (n, 3), ``comp_hist`` (n, pay_lag + 1), ``cscale`` (n, n_contracts) and
    ``spaid`` (n, n_strategic) mirror the kernel's per-path buffers.
    """

    st: np.ndarray
    rev_hist: np.ndarray
    fcf_hist: np.ndarray
    comp_hist: np.ndarray
    cscale: np.ndarray
    spaid: np.ndarray


def init_state(inp: Inputs, n_paths: int) -> State:
    """State before month 0 for ``n_paths`` paths (as :func:`runway.kernel.init_state`)."""
    st = np.zeros((n_paths, N_STATE), order="F")
    st[:, S_PRICE_JUMP] = 1.0
    st[:, S_REGIME] = inp.reg_initial
    st[:, S_CASH] = inp.cash0
    st[:, S_SHADOW] = inp.cash0 + inp.facilities
    st[:, S_UNDRAWN] = inp.facilities
    st[:, S_ROUND_CD] = -1.0
    st[:, S_INSOLVENT] = -1.0
    st[:, S_IPO_MONTH] = -1.0
    st[:, S_MIN_CASH] = BIG
    return State(
        st=st,
        rev_hist=np.zeros((n_paths, 12), order="F"),
        fcf_hist=np.zeros((n_paths, 3), order="F"),
        comp_hist=np.zeros((n_paths, inp.pay_lag + 1), order="F"),
        cscale=np.ones((n_paths, inp.c_value.size), order="F"),
        spaid=np.zeros((n_paths, inp.s_amount.size), order="F"),
    )


# --- per-path parameters ----------------------------------------------------------------------


def central_params(inp: Inputs, n_paths: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every path at the central values: ``theta`` (n, N_PARAMS), ``cshare``, ``cslip`` (n, nc)."""
    theta1 = np.array([_central(int(k), p) for k, p in zip(inp.p_kind, inp.p_par, strict=True)])
    share1 = np.array(
        [_central(int(k), p) for k, p in zip(inp.share_kind, inp.share_par, strict=True)]
    )
    slip1 = np.floor(
        np.array([_central(int(k), p) for k, p in zip(inp.slip_kind, inp.slip_par, strict=True)])
        + 0.5
    )
    tile = lambda v: np.asfortranarray(np.broadcast_to(v, (n_paths, v.size)))  # noqa: E731
    return tile(theta1), tile(share1.reshape(-1)), tile(slip1.reshape(-1))


def _central(kind: int, par: np.ndarray) -> float:
    if kind == UNIFORM:
        return 0.5 * (par[0] + par[1])
    if kind in (TRIANGULAR, PERT):
        return float(par[1])
    return float(par[0])


def _draw(
    kind: int, par: np.ndarray, lo: float, hi: float, rng: np.random.Generator, n: int, lib: MathLib
) -> np.ndarray:
    """``n`` draws of one encoded parameter (same distribution as the kernel's ``draw_value``)."""
    if kind == FIXED:
        x = np.full(n, par[0])
    elif kind == NORMAL:
        x = par[0] + par[1] * rng.standard_normal(n)
    elif kind == LOGNORMAL:
        x = par[0] * lib.exp(par[1] * rng.standard_normal(n))
    elif kind == UNIFORM:
        x = par[0] + (par[1] - par[0]) * rng.random(n)
    elif kind == TRIANGULAR:
        a, c, b = par[0], par[1], par[2]
        u = rng.random(n)
        if b <= a:
            x = np.full(n, a)
        else:
            left = u < (c - a) / (b - a)
            x = np.where(
                left,
                a + np.sqrt(u * (b - a) * (c - a)),
                b - np.sqrt((1.0 - u) * (b - a) * (b - c)),
            )
    elif kind == PERT:
        a, c, b = par[0], par[1], par[2]
        if b <= a:
            x = np.full(n, a)
        else:
            alpha = 1.0 + 4.0 * (c - a) / (b - a)
            beta = 1.0 + 4.0 * (b - c) / (b - a)
            x = a + (b - a) * rng.beta(alpha, beta, n)
    elif kind == PERCENTILES:
        z = rng.standard_normal(n)
        x = par[0] + np.where(z < 0.0, par[1], par[2]) * z
    else:
        x = np.full(n, np.nan)
    return np.minimum(np.maximum(x, lo), hi)


def draw_params(
    inp: Inputs, rng: np.random.Generator, n_paths: int, lib: MathLib = FAST
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw per-path parameters with numpy, parameter by parameter over all paths.

    Same distributions as :func:`runway.kernel.draw_path_params`, different stream order
    (the kernel draws path by path), so equal in distribution, not draw for draw.
    """
    if not inp.stochastic:
        return central_params(inp, n_paths)
    nc = inp.c_value.size
    theta = np.empty((n_paths, N_PARAMS), order="F")
    cshare = np.empty((n_paths, nc), order="F")
    cslip = np.empty((n_paths, nc), order="F")
    for i in range(N_PARAMS):
        theta[:, i] = _draw(
            int(inp.p_kind[i]), inp.p_par[i], inp.p_lo[i], inp.p_hi[i], rng, n_paths, lib
        )
    for c in range(nc):
        cshare[:, c] = _draw(int(inp.share_kind[c]), inp.share_par[c], 0.0, 1.0, rng, n_paths, lib)
        cslip[:, c] = np.floor(
            _draw(int(inp.slip_kind[c]), inp.slip_par[c], 0.0, 120.0, rng, n_paths, lib) + 0.5
        )
    return theta, cshare, cslip


def draws_per_path(inp: Inputs) -> int:
    """Random numbers a path's parameters consume (fixed values none; PERT counted as one)."""
    if not inp.stochastic:
        return 0
    kinds = np.concatenate([inp.p_kind, inp.share_kind, inp.slip_kind])
    return int(np.count_nonzero(kinds != FIXED))


# --- the monthly step -----------------------------------------------------------------------


def _capacity_fraction(profile: int, k: np.ndarray, length: int, ramp: int) -> np.ndarray:
    kf = k + 1.0
    if profile == 0:
        cf = np.ones(k.shape)
    elif profile == 2:
        cf = kf / length
    else:
        cf = np.minimum(1.0, kf / ramp)
    return np.where((k < 0) | (k >= length), 0.0, cf)


def step(
    m: int,
    inp: Inputs,
    theta: np.ndarray,
    cshare: np.ndarray,
    cslip: np.ndarray,
    state: State,
    eps: np.ndarray,
    row: np.ndarray,
    lib: MathLib = EXACT,
) -> None:
    """Advance every path by month ``m`` (vectorised :func:`runway.kernel.step`).

    Parameters
    ----------
    m : int
        Month index on the calendar grid.
    inp : Inputs
        Kernel inputs (:func:`runway.model.build_inputs`).
    theta : ndarray of shape (n_paths, N_PARAMS)
        Per-path parameters; ``cshare`` and ``cslip`` (n_paths, n_contracts) likewise.
    state : State
        Path state, updated in place.
    eps : ndarray of shape (n_paths, N_EPS)
        This month's standard normal shocks.
    row : ndarray of shape (n_paths, N_LINES)
        Output: this month's lines. As in the kernel, the balance lines (cash, shadow,
        debt, funding gap) are left untouched before the cash anchor month.
    lib : MathLib
        :data:`EXACT` (bit-identical to the kernel) or :data:`FAST`.
    """
    # The kernel's error model is numpy's: inf/NaN propagate silently, so here too.
    with np.errstate(all="ignore"):
        _step(m, inp, theta, cshare, cslip, state, eps, row, lib)


def _step(m, inp, theta, cshare, cslip, state, eps, row, lib) -> None:
    st, rev_hist, fcf_hist, comp_hist, cscale, spaid = state
    exp, log, log1p, erfc = lib
    th = theta
    t = float(inp.t[m])
    load = inp.load

    def phi(z):
        return 0.5 * erfc(-z / _SQRT2)

    rho = inp.sent_rho
    st[:, S_SENT] = rho * st[:, S_SENT] + math.sqrt(1.0 - rho * rho) * eps[:, E_SENT]
    f = st[:, S_SENT]
    z_ent = load[0] * f + math.sqrt(1.0 - load[0] * load[0]) * eps[:, E_ENT]
    z_users = load[1] * f + math.sqrt(1.0 - load[1] * load[1]) * eps[:, E_USERS]
    z_pw = load[2] * f + math.sqrt(1.0 - load[2] * load[2]) * eps[:, E_PRICE_WAR]
    z_reg = load[3] * f + math.sqrt(1.0 - load[3] * load[3]) * eps[:, E_REGIME]
    z_round = load[4] * f + math.sqrt(1.0 - load[4] * load[4]) * eps[:, E_ROUND]

    # Market regime: first j with u < cum[r, j], else 2.
    r_old = st[:, S_REGIME].astype(np.int64)
    u = phi(-z_reg)
    r = np.full(r_old.shape, 2, dtype=np.int64)
    for j in (1, 0):
        r = np.where(u < inp.reg_cum[r_old, j], j, r)
    st[:, S_REGIME] = r

    # --- revenue -------------------------------------------------------------------------
    st[:, S_USERS_DEV] = (
        inp.users_rho * st[:, S_USERS_DEV]
        + inp.users_vol * math.sqrt(1.0 - inp.users_rho * inp.users_rho) * z_users
    )
    ceil = th[:, P_USERS_CEIL]
    anchor = np.minimum(th[:, P_USERS_ANCHOR], 0.999 * ceil)
    users = ceil / (1.0 + (ceil / anchor - 1.0) * exp(-th[:, P_USERS_K] * (t - inp.users_anchor_t)))
    users = users * exp(st[:, S_USERS_DEV])

    st[:, S_CONV_DEV] = (
        inp.conv_rho * st[:, S_CONV_DEV]
        + inp.conv_vol * math.sqrt(1.0 - inp.conv_rho * inp.conv_rho) * eps[:, E_CONV]
    )
    x0 = log(th[:, P_CONV_START] / (1.0 - th[:, P_CONV_START]))
    x1 = log(th[:, P_CONV_TARGET] / (1.0 - th[:, P_CONV_TARGET]))
    w = min(max((t - inp.conv_start_t) / (inp.conv_target_t - inp.conv_start_t), 0.0), 1.0)
    conv = 1.0 / (1.0 + exp(-(x0 + (x1 - x0) * w + st[:, S_CONV_DEV])))

    lam = 1.0 - exp(-th[:, P_PW_RATE] / 12.0)
    war = phi(z_pw) < lam
    st[:, S_PRICE_JUMP] = np.where(
        war, st[:, S_PRICE_JUMP] * (1.0 - th[:, P_PW_CUT]), st[:, S_PRICE_JUMP]
    )
    st[:, S_N_PRICE_WARS] += war
    price = th[:, P_PRICE] * inp.price_mult[m] * st[:, S_PRICE_JUMP]
    consumer = users * conv * price

    a = inp.ent_vol * math.sqrt(1.0 - inp.ent_a * inp.ent_a)
    st[:, S_ENT_G] = inp.ent_a * st[:, S_ENT_G] + a * z_ent
    st[:, S_ENT_LVL] += st[:, S_ENT_G] / 12.0
    ta = inp.ent_anchor_t
    r0 = log1p(th[:, P_ENT_G0])
    r1 = log1p(th[:, P_ENT_G1])
    if t < ta:
        integral = r0 * (ta - t) + (r1 - r0) / (2.0 * ta) * (ta * ta - t * t)
        market = th[:, P_ENT_MKT] * exp(-integral)
    else:
        market = th[:, P_ENT_MKT] * exp(log1p(th[:, P_ENT_G_AFTER]) * (t - ta))
    ws = min(max(t / inp.ent_anchor_t, 0.0), 1.0) if inp.ent_anchor_t > 0.0 else 1.0
    share = th[:, P_ENT_SHARE0] + (th[:, P_ENT_SHARE1] - th[:, P_ENT_SHARE0]) * ws
    enterprise = market / 12.0 * share * exp(st[:, S_ENT_LVL])

    ad_market = th[:, P_AD_MKT] * exp(log1p(th[:, P_AD_G]) * (t - 0.5))
    span = inp.llm_target_t - inp.llm_start_t
    wl = min(max((t - inp.llm_start_t) / span, 0.0), 1.0)
    wo = min(max(t / inp.llm_target_t, 0.0), 1.0) if inp.llm_target_t > 0.0 else 1.0
    oai = th[:, P_OAI_SHARE0] + (th[:, P_OAI_SHARE1] - th[:, P_OAI_SHARE0]) * wo
    ads = ad_market / 12.0 * th[:, P_LLM_SHARE] * wl * oai

    revenue = consumer + enterprise + ads

    # --- costs ---------------------------------------------------------------------------
    wm = min(max(t / inp.ms_end_t, 0.0), 1.0) if inp.ms_end_t > 0.0 else 1.0
    rev_share = (th[:, P_MS0] + (th[:, P_MS1] - th[:, P_MS0]) * wm) * revenue

    n = revenue.shape[0]
    compute = np.zeros(n)
    gw = np.zeros(n)
    r_cpgw = th[:, P_CPGW] / inp.cpgw_ref
    for c in range(inp.c_value.size):
        k = (m - int(inp.c_start[c])) - cslip[:, c].astype(np.int64)
        cf = _capacity_fraction(int(inp.c_profile[c]), k, int(inp.c_len[c]), int(inp.c_ramp[c]))
        on = cf > 0.0
        scale0 = (
            inp.c_value[c] * cshare[:, c] * r_cpgw
            if inp.c_indexed[c] > 0.0
            else inp.c_value[c] * cshare[:, c] * 1.0
        )
        compute = np.where(on, compute + cf / inp.c_norm[c] * scale0 * cscale[:, c], compute)
        gw = np.where(on, gw + cf * inp.c_gw[c] * cshare[:, c], gw)
    st[:, S_MAX_GW] = np.maximum(st[:, S_MAX_GW], gw)

    ty = t - 0.5
    rnd_people = th[:, P_RND0] / 12.0 * exp(log1p(th[:, P_RND_G]) * ty)
    sga_fixed = th[:, P_SGA0] / 12.0 * exp(log1p(th[:, P_SGA_G]) * ty)
    cos = th[:, P_INFER] * compute + th[:, P_COGS_PCT] * revenue
    rnd = (1.0 - th[:, P_INFER]) * compute + rnd_people
    sga = sga_fixed + th[:, P_SGA_PCT] * revenue
    op_income = revenue - cos - rnd - sga - rev_share
    wt = min(max(t / inp.t[inp.n_months - 1], 0.0), 1.0)
    sbc_share = th[:, P_SBC0] + (th[:, P_SBC1] - th[:, P_SBC0]) * wt
    stock_pay = sbc_share * (rnd_people + sga_fixed)

    lag = inp.pay_lag
    if m == 0:
        comp_hist[:, :] = compute[:, None]
    else:
        comp_hist[:, 1:] = comp_hist[:, :-1].copy()
        comp_hist[:, 0] = compute
    paid = comp_hist[:, lag] * (1.0 - th[:, P_VENDOR])
    wc = compute - paid
    fcf = op_income + stock_pay + wc
    st[:, S_CUM_FCF] += fcf

    fcf_hist[:, 1:] = fcf_hist[:, :-1].copy()
    fcf_hist[:, 0] = fcf
    rev_prev = rev_hist[:, 11].copy() if m >= 12 else rev_hist[:, m].copy() if m > 0 else revenue
    rev_hist[:, 1:] = rev_hist[:, :-1].copy()
    rev_hist[:, 0] = revenue

    row[:, L_REVENUE] = revenue
    row[:, L_CONSUMER] = consumer
    row[:, L_ENTERPRISE] = enterprise
    row[:, L_ADS] = ads
    row[:, L_COST_OF_SALES] = cos
    row[:, L_RND] = rnd
    row[:, L_SGA] = sga
    row[:, L_REVENUE_SHARE] = rev_share
    row[:, L_OPERATING_INCOME] = op_income
    row[:, L_COMPUTE] = compute
    row[:, L_STOCK_PAY] = stock_pay
    row[:, L_WORKING_CAPITAL] = wc
    row[:, L_FCF] = fcf
    row[:, L_CUM_FCF] = st[:, S_CUM_FCF]
    row[:, L_USERS] = users
    row[:, L_CONVERSION] = conv
    row[:, L_PRICE] = price
    row[:, L_GW] = gw
    row[:, L_REGIME] = r
    row[:, L_INTEREST : L_FINANCING + 1] = 0.0

    if m < inp.cash_start:
        return

    # --- financing -----------------------------------------------------------------------
    buffer = inp.buffer
    arr = 12.0 * revenue
    interest = inp.cash_yield_m * np.maximum(st[:, S_CASH], 0.0) - inp.debt_rate_m * st[:, S_DEBT]
    cash = st[:, S_CASH] + fcf + interest
    shadow = st[:, S_SHADOW] + fcf

    strategic = np.zeros(n)
    shadow_strategic = np.zeros(n)
    for s in range(inp.s_amount.size):
        if m < inp.s_start[s] or m > inp.s_lapse[s]:
            continue
        cond = int(inp.s_cond[s])
        if cond == 0:
            due = inp.s_amount[s] - spaid[:, s]
        elif cond == 1:
            due = np.minimum(inp.s_amount[s], inp.s_per_gw[s] * st[:, S_MAX_GW]) - spaid[:, s]
        else:
            due = np.where(st[:, S_IPO_DONE] > 0.0, inp.s_amount[s] - spaid[:, s], 0.0)
        pay = due > 0.0
        spaid[:, s] = np.where(pay, spaid[:, s] + due, spaid[:, s])
        strategic = np.where(pay, strategic + due, strategic)
        if cond != 2:
            shadow_strategic = np.where(pay, shadow_strategic + due, shadow_strategic)
    cash = cash + strategic
    shadow = shadow + shadow_strategic

    burn = -(fcf_hist[:, 0] + fcf_hist[:, 1] + fcf_hist[:, 2]) / 3.0
    pos_burn = burn > 0.0
    safe_burn = np.where(pos_burn, burn, 1.0)
    equity = np.zeros(n)
    ipo = np.zeros(n)
    if inp.fin_on:
        momentum = np.where(rev_prev > 0.0, revenue / np.where(rev_prev > 0.0, rev_prev, 1.0), 1.0)
        momentum = np.minimum(np.maximum(momentum / inp.fin_mom_ref, 0.1), 10.0)
        mom = exp(inp.fin_mom_el * log(momentum))
        cd = st[:, S_ROUND_CD]
        pending = cd >= 0.0
        fire = pending & (cd <= 0.0)
        equity = np.where(fire, st[:, S_ROUND_SIZE], 0.0)
        st[:, S_N_ROUNDS] += fire & (equity > 0.0)
        st[:, S_ROUND_CD] = np.where(fire, -1.0, np.where(pending, cd - 1.0, cd))
        liquid = cash + equity + st[:, S_UNDRAWN] - buffer
        runway = np.where(pos_burn, liquid / safe_burn, INF_RUNWAY)
        attempt = (st[:, S_ROUND_CD] < 0.0) & (runway < inp.fin_trigger)
        st[:, S_ATTEMPTS] += attempt
        p_close = np.minimum(inp.reg_close[r] * mom, 1.0)
        closes = attempt & (phi(-z_round) < p_close)
        sig = inp.fin_size_sigma
        noise = exp(sig * eps[:, E_ROUND_SIZE] - 0.5 * sig * sig) if inp.stochastic else 1.0
        size = inp.fin_months_burn * np.maximum(burn, 0.0) * inp.reg_size[r] * mom * noise
        valuation = arr * inp.reg_val[r] * mom
        size = np.minimum(
            np.minimum(np.maximum(size, inp.fin_min), inp.fin_max), inp.fin_max_dil * valuation
        )
        size = np.where(closes, size, 0.0)
        st[:, S_ROUND_SIZE] = np.where(attempt, size, st[:, S_ROUND_SIZE])
        st[:, S_ROUND_CD] = np.where(attempt, float(inp.fin_lag), st[:, S_ROUND_CD])
        if inp.fin_lag == 0:
            equity = np.where(attempt, equity + size, equity)
            st[:, S_N_ROUNDS] += attempt & (size > 0.0)
            st[:, S_ROUND_CD] = np.where(attempt, -1.0, st[:, S_ROUND_CD])
        if m >= inp.ipo_earliest:
            go = (
                (st[:, S_IPO_DONE] == 0.0)
                & (arr >= inp.ipo_min_arr)
                & (phi(-eps[:, E_IPO]) < inp.reg_ipo[r])
            )
            ipo = np.where(go, inp.ipo_size, 0.0)
            st[:, S_IPO_DONE] = np.where(go, 1.0, st[:, S_IPO_DONE])
            st[:, S_IPO_MONTH] = np.where(go, float(m), st[:, S_IPO_MONTH])
    cash = cash + (equity + ipo)

    draw = (cash < buffer) & (st[:, S_UNDRAWN] > 0.0)
    facility = np.where(draw, np.minimum(st[:, S_UNDRAWN], buffer - cash), 0.0)
    st[:, S_UNDRAWN] = np.where(draw, st[:, S_UNDRAWN] - facility, st[:, S_UNDRAWN])
    cash = cash + facility
    new_debt = np.zeros(n)
    if inp.fin_on:
        room = inp.debt_x_arr * arr - st[:, S_DEBT] - facility
        borrow = (cash < buffer) & (r != 2) & (room > 0.0)
        new_debt = np.where(borrow, np.minimum(room, buffer - cash), 0.0)
    cash = cash + new_debt
    st[:, S_DEBT] += facility + new_debt

    liquid = cash + st[:, S_UNDRAWN] - buffer
    runway = np.where(pos_burn, liquid / safe_burn, INF_RUNWAY)
    if inp.reneg_on:
        reneg = (st[:, S_RENEG_N] < inp.reneg_max) & (runway < inp.reneg_trigger)
        cut = 1.0 - inp.reneg_share * (1.0 - inp.reneg_cost)
        cscale[:, :] = np.where(reneg[:, None], cscale * cut, cscale)
        st[:, S_RENEG_N] += reneg

    st[:, S_INSOLVENT] = np.where(
        (cash < buffer) & (st[:, S_INSOLVENT] < 0.0), float(m), st[:, S_INSOLVENT]
    )
    st[:, S_MIN_CASH] = np.minimum(st[:, S_MIN_CASH], cash)
    st[:, S_GAP] = np.maximum(st[:, S_GAP], buffer - shadow)
    st[:, S_CASH] = cash
    st[:, S_SHADOW] = shadow
    st[:, S_RAISED_EQUITY] += equity
    st[:, S_RAISED_DEBT] += new_debt
    st[:, S_RAISED_IPO] += ipo
    st[:, S_RAISED_STRATEGIC] += strategic
    st[:, S_RAISED_FACILITY] += facility

    row[:, L_INTEREST] = interest
    row[:, L_EQUITY] = equity
    row[:, L_DEBT_RAISED] = new_debt
    row[:, L_IPO] = ipo
    row[:, L_STRATEGIC] = strategic
    row[:, L_FACILITY] = facility
    row[:, L_FINANCING] = interest + equity + new_debt + ipo + strategic + facility
    row[:, L_CASH] = cash
    row[:, L_SHADOW] = shadow
    row[:, L_DEBT] = st[:, S_DEBT]
    row[:, L_FUNDING_GAP] = st[:, S_GAP]


def backfill_history(inp: Inputs, rows: np.ndarray) -> None:
    """Balances before the cash anchor (vectorised :func:`runway.kernel.backfill_history`).

    ``rows`` has shape (n_months, n_paths, N_LINES).
    """
    for m in range(inp.cash_start - 1, -1, -1):
        nxt = rows[m + 1]
        if m == inp.cash_start - 1:
            rows[m, :, L_CASH] = inp.cash0
            rows[m, :, L_SHADOW] = inp.cash0 + inp.facilities
        else:
            rows[m, :, L_CASH] = nxt[:, L_CASH] - nxt[:, L_FCF]
            rows[m, :, L_SHADOW] = nxt[:, L_SHADOW] - nxt[:, L_FCF]
        rows[m, :, L_DEBT] = 0.0
        rows[m, :, L_FUNDING_GAP] = 0.0


def run_paths(
    inp: Inputs,
    theta: np.ndarray,
    cshare: np.ndarray,
    cslip: np.ndarray,
    eps: np.ndarray,
    lib: MathLib = EXACT,
) -> np.ndarray:
    """Every monthly line of every path for given parameters and shocks.

    ``eps`` has shape (n_months, n_paths, N_EPS); returns (n_paths, n_months, N_LINES).
    """
    n = theta.shape[0]
    state = init_state(inp, n)
    rows = np.zeros((inp.n_months, n, N_LINES))
    row = np.zeros((n, N_LINES), order="F")
    th, sh, sl = (np.asfortranarray(x) for x in (theta, cshare, cslip))
    for m in range(inp.n_months):
        step(m, inp, th, sh, sl, state, np.asfortranarray(eps[m]), row, lib)
        rows[m] = row
    backfill_history(inp, rows)
    return rows.transpose(1, 0, 2).copy()


def simulate(
    inp: Inputs,
    n_paths: int,
    rng: np.random.Generator,
    *,
    chunk: int = 16_384,
    lib: MathLib = FAST,
) -> np.ndarray:
    """Simulate with numpy-drawn parameters and shocks; annual lines per path.

    Streams over months (memory does not grow with months) and over chunks of paths.
    Returns ndarray of shape (n_paths, n_years, N_LINES): flows summed over each year,
    stocks at the year's last month, as :func:`runway.kernel.summarise_path`. Balances
    before the cash anchor are not back-filled (they only matter if the anchor falls after
    the first year's last month).
    """
    annual = np.zeros((n_paths, inp.n_years, N_LINES))
    flow = K.LINE_IS_FLOW
    for a in range(0, n_paths, chunk):
        b = min(a + chunk, n_paths)
        nb = b - a
        theta, cshare, cslip = draw_params(inp, rng, nb, lib)
        state = init_state(inp, nb)
        row = np.zeros((nb, N_LINES), order="F")
        ann = np.zeros((nb, inp.n_years, N_LINES), order="F")
        for m in range(inp.n_months):
            if inp.stochastic:
                eps = rng.standard_normal((N_EPS, nb)).T
            else:
                eps = np.zeros((nb, N_EPS), order="F")
            step(m, inp, theta, cshare, cslip, state, eps, row, lib)
            y = inp.year_idx[m]
            ann[:, y, flow] += row[:, flow]
            ann[:, y, ~flow] = row[:, ~flow]
        annual[a:b] = ann
    return annual
