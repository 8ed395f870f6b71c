"""Block: financing and insolvency, the order of operations in a month (docs/model.md §5-6).

From the cash anchor on (month ``m``; money $bn):

1. interest ``= yield * max(cash, 0) - rate * debt``; cash ``+= fcf + interest``; the
   "no new money" balance (``cash_no_new_money``, HSBC's funding-gap basis) ``+= fcf_nnm``
   (compute paid at full contract terms: no renegotiation reaches it);
2. strategic money: each tranche pays what is due in its window (unconditional, per GW
   online under its counterparties up to its amount, or after an IPO); then the equity
   committed before the vintage (``[[financing.committed]]``) on its dates;
3. equity rounds: a round paying in tranches pays its next one; when the runway ``(cash +
   undrawn + still to come - buffer) / burn`` (to come: tranches of signed rounds,
   ``[[financing.committed]]`` and unconditional strategic money not yet paid; burn: the
   last 3 months' average outflow, or with ``runway_basis = "projected"`` the projected burn
   below) falls below the trigger, a round is attempted; it closes with
   probability ``min(close_r * mom, 1)``, ``mom = (revenue momentum / reference)^elasticity``
   clipped, sized ``months_of_burn * burn * size_r * mom * noise`` within ``[min, max]`` and
   at most ``max_dilution`` of ``ARR * multiple_r * mom`` (``round_size_basis = "projected"``:
   on the burn projected from the committed compute schedule instead); a signed round pays
   ``round_first_tranche_share`` of itself ``round_lag`` months later and the rest in
   ``round_tranche_months`` equal monthly tranches, a failed attempt may be retried
   ``retry_months`` later (the round shock's own part is an AR(1), so the market's refusal
   persists: ``shocks.round_persistence``); a round's money first converts the bridge
   outstanding;
4. IPO: once allowed and ``ARR >= ipo_min_arr``, with the regime's monthly probability (it
   also converts the bridge);
5. facilities are drawn, then new debt (not in a winter, up to ``debt_x_arr * ARR`` of new
   debt outstanding; facility draws do not use this room) raised to protect the buffer;
6. bridge: in a distress window (runway below ``distress_runway_months``) an insider bridge
   (a convertible) of ``max(shortfall, bridge_months * burn)``, within ``min(bridge_max,
   max_dilution * ARR * multiple_r)`` outstanding, closes with the regime's bridge
   probability (certainly while a signed round waits to pay or pays tranches); it accrues
   ``bridge_rate`` and converts at the next round or IPO;
   (the runway of steps 6-7 counts committed money still to come, as the trigger's does);
7. renegotiation: below its trigger, a share of every compute contract's remaining payments
   is renegotiated away (at a cost), at most ``max_count`` times;
8. default (absorbing): the first month cash plus undrawn facilities ends below the buffer
   after all of the above; from then on the path raises nothing (no strategic money, round,
   IPO, facility, debt or bridge; no renegotiation) and ``defaulted`` is 1: its cash runs on
   with free cash flow and interest only, flagged, so the accounting identities still hold;
9. funding gap ``= max_m (buffer - cash_no_new_money)`` (the no-new-money path runs on).

pol: policies -- between 6 and 7, the config's policies (:mod:`.policies`) on the funded
path; a stake sale's money is strategic money of the month.

Sources: HSBC's funding-gap definition (FIGURES.md); round, IPO and regime parameters and their
sources in ``configs/hsbc_2025_11.toml`` (``[financing]``).
"""

from __future__ import annotations

import math

from runway._jit import njit_inline
from runway.kernel import policies
from runway.kernel.numeric import BIG, INF_RUNWAY, log_momentum, phi
from runway.layout import N_REV_RING, SF, SI, C, Condition, E, F, H, I, L, M, R, Regime, S, T


@njit_inline
def init(k, st) -> None:
    """Financing state before month 0: cash, facilities, no round, no insolvency."""
    fs = k.fs
    st[S.CASH] = fs[F.CASH0]
    st[S.SHADOW] = fs[F.CASH0] + fs[F.FACILITIES]
    st[S.UNDRAWN] = fs[F.FUNDED_FACILITIES]  # fin2: the funded path's own facilities
    st[S.ROUND_CD] = -1.0
    st[S.INSOLVENT] = -1.0
    st[S.IPO_MONTH] = -1.0
    st[S.MIN_CASH] = BIG
    st[S.DISTRESS] = -1.0
    policies.init(st, k.pf.shape[1])  # pol: policies


