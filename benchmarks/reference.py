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
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.special

from runway.dists import FIXED, LOGNORMAL, NORMAL, PERCENTILES, PERT, TRIANGULAR, UNIFORM
from runway.kernel import revenue as rv
from runway.kernel.numeric import BIG, INF_RUNWAY, LOG_MOM_HI, LOG_MOM_LO, norm_ppf
from runway.layout import (  # the kernel's layout: one definition for both implementations
    FINANCING_LINES,
    LD,
    LINE_IS_FLOW,
    N_CONST,
    N_EPS,
    N_FCF_RING,
    N_LINES,
    N_PARAMS,
    N_REV_RING,
    N_STATE,
    C,
    Condition,
    E,
    H,
    L,
    P,
    Profile,
    Regime,
    S,
)
from runway.model import Inputs


class MathLib(NamedTuple):
    """Elementwise elementary functions on float64 arrays."""

    exp: Callable[[np.ndarray], np.ndarray]
    log: Callable[[np.ndarray], np.ndarray]
    log1p: Callable[[np.ndarray], np.ndarray]
    expm1: Callable[[np.ndarray], np.ndarray]
    erfc: Callable[[np.ndarray], np.ndarray]
    ppf: Callable[[np.ndarray], np.ndarray]  # inverse standard normal CDF


def _libm(fn):
    uf = np.frompyfunc(fn, 1, 1)

    def f(x):
        return np.asarray(uf(x), dtype=np.float64)

    return f


EXACT = MathLib(
    _libm(math.exp),
    _libm(math.log),
    _libm(math.log1p),
    _libm(math.expm1),
    _libm(math.erfc),
    _libm(norm_ppf),
)
"""libm via CPython's ``math`` (and the kernel's own ``norm_ppf``): bit-identical to the kernel."""
FAST = MathLib(np.exp, np.log, np.log1p, np.expm1, scipy.special.erfc, scipy.special.ndtri)
"""numpy's SIMD functions and scipy's erfc/ndtri: what a user would write (ulp differences)."""

_SQRT2 = math.sqrt(2.0)


class State(NamedTuple):
    """Path state, one row per path. Arrays are Fortran-ordered so ``a[:, i]`` is contiguous.

    ``st`` (n, N_STATE) holds the kernel's ``S_*`` scalars, ``pc`` (n, N_CONST) its per-path
    constants ``C_*``; ``cpay``, ``cgw``, ``coff`` (n, n_contracts) the contract
    coefficients; ``hist`` (n, H.PAY + pay_lag + 1) the revenue, cash-flow and compute rings;
    ``sbuf`` (n, 3, n_strategic) strategic money paid, GW online and the money the no-new-money
    path received (see
    :func:`runway.kernel.init_path`).
    """

    st: np.ndarray
    pc: np.ndarray
    cpay: np.ndarray
    cgw: np.ndarray
    coff: np.ndarray
    hist: np.ndarray
    sbuf: np.ndarray
    # cal2: vintage/contracts -- shared by every path: the history table
    # (:func:`runway.kernel.inputs.history_table`: the kernel's own deterministic run with the
    # reported actuals, an input like the config) and the central revenue split at the as-of
    hrows: np.ndarray
    hcen: np.ndarray
    # fin2: every path's compute bills at full capacity per month, over the horizon and the
    # projected-burn window past it (computed once, as a numpy user would; (n, 0) if unused)
    bills: np.ndarray


def init_state(
    inp: Inputs,
    theta: np.ndarray,
    cshare: np.ndarray,
    cslip: np.ndarray,
    lib: MathLib | None = None,
) -> State:
    """Per-path constants and the state before month 0 (vectorised ``kernel.init_path``)."""
    if inp.pol_n > 0:  # pol: policies -- the reference models no management policy
        raise NotImplementedError(
            "benchmarks/reference.py does not model [[policies]]; run a config without them"
        )
    lib = EXACT if lib is None else lib
    with np.errstate(all="ignore"):
        return _init_state(inp, theta, cshare, cslip, lib)


