"""Block: revenue -- consumer subscriptions, enterprise, advertising (``docs/model.md`` §2).

Equations (month ``m`` at time ``t`` years; ``h = 1/12``; money $bn per month):

- users ``U = U_ceil / (1 + a e^{-k (t - t_A)}) * exp(d_m)``, ``a = U_ceil / U_A - 1`` (a
  logistic through the anchor ``U_A`` at ``t_A``), ``d_m`` an AR(1) deviation driven by
  ``z_users``; ``e^{-k (t - t_A)}`` is carried month to month by the factor ``e^{-k h}``;
- conversion ``c = logistic(x_0 + (x_1 - x_0) w_conv(t) + v_m)``, ``x = logit`` of the start
  and target shares, ``v_m`` an AR(1) deviation;
- price ``p = p_0 * schedule(t) * J_m``; a price war (probability ``1 - e^{-rate h}`` a month,
  a shock below ``Phi^-1`` of it) multiplies ``J`` by ``1 - cut``;
- consumer ``= U c p`` (bn users x share x $/month);
- enterprise ``= M(t) / 12 * share(t) * exp(lvl_m)``: the market ``M`` is pinned at the anchor,
  its log growth rate linear in time before it (``log M(t) = log M_A - int_t^{t_A} r``) and
  constant after; ``lvl`` integrates a mean-reverting growth shock;
- advertising ``= A(t) / 12 * s_llm w_llm(t) * s_oai(t)``, ``A`` growing at ``g_ad``;
- seam pin (history, ``docs/model.md`` section 2.1): after the as-of month ``h`` each component
  is multiplied by ``exp(D (1 - w_pin(t)))``, ``D = log(central_h / own_h)`` the log gap between
  the central path and the path's own value at ``h`` (so the path starts from history), ``w_pin``
  rising from 0 at ``h`` to 1 at the component's anchor (so the draws act forward);
- revenue-compute link (section 2.2): every component is multiplied by ``min(1, GW_m /
  GW_plan_m) ** e``, ``GW_m`` the path's GW online (less renegotiated capacity), ``GW_plan`` the
  central plan's, ``e`` ``compute.revenue_compute_elasticity``;
- pol: policies (section 11): on the funded path, consumer revenue times the price rise and
  its conversion response, the LLM ad share read ``lead`` months ahead, and ``GW_m`` less the
  deferred or cancelled capacity and times the renegotiated share kept.

Sources: the anchors are HSBC's November 2025 figures as recorded in FIGURES.md ("HSBC
reproduction targets"); every parameter's own source is in ``configs/hsbc_2025_11.toml``.
"""

from __future__ import annotations

import math

import numpy as np

from runway._jit import njit_inline
from runway.kernel.numeric import norm_ppf
from runway.layout import C, F, I, L, M, P, S, T

_H = 1.0 / 12.0  # one month in years


