"""financing.burn_schedule writes the sums projected_burn's own loop takes, bit for bit.

The shipped configs all have a 2-month payment lag and an 18-month projection, so the
clipped months at either end of the schedule are checked here on other shapes.
"""

from __future__ import annotations

import numpy as np

from runway import kernel as K
from runway._jit import njit
from runway.kernel import financing
from runway.layout import F, I, T
from runway.model import build_inputs


@njit
def _schedule(iv, fs, traj):  # pragma: no cover - jitted
    financing.burn_schedule(iv, fs, traj)


@njit
def _loop_sum(iv, fs, traj, m):  # pragma: no cover - jitted
    """The month's own sum (projected_burn without the kept row)."""
    n = int(fs[F.FIN_MONTHS_BURN] + 0.5)
    last = traj.shape[1] - 1
    acc = 0.0
    for j in range(1, n + 1):
        idx = min(max(m + j - iv[I.PAY_LAG], 0), last)
        acc += traj[T.PAY, idx] + traj[T.ADJ_PAY, idx]
    return acc


def test_burn_schedule_equals_the_months_loop(hsbc_cfg):
    k = K.pack(build_inputs(hsbc_cfg, stochastic=True))
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5, 7):
        for lag in (0, 1, 2, 3, 5, 9):
            for n_months in (1, 2, 5, 13):
                for width in (n_months, n_months + n, n_months + n + 4):
                    iv, fs = k.iv.copy(), k.fs.copy()
                    iv[I.N_MONTHS], iv[I.PAY_LAG] = n_months, lag
                    iv[I.POL_N], iv[I.FIN_RUNWAY_PROJECTED] = 0, 1
                    fs[F.FIN_MONTHS_BURN] = n
                    traj = np.zeros((T.STRAT0 + 1, width))
                    traj[T.PAY] = rng.standard_normal(width) * 10.0 ** rng.uniform(-3, 3, width)
                    _schedule(iv, fs, traj)
                    want = np.array([_loop_sum(iv, fs, traj, m) for m in range(n_months)])
                    assert want.tobytes() == traj[T.BURN, :n_months].tobytes(), (n, lag, width)
