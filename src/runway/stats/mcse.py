"""Monte Carlo standard errors of the headline numbers (paths are independent draws).

One implementation serves ``summary.json`` (:mod:`runway.result`), the ``--target-mcse``
criterion (:mod:`runway.engine`) and the sweep table (:mod:`runway.sweep.stats`):

- a probability ``p`` estimated from ``n`` paths: ``sqrt(p (1 - p) / n)`` (binomial);
- a mean: ``sd / sqrt(n)`` (``ddof = 1``);
- a quantile: from the order statistics (:func:`quantile_ci`). The number of draws below the
  true ``q``-quantile is binomial(n, q), so with ``h = 1.96 sqrt(n q (1 - q))`` the sorted
  draws ``s`` at the 0-based positions ``lo = floor(n q - h)`` and ``hi = ceil(n q + h)``
  (each clipped to ``[0, n - 1]``) bound a 95% confidence interval; the standard error is
  its width over ``2 x 1.96`` (:func:`quantile_mcse`). It needs no density estimate and
  stays correct where the distribution has a mass point (the funding gap does: every path
  that never raises money has the same gap). The same interval serves every quantile rule
  (numpy's ``linear`` for the funding gap, ``inverted_cdf`` for the time to insolvency):
  the rules differ by less than one order statistic, well inside the interval.

An undefined standard error (an interval that reaches an infinite, i.e. censored, value) is
``nan`` here; ``summary.json`` writes it as ``null``.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
"""The standard normal 0.975 quantile."""


def mcse_proportion(p: float, n: int) -> float:
    """Binomial standard error of a proportion ``p`` estimated from ``n`` independent paths."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else math.nan


def mcse_mean(x: np.ndarray) -> float:
    """``sd / sqrt(n)`` of the sample mean of ``x`` (0 for one value)."""
    n = x.size
    return float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else 0.0


def quantile_ci(x: np.ndarray, q: float, *, presorted: bool = False) -> tuple[float, float]:
    """Order-statistic 95% confidence interval of the ``q``-quantile of ``x`` (module docstring).

    ``presorted``: ``x`` is already sorted ascending (it is then not sorted again).
    """
    s = np.asarray(x, dtype=float) if presorted else np.sort(np.asarray(x, dtype=float))
    n = s.size
    half = Z95 * math.sqrt(n * q * (1.0 - q))
    lo = int(min(max(math.floor(n * q - half), 0), n - 1))
    hi = int(min(max(math.ceil(n * q + half), 0), n - 1))
    return float(s[lo]), float(s[hi])


def quantile_mcse(x: np.ndarray, q: float, *, presorted: bool = False) -> float:
    """Standard error of the sample ``q``-quantile of ``x``; ``nan`` when its interval is unbounded.

    The width of :func:`quantile_ci` over ``2 x 1.96``.
    """
    lo, hi = quantile_ci(x, q, presorted=presorted)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan
    return (hi - lo) / (2.0 * Z95)
