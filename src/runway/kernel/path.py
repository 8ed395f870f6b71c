"""One path: its parameter draws, initial state, the monthly step and its summaries.

:func:`step` runs the model blocks in order, month by month: :mod:`.shocks` (sentiment and
regime), :mod:`.revenue`, :mod:`.costs`, :mod:`.cashflow`, then :mod:`.financing` from the
cash anchor on. Each block is one module with its equations in its docstring; they are
inlined into :func:`step` (``inline="always"``), so the split costs nothing at run time.
A block's results reach later blocks as return values and as the month's lines
(``rows[m, L.*]``).
"""

from __future__ import annotations

import math

import numpy as np

from runway._jit import borrow, njit, njit_inline
from runway.kernel import cashflow, costs, financing, revenue, shocks
from runway.kernel.numeric import BIG, central_value, draw_value
from runway.kernel.rng import box_muller, normal_pair, path_words, philox4x32, uniforms
from runway.layout import (
    CI,
    FINANCING_LINES,
    N_EPS,
    N_FCF_RING,
    N_FLOWS,
    N_LINES,
    N_OUT,
    N_PARAMS,
    N_REV_RING,
    OUT_FROM_STATE,
    E,
    F,
    H,
    I,
    Kind,
    L,
    M,
    O,
    P,
    S,
)


@njit_inline
def draw_path_params(k, key0, key1, path, theta, cshare, cslip) -> None:
    """Fill one path's parameter vector and per-contract share online and slip (months).

    Row ``i`` (the parameters ``P``, then each contract's share online, then its slip) draws
    from Philox counter ``(id_i, 0, path)`` under the seed's key ``(key0, key1)``, ``id_i``
    the row's fixed draw id (:func:`runway.layout.draw_id` of its config path); fixed rows
    draw nothing. A deterministic run takes every central value.
    """
    dkind = k.dkind
    dpar = k.dpar
    dtab = k.dtab
    did = k.did
    stochastic = k.iv[I.STOCHASTIC] != 0
    nc = cshare.size
    plo, phi = path_words(path)
    for i in range(N_PARAMS + 2 * nc):
        kind = dkind[i]
        if not stochastic:
            x = central_value(kind, dpar[i, 0], dpar[i, 1])
        elif kind == Kind.FIXED:
            x = dpar[i, 0]
        else:
            x0, x1, x2, x3 = philox4x32(did[i], np.uint64(0), plo, phi, key0, key1)
            u1, u2 = uniforms(x0, x1, x2, x3)
            z = 0.0  # the normal only where the law reads it (uniform-based laws use u1)
            if kind == Kind.NORMAL or kind == Kind.LOGNORMAL or kind == Kind.PERCENTILES:
                z, _ = box_muller(u1, u2)
            x = draw_value(
                kind, dpar[i, 0], dpar[i, 1], dpar[i, 2], dpar[i, 4], dpar[i, 5], u1, z, dtab[i]
            )
        store_row(i, x, theta, cshare, cslip)


@njit_inline
def store_row(i, x, theta, cshare, cslip) -> None:
    """Put row ``i``'s value: a parameter, a contract's share online or its slip (whole months)."""
    nc = cshare.size
    if i < N_PARAMS:
        theta[i] = x
    elif i < N_PARAMS + nc:
        cshare[i - N_PARAMS] = x
    else:
        cslip[i - N_PARAMS - nc] = math.floor(x + 0.5)


@njit_inline
def hold_path_params(hold, theta, cshare, cslip) -> None:
    """Replace the draws of the held rows of one path.

    ``hold[i]`` (row ``i`` of :func:`draw_path_params`) replaces the draw where it is not NaN;
    an empty ``hold`` holds nothing.

    Used by the sensitivity analysis (:mod:`runway.sensitivity`): a held row takes the given
    value instead of its draw; every other row keeps its own draw, since each row's random
    numbers come from its own Philox counter. A held slip is rounded to whole months like a
    drawn one.
    """
    if hold.size == 0:
        return
    for i in range(hold.size):
        x = hold[i]
        if not math.isnan(x):
            store_row(i, x, theta, cshare, cslip)


