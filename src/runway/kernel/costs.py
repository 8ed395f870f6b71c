"""Block: costs -- compute contracts, people costs, revenue share, the P&L (``docs/model.md`` §3).

Equations (month ``m``; money $bn per month):

- contract ``c`` pays ``V_c share_c r_c / N_c * cap_c(j)`` in month ``j`` of its (slipped)
  term, ``N_c`` the sum of its profile ``cap_c`` over the term (so the term pays ``V_c``) and
  ``r_c`` the drawn cost per GW over the reference cost for contracts priced per GW (else 1:
  fixed-dollar contracts, config ``pricing``);
  compute rent is the sum over contracts times the renegotiation scale; GW online likewise;
- cost of sales ``= infer * compute + cogs% * revenue``; R&D ``= (1 - infer) * compute +
  people_rnd``; SG&A ``= sga_fixed + sga% * revenue`` (people costs grow at their own rates);
- revenue share ``= ms(t) * revenue``; operating income ``= revenue - cos - R&D - SG&A - share``;
- stock pay ``= sbc(t) * (people_rnd + sga_fixed)`` (a non-cash cost added back in cash flow).

Sources: HSBC's 2029 P&L lines (FIGURES.md, "HSBC reproduction targets"); the contracts and
their sources are listed in ``configs/hsbc_2025_11.toml`` (``[[compute.contracts]]``).
"""

from __future__ import annotations

import math

from runway._jit import njit_inline
from runway.layout import CF, CI, C, F, L, M, P, S, T

_H = 1.0 / 12.0  # one month in years


@njit_inline
def init(k, theta, cshare, cslip, pc, cpay, cgw, coff, traj, st, ns) -> None:
    """Per-path cost constants, the contract coefficients and the path's contract schedule.

    ``cpay[c]``: contract ``c``'s payment per month at full capacity ($bn); ``cgw[c]``: its
    GW at full capacity; ``coff[c]``: its first month after slip. ``traj`` gets, per month,
    payments before renegotiation (``T.PAY``), GW online (``T.GW``) and GW online under each
    strategic tranche's counterparties (``T.STRAT0 + s``).
    """
    fs = k.fs
    t0 = k.mon[M.T, 0]
    lrnd = math.log1p(theta[P.RND_G])
    lsga = math.log1p(theta[P.SGA_G])
    pc[C.RND_Q] = math.exp(lrnd * _H)
    pc[C.SGA_Q] = math.exp(lsga * _H)
    pc[C.VENDOR_KEEP] = 1.0 - theta[P.VENDOR]
    con = k.con
    coni = k.coni
    r_cpgw = theta[P.CPGW] / fs[F.CPGW_REF]
    for c in range(cpay.size):
        r = r_cpgw if con[CF.INDEXED, c] > 0.0 else 1.0  # INDEXED: pricing = "per_gw"
        cpay[c] = con[CF.VALUE, c] * cshare[c] * r / con[CF.NORM, c]
        cgw[c] = con[CF.GW, c] * cshare[c]
        coff[c] = coni[CI.START, c] + int(cslip[c])
    # The contract schedule: contract by contract, over its months on the calendar (the sum
    # over contracts runs in contract order, as a month-by-month loop would). Row slices
    # indexed from 0 let the inner loop vectorise.
    traj[:, :] = 0.0
    n_months = traj.shape[1]  # the horizon and the projected-burn pad after it
    cap = k.cap
    s_mask = k.s_mask
    for c in range(cpay.size):
        a = max(coff[c], 0)
        b = min(coff[c] + coni[CI.LEN, c], n_months)
        if b <= a:
            continue
        n = b - a
        cf = cap[c, a - coff[c] : a - coff[c] + n]  # capacity_fraction(profile, j, length, ramp)
        pay = traj[T.PAY, a:b]
        gwr = traj[T.GW, a:b]
        p_c = cpay[c]
        g_c = cgw[c]
        for j in range(n):
            pay[j] += cf[j] * p_c
            gwr[j] += cf[j] * g_c
        for s in range(ns):
            w = s_mask[s, c]
            if w == 0.0 and math.isfinite(g_c):  # adds +-0.0 to a sum from +0.0: no change
                continue
            srow = traj[T.STRAT0 + s, a:b]
            for j in range(n):
                srow[j] += cf[j] * g_c * w
    st[S.RND] = theta[P.RND0] / 12.0 * math.exp(lrnd * (t0 - 0.5))
    st[S.SGA] = theta[P.SGA0] / 12.0 * math.exp(lsga * (t0 - 0.5))
    st[S.CSCALE] = 1.0
    # pol: policies -- each policy's base schedule: the contracts it acts on (pmask)
    pmask = k.pmask
    for q in range(pmask.shape[0]):
        row = T.STRAT0 + ns + 2 * q
        for c in range(cpay.size):
            w = pmask[q, c]
            if w == 0.0:
                continue
            a = max(coff[c], 0)
            b = min(coff[c] + coni[CI.LEN, c], n_months)
            if b <= a:
                continue
            cf = cap[c, a - coff[c] : a - coff[c] + b - a]
            prow = traj[row, a:b]
            grow = traj[row + 1, a:b]
            for j in range(b - a):
                prow[j] += cf[j] * cpay[c]
                grow[j] += cf[j] * cgw[c]
    st[S.POL_RND_SCALE] = 1.0
    st[S.POL_SGA_SCALE] = 1.0
    st[S.POL_RND_Q] = 1.0
    st[S.POL_SGA_Q] = 1.0