@njit_inline
def init(k, theta, pc, st) -> None:
    """Per-path revenue constants (``C``) and the revenue state before month 0."""
    fs = k.fs
    t0 = k.mon[M.T, 0]
    h = _H
    ceil = theta[P.USERS_CEIL]
    anchor = min(theta[P.USERS_ANCHOR], 0.999 * ceil)
    kk = theta[P.USERS_K]
    if anchor > 0.0:
        pc[C.USERS_A] = ceil / anchor - 1.0
        pc[C.USERS_Q] = math.exp(-kk * h)
    else:  # no users at the anchor: none ever (the S-curve starts from 0)
        pc[C.USERS_A] = np.inf
        pc[C.USERS_Q] = 1.0
    x0 = math.log(theta[P.CONV_START] / (1.0 - theta[P.CONV_START]))
    x1 = math.log(theta[P.CONV_TARGET] / (1.0 - theta[P.CONV_TARGET]))
    pc[C.X0] = x0
    pc[C.DX] = x1 - x0
    # A price war happens in a month with probability 1 - exp(-rate / 12): shock below Phi^-1.
    pc[C.PW_Z] = norm_ppf(-math.expm1(-theta[P.PW_RATE] * h))
    ta = fs[F.ENT_ANCHOR_T]
    r0 = math.log1p(theta[P.ENT_G0])
    r1 = math.log1p(theta[P.ENT_G1])
    cq = (r1 - r0) / (2.0 * ta) if ta > 0.0 else 0.0
    pc[C.ENT_Q] = math.exp(2.0 * cq * h * h)
    lga = math.log1p(theta[P.ENT_G_AFTER])
    pc[C.ENT_LG_AFTER] = lga
    pc[C.ENT_AFTER_Q] = math.exp(lga * h)
    lad = math.log1p(theta[P.AD_G])
    pc[C.AD_Q] = math.exp(lad * h)

    st[S.PRICE_JUMP] = 1.0
    st[S.POL_PRICE] = 1.0  # pol: policies -- no reaction yet
    st[S.POL_CONV] = 1.0
    st[S.POL_GW_SCALE] = 1.0
    st[S.USERS_E] = math.exp(-kk * (t0 - fs[F.USERS_ANCHOR_T])) if anchor > 0.0 else 1.0
    if k.iv[I.M_ANCHOR] > 0:
        st[S.MKT] = theta[P.ENT_MKT] * math.exp(-(r0 * (ta - t0) + cq * (ta * ta - t0 * t0)))
        st[S.MKT_R] = math.exp(r0 * h + cq * (2.0 * t0 * h + h * h))
    st[S.AD] = theta[P.AD_MKT] * math.exp(lad * (t0 - 0.5))