@njit_inline
def draw_shocks(k, key0, key1, path, eps) -> None:
    """Month ``m``'s standard normal shocks ``eps[:, m]`` (rows ``E``) of one path.

    Shocks ``2 j`` and ``2 j + 1`` of month ``m`` are the Box-Muller pair of Philox counter
    ``(j, m + 1, path)``: they depend on the seed, the path id, the month and ``j`` only. The
    month loop has no library call and vectorises across months.
    """
    n_months = eps.shape[1]
    plo, phi = path_words(path)
    for j in range(N_EPS // 2):
        r0 = eps[2 * j]
        r1 = eps[2 * j + 1]
        cj = np.uint64(j)
        for m in range(n_months):
            z0, z1 = normal_pair(cj, np.uint64(m + 1), plo, phi, key0, key1)
            r0[m] = z0
            r1[m] = z1
    if N_EPS % 2:
        r0 = eps[N_EPS - 1]
        cj = np.uint64(N_EPS // 2)
        for m in range(n_months):
            z0, _ = normal_pair(cj, np.uint64(m + 1), plo, phi, key0, key1)
            r0[m] = z0


@njit_inline
def init_path(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, hist, sbuf) -> None:
    """Per-path constants (``pc``), contract coefficients and the state before month 0.

    Each block initialises its own constants and state (``<block>.init``). Trends that are
    exponential in time (the users S-curve's exponential, the enterprise market, the ad
    market, people costs) are carried in the state as this month's value and multiplied by a
    constant monthly factor: ``x(t + 1/12) = x(t) * exp(g / 12)``. ``hist``: rings of the last
    12 revenues, 3 free cash flows and ``pay_lag + 1`` compute expenses (:class:`H`). ``sbuf``
    (3, n_strategic): strategic money paid, the largest GW online so far under the
    counterparties it is tied to, and the money paid on the no-new-money path.
    """
    st[:] = 0.0
    shocks.init(k, st)
    revenue.init(k, theta, pc, st)
    costs.init(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, sbuf.shape[1])
    financing.init(k, st)
    financing.burn_schedule(k.iv, k.fs, traj)  # fin2: the projected burn's bills, once
    hist[:] = 0.0
    sbuf[:, :] = 0.0


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
        Packed inputs (:func:`runway.kernel.inputs.pack`).
    theta, pc : ndarray
        The path's drawn parameters (``P``) and derived constants (``C``).
    traj : ndarray of shape (T.STRAT0 + n_strategic, n_months)
        The path's contract schedule (:func:`runway.kernel.costs.init`).
    st, hist, sbuf : ndarray
        Path state, updated in place (:func:`init_path`).
    eps : ndarray of shape (N_EPS, n_months)
        Standard normal shocks per month (all zero for the median path).
    rows : ndarray of shape (n_months, N_LINES)
        Output: ``rows[m]`` gets month ``m``'s lines (``L``), $bn per month for flows.
    """
    # The packed arrays are taken out of ``k`` once, outside the month loop, and handed to
    # the (inlined) blocks as arguments: an array read from ``k`` inside a block would be a
    # new reference. Every array the loop reads is a borrowed view (no reference count:
    # :func:`runway._jit.borrow`): numba binds each array argument of an inlined block as a
    # new reference, and the atomic reference counting of those views cost more than the
    # month's arithmetic (measured: 40% of the kernel's time). ``k`` and the path's buffers
    # outlive the loop, so the views stay valid.
    fs, iv, mon, ld = borrow(k.fs), borrow(k.iv), borrow(k.mon), borrow(k.load)
    reg_thr, reg, stf, sti = borrow(k.reg_thr), borrow(k.reg), borrow(k.stf), borrow(k.sti)
    pf, pi = borrow(k.pf), borrow(k.pi)  # pol: policies
    hrows, hcen = borrow(k.hrows), borrow(k.hcen)  # cal2: vintage/contracts
    theta, pc, traj, st = borrow(theta), borrow(pc), borrow(traj), borrow(st)
    hist, sbuf, eps, rows = borrow(hist), borrow(sbuf), borrow(eps), borrow(rows)
    cash_start = iv[I.CASH_START]
    m_anchor = iv[I.M_ANCHOR]
    nl = iv[I.PAY_LAG] + 1
    h_end = iv[I.HIST_END]
    for m in range(m0, m1):
        z_ent, z_users, z_pw, z_round, r = shocks.month(m, fs, ld, reg_thr, st, eps, rows)
        z_conv = eps[E.CONV, m]
        if m <= h_end:  # history: no shock reaches the drivers
            z_ent = 0.0
            z_users = 0.0
            z_pw = 0.0
            z_conv = 0.0
        rev, rev_lost = revenue.month(
            m, fs, mon, m_anchor, theta, pc, st, traj, z_ent, z_users, z_pw, z_conv, rows
        )
        op_income, stock_pay, compute, nnm_adj = costs.month(
            m, mon, theta, pc, st, traj, sbuf, rev, rows
        )
        fcf, fcf_nnm, pre, rev_year_ago = cashflow.month(
            m, nl, pc, st, hist, traj, op_income, stock_pay, compute, rev, rows
        )
        if rev_lost != 0.0:  # the no-new-money path keeps the capacity renegotiation gave up
            ms = theta[P.MS0] + (theta[P.MS1] - theta[P.MS0]) * mon[M.W_MS, m]
            fcf_nnm += rev_lost * (1.0 - theta[P.COGS_PCT] - theta[P.SGA_PCT] - ms)
        if nnm_adj != 0.0:  # pol: policies -- nor the people costs a policy saved
            fcf_nnm += nnm_adj
        if m <= h_end:
            history_month(m, iv, hrows, hcen, st, hist, rows)
        if m < cash_start:
            # History before the cash anchor: balances are back-filled after the path.
            for i in range(FINANCING_LINES[0], FINANCING_LINES[1] + 1):
                rows[m, i] = 0.0
            continue
        financing.month(
            m,
            fs,
            iv,
            reg,
            stf,
            sti,
            st,
            hist,
            sbuf,
            eps,
            z_round,
            r,
            rev,
            fcf,
            fcf_nnm,
            rev_year_ago,
            rows,
            traj,
            pc,
            pre,
            mon,
            pf,
            pi,
        )
        st[S.POL_COMPUTE] += compute  # pol: policies -- from the cash anchor on
        st[S.POL_REVENUE] += rev


# cal2: vintage/contracts
@njit_inline
def history_month(m, iv, hrows, hcen, st, hist, rows) -> None:
    """History month ``m`` (up to the as-of month): its lines are the history table's.

    The path has run month ``m`` with its own parameters and no shocks; its lines are replaced
    by ``hrows[m]`` (``k.hrows``: :func:`runway.kernel.inputs.history_table`, the same on every
    path; ``hcen``: ``k.hcen``; ``iv``: ``k.iv``) and
    the state that later months read from them (cumulative FCF, the revenue, cash-flow and
    payables rings, the regime, held at its initial value) follows. In the as-of month the log
    gap between the central and the path's own consumer, enterprise and advertising revenue is
    kept (``S.HD_*``): :func:`runway.kernel.revenue.month` starts the path from history with it.
    """
    hr = hrows[m]
    if m == iv[I.HIST_END]:
        hc = hcen
        own = rows[m, L.CONSUMER]
        st[S.HD_CONS] = math.log(hc[0] / own) if own > 0.0 and hc[0] > 0.0 else 0.0
        own = rows[m, L.ENTERPRISE]
        st[S.HD_ENT] = math.log(hc[1] / own) if own > 0.0 and hc[1] > 0.0 else 0.0
        own = rows[m, L.ADS]
        st[S.HD_ADS] = math.log(hc[2] / own) if own > 0.0 and hc[2] > 0.0 else 0.0
    for i in range(N_LINES):
        rows[m, i] = hr[i]
    st[S.CUM_FCF] = hr[L.CUM_FCF]
    st[S.VENDOR_CREDIT] = hr[L.VENDOR_CREDIT]  # the vendor-financed liability so far
    st[S.REGIME] = iv[I.REG_INITIAL]
    hist[H.REV + m % N_REV_RING] = hr[L.REVENUE]
    hist[H.FCF + m % N_FCF_RING] = hr[L.FCF]
    nl = iv[I.PAY_LAG] + 1
    if m == 0:
        for i in range(nl):
            hist[H.PAY + i] = hr[L.COMPUTE]
    else:
        hist[H.PAY + int(st[S.LAG_SLOT])] = hr[L.COMPUTE]


@njit_inline
def backfill_history(k, rows) -> None:
    """Balances before the cash anchor, from the anchor backwards with no financing."""
    cs = k.iv[I.CASH_START]
    cash0 = k.fs[F.CASH0]
    for m in range(cs - 1, -1, -1):
        nxt = rows[m + 1]
        if m == cs - 1:
            rows[m, L.CASH] = cash0
            rows[m, L.SHADOW] = cash0 + k.fs[F.FACILITIES]
        else:
            rows[m, L.CASH] = nxt[L.CASH] - nxt[L.FCF]
            rows[m, L.SHADOW] = nxt[L.SHADOW] - nxt[L.FCF]
        rows[m, L.DEBT] = 0.0
        rows[m, L.FUNDING_GAP] = 0.0
        rows[m, L.BRIDGE_OUT] = 0.0  # fin: financing
        rows[m, L.DEFAULTED] = 0.0
        rows[m, L.TO_COME] = 0.0


@njit_inline
def simulate_path(k, b, key0, key1, path, eps, rows, hold):
    """Draw one path's parameters and shocks and fill ``rows`` (n_months, N_LINES).

    ``b`` is the path's :class:`runway.kernel.inputs.PathBuffers`; ``(key0, key1)`` the seed's
    Philox key (:func:`runway.kernel.rng.seed_key`); ``path`` the path's global id. Its
    numbers depend only on these (:func:`draw_path_params`, :func:`draw_shocks`). ``hold``:
    the path's held values per draw row (NaN: drawn; empty: none held, :func:`hold_path_params`).
    """
    draw_path_params(k, key0, key1, path, b.theta, b.cshare, b.cslip)
    hold_path_params(hold, b.theta, b.cshare, b.cslip)
    init_path(
        k, b.theta, b.cshare, b.cslip, b.pc, b.cpay, b.cgw, b.coff, b.traj, b.st, b.hist, b.sbuf
    )
    n_months = k.iv[I.N_MONTHS]
    if k.iv[I.STOCHASTIC] != 0:
        draw_shocks(k, key0, key1, path, eps)
    else:
        eps[:, :] = 0.0
    step(0, n_months, k, b.theta, b.pc, b.traj, b.st, b.hist, b.sbuf, eps, rows)
    backfill_history(k, rows)


@njit_inline
def summarise_path(k, cpay, coff, st, rows, annual, out, exposure):
    """Per-path outcomes: annual lines (n_years, N_LINES), scalars (N_OUT), exposure."""
    year_idx = k.year_idx
    n_months = k.iv[I.N_MONTHS]
    # months of a year are contiguous: each flow sums over its year's months in month order,
    # all flows of a month at once (a month's lines are contiguous: the adds vectorise)
    m0 = 0
    while m0 < n_months:
        y = year_idx[m0]
        m1 = m0
        while m1 < n_months and year_idx[m1] == y:
            m1 += 1
        acc = annual[y]
        for i in range(N_FLOWS):  # flows (layout.LINES) sum over the year
            acc[i] = 0.0
        for m in range(m0, m1):
            r = rows[m]
            for i in range(N_FLOWS):
                acc[i] += r[i]
        last = rows[m1 - 1]
        for i in range(N_FLOWS, N_LINES):  # stocks take the year-end value
            acc[i] = last[i]
        m0 = m1
    for o in range(N_OUT):  # each outcome is a state slot (layout.OUTCOMES)
        out[o] = st[OUT_FROM_STATE[o]]
    if st[S.MIN_CASH] >= BIG:  # no month after the cash anchor: the anchor's cash
        out[O.MIN_CASH] = st[S.CASH]
    # Compute obligations still owed per counterparty at insolvency (or at the horizon).
    m_ref = int(st[S.INSOLVENT]) if st[S.INSOLVENT] >= 0.0 else n_months - 1
    exposure[:] = 0.0
    coni = k.coni
    cap_tail = k.cap_tail
    for c in range(cpay.size):  # payments still scheduled after m_ref, renegotiation included
        j = min(max(m_ref - coff[c] + 1, 0), coni[CI.LEN, c])
        exposure[coni[CI.CP, c]] += cap_tail[c, j] * cpay[c] * st[S.CSCALE]