@njit_inline
def month(m, mon, theta, pc, st, traj, sbuf, revenue, rows):
    """Month ``m``'s cost lines; returns ``(operating_income, stock_pay, compute, nnm_adj)``.

    pol: policies -- the funded path's policies add ``traj[T.ADJ_PAY]`` to the schedule's
    payments and scale people costs (``S.POL_RND_SCALE``, ``S.POL_SGA_SCALE``, the actual over
    the unslowed trend); ``nnm_adj`` is what the no-new-money cash flow must add back for the
    people costs saved (it runs with no reaction): ``-(1 - sbc) * saved``.
    """
    rev_share = (theta[P.MS0] + (theta[P.MS1] - theta[P.MS0]) * mon[M.W_MS, m]) * revenue

    # contracts: this month's payments and GW at full terms come from the path's
    # schedule (init); renegotiation scales the payments
    adj = traj[T.ADJ_PAY, m]  # pol: policies
    compute = (traj[T.PAY, m] + adj if adj != 0.0 else traj[T.PAY, m]) * st[S.CSCALE]
    gw = traj[T.GW, m]
    adj_gw = traj[T.ADJ_GW, m]  # pol: policies -- deferred or cancelled capacity
    if adj_gw != 0.0:
        gw = max(gw + adj_gw, 0.0)
    st[S.MAX_GW] = max(st[S.MAX_GW], gw)
    for s in range(sbuf.shape[1]):
        sbuf[1, s] = max(sbuf[1, s], traj[T.STRAT0 + s, m])

    rnd_people = st[S.RND]
    st[S.RND] = rnd_people * pc[C.RND_Q]
    sga_fixed = st[S.SGA]
    st[S.SGA] = sga_fixed * pc[C.SGA_Q]
    saved = 0.0  # pol: policies -- people costs the slowed growth saves this month
    if st[S.POL_RND_SCALE] != 1.0 or st[S.POL_SGA_SCALE] != 1.0:
        r_full = rnd_people
        s_full = sga_fixed
        rnd_people = r_full * st[S.POL_RND_SCALE]
        sga_fixed = s_full * st[S.POL_SGA_SCALE]
        saved = (r_full - rnd_people) + (s_full - sga_fixed)
    st[S.POL_RND_SCALE] *= st[S.POL_RND_Q]
    st[S.POL_SGA_SCALE] *= st[S.POL_SGA_Q]
    cos = theta[P.INFER] * compute + theta[P.COGS_PCT] * revenue
    rnd = (1.0 - theta[P.INFER]) * compute + rnd_people
    sga = sga_fixed + theta[P.SGA_PCT] * revenue
    op_income = revenue - cos - rnd - sga - rev_share
    sbc_share = theta[P.SBC0] + (theta[P.SBC1] - theta[P.SBC0]) * mon[M.W_SBC, m]
    stock_pay = sbc_share * (rnd_people + sga_fixed)
    nnm_adj = -(1.0 - sbc_share) * saved if saved != 0.0 else 0.0

    rows[m, L.COST_OF_SALES] = cos
    rows[m, L.RND] = rnd
    rows[m, L.SGA] = sga
    rows[m, L.REVENUE_SHARE] = rev_share
    rows[m, L.OPERATING_INCOME] = op_income
    rows[m, L.COMPUTE] = compute
    rows[m, L.STOCK_PAY] = stock_pay
    rows[m, L.GW] = gw
    return op_income, stock_pay, compute, nnm_adj