@njit_inline
def month(
    m, fs, mon, m_anchor, theta, pc, st, traj, z_ent, z_users, z_pw, z_conv, rows
) -> tuple[float, float]:
    """Month ``m``'s revenue lines; returns revenue ($bn per month).

    ``z_conv`` is the conversion shock (``eps[E.CONV, m]``; 0 in history months). Returns
    ``(revenue, lost)``: ``lost`` is the revenue the renegotiated capacity costs this month
    through the revenue-compute link (0 without renegotiation), which the no-new-money path
    (HSBC's funding gap, at full contract terms) still earns.
    """
    t = mon[M.T, m]
    st[S.USERS_DEV] = fs[F.USERS_RHO] * st[S.USERS_DEV] + fs[F.USERS_C] * z_users
    e = st[S.USERS_E]
    st[S.USERS_E] = e * pc[C.USERS_Q]
    users = theta[P.USERS_CEIL] / (1.0 + pc[C.USERS_A] * e) * math.exp(st[S.USERS_DEV])

    st[S.CONV_DEV] = fs[F.CONV_RHO] * st[S.CONV_DEV] + fs[F.CONV_C] * z_conv
    conv = 1.0 / (1.0 + math.exp(-(pc[C.X0] + pc[C.DX] * mon[M.W_CONV, m] + st[S.CONV_DEV])))

    if z_pw < pc[C.PW_Z]:
        st[S.PRICE_JUMP] *= 1.0 - theta[P.PW_CUT]
        st[S.N_PRICE_WARS] += 1.0
    price = theta[P.PRICE] * mon[M.PRICE_MULT, m] * st[S.PRICE_JUMP]
    consumer = users * conv * price  # bn users x share x $/month = $bn/month

    st[S.ENT_G] = fs[F.ENT_A] * st[S.ENT_G] + fs[F.ENT_C] * z_ent
    st[S.ENT_LVL] += st[S.ENT_G] / 12.0
    # The market is pinned at the anchor: log M(t) = log M_A - int_t^tA r(s) ds, r linear.
    if m < m_anchor:
        market = st[S.MKT]
        st[S.MKT] = market * st[S.MKT_R]
        st[S.MKT_R] *= pc[C.ENT_Q]
    else:
        if m == m_anchor:
            lg = pc[C.ENT_LG_AFTER] * (t - fs[F.ENT_ANCHOR_T])
            st[S.MKT] = theta[P.ENT_MKT] * math.exp(lg)
        market = st[S.MKT]
        st[S.MKT] = market * pc[C.ENT_AFTER_Q]
    share = theta[P.ENT_SHARE0] + (theta[P.ENT_SHARE1] - theta[P.ENT_SHARE0]) * mon[M.W_ENT, m]
    enterprise = market / 12.0 * share * math.exp(st[S.ENT_LVL])

    ad_market = st[S.AD]
    st[S.AD] = ad_market * pc[C.AD_Q]
    oai = theta[P.OAI_SHARE0] + (theta[P.OAI_SHARE1] - theta[P.OAI_SHARE0]) * mon[M.W_OAI, m]
    ads = ad_market / 12.0 * theta[P.LLM_SHARE] * mon[M.W_LLM, m] * oai

    # pol: policies -- the funded path's reactions: a price rise (with its conversion
    # response), the ad ramp brought forward, capacity deferred, cancelled or renegotiated
    adj_gw = traj[T.ADJ_GW, m]
    reacted = (
        st[S.POL_PRICE] != 1.0
        or st[S.POL_CONV] != 1.0
        or st[S.POL_ADS_LEAD] != 0.0
        or adj_gw != 0.0
        or st[S.POL_GW_SCALE] != 1.0
    )
    consumer0 = consumer
    ads0 = ads
    if reacted:
        consumer = consumer * st[S.POL_PRICE] * st[S.POL_CONV]
        price *= st[S.POL_PRICE]
        conv *= st[S.POL_CONV]
        lead = int(st[S.POL_ADS_LEAD])
        if lead > 0:
            ml = min(m + lead, mon.shape[1] - 1)
            ads = ad_market / 12.0 * theta[P.LLM_SHARE] * mon[M.W_LLM, ml] * oai

    # cal2: vintage/contracts -- the seam pin and the revenue-compute link
    if st[S.HD_CONS] != 0.0:
        pin = math.exp(st[S.HD_CONS] * (1.0 - mon[M.W_CONS_PIN, m]))
        consumer *= pin
        consumer0 *= pin
    if st[S.HD_ENT] != 0.0:
        enterprise *= math.exp(st[S.HD_ENT] * (1.0 - mon[M.W_ENT_PIN, m]))
    if st[S.HD_ADS] != 0.0:
        pin = math.exp(st[S.HD_ADS] * (1.0 - mon[M.W_ADS_PIN, m]))
        ads *= pin
        ads0 *= pin
    ent0 = enterprise
    el = theta[P.REV_GW_EL]
    plan = mon[M.GW_PLAN, m]
    lost = 0.0  # revenue the reactions cost this month (the funding gap's basis earns it)
    f_full = 1.0
    if el > 0.0 and plan > 0.0:
        gw_full = traj[T.GW, m]
        gw = gw_full
        if reacted:
            gw = max(gw_full + adj_gw, 0.0) * st[S.POL_GW_SCALE]
        if st[S.RENEG_N] > 0.0:  # renegotiated capacity is given up
            gw *= math.exp(st[S.RENEG_N] * math.log(1.0 - fs[F.RENEG_SHARE]))
        if gw < plan:  # exp(e log(x)), not x ** e: the numpy reference has the same libm calls
            f = math.exp(el * math.log(gw / plan)) if gw > 0.0 else 0.0
            # the full-terms factor is needed only for ``lost`` (renegotiated or reacted)
            if st[S.RENEG_N] > 0.0 or reacted:
                f_full = math.exp(el * math.log(gw_full / plan)) if gw_full < plan else 1.0
            if st[S.RENEG_N] > 0.0 and not reacted:
                lost = (consumer + enterprise + ads) * (f_full - f)
            consumer *= f
            enterprise *= f
            ads *= f
    if reacted:  # the revenue with no reaction (full terms), less the revenue with them
        lost = (consumer0 + ent0 + ads0) * f_full - (consumer + enterprise + ads)

    revenue = consumer + enterprise + ads
    rows[m, L.REVENUE] = revenue
    rows[m, L.CONSUMER] = consumer
    rows[m, L.ENTERPRISE] = enterprise
    rows[m, L.ADS] = ads
    rows[m, L.USERS] = users
    rows[m, L.CONVERSION] = conv
    rows[m, L.PRICE] = price
    rows[m, L.USERS_DEV] = st[S.USERS_DEV]
    rows[m, L.CONV_DEV] = st[S.CONV_DEV]
    rows[m, L.ENT_G_DEV] = st[S.ENT_G]
    return revenue, lost


