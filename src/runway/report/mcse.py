"""Monte Carlo standard errors of the headline numbers (paths are independent draws).

- a probability ``p`` estimated from ``n`` paths: ``sqrt(p (1 - p) / n)`` (binomial);
- a mean: ``sd / sqrt(n)``;
- a quantile: from the order statistics. The rank of the sample ``q``-quantile is
  binomial(n, q), so the order statistics at ranks ``n q -+ 1.96 sqrt(n q (1 - q))`` bound
  a 95% confidence interval; its half-width divided by 1.96 is the standard error. This
  needs no density estimate and stays correct where the distribution has a mass point
  (the funding gap does: every path that never raises more money has the same gap).
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def mcse_proportion(p: float, n: int) -> float:
    """Binomial standard error of a proportion ``p`` estimated from ``n`` independent paths."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else math.nan


def mcse_mean(x: np.ndarray) -> float:
    """``sd / sqrt(n)`` of the sample mean of ``x``."""
    n = x.size
    return float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else 0.0


def quantile_ci(x: np.ndarray, q: float, *, presorted: bool = False) -> tuple[float, float]:
    """Order-statistic 95% confidence interval of the ``q``-quantile of ``x``.

    ``presorted``: ``x`` is already sorted ascending (it is then not sorted again).
    """
    s = np.asarray(x, dtype=float) if presorted else np.sort(np.asarray(x, dtype=float))
    n = s.size
    half = Z95 * math.sqrt(n * q * (1.0 - q))
    lo = int(min(max(math.floor(n * q - half), 0), n - 1))
    hi = int(min(max(math.ceil(n * q + half), 0), n - 1))
    return float(s[lo]), float(s[hi])


def mcse_quantile(x: np.ndarray, q: float, *, presorted: bool = False) -> float | None:
    """Standard error of the sample ``q``-quantile; ``None`` when its interval is unbounded."""
    lo, hi = quantile_ci(x, q, presorted=presorted)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (hi - lo) / (2.0 * Z95)
