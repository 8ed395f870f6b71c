"""Block: the month's correlated shocks and the financing-market regime (``docs/model.md`` §7.2).

Equations (one path, month ``m``; every ``eps`` an independent standard normal, independent
across months too):

- the common ("sentiment") innovation is ``c_m = eps_sent,m``, iid N(0, 1) month to month;
- each driver ``j`` (enterprise growth, users, price war, regime, round) sees the innovation
  ``z_j,m = l_j c_m + sqrt(1 - l_j^2) eps_j,m``: iid N(0, 1) over months, so every AR(1) it
  drives keeps its configured stationary sd and persistence, every event keeps its marginal
  probability and the regime chain its transition matrix; ``corr(z_i,m, z_j,m) = l_i l_j``
  in the same month and 0 at every other lag;
- the reported sentiment index ``s_m = rho s_{m-1} + sqrt(1 - rho^2) c_m``, ``s_0 = c_0``
  (stationary sd 1), is an AR(1) filter of the common innovation, written as the
  ``sentiment`` line; no driver reads it;
- round appetite (fin2): the round shock's own part is ``o_m = rho o_{m-1} + sqrt(1 - rho^2)
  eps_round,m``, ``o_0 = eps_round,0`` (stationary sd 1, ``rho = shocks.round_persistence``),
  and ``z_round,m = l c_m + sqrt(1 - l^2) o_m``: still N(0, 1) each month, with
  autocorrelation ``(1 - l^2) rho`` at lag 1, so a market that refuses a round this month
  tends to refuse the retry too (written as the ``round_appetite`` line);
- regime: a Markov chain on boom/normal/winter. From regime ``r`` it moves to the first
  ``j`` with ``z_regime > -Phi^-1(cum_r[j])`` (``cum_r``: the cumulative transition row), so
  good sentiment pulls towards boom; ``Phi(-z_regime)`` is iid uniform, so the chain moves
  with exactly the configured matrix.

Source of the one-factor design: ``docs/model.md`` §7.2; transition matrix: the config's
``financing.regime``.
"""

from __future__ import annotations

from runway._jit import njit_inline
from runway.layout import LD, E, F, I, L, Regime, S


@njit_inline
def init(k, st) -> None:
    """State before month 0: the initial regime (sentiment starts in month 0)."""
    st[S.REGIME] = k.iv[I.REG_INITIAL]


@njit_inline
def month(m, fs, ld, reg_thr, st, eps, rows):
    """The common innovation, the drivers' correlated shocks and the regime of month ``m``.

    Returns ``(z_ent, z_users, z_pw, z_round, r)``; writes the regime and sentiment lines.
    """
    c = eps[E.SENT, m]  # the common innovation: iid, so the loaded shocks stay iid
    if m == 0:
        s = c
    else:
        s = fs[F.SENT_RHO] * st[S.SENT] + fs[F.SENT_C] * c
    st[S.SENT] = s  # reported index only: nothing below reads it
    rows[m, L.SENTIMENT] = s
    z_ent = ld[0, LD.ENT] * c + ld[1, LD.ENT] * eps[E.ENT, m]
    z_users = ld[0, LD.USERS] * c + ld[1, LD.USERS] * eps[E.USERS, m]
    z_pw = ld[0, LD.PRICE_WAR] * c + ld[1, LD.PRICE_WAR] * eps[E.PRICE_WAR, m]
    z_reg = ld[0, LD.REGIME] * c + ld[1, LD.REGIME] * eps[E.REGIME, m]
    # fin2: the round shock's own part is an AR(1) with unit stationary sd (market appetite
    # for a round is sticky); round_persistence 0 gives back the iid shock
    if m == 0:
        own = eps[E.ROUND, m]
    else:
        own = fs[F.ROUND_RHO] * st[S.ROUND_DEV] + fs[F.ROUND_C] * eps[E.ROUND, m]
    st[S.ROUND_DEV] = own
    rows[m, L.ROUND_DEV] = own
    z_round = ld[0, LD.ROUND] * c + ld[1, LD.ROUND] * own

    r = int(st[S.REGIME])
    nxt = Regime.WINTER.value
    for j in range(3):
        if z_reg > reg_thr[r, j]:
            nxt = j
            break
    st[S.REGIME] = nxt
    rows[m, L.REGIME] = nxt
    return z_ent, z_users, z_pw, z_round, nxt