def _init_state(inp, theta, cshare, cslip, lib) -> State:
    exp, log, log1p, expm1, _, ppf = lib
    th = theta
    n = th.shape[0]
    h = 1.0 / 12.0
    t0 = float(inp.t[0])
    pc = np.zeros((n, N_CONST), order="F")
    lrnd = log1p(th[:, P.RND_G])
    lsga = log1p(th[:, P.SGA_G])
    pc[:, C.RND_Q] = exp(lrnd * h)
    pc[:, C.SGA_Q] = exp(lsga * h)
    pc[:, C.VENDOR_KEEP] = 1.0 - th[:, P.VENDOR]

    r_cpgw = th[:, P.CPGW] / inp.cpgw_ref
    idx = inp.c_indexed > 0.0
    r = np.where(idx[None, :], r_cpgw[:, None], 1.0)
    cpay = np.asfortranarray(inp.c_value[None, :] * cshare * r / inp.c_norm[None, :])
    cgw = np.asfortranarray(inp.c_gw[None, :] * cshare)
    coff = np.asfortranarray(inp.c_start[None, :] + cslip.astype(np.int64))

    st = np.zeros((n, N_STATE), order="F")
    st[:, S.REGIME] = inp.reg_initial
    st[:, S.CASH] = inp.cash0
    st[:, S.SHADOW] = inp.cash0 + inp.facilities
    st[:, S.UNDRAWN] = inp.funded_facilities  # fin2
    st[:, S.ROUND_CD] = -1.0
    st[:, S.INSOLVENT] = -1.0
    st[:, S.DISTRESS] = -1.0
    st[:, S.IPO_MONTH] = -1.0
    st[:, S.MIN_CASH] = BIG
    st[:, S.CSCALE] = 1.0
    rv.init_arrays(inp, th, pc, st, lib)  # the revenue block's constants and state
    st[:, S.RND] = th[:, P.RND0] / 12.0 * exp(lrnd * (t0 - 0.5))
    st[:, S.SGA] = th[:, P.SGA0] / 12.0 * exp(lsga * (t0 - 0.5))
    if inp.hist_end >= 0:
        from runway.kernel.inputs import history_table

        hrows, hcen = history_table(inp)
    else:
        hrows, hcen = np.zeros((0, N_LINES)), np.zeros(3)
    return State(
        st=st,
        pc=pc,
        cpay=cpay,
        cgw=cgw,
        coff=coff,
        # the compute ring, then (fin: financing) the same ring at full contract terms
        hist=np.zeros((n, H.PAY + 2 * (inp.pay_lag + 1)), order="F"),
        sbuf=np.zeros((n, 3, inp.s_amount.size), order="F"),
        hrows=hrows,
        hcen=hcen,
        bills=_bills(inp, cpay, coff),
    )