@njit_inline
def strategic_due(m, s, sti, stf, sbuf, paid_row, ipo_done) -> float:
    """What tranche ``s`` of strategic money still owes in month ``m`` ($bn; 0 outside its window).

    ``sbuf[paid_row, s]`` is what it has paid so far on this path (row 0: the funded path,
    row 2: the no-new-money path); ``sbuf[1, s]`` the largest GW online so far under its
    counterparties. An IPO-conditional tranche pays once ``ipo_done``.
    """
    if m < sti[SI.START, s] or m > sti[SI.LAPSE, s]:
        return 0.0
    cond = sti[SI.COND, s]
    if cond == Condition.NONE:
        return stf[SF.AMOUNT, s] - sbuf[paid_row, s]
    if cond == Condition.PER_GW:
        return min(stf[SF.AMOUNT, s], stf[SF.PER_GW, s] * sbuf[1, s]) - sbuf[paid_row, s]
    if ipo_done:
        return stf[SF.AMOUNT, s] - sbuf[paid_row, s]
    return 0.0


@njit_inline
def burn_row_kept(iv) -> bool:
    """Whether ``traj[T.BURN]`` holds the projected burn's bills (:func:`burn_schedule`).

    Only when the runway reads the projected burn every month (``runway_basis =
    "projected"``) and no policy can change the schedule during the path.
    """
    return iv[I.FIN_RUNWAY_PROJECTED] != 0 and iv[I.POL_N] == 0


@njit_inline
def burn_schedule(iv, fs, traj) -> None:
    """``traj[T.BURN, m]``: the sum :func:`projected_burn` takes in month ``m``, every month.

    The same terms added in the same order (``j = 1 .. n``) as the month's own loop, so the
    same number; written once per path (after the contract schedule) when
    :func:`burn_row_kept`, and the month reads it instead of summing ``n`` months again.
    Months ``m + j - lag`` before the calendar take month 0's bills, after the pad the last.
    """
    n = int(fs[F.FIN_MONTHS_BURN] + 0.5)
    if n < 1 or not burn_row_kept(iv):
        return
    n_months = iv[I.N_MONTHS]
    last = traj.shape[1] - 1
    lag = iv[I.PAY_LAG]
    # The month's loop adds ``pay + adj`` with ``adj`` (T.ADJ_PAY) +0.0 here (no policies):
    # ``pay + 0.0`` is ``pay`` but for -0.0, and a sum that starts at +0.0 never tells -0.0
    # from +0.0, so adding ``pay`` alone gives the same sum.
    pay = traj[T.PAY]
    out = traj[T.BURN, :n_months]
    out[:] = 0.0
    for j in range(1, n + 1):
        off = j - lag  # month m reads month m + off, clipped to [0, last]
        lo = min(max(-off, 0), n_months)
        hi = max(min(last - off + 1, n_months), lo)
        v0 = pay[0]
        for m in range(lo):
            out[m] += v0
        ps = pay[lo + off : hi + off]
        mid = out[lo:hi]
        for i in range(hi - lo):
            mid[i] += ps[i]
        vl = pay[last]
        tail = out[hi:]
        for i in range(n_months - hi):
            tail[i] += vl


@njit_inline
def projected_burn(m, iv, fs, st, traj, pc, pre) -> float:
    """Average monthly burn over the next ``n = round(round_months_of_burn)`` months.

    Today's cash flow before compute bills (``pre``) held flat, less the compute bills the
    committed schedule will send (``traj[T.PAY]``, plus the funded path's policy adjustments
    ``traj[T.ADJ_PAY]``, at today's renegotiation scale, less the
    vendor-financed share, ``pay_lag`` months after the expense; ``traj`` runs ``n`` months
    past the horizon, so the result does not depend on where the calendar ends):
    ``keep * cscale * sum_j full_{m + j - lag} / n - pre``. The sum is ``traj[T.BURN, m]``
    when :func:`burn_schedule` wrote it.
    """
    n = int(fs[F.FIN_MONTHS_BURN] + 0.5)
    if n < 1:
        return -pre
    if burn_row_kept(iv):
        acc = traj[T.BURN, m]
    else:
        last = traj.shape[1] - 1
        lag = iv[I.PAY_LAG]
        acc = 0.0
        for j in range(1, n + 1):
            idx = m + j - lag
            if idx < 0:
                idx = 0
            if idx > last:
                idx = last
            acc += traj[T.PAY, idx] + traj[T.ADJ_PAY, idx]  # pol: policies (0 without)
    return pc[C.VENDOR_KEEP] * st[S.CSCALE] * acc / n - pre


