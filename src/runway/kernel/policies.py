"""Block: management policies on the funded path (``docs/model.md`` §11; pol: policies).

Each policy ``q`` (config ``[[policies]]``, rows ``PF`` / ``PI`` of ``k.pf`` / ``k.pi``) is a
trigger and an action, evaluated in month ``m`` (from the cash anchor, while the path has not
defaulted) after the month's financing and before the default test:

- trigger: ``metric cmp threshold``; the metric is the runway
  ``(cash + undrawn + to come - buffer) /
  burn`` (months), cash ($bn), failed round attempts so far (count), the regime (code),
  revenue momentum ``revenue / revenue_12_months_ago - 1`` (1/yr; undefined, so false, while
  there is no revenue a year back) or the month index (date). It must hold ``hold`` months
  in a row; the policy fires at most ``max_fires`` times, ``cooldown`` months apart, and the
  count of months held restarts at each firing;
- actions (effects from month ``m + 1`` unless said):
  - defer_compute (share ``a``, penalty ``b``, ``L`` months): ``a`` of the acted-on contracts'
    remaining schedule (bills and GW of every month ``j > m``) is delivered and billed ``L``
    months later (``traj[T.ADJ_PAY]``, ``traj[T.ADJ_GW]``, over the horizon and the
    projected-burn pad after it, so a projected runway sees the deferral), the bills times
    ``1 + b``; what moves past the horizon is not paid within it; the revenue the missing GW
    costs comes through the revenue-compute link;
  - cancel_compute (share ``a``, penalty ``b``): ``a`` of every later bill and GW of the
    acted-on contracts is cancelled; ``b`` times the bills cancelled (within the horizon) is
    billed in month ``m + 1``;
  - slow_people_growth (factor ``a``): R&D people and fixed SG&A grow at ``a g`` instead of
    ``g`` a year;
  - raise_price (``a``, elasticity ``b``): consumer price ``x (1 + a)``, paid conversion ``x
    (1 + a) ** -b`` (from this month's revenue of the next month on);
  - bring_ads_forward (``L`` months): the LLM share of digital ads is read ``L`` months ahead;
  - sell_strategic_stake (``a`` $bn, probability ``b``): closes this month when the policy's
    uniform is below ``b``; the money is strategic money (``strategic_raised``);
  - renegotiate (share ``a``, cost ``b``, probability ``c``): on success every later bill is
    scaled by ``1 - a (1 - b)`` and GW online (for revenue) by ``1 - a``.

A policy's uniform in month ``m`` is ``frac(Phi(-eps[E.POLICY, m]) + q * 0.618...)``: each
policy's is uniform, those of two policies in one month are dependent (OURS: one shock per
month keeps every other draw unchanged).

The no-new-money path (HSBC's funding gap) never sees a policy: the payments and GW it reads
are the schedule's (``traj[T.PAY]``, ``traj[T.GW]``), and the step adds back the people costs
saved and the revenue lost (``costs.month``'s ``nnm_adj``, ``revenue.month``'s ``lost``).
"""

from __future__ import annotations

import math

from runway._jit import njit_inline
from runway.kernel.numeric import phi
from runway.layout import PF, PI, C, E, PolAction, PolCmp, PolMetric, S, T

_GOLDEN = 0.6180339887498949


@njit_inline
def init(st, n_policies) -> None:
    """No policy has fired: first and last firing months -1."""
    for q in range(n_policies):
        st[S.POL0_FIRST + q] = -1.0
        st[S.POL0_LAST + q] = -1.0


@njit_inline
def _holds(value, cmp, thr) -> bool:
    if math.isnan(value):
        return False
    if cmp == PolCmp.LT:
        return value < thr
    if cmp == PolCmp.LE:
        return value <= thr
    if cmp == PolCmp.GT:
        return value > thr
    if cmp == PolCmp.GE:
        return value >= thr
    return value == thr


