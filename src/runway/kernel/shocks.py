"""Block: the month's correlated shocks and the financing-market regime (``docs/model.md`` §7.2).

Equations (one path, month ``m``; ``eps`` are independent standard normals):

- sentiment ``f_m = rho f_{m-1} + sqrt(1 - rho^2) eps_sent`` with ``f_0 = eps_sent`` (its
  stationary law, sd 1);
- each driver ``j`` (enterprise growth, users, price war, regime, round) sees
  ``z_j = l_j f_m + sqrt(1 - l_j^2) eps_j``, so ``corr(z_i, z_j) = l_i l_j``;
- regime: a Markov chain on boom/normal/winter. From regime ``r`` it moves to the first
  ``j`` with ``z_regime > -Phi^-1(cum_r[j])`` (``cum_r``: the cumulative transition row), so
  good sentiment pulls towards boom.

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
    """Sentiment, the drivers' correlated shocks and the regime of month ``m``.

    Returns ``(z_ent, z_users, z_pw, z_round, r)``; writes the regime line.
    """
    if m == 0:
        f = eps[E.SENT, m]
    else:
        f = fs[F.SENT_RHO] * st[S.SENT] + fs[F.SENT_C] * eps[E.SENT, m]
    st[S.SENT] = f
    z_ent = ld[0, LD.ENT] * f + ld[1, LD.ENT] * eps[E.ENT, m]
    z_users = ld[0, LD.USERS] * f + ld[1, LD.USERS] * eps[E.USERS, m]
    z_pw = ld[0, LD.PRICE_WAR] * f + ld[1, LD.PRICE_WAR] * eps[E.PRICE_WAR, m]
    z_reg = ld[0, LD.REGIME] * f + ld[1, LD.REGIME] * eps[E.REGIME, m]
    z_round = ld[0, LD.ROUND] * f + ld[1, LD.ROUND] * eps[E.ROUND, m]

    r = int(st[S.REGIME])
    nxt = Regime.WINTER.value
    for j in range(3):
        if z_reg > reg_thr[r, j]:
            nxt = j
            break
    st[S.REGIME] = nxt
    rows[m, L.REGIME] = nxt
    return z_ent, z_users, z_pw, z_round, nxt