@njit_inline
def still_coming(m, st, mon, stf, sti, sbuf) -> float:
    """Committed money not yet paid in month ``m`` ($bn): what counts as runway beside cash.

    The later tranches of a signed round (``TR_LEFT``), ``[[financing.committed]]`` paid
    after ``m`` and unconditional strategic money still due (up to its lapse). A defaulted
    path has none (its tranches lapse; this is read only while it is alive).
    """
    coming = st[S.TR_LEFT] + mon[M.COMMITTED_LEFT, m]
    for s in range(sbuf.shape[1]):
        if sti[SI.COND, s] == Condition.NONE and m <= sti[SI.LAPSE, s]:
            coming += max(stf[SF.AMOUNT, s] - sbuf[0, s], 0.0)
    return coming


@njit_inline
def pay_round(fs, iv, st, size) -> float:
    """A signed round starts paying: its first tranche now, the rest over the next months.

    Returns the first tranche ($bn); the rest waits in ``TR_LEFT`` and is paid
    ``TR_PER_M`` a month (``round_first_tranche_share``, ``round_tranche_months``).
    """
    first = size * fs[F.FIN_FIRST_SHARE]
    rest = size - first
    if rest > 0.0 and iv[I.FIN_TRANCHE_MONTHS] > 0:
        st[S.TR_LEFT] += rest
        st[S.TR_PER_M] = st[S.TR_LEFT] / iv[I.FIN_TRANCHE_MONTHS]
    else:
        first = size
    st[S.N_ROUNDS] += 1.0
    return first