def _bills(inp, cpay, coff):
    """Each path's contract bills at full capacity in months ``0 .. n_months - 1 + n`` (the
    schedule ``kernel.financing.projected_burn`` reads), summed in contract order."""
    n_paths = cpay.shape[0]
    n = int(inp.fin_months_burn + 0.5)
    if not (inp.fin_runway_projected or inp.fin_projected) or n < 1:
        return np.zeros((n_paths, 0))
    last = inp.n_months - 1 + n  # the kernel's schedule runs n months past the horizon
    out = np.zeros((n_paths, last + 1), order="F")
    for idx in range(last + 1):
        full = np.zeros(n_paths)
        for c in range(inp.c_value.size):
            cf = _capacity_fraction(
                int(inp.c_profile[c]), idx - coff[:, c], int(inp.c_len[c]), int(inp.c_ramp[c])
            )
            full = np.where(cf > 0.0, full + cf * cpay[:, c], full)
        out[:, idx] = full
    return out


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
    (share_lo, share_hi), (slip_lo, slip_hi) = inp.share_bounds, inp.slip_bounds
    for c in range(nc):
        cshare[:, c] = _draw(
            int(inp.share_kind[c]), inp.share_par[c], share_lo, share_hi, rng, n_paths, lib
        )
        cslip[:, c] = np.floor(
            _draw(int(inp.slip_kind[c]), inp.slip_par[c], slip_lo, slip_hi, rng, n_paths, lib) + 0.5
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
    if profile == Profile.FLAT:
        cf = np.ones(k.shape)
    elif profile == Profile.BACK_LOADED:
        cf = kf / length
    else:
        cf = np.minimum(1.0, kf / ramp)
    return np.where((k < 0) | (k >= length), 0.0, cf)


def step(
    m: int,
    inp: Inputs,
    theta: np.ndarray,
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
        Per-path parameters.
    state : State
        Per-path constants and state (:func:`init_state`), updated in place.
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
        _step(m, inp, theta, state, eps, row, lib)


def _log_momentum(inp, revenue, base, span, log):
    """Vectorised :func:`runway.kernel.log_momentum` (``span`` a Python int)."""
    n = revenue.shape[0]
    if span <= 0:
        return np.zeros(n)
    ok = base > 0.0
    pos = revenue > 0.0
    safe = np.where(ok & pos, revenue / np.where(ok, base, 1.0), 1.0)
    x = 12.0 / span * log(safe) - math.log(inp.fin_mom_ref)
    x = np.minimum(np.maximum(x, LOG_MOM_LO), LOG_MOM_HI)
    return np.where(ok, np.where(pos, x, LOG_MOM_LO), 0.0)


def _still_coming(m, inp, st, sbuf):
    """fin2: ``kernel.financing.still_coming``, committed money not yet paid."""
    coming = st[:, S.TR_LEFT] + inp.committed_left[m]
    for s in range(inp.s_amount.size):
        if int(inp.s_cond[s]) == Condition.NONE and m <= inp.s_lapse[s]:
            coming = coming + np.maximum(inp.s_amount[s] - sbuf[:, 0, s], 0.0)
    return coming


def _pay_round(inp, st, mask, size):
    """fin2: a signed round's first tranche where ``mask``; the rest waits in ``TR_LEFT``."""
    first = size * inp.fin_first_share
    rest = size - first
    split = mask & (rest > 0.0) & (inp.fin_tranche_months > 0)
    first = np.where(split, first, size)
    st[:, S.TR_LEFT] = np.where(split, st[:, S.TR_LEFT] + rest, st[:, S.TR_LEFT])
    if inp.fin_tranche_months > 0:
        per = st[:, S.TR_LEFT] / inp.fin_tranche_months
        st[:, S.TR_PER_M] = np.where(split, per, st[:, S.TR_PER_M])
    st[:, S.N_ROUNDS] += mask
    return np.where(mask, first, 0.0)


def _projected_burn(m, inp, st, pc, bills, pre):
    """``kernel.financing.projected_burn``: the next n months' bills from the schedule."""
    n = int(inp.fin_months_burn + 0.5)
    if n < 1:
        return -pre
    last = inp.n_months - 1 + n  # the kernel's schedule runs n months past the horizon
    acc = np.zeros(pre.shape[0])
    for j in range(1, n + 1):
        acc = acc + bills[:, min(max(m + j - inp.pay_lag, 0), last)]
    return pc[:, C.VENDOR_KEEP] * st[:, S.CSCALE] * acc / n - pre


def _step(m, inp, theta, state, eps, row, lib) -> None:
    st, pc, cpay, cgw, coff, hist, sbuf, hrows, hcen, _ = state
    exp, log, _, _, erfc, _ = lib
    th = theta
    ld = inp.load
    lc = inp.load_c

    def phi(z):
        return 0.5 * erfc(-z / _SQRT2)

    # The common innovation is iid; the sentiment index filters it and feeds nothing.
    c = eps[:, E.SENT]
    if m == 0:
        s_idx = c.copy()
    else:
        s_idx = inp.sent_rho * st[:, S.SENT] + inp.sent_c * c
    st[:, S.SENT] = s_idx
    z_ent = ld[LD.ENT] * c + lc[LD.ENT] * eps[:, E.ENT]
    z_users = ld[LD.USERS] * c + lc[LD.USERS] * eps[:, E.USERS]
    z_pw = ld[LD.PRICE_WAR] * c + lc[LD.PRICE_WAR] * eps[:, E.PRICE_WAR]
    z_reg = ld[LD.REGIME] * c + lc[LD.REGIME] * eps[:, E.REGIME]
    if m == 0:  # fin2: the round shock's own part is an AR(1) (market appetite)
        own = eps[:, E.ROUND].copy()
    else:
        own = inp.round_rho * st[:, S.ROUND_DEV] + inp.round_c * eps[:, E.ROUND]
    st[:, S.ROUND_DEV] = own
    z_round = ld[LD.ROUND] * c + lc[LD.ROUND] * own
    z_conv = eps[:, E.CONV]
    in_history = m <= inp.hist_end
    if in_history:  # history: no shock reaches the drivers
        z_ent = z_users = z_pw = z_conv = np.zeros(c.shape)

    # Market regime: first j whose threshold the shock exceeds, else winter.
    r_old = st[:, S.REGIME].astype(np.int64)
    r = np.full(r_old.shape, Regime.WINTER, dtype=np.int64)
    for j in range(Regime.WINTER - 1, -1, -1):
        r = np.where(z_reg > inp.reg_thr[r_old, j], j, r)
    st[:, S.REGIME] = r

    # --- contracts (the kernel's schedule, T.PAY and T.GW) ---------------------------------
    n = theta.shape[0]
    ns = inp.s_amount.size
    compute = np.zeros(n)
    gw = np.zeros(n)
    sgw = np.zeros((n, ns))
    for c in range(inp.c_value.size):
        cf = _capacity_fraction(
            int(inp.c_profile[c]), m - coff[:, c], int(inp.c_len[c]), int(inp.c_ramp[c])
        )
        on = cf > 0.0
        compute = np.where(on, compute + cf * cpay[:, c], compute)
        g = cf * cgw[:, c]
        gw = np.where(on, gw + g, gw)
        for s in range(ns):
            sgw[:, s] = np.where(on, sgw[:, s] + g * inp.s_mask[s, c], sgw[:, s])
    compute_full = compute
    compute = compute * st[:, S.CSCALE]
    st[:, S.MAX_GW] = np.maximum(st[:, S.MAX_GW], gw)
    for s in range(ns):
        sbuf[:, 1, s] = np.maximum(sbuf[:, 1, s], sgw[:, s])

    # --- revenue (the block's own numpy form, runway.kernel.revenue.month_arrays) ---------
    revenue, rev_lost = rv.month_arrays(
        m, inp, th, pc, st, z_ent, z_users, z_pw, z_conv, gw, lib, row
    )

    # --- costs ---------------------------------------------------------------------------
    rev_share = (th[:, P.MS0] + (th[:, P.MS1] - th[:, P.MS0]) * inp.w_ms[m]) * revenue

    rnd_people = st[:, S.RND].copy()
    st[:, S.RND] = rnd_people * pc[:, C.RND_Q]
    sga_fixed = st[:, S.SGA].copy()
    st[:, S.SGA] = sga_fixed * pc[:, C.SGA_Q]
    cos = th[:, P.INFER] * compute + th[:, P.COGS_PCT] * revenue
    rnd = (1.0 - th[:, P.INFER]) * compute + rnd_people
    sga = sga_fixed + th[:, P.SGA_PCT] * revenue
    op_income = revenue - cos - rnd - sga - rev_share
    sbc_share = th[:, P.SBC0] + (th[:, P.SBC1] - th[:, P.SBC0]) * inp.w_sbc[m]
    stock_pay = sbc_share * (rnd_people + sga_fixed)

    nl = inp.pay_lag + 1
    if m == 0:
        hist[:, H.PAY : H.PAY + nl] = compute[:, None]
        hist[:, H.PAY + nl :] = compute_full[:, None]
    else:
        hist[:, H.PAY + m % nl] = compute
        hist[:, H.PAY + nl + m % nl] = compute_full
    bill = hist[:, H.PAY + (m + 1) % nl]
    paid = bill * pc[:, C.VENDOR_KEEP]
    wc = compute - paid
    fcf = op_income + stock_pay + wc
    # fin: financing -- the no-new-money path pays compute at full contract terms (§6)
    paid_full = hist[:, H.PAY + nl + (m + 1) % nl] * pc[:, C.VENDOR_KEEP]
    fcf_nnm = np.where(paid == paid_full, fcf, fcf + (paid - paid_full))
    ms = th[:, P.MS0] + (th[:, P.MS1] - th[:, P.MS0]) * inp.w_ms[m]
    margin = 1.0 - th[:, P.COGS_PCT] - th[:, P.SGA_PCT] - ms
    fcf_nnm = np.where(rev_lost != 0.0, fcf_nnm + rev_lost * margin, fcf_nnm)
    pre = op_income + stock_pay + compute
    st[:, S.VENDOR_CREDIT] += bill - paid
    st[:, S.CUM_FCF] += fcf
    hist[:, H.FCF + m % N_FCF_RING] = fcf
    j12 = H.REV + m % N_REV_RING
    rev_year_ago = hist[:, j12].copy()
    hist[:, j12] = revenue

    row[:, L.COST_OF_SALES] = cos
    row[:, L.RND] = rnd
    row[:, L.SGA] = sga
    row[:, L.REVENUE_SHARE] = rev_share
    row[:, L.OPERATING_INCOME] = op_income
    row[:, L.COMPUTE] = compute
    row[:, L.STOCK_PAY] = stock_pay
    row[:, L.WORKING_CAPITAL] = wc
    row[:, L.FCF] = fcf
    row[:, L.CUM_FCF] = st[:, S.CUM_FCF]
    row[:, L.VENDOR_CREDIT] = st[:, S.VENDOR_CREDIT]
    row[:, L.GW] = gw
    row[:, L.REGIME] = r
    row[:, L.SENTIMENT] = st[:, S.SENT]
    row[:, L.ROUND_DEV] = st[:, S.ROUND_DEV]
    row[:, FINANCING_LINES[0] : FINANCING_LINES[1] + 1] = 0.0

    if in_history:  # cal2: vintage/contracts (vectorised kernel.path.history_month)
        if m == inp.hist_end:
            for i, (slot, line) in enumerate(
                ((S.HD_CONS, L.CONSUMER), (S.HD_ENT, L.ENTERPRISE), (S.HD_ADS, L.ADS))
            ):
                own = row[:, line]
                ok = (own > 0.0) & (hcen[i] > 0.0)
                st[:, slot] = np.where(ok, log(np.where(ok, hcen[i] / own, 1.0)), 0.0)
        row[:, :] = hrows[m][None, :]
        st[:, S.CUM_FCF] = hrows[m, L.CUM_FCF]
        st[:, S.VENDOR_CREDIT] = hrows[m, L.VENDOR_CREDIT]
        st[:, S.REGIME] = inp.reg_initial
        hist[:, H.REV + m % N_REV_RING] = hrows[m, L.REVENUE]
        hist[:, H.FCF + m % N_FCF_RING] = hrows[m, L.FCF]
        if m == 0:  # the funded ring only: the full-terms ring follows the schedule
            hist[:, H.PAY : H.PAY + nl] = hrows[m, L.COMPUTE]
        else:
            hist[:, H.PAY + m % nl] = hrows[m, L.COMPUTE]

    if m < inp.cash_start:
        return

    # --- financing -----------------------------------------------------------------------
    buffer = inp.buffer
    arr = 12.0 * revenue
    shadow = st[:, S.SHADOW] + fcf_nnm  # compute at full terms: no renegotiation
    shadow_strategic = np.zeros(n)
    for s in range(ns):
        if m < inp.s_start[s] or m > inp.s_lapse[s]:
            continue
        cond = int(inp.s_cond[s])
        if cond == Condition.NONE:
            due = inp.s_amount[s] - sbuf[:, 2, s]
        elif cond == Condition.PER_GW:
            due = np.minimum(inp.s_amount[s], inp.s_per_gw[s] * sbuf[:, 1, s]) - sbuf[:, 2, s]
        else:
            due = np.zeros(n)
        pay = due > 0.0
        sbuf[:, 2, s] = np.where(pay, sbuf[:, 2, s] + due, sbuf[:, 2, s])
        shadow_strategic = np.where(pay, shadow_strategic + due, shadow_strategic)
    shadow = shadow + shadow_strategic
    st[:, S.GAP] = np.maximum(st[:, S.GAP], buffer - shadow)
    st[:, S.SHADOW] = shadow

    # alive: not yet defaulted; a defaulted path raises nothing, its cash runs on (flagged)
    alive = st[:, S.INSOLVENT] < 0.0
    interest = inp.cash_yield_m * np.maximum(st[:, S.CASH], 0.0) - inp.debt_rate_m * st[:, S.DEBT]
    cash = st[:, S.CASH] + fcf + interest
    st[:, S.BRIDGE] = st[:, S.BRIDGE] * (1.0 + inp.bridge_rate_m)

    strategic = np.zeros(n)
    for s in range(ns):
        if m < inp.s_start[s] or m > inp.s_lapse[s]:
            continue
        cond = int(inp.s_cond[s])
        if cond == Condition.NONE:
            due = inp.s_amount[s] - sbuf[:, 0, s]
        elif cond == Condition.PER_GW:
            due = np.minimum(inp.s_amount[s], inp.s_per_gw[s] * sbuf[:, 1, s]) - sbuf[:, 0, s]
        else:
            due = np.where(st[:, S.IPO_DONE] > 0.0, inp.s_amount[s] - sbuf[:, 0, s], 0.0)
        pay = alive & (due > 0.0)
        sbuf[:, 0, s] = np.where(pay, sbuf[:, 0, s] + due, sbuf[:, 0, s])
        strategic = np.where(pay, strategic + due, strategic)
    cash = cash + strategic
    committed = np.where(alive, inp.committed[m], 0.0)  # fin2: pre-vintage tranches
    cash = cash + committed

    trailing = -(hist[:, H.FCF] + hist[:, H.FCF + 1] + hist[:, H.FCF + 2]) / 3.0
    burn = trailing
    projected = None  # fin2: the burn the schedule will bring, once a month
    if inp.fin_runway_projected or inp.fin_projected:
        projected = _projected_burn(m, inp, st, pc, state.bills, pre)
    if inp.fin_runway_projected:  # fin2: runway on the burn still to come
        burn = projected
    pos_burn = burn > 0.0
    safe_burn = np.where(pos_burn, burn, 1.0)
    equity = np.zeros(n)
    ipo = np.zeros(n)
    signed = np.zeros(n, dtype=bool)
    round_signed = np.zeros(n)
    if inp.fin_on:
        # fin2: the later tranches of a round already paying
        paying = alive & (st[:, S.TR_LEFT] > 0.0)
        tranche = np.where(paying, np.minimum(st[:, S.TR_PER_M], st[:, S.TR_LEFT]), 0.0)
        left = st[:, S.TR_LEFT] - tranche
        st[:, S.TR_LEFT] = np.where(
            paying & (left < 1e-9), 0.0, np.where(paying, left, st[:, S.TR_LEFT])
        )
        equity = equity + tranche
        cd = st[:, S.ROUND_CD]
        pending = alive & (cd > 0.0)
        cd1 = np.where(pending, cd - 1.0, cd)
        fire = pending & (cd1 <= 0.0)
        equity = equity + _pay_round(inp, st, fire, st[:, S.ROUND_SIZE])
        st[:, S.ROUND_CD] = np.where(fire, -1.0, cd1)
        st[:, S.ROUND_SIZE] = np.where(fire, 0.0, st[:, S.ROUND_SIZE])
        liquid = cash + equity + st[:, S.UNDRAWN] + _still_coming(m, inp, st, sbuf) - buffer
        runway = np.where(pos_burn, liquid / safe_burn, INF_RUNWAY)
        attempt = (
            alive
            & (st[:, S.ROUND_CD] < 0.0)
            & (m >= st[:, S.NEXT_TRY])
            & (runway < inp.fin_trigger)
        )
        st[:, S.ATTEMPTS] += attempt
        if m >= N_REV_RING:
            lm = _log_momentum(inp, revenue, rev_year_ago, N_REV_RING, log)
        else:
            lm = _log_momentum(inp, revenue, hist[:, H.REV], m, log)
        mom = exp(inp.fin_mom_el * lm)
        p_close = np.minimum(inp.reg_close[r] * mom, 1.0)
        closes = attempt & (phi(-z_round) < p_close)
        sig = inp.fin_size_sigma
        noise = exp(sig * eps[:, E.ROUND_SIZE] - 0.5 * sig * sig) if inp.stochastic else 1.0
        base = trailing
        if inp.fin_projected:
            base = projected
        size = inp.fin_months_burn * np.maximum(base, 0.0) * inp.reg_size[r] * mom * noise
        valuation = arr * inp.reg_val[r] * mom
        size = np.minimum(
            np.minimum(np.maximum(size, inp.fin_min), inp.fin_max), inp.fin_max_dil * valuation
        )
        round_signed = np.where(closes, size, 0.0)
        if inp.fin_lag == 0:
            equity = equity + _pay_round(inp, st, closes, size)
        else:
            st[:, S.ROUND_SIZE] = np.where(closes, size, st[:, S.ROUND_SIZE])
            st[:, S.ROUND_CD] = np.where(closes, float(inp.fin_lag), st[:, S.ROUND_CD])
            signed = closes & (size > 0.0)
        failed = attempt & ~closes
        st[:, S.NEXT_TRY] = np.where(failed, float(m + inp.fin_retry), st[:, S.NEXT_TRY])
        if m >= inp.ipo_earliest:
            go = (
                alive
                & (st[:, S.IPO_DONE] == 0.0)
                & (arr >= inp.ipo_min_arr)
                & (eps[:, E.IPO] > inp.reg_ipo_thr[r])
            )
            ipo = np.where(go, inp.ipo_size, 0.0)
            st[:, S.IPO_DONE] = np.where(go, 1.0, st[:, S.IPO_DONE])
            st[:, S.IPO_MONTH] = np.where(go, float(m), st[:, S.IPO_MONTH])
    conv = np.minimum(st[:, S.BRIDGE], equity + ipo)
    st[:, S.BRIDGE] -= conv
    cash = cash + (equity + ipo - conv)
    equity_cash = equity - np.minimum(conv, equity)
    ipo_cash = ipo - (conv - np.minimum(conv, equity))

    draw = alive & (cash < buffer) & (st[:, S.UNDRAWN] > 0.0)
    facility = np.where(draw, np.minimum(st[:, S.UNDRAWN], buffer - cash), 0.0)
    st[:, S.UNDRAWN] = np.where(draw, st[:, S.UNDRAWN] - facility, st[:, S.UNDRAWN])
    cash = cash + facility
    new_debt = np.zeros(n)
    if inp.fin_on:
        room = inp.debt_x_arr * arr - st[:, S.RAISED_DEBT]
        borrow = alive & (cash < buffer) & (r != Regime.WINTER) & (room > 0.0)
        new_debt = np.where(borrow, np.minimum(room, buffer - cash), 0.0)
    cash = cash + new_debt
    st[:, S.DEBT] += facility + new_debt

    to_come = np.where(alive, _still_coming(m, inp, st, sbuf), 0.0)
    liquid = cash + st[:, S.UNDRAWN] + to_come - buffer
    runway = np.where(pos_burn, liquid / safe_burn, INF_RUNWAY)
    window = alive & (runway < inp.distress_trigger)
    st[:, S.DISTRESS] = np.where(window & (st[:, S.DISTRESS] < 0.0), float(m), st[:, S.DISTRESS])
    bridge = np.zeros(n)
    if inp.fin_on:
        cap = np.minimum(inp.bridge_max, inp.fin_max_dil * arr * inp.reg_val[r])
        room = cap - st[:, S.BRIDGE]
        sure = (st[:, S.ROUND_CD] > 0.0) | signed | (st[:, S.TR_LEFT] > 0.0)
        p_bridge = np.where(sure, 1.0, inp.reg_bridge[r])
        get = window & (room > 0.0) & (phi(-eps[:, E.BRIDGE]) < p_bridge)
        want = np.maximum(buffer - cash, inp.bridge_months_burn * np.maximum(burn, 0.0))
        bridge = np.where(get, np.minimum(want, room), 0.0)
        st[:, S.BRIDGE] = np.where(get, st[:, S.BRIDGE] + bridge, st[:, S.BRIDGE])
        cash = np.where(get, cash + bridge, cash)
        liquid = np.where(get, liquid + bridge, liquid)
        runway = np.where(get, np.where(pos_burn, liquid / safe_burn, INF_RUNWAY), runway)
    if inp.reneg_on:
        reneg = alive & (st[:, S.RENEG_N] < inp.reneg_max) & (runway < inp.reneg_trigger)
        cut = 1.0 - inp.reneg_share * (1.0 - inp.reneg_cost)
        st[:, S.CSCALE] = np.where(reneg, st[:, S.CSCALE] * cut, st[:, S.CSCALE])
        st[:, S.RENEG_N] += reneg

    dead = alive & (cash + st[:, S.UNDRAWN] < buffer)
    st[:, S.INSOLVENT] = np.where(dead, float(m), st[:, S.INSOLVENT])
    st[:, S.ROUND_CD] = np.where(dead, -1.0, st[:, S.ROUND_CD])
    st[:, S.ROUND_SIZE] = np.where(dead, 0.0, st[:, S.ROUND_SIZE])
    st[:, S.TR_LEFT] = np.where(dead, 0.0, st[:, S.TR_LEFT])
    st[:, S.MIN_CASH] = np.minimum(st[:, S.MIN_CASH], cash)
    st[:, S.CASH] = cash
    st[:, S.RAISED_EQUITY] += equity_cash
    st[:, S.RAISED_DEBT] += new_debt
    st[:, S.RAISED_IPO] += ipo_cash
    st[:, S.RAISED_STRATEGIC] += strategic
    st[:, S.RAISED_FACILITY] += facility
    st[:, S.RAISED_BRIDGE] += bridge
    st[:, S.RAISED_COMMITTED] += committed

    row[:, L.INTEREST] = interest
    row[:, L.EQUITY] = equity_cash
    row[:, L.DEBT_RAISED] = new_debt
    row[:, L.IPO] = ipo_cash
    row[:, L.STRATEGIC] = strategic
    row[:, L.FACILITY] = facility
    row[:, L.BRIDGE] = bridge
    row[:, L.COMMITTED] = committed
    row[:, L.FINANCING] = (
        interest + equity_cash + new_debt + ipo_cash + strategic + facility + bridge + committed
    )
    row[:, L.ROUND_SIGNED] = round_signed
    row[:, L.CASH] = cash
    row[:, L.SHADOW] = shadow
    row[:, L.DEBT] = st[:, S.DEBT]
    row[:, L.BRIDGE_OUT] = st[:, S.BRIDGE]
    row[:, L.DEFAULTED] = np.where(st[:, S.INSOLVENT] >= 0.0, 1.0, 0.0)
    row[:, L.TO_COME] = to_come
    row[:, L.FUNDING_GAP] = st[:, S.GAP]


def backfill_history(inp: Inputs, rows: np.ndarray) -> None:
    """Balances before the cash anchor (vectorised :func:`runway.kernel.backfill_history`).

    ``rows`` has shape (n_months, n_paths, N_LINES).
    """
    for m in range(inp.cash_start - 1, -1, -1):
        nxt = rows[m + 1]
        if m == inp.cash_start - 1:
            rows[m, :, L.CASH] = inp.cash0
            rows[m, :, L.SHADOW] = inp.cash0 + inp.facilities
        else:
            rows[m, :, L.CASH] = nxt[:, L.CASH] - nxt[:, L.FCF]
            rows[m, :, L.SHADOW] = nxt[:, L.SHADOW] - nxt[:, L.FCF]
        rows[m, :, L.DEBT] = 0.0
        rows[m, :, L.FUNDING_GAP] = 0.0
        rows[m, :, L.BRIDGE_OUT] = 0.0  # fin: financing
        rows[m, :, L.DEFAULTED] = 0.0
        rows[m, :, L.TO_COME] = 0.0


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
    th, sh, sl = (np.asfortranarray(x) for x in (theta, cshare, cslip))
    state = init_state(inp, th, sh, sl, lib)
    rows = np.zeros((inp.n_months, n, N_LINES))
    row = np.zeros((n, N_LINES), order="F")
    for m in range(inp.n_months):
        step(m, inp, th, state, np.asfortranarray(eps[m]), row, lib)
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
    flow = LINE_IS_FLOW
    for a in range(0, n_paths, chunk):
        b = min(a + chunk, n_paths)
        nb = b - a
        theta, cshare, cslip = draw_params(inp, rng, nb, lib)
        state = init_state(inp, theta, cshare, cslip, lib)
        row = np.zeros((nb, N_LINES), order="F")
        ann = np.zeros((nb, inp.n_years, N_LINES), order="F")
        for m in range(inp.n_months):
            if inp.stochastic:
                eps = rng.standard_normal((N_EPS, nb)).T
            else:
                eps = np.zeros((nb, N_EPS), order="F")
            step(m, inp, theta, state, eps, row, lib)
            y = inp.year_idx[m]
            ann[:, y, flow] += row[:, flow]
            ann[:, y, ~flow] = row[:, ~flow]
        annual[a:b] = ann
    return annual