# --- the same block over all paths at once (numpy) -------------------------------------------
#
# The numpy reference (``benchmarks/reference.py``) evaluates each month for every path at once:
# a state scalar becomes an array with one element per path and a branch becomes ``np.where``.
# Its revenue block lives here, beside the kernel's, so that a change to the revenue equations
# is one edit in one file; ``tests/test_reference.py`` requires the two to agree bit for bit on
# every line and every parameter. ``lib`` is the reference's ``MathLib`` (exp, log, log1p,
# expm1, erfc, ppf on float64 arrays). Policies are not modelled here (the reference refuses
# configs with them).


def init_arrays(inp, th, pc, st, lib) -> None:
    """:func:`init` for every path; ``th``, ``pc``, ``st`` hold one row per path."""
    exp, log, log1p, expm1, _, ppf = lib
    n = th.shape[0]
    h = _H
    t0 = float(inp.t[0])
    ceil = th[:, P.USERS_CEIL]
    anchor = np.minimum(th[:, P.USERS_ANCHOR], 0.999 * ceil)
    kk = th[:, P.USERS_K]
    some = anchor > 0.0
    pc[:, C.USERS_A] = np.where(some, ceil / np.where(some, anchor, 1.0) - 1.0, np.inf)
    pc[:, C.USERS_Q] = np.where(some, exp(-kk * h), 1.0)
    x0 = log(th[:, P.CONV_START] / (1.0 - th[:, P.CONV_START]))
    x1 = log(th[:, P.CONV_TARGET] / (1.0 - th[:, P.CONV_TARGET]))
    pc[:, C.X0] = x0
    pc[:, C.DX] = x1 - x0
    pc[:, C.PW_Z] = ppf(-expm1(-th[:, P.PW_RATE] * h))
    ta = inp.ent_anchor_t
    r0 = log1p(th[:, P.ENT_G0])
    r1 = log1p(th[:, P.ENT_G1])
    cq = (r1 - r0) / (2.0 * ta) if ta > 0.0 else np.zeros(n)
    pc[:, C.ENT_Q] = exp(2.0 * cq * h * h)
    lga = log1p(th[:, P.ENT_G_AFTER])
    pc[:, C.ENT_LG_AFTER] = lga
    pc[:, C.ENT_AFTER_Q] = exp(lga * h)
    lad = log1p(th[:, P.AD_G])
    pc[:, C.AD_Q] = exp(lad * h)

    st[:, S.PRICE_JUMP] = 1.0
    st[:, S.USERS_E] = np.where(some, exp(-kk * (t0 - inp.users_anchor_t)), 1.0)
    if inp.m_anchor > 0:
        st[:, S.MKT] = th[:, P.ENT_MKT] * exp(-(r0 * (ta - t0) + cq * (ta * ta - t0 * t0)))
        st[:, S.MKT_R] = exp(r0 * h + cq * (2.0 * t0 * h + h * h))
    st[:, S.AD] = th[:, P.AD_MKT] * exp(lad * (t0 - 0.5))