@njit_inline
def month(
    m, fs, iv, reg, stf, sti, st, hist, sbuf, eps, z_round, r, revenue, fcf, fcf_nnm,
    rev_year_ago, rows, traj, pc, pre, mon, pf, pi,
) -> None:  # fmt: skip
    """Month ``m``'s financing: writes the financing lines and balances (from the cash anchor)."""
    ns = sbuf.shape[1]
    buffer = fs[F.BUFFER]
    arr = 12.0 * revenue
    # the no-new-money path runs on whatever happens to the funded one (docs/model.md §6)
    shadow = st[S.SHADOW] + fcf_nnm  # compute at full terms: no renegotiation
    shadow_strategic = 0.0
    for s in range(ns):
        due = strategic_due(m, s, sti, stf, sbuf, 2, False)  # no IPO on this path
        if due > 0.0:
            sbuf[2, s] += due
            shadow_strategic += due
    shadow += shadow_strategic
    st[S.GAP] = max(st[S.GAP], buffer - shadow)
    st[S.SHADOW] = shadow

    interest = fs[F.CASH_YIELD_M] * max(st[S.CASH], 0.0) - fs[F.DEBT_RATE_M] * st[S.DEBT]
    cash = st[S.CASH] + fcf + interest
    st[S.BRIDGE] *= 1.0 + fs[F.BRIDGE_RATE_M]  # the bridge accrues (paid in kind)
    strategic = 0.0
    equity = 0.0
    ipo = 0.0
    facility = 0.0
    new_debt = 0.0
    bridge = 0.0
    committed = 0.0
    to_come = 0.0
    rows[m, L.ROUND_SIGNED] = 0.0
    if st[S.INSOLVENT] < 0.0:  # a defaulted path raises nothing (absorbing)
        for s in range(ns):
            due = strategic_due(m, s, sti, stf, sbuf, 0, st[S.IPO_DONE] > 0.0)
            if due > 0.0:
                sbuf[0, s] += due
                strategic += due
        cash += strategic
        # fin2: equity committed before the vintage arrives on its dates (funded path only)
        committed = mon[M.COMMITTED, m]
        cash += committed

        trailing = -(hist[H.FCF] + hist[H.FCF + 1] + hist[H.FCF + 2]) / 3.0
        burn = trailing
        if iv[I.FIN_RUNWAY_PROJECTED] != 0:  # fin2: runway on the burn still to come
            burn = projected_burn(m, iv, fs, st, traj, pc, pre)
        fin_on = iv[I.FIN_ON] != 0
        signed = 0.0  # money the round signed this month will pay (lag > 0)
        if fin_on:
            # the later tranches of a round already paying (fin2)
            if st[S.TR_LEFT] > 0.0:
                tranche = min(st[S.TR_PER_M], st[S.TR_LEFT])
                st[S.TR_LEFT] -= tranche
                if st[S.TR_LEFT] < 1e-9:
                    st[S.TR_LEFT] = 0.0
                equity += tranche
            # A round signed in month a with lag L pays its first tranche in month a + L.
            if st[S.ROUND_CD] > 0.0:
                st[S.ROUND_CD] -= 1.0
                if st[S.ROUND_CD] <= 0.0:
                    equity += pay_round(fs, iv, st, st[S.ROUND_SIZE])
                    st[S.ROUND_CD] = -1.0
                    st[S.ROUND_SIZE] = 0.0
            # money already committed counts as runway: tranches to come, pre-vintage tranches
            coming = still_coming(m, st, mon, stf, sti, sbuf)
            liquid = cash + equity + st[S.UNDRAWN] + coming - buffer
            runway = liquid / burn if burn > 0.0 else INF_RUNWAY
            if st[S.ROUND_CD] < 0.0 and m >= st[S.NEXT_TRY] and runway < fs[F.FIN_TRIGGER]:
                st[S.ATTEMPTS] += 1.0
                if m >= N_REV_RING:
                    lm = log_momentum(revenue, rev_year_ago, N_REV_RING, fs[F.FIN_MOM_REF])
                else:
                    lm = log_momentum(revenue, hist[H.REV], m, fs[F.FIN_MOM_REF])
                mom = math.exp(fs[F.FIN_MOM_EL] * lm)
                p_close = min(reg[R.CLOSE, r] * mom, 1.0)
                if phi(-z_round) < p_close:
                    sig = fs[F.FIN_SIZE_SIGMA]
                    noise = 1.0
                    if iv[I.STOCHASTIC] != 0:
                        noise = math.exp(sig * eps[E.ROUND_SIZE, m] - 0.5 * sig * sig)
                    base = trailing
                    if iv[I.FIN_PROJECTED] != 0:  # the runway's projection when it has one
                        projected = iv[I.FIN_RUNWAY_PROJECTED] != 0
                        base = burn if projected else projected_burn(m, iv, fs, st, traj, pc, pre)
                    size = fs[F.FIN_MONTHS_BURN] * max(base, 0.0) * reg[R.SIZE, r] * mom * noise
                    valuation = arr * reg[R.VAL, r] * mom
                    size = min(
                        max(size, fs[F.FIN_MIN]), fs[F.FIN_MAX], fs[F.FIN_MAX_DIL] * valuation
                    )
                    rows[m, L.ROUND_SIGNED] = size
                    if iv[I.FIN_LAG] == 0:
                        equity += pay_round(fs, iv, st, size)
                    else:
                        st[S.ROUND_SIZE] = size
                        st[S.ROUND_CD] = iv[I.FIN_LAG]
                        signed = size
                else:
                    st[S.NEXT_TRY] = m + iv[I.FIN_RETRY]  # a failed attempt may be retried
                    st[S.POL_FAILED] += 1.0  # pol: policies -- the failed_round metric
            if st[S.IPO_DONE] == 0.0 and m >= iv[I.IPO_EARLIEST] and arr >= fs[F.IPO_MIN_ARR]:
                if eps[E.IPO, m] > reg[R.IPO_THR, r]:
                    ipo = fs[F.IPO_SIZE]
                    st[S.IPO_DONE] = 1.0
                    st[S.IPO_MONTH] = m
        # New equity first converts the bridge outstanding (a convertible): the rest is cash.
        conv = min(st[S.BRIDGE], equity + ipo)
        st[S.BRIDGE] -= conv
        cash += equity + ipo - conv
        equity_cash = equity - min(conv, equity)
        ipo_cash = ipo - (conv - min(conv, equity))

        # Facilities are drawn, then new debt raised (not in a winter), to protect the buffer.
        if cash < buffer and st[S.UNDRAWN] > 0.0:
            facility = min(st[S.UNDRAWN], buffer - cash)
            st[S.UNDRAWN] -= facility
        cash += facility
        if fin_on and cash < buffer and r != Regime.WINTER:
            # capacity for new debt: the facilities are starting liquidity, not new debt
            room = fs[F.DEBT_X_ARR] * arr - st[S.RAISED_DEBT]
            if room > 0.0:
                new_debt = min(room, buffer - cash)
        cash += new_debt
        st[S.DEBT] += facility + new_debt

        # Distress window: an insider bridge, certain while a signed round waits to pay. The
        # runway counts committed money still to come, as the round trigger's does (fin2).
        to_come = still_coming(m, st, mon, stf, sti, sbuf)
        liquid = cash + st[S.UNDRAWN] + to_come - buffer
        runway = liquid / burn if burn > 0.0 else INF_RUNWAY
        if runway < fs[F.DISTRESS_TRIGGER]:
            if st[S.DISTRESS] < 0.0:
                st[S.DISTRESS] = m
            # at most bridge_max outstanding, and within the dilution limit of a round
            cap = min(fs[F.BRIDGE_MAX], fs[F.FIN_MAX_DIL] * arr * reg[R.VAL, r])
            room = cap - st[S.BRIDGE]
            if fin_on and room > 0.0:
                p_bridge = reg[R.BRIDGE, r]
                if st[S.ROUND_CD] > 0.0 or signed > 0.0 or st[S.TR_LEFT] > 0.0:
                    p_bridge = 1.0  # signed money is on its way: insiders bridge to it
                if phi(-eps[E.BRIDGE, m]) < p_bridge:
                    want = max(buffer - cash, fs[F.BRIDGE_MONTHS_BURN] * max(burn, 0.0))
                    bridge = min(want, room)
                    st[S.BRIDGE] += bridge
                    cash += bridge
                    liquid += bridge
                    runway = liquid / burn if burn > 0.0 else INF_RUNWAY

        # pol: policies -- the funded path's management reactions (kernel/policies.py)
        if pf.shape[1] > 0:
            stake = policies.month(
                m, iv[I.N_MONTHS], pf, pi, st, traj, eps, pc, ns, runway, cash, r, revenue,
                rev_year_ago,
            )  # fmt: skip
            if stake > 0.0:
                strategic += stake
                cash += stake
                liquid += stake
                runway = liquid / burn if burn > 0.0 else INF_RUNWAY

        # Distress: renegotiate a share of what is still owed under every compute contract.
        if iv[I.RENEG_ON] != 0 and st[S.RENEG_N] < iv[I.RENEG_MAX] and runway < fs[F.RENEG_TRIGGER]:
            st[S.CSCALE] *= 1.0 - fs[F.RENEG_SHARE] * (1.0 - fs[F.RENEG_COST])
            st[S.RENEG_N] += 1.0

        # Default (absorbing): cash plus what can still be drawn is below the buffer.
        if cash + st[S.UNDRAWN] < buffer:
            st[S.INSOLVENT] = m
            st[S.ROUND_CD] = -1.0
            st[S.ROUND_SIZE] = 0.0
            st[S.TR_LEFT] = 0.0  # fin2: what was still to come lapses at default
        st[S.RAISED_EQUITY] += equity_cash
        st[S.RAISED_DEBT] += new_debt
        st[S.RAISED_IPO] += ipo_cash
        st[S.RAISED_STRATEGIC] += strategic
        st[S.RAISED_FACILITY] += facility
        st[S.RAISED_BRIDGE] += bridge
        st[S.RAISED_COMMITTED] += committed
        equity = equity_cash
        ipo = ipo_cash
    st[S.MIN_CASH] = min(st[S.MIN_CASH], cash)
    st[S.CASH] = cash

    rows[m, L.INTEREST] = interest
    rows[m, L.EQUITY] = equity
    rows[m, L.DEBT_RAISED] = new_debt
    rows[m, L.IPO] = ipo
    rows[m, L.STRATEGIC] = strategic
    rows[m, L.FACILITY] = facility
    rows[m, L.BRIDGE] = bridge
    rows[m, L.COMMITTED] = committed
    rows[m, L.FINANCING] = (
        interest + equity + new_debt + ipo + strategic + facility + bridge + committed
    )
    rows[m, L.CASH] = cash
    rows[m, L.SHADOW] = shadow
    rows[m, L.DEBT] = st[S.DEBT]
    rows[m, L.BRIDGE_OUT] = st[S.BRIDGE]
    rows[m, L.DEFAULTED] = 1.0 if st[S.INSOLVENT] >= 0.0 else 0.0
    rows[m, L.TO_COME] = to_come
    # Every array argument is used once more here, in the block's last basic block: numba binds
    # an inlined function's array arguments as new references, and with their last uses spread
    # over the branches above, the reference counting (atomic, per month) was not pruned and
    # doubled the cost of the whole step (measured). ``0 * alive`` is exact integer arithmetic.
    alive = fs.size + iv.size + reg.size + stf.size + sti.size + hist.size + sbuf.size + eps.size
    alive += traj.size + pc.size + mon.size + pf.size + pi.size
    rows[m + 0 * alive, L.FUNDING_GAP] = st[S.GAP]
