"""Weighted estimates and their Monte Carlo standard errors (importance-weighted paths).

``w`` are normalised weights (they sum to 1) on independent paths; with equal weights
``1 / n`` every estimate is the plain one. For a self-normalised importance-sampling estimate
``mu = sum w_i f_i`` the delta-method variance is ``sum w_i^2 (f_i - mu)^2`` (Owen, *Monte
Carlo theory, methods and examples*, 2013, eq. 9.8), so:

- a probability ``p = sum w_i 1[A_i]``: ``sqrt(sum w_i^2 (1[A_i] - p)^2)`` (``sqrt(p (1 - p)
  / n)`` for equal weights, the binomial error of :mod:`runway.stats.mcse`);
- a mean: ``sqrt(sum w_i^2 (x_i - mu)^2)``;
- a quantile: the weighted CDF at the estimate has the error ``s`` of a probability; the
  quantiles at ``q - 1.96 s`` and ``q + 1.96 s`` bound a 95% interval and the standard error
  is its width over ``2 x 1.96`` (the order-statistic interval of :mod:`runway.stats.mcse`,
  weighted). The weighted quantile interpolates linearly between the sorted values placed at
  the midpoints of their weights' steps of the CDF (``F_k - w_k / 2``; Hyndman and Fan's
  definition 5, which equal weights reduce to): it differs from numpy's default (definition 7)
  by less than one order statistic, well inside the interval.

An interval that reaches an infinite value (a censored time) gives ``nan``.
"""

from __future__ import annotations

import math

import numpy as np

from runway.stats.mcse import Z95


def uniform(n: int) -> np.ndarray:
    """Equal weights ``1 / n``."""
    return np.full(n, 1.0 / n)


def ess(w: np.ndarray) -> float:
    """Effective sample size ``1 / sum w_i^2`` of normalised weights (``n`` for equal ones)."""
    return float(1.0 / np.sum(np.square(w)))


def proportion(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted share of true ``x`` and its MCSE."""
    x = np.asarray(x, dtype=float)
    p = float(np.sum(w * x))
    return p, float(math.sqrt(np.sum(np.square(w) * np.square(x - p))))


def mean(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean of ``x`` and its MCSE."""
    x = np.asarray(x, dtype=float)
    mu = float(np.sum(w * x))
    return mu, float(math.sqrt(np.sum(np.square(w) * np.square(x - mu))))


def _sorted(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    xs, ws = np.asarray(x, dtype=float)[order], w[order]
    cw = np.cumsum(ws)
    mid = (cw - ws / 2.0) / cw[-1]  # exactly in [0, 1]: the ends do not hang on rounding
    return xs, ws, mid


def _at(xs: np.ndarray, mid: np.ndarray, q: float) -> float:
    if q <= mid[0]:
        return float(xs[0])
    if q >= mid[-1]:
        return float(xs[-1])
    j = int(np.searchsorted(mid, q, side="right"))  # mid[j - 1] <= q < mid[j]
    a, b = mid[j - 1], mid[j]
    lo, hi = xs[j - 1], xs[j]
    if lo == hi or b == a:
        return float(lo)
    return float(lo + (hi - lo) * (q - a) / (b - a))


def quantile(x: np.ndarray, w: np.ndarray, q: float) -> tuple[float, float]:
    """Weighted ``q``-quantile of ``x`` and its MCSE (module docstring; ``nan`` if unbounded)."""
    xs, ws, mid = _sorted(x, w)
    est = _at(xs, mid, q)
    if not math.isfinite(est):
        return est, math.nan
    below = (xs <= est).astype(float)
    s = float(math.sqrt(np.sum(np.square(ws) * np.square(below - q))))
    lo = _at(xs, mid, max(q - Z95 * s, 0.0))
    hi = _at(xs, mid, min(q + Z95 * s, 1.0))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return est, math.nan
    return est, (hi - lo) / (2.0 * Z95)