def month_arrays(m, inp, th, pc, st, z_ent, z_users, z_pw, z_conv, gw, lib, row):
    """:func:`month` for every path; ``gw`` the GW online per path, ``row`` (n, N_LINES).

    Writes the revenue lines into ``row`` and returns ``(revenue, lost)`` per path.
    """
    exp, log = lib.exp, lib.log
    n = th.shape[0]
    t = float(inp.t[m])
    st[:, S.USERS_DEV] = inp.users_rho * st[:, S.USERS_DEV] + inp.users_c * z_users
    e = st[:, S.USERS_E].copy()
    st[:, S.USERS_E] = e * pc[:, C.USERS_Q]
    users = th[:, P.USERS_CEIL] / (1.0 + pc[:, C.USERS_A] * e) * exp(st[:, S.USERS_DEV])

    st[:, S.CONV_DEV] = inp.conv_rho * st[:, S.CONV_DEV] + inp.conv_c * z_conv
    conv = 1.0 / (1.0 + exp(-(pc[:, C.X0] + pc[:, C.DX] * inp.w_conv[m] + st[:, S.CONV_DEV])))

    war = z_pw < pc[:, C.PW_Z]
    st[:, S.PRICE_JUMP] = np.where(
        war, st[:, S.PRICE_JUMP] * (1.0 - th[:, P.PW_CUT]), st[:, S.PRICE_JUMP]
    )
    st[:, S.N_PRICE_WARS] += war
    price = th[:, P.PRICE] * inp.price_mult[m] * st[:, S.PRICE_JUMP]
    consumer = users * conv * price

    st[:, S.ENT_G] = inp.ent_a * st[:, S.ENT_G] + inp.ent_c * z_ent
    st[:, S.ENT_LVL] += st[:, S.ENT_G] / 12.0
    if m < inp.m_anchor:
        market = st[:, S.MKT].copy()
        st[:, S.MKT] = market * st[:, S.MKT_R]
        st[:, S.MKT_R] *= pc[:, C.ENT_Q]
    else:
        if m == inp.m_anchor:
            st[:, S.MKT] = th[:, P.ENT_MKT] * exp(pc[:, C.ENT_LG_AFTER] * (t - inp.ent_anchor_t))
        market = st[:, S.MKT].copy()
        st[:, S.MKT] = market * pc[:, C.ENT_AFTER_Q]
    share = th[:, P.ENT_SHARE0] + (th[:, P.ENT_SHARE1] - th[:, P.ENT_SHARE0]) * inp.w_ent[m]
    enterprise = market / 12.0 * share * exp(st[:, S.ENT_LVL])

    ad_market = st[:, S.AD].copy()
    st[:, S.AD] = ad_market * pc[:, C.AD_Q]
    oai = th[:, P.OAI_SHARE0] + (th[:, P.OAI_SHARE1] - th[:, P.OAI_SHARE0]) * inp.w_oai[m]
    ads = ad_market / 12.0 * th[:, P.LLM_SHARE] * inp.w_llm[m] * oai

    # cal2: vintage/contracts -- the seam pin and the revenue-compute link
    hd = st[:, S.HD_CONS]
    consumer = np.where(hd != 0.0, consumer * exp(hd * (1.0 - inp.w_cons_pin[m])), consumer)
    hd = st[:, S.HD_ENT]
    enterprise = np.where(hd != 0.0, enterprise * exp(hd * (1.0 - inp.w_ent_pin[m])), enterprise)
    hd = st[:, S.HD_ADS]
    ads = np.where(hd != 0.0, ads * exp(hd * (1.0 - inp.w_ads_pin[m])), ads)
    el = th[:, P.REV_GW_EL]
    plan = float(inp.gw_plan[m])
    lost = np.zeros(n)
    if plan > 0.0:
        nre = st[:, S.RENEG_N]
        gwl = np.where(nre > 0.0, gw * exp(nre * log(np.full(n, 1.0 - inp.reneg_share))), gw)
        short = (el > 0.0) & (gwl < plan)
        fac = np.where(short, exp(el * log(gwl / plan)), 1.0)
        # the revenue renegotiation's capacity costs: the no-new-money path still earns it
        full_short = short & (nre > 0.0) & (gw < plan)
        fac_full = np.where(full_short, exp(el * log(gw / plan)), 1.0)
        lost = np.where(short & (nre > 0.0), (consumer + enterprise + ads) * (fac_full - fac), 0.0)
        consumer = np.where(short, consumer * fac, consumer)
        enterprise = np.where(short, enterprise * fac, enterprise)
        ads = np.where(short, ads * fac, ads)

    revenue = consumer + enterprise + ads
    row[:, L.REVENUE] = revenue
    row[:, L.CONSUMER] = consumer
    row[:, L.ENTERPRISE] = enterprise
    row[:, L.ADS] = ads
    row[:, L.USERS] = users
    row[:, L.CONVERSION] = conv
    row[:, L.PRICE] = price
    row[:, L.USERS_DEV] = st[:, S.USERS_DEV]
    row[:, L.CONV_DEV] = st[:, S.CONV_DEV]
    row[:, L.ENT_G_DEV] = st[:, S.ENT_G]
    return revenue, lost
