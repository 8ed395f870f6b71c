"""Numeric helpers of the kernel: normal CDF and its inverse, parameter draws, momentum.

Plain functions compiled with numba (``runway._jit``); under ``NUMBA_DISABLE_JIT=1`` they run
as Python with the same results (``tests/test_kernel_variants.py``).
"""

from __future__ import annotations

import math

import numpy as np

from runway._jit import njit, njit_inline
from runway.layout import Kind, Profile

BIG = 1.0e12
INF_RUNWAY = 1.0e9
LOG_MOM_LO = math.log(0.1)
LOG_MOM_HI = math.log(10.0)
"""Revenue momentum relative to its reference is clipped to [0.1, 10]."""
_H = 1.0 / 12.0  # one month in years


@njit
def phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit
def norm_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation and one Halley step).

    Relative error below 1e-13 on (0, 1); ``-inf`` at 0 and ``inf`` at 1. The upper half is
    computed as ``-norm_ppf(1 - p)`` (``1 - p`` is exact there), so the Halley step always
    works in the lower tail where ``erfc`` has full relative precision. Used once per path,
    to turn a monthly probability into a threshold on a standard normal shock.
    """
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    sign = 1.0
    if p > 0.5:
        p = 1.0 - p
        sign = -1.0
    a1, a2, a3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a4, a5, a6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b1, b2, b3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b4, b5 = 6.680131188771972e01, -1.328068155288572e01
    c1, c2, c3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c4, c5, c6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d1, d2 = 7.784695709041462e-03, 3.224671290700398e-01
    d3, d4 = 2.445134137142996e00, 3.754408661907416e00
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / (
            (((d1 * q + d2) * q + d3) * q + d4) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6)
            * q
            / (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1.0)
        )
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
    return sign * (x - u / (1.0 + 0.5 * x * u))


@njit_inline
def central_value(kind: int, p0: float, p1: float) -> float:
    """Central value of an encoded parameter (mean, median, midpoint, mode or p50)."""
    if kind == Kind.UNIFORM:
        return 0.5 * (p0 + p1)
    if kind == Kind.TRIANGULAR or kind == Kind.PERT:
        return p1
    return p0  # FIXED, NORMAL mean, LOGNORMAL median, PERCENTILES p50


@njit_inline
def draw_value(kind, p0, p1, p2, lo, hi, u, z, tab) -> float:
    """One draw of an encoded parameter (numbers ``p0, p1, p2``), clipped to ``[lo, hi]``.

    ``u`` is a uniform in (0, 1) and ``z`` a standard normal, both from the parameter's own
    Philox block (:mod:`runway.kernel.rng`), so a parameter's draw does not depend on any
    other parameter's distribution. ``tab`` is the parameter's inverse-CDF table for PERT
    (``PERT_TABLE + 1`` quantiles of its beta law on an even grid of probabilities, from
    :func:`runway.model.inputs.pert_table`); the draw interpolates it linearly (no
    rejection sampling).
    """
    if kind == Kind.FIXED:
        x = p0
    elif kind == Kind.NORMAL:
        x = p0 + p1 * z
    elif kind == Kind.LOGNORMAL:
        x = p0 * math.exp(p1 * z)
    elif kind == Kind.UNIFORM:
        x = p0 + (p1 - p0) * u
    elif kind == Kind.TRIANGULAR:
        a, c, b = p0, p1, p2
        if b <= a:
            x = a
        elif u < (c - a) / (b - a):
            x = a + math.sqrt(u * (b - a) * (c - a))
        else:
            x = b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    elif kind == Kind.PERT:
        a, b = p0, p2
        if b <= a:
            x = a
        else:
            n = tab.size - 1
            pos = u * n
            j = min(int(pos), n - 1)
            frac = pos - j
            q = tab[j] + (tab[j + 1] - tab[j]) * frac
            x = a + (b - a) * q
    elif kind == Kind.PERCENTILES:
        x = p0 + (p1 if z < 0.0 else p2) * z
    else:
        x = np.nan
    return min(max(x, lo), hi)


@njit
def capacity_fraction(profile: int, k: int, length: int, ramp: int) -> float:
    """Share of a contract's capacity online ``k`` months into its term (0 outside it)."""
    if k < 0 or k >= length:
        return 0.0
    if profile == Profile.FLAT:
        return 1.0
    if profile == Profile.BACK_LOADED:
        return (k + 1.0) / length
    return min(1.0, (k + 1.0) / ramp)


@njit
def log_momentum(revenue: float, base: float, span: int, reference: float) -> float:
    """Log of revenue momentum relative to its reference, clipped to [log 0.1, log 10].

    Momentum is revenue growth over the last 12 months (annualised over the months
    available in the first year): ``(revenue / base) ** (12 / span) / reference``. Unknown
    growth (no history, or no revenue a year ago) is neutral: 0.
    """
    if span <= 0 or base <= 0.0:
        return 0.0
    if revenue <= 0.0:
        return LOG_MOM_LO
    x = 12.0 / span * math.log(revenue / base) - math.log(reference)
    return min(max(x, LOG_MOM_LO), LOG_MOM_HI)