@njit_inline
def month(
    m, n_months, pf, pi, st, traj, eps, pc, ns, runway, cash, r, revenue, rev_year_ago
) -> float:
    """Month ``m``'s policies; returns the strategic money a stake sale brings this month.

    ``n_months``: the horizon (``traj`` may run past it: the projected-burn pad).
    """
    stake = 0.0
    for q in range(pf.shape[1]):
        metric = pi[PI.METRIC, q]
        if metric == PolMetric.MONTHS_OF_RUNWAY:
            value = runway
        elif metric == PolMetric.CASH_BN:
            value = cash
        elif metric == PolMetric.FAILED_ROUND:
            value = st[S.POL_FAILED]
        elif metric == PolMetric.REGIME:
            value = float(r)
        elif metric == PolMetric.REVENUE_MOMENTUM:
            value = revenue / rev_year_ago - 1.0 if m >= 12 and rev_year_ago > 0.0 else math.nan
        else:
            value = float(m)
        if _holds(value, pi[PI.CMP, q], pf[PF.THRESHOLD, q]):
            st[S.POL0_HELD + q] += 1.0
        else:
            st[S.POL0_HELD + q] = 0.0
            continue
        fires = st[S.POL0_FIRES + q]
        if st[S.POL0_HELD + q] < pi[PI.HOLD, q] or fires >= pi[PI.MAX_FIRES, q]:
            continue
        if fires > 0.0 and m - st[S.POL0_LAST + q] < pi[PI.COOLDOWN, q]:
            continue
        st[S.POL0_HELD + q] = 0.0
        st[S.POL0_FIRES + q] = fires + 1.0
        st[S.POL0_LAST + q] = m
        if st[S.POL0_FIRST + q] < 0.0:
            st[S.POL0_FIRST + q] = m
        u = phi(-eps[E.POLICY, m]) + q * _GOLDEN
        u -= math.floor(u)
        a = pf[PF.A, q]
        b = pf[PF.B, q]
        act = pi[PI.ACTION, q]
        base = T.STRAT0 + ns + 2 * q
        if act == PolAction.DEFER_COMPUTE or act == PolAction.CANCEL_COMPUTE:
            defer = act == PolAction.DEFER_COMPUTE
            lag = pi[PI.MONTHS, q]
            width = traj.shape[1]  # the horizon and the projected-burn pad after it
            total = 0.0  # bills cancelled within the horizon, or deferred ones billed in it
            for j in range(m + 1, width):
                left = traj[T.PAY, j] + traj[T.ADJ_PAY, j]  # bills not yet taken off
                d = min(a * traj[base, j], max(left, 0.0))
                gleft = traj[T.GW, j] + traj[T.ADJ_GW, j]
                g = min(a * traj[base + 1, j], max(gleft, 0.0))
                traj[T.ADJ_PAY, j] -= d
                traj[T.ADJ_GW, j] -= g
                if defer:  # delivered and billed lag months later
                    if j + lag < width:
                        traj[T.ADJ_PAY, j + lag] += d * (1.0 + b)
                        traj[T.ADJ_GW, j + lag] += g
                    if j + lag < n_months:
                        total += d
                elif j < n_months:
                    total += d
            if not defer and m + 1 < n_months:
                traj[T.ADJ_PAY, m + 1] += b * total
            st[S.POL_COST] += b * total * st[S.CSCALE]
        elif act == PolAction.SLOW_PEOPLE_GROWTH:
            lq = math.log(pc[C.RND_Q])  # log1p(g) / 12
            st[S.POL_RND_Q] = math.exp(math.log1p(a * math.expm1(12.0 * lq)) / 12.0 - lq)
            lq = math.log(pc[C.SGA_Q])
            st[S.POL_SGA_Q] = math.exp(math.log1p(a * math.expm1(12.0 * lq)) / 12.0 - lq)
        elif act == PolAction.RAISE_PRICE:
            st[S.POL_PRICE] *= 1.0 + a
            st[S.POL_CONV] *= math.exp(-b * math.log1p(a))
        elif act == PolAction.BRING_ADS_FORWARD:
            st[S.POL_ADS_LEAD] = min(st[S.POL_ADS_LEAD] + pi[PI.MONTHS, q], n_months)
        elif act == PolAction.SELL_STRATEGIC_STAKE:
            if u < b:
                stake += a
                st[S.POL_STAKE] += a
        elif u < pf[PF.C, q]:  # RENEGOTIATE, with its success probability
            st[S.CSCALE] *= 1.0 - a * (1.0 - b)
            st[S.POL_GW_SCALE] *= 1.0 - a
    return stake
