"""Streaming quantiles: fixed-bin histograms that are merged chunk by chunk.

Memory is ``rows x bins`` whatever the number of paths. Bins are uniform in
``asinh(x / scale)``, so they are relatively fine for large values of either sign and
absolutely fine (``scale``) near zero. Each bin also keeps the smallest and largest value
that fell in it, and a quantile is read by linear interpolation between those, so

* a quantile is exact whenever its bin holds a single distinct value (a deterministic run
  gives every quantile equal to the value), and
* the error is never more than the width of one bin: for ``|x| >> scale`` a relative error
  of at most ``sinh(w) - 1 ~ w`` with ``w = 2 * asinh(limit / scale) / bins``
  (:func:`relative_error_bound`; 0.47% with the defaults, typically far less in practice,
  measured against exact quantiles in ``tests/test_quantiles.py``).

Counts are integers and sums run in a fixed order, so results do not depend on threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from runway._jit import njit, njit_parallel

DEFAULT_BINS = 8192
DEFAULT_LIMIT = 1.0e6


def relative_error_bound(scale: float = 0.01, limit: float = DEFAULT_LIMIT, bins: int = DEFAULT_BINS) -> float:
    """Worst-case relative quantile error for values much larger than ``scale``."""
    w = 2.0 * math.asinh(limit / scale) / bins
    return math.expm1(w)


@njit_parallel
def _accumulate(values, scale, z_max, counts, lo, hi, sums, nans):
    n, r = values.shape
    k = counts.shape[1]
    for j in prange(r):
        s = 0.0
        for i in range(n):
            x = values[i, j]
            if math.isnan(x):
                nans[j] += 1
                continue
            s += x
            z = math.asinh(x / scale[j])
            b = int((z + z_max) / (2.0 * z_max) * k)
            b = min(max(b, 0), k - 1)
            counts[j, b] += 1
            if x < lo[j, b]:
                lo[j, b] = x
            if x > hi[j, b]:
                hi[j, b] = x
        sums[j] += s


@njit
def _quantile_row(counts, lo, hi, q):
    n = counts.sum()
    if n == 0:
        return np.nan
    rank = q * (n - 1)
    seen = 0
    for b in range(counts.size):
        c = counts[b]
        if c == 0:
            continue
        if rank <= seen + c - 1:
            if c == 1 or hi[b] == lo[b]:
                return lo[b]
            return lo[b] + (hi[b] - lo[b]) * (rank - seen) / (c - 1)
        if rank < seen + c:
            # between this bin's largest value and the next occupied bin's smallest
            frac = rank - (seen + c - 1)
            for b2 in range(b + 1, counts.size):
                if counts[b2] > 0:
                    return hi[b] + (lo[b2] - hi[b]) * frac
            return hi[b]
        seen += c
    return hi[counts.size - 1]


class StreamingQuantiles:
    """Quantiles and means of ``n_rows`` variables observed in batches.

    Parameters
    ----------
    scale : ndarray of shape (n_rows,)
        Absolute resolution near zero for each row, in the row's unit.
    bins : int
        Number of bins per row.
    limit : float
        Values beyond +-limit are counted in the outermost bins (their min/max stay exact).
    """

    def __init__(self, scale: np.ndarray, bins: int = DEFAULT_BINS, limit: float = DEFAULT_LIMIT):
        self.scale = np.asarray(scale, dtype=np.float64)
        r = self.scale.size
        self.z_max = float(np.max(np.arcsinh(limit / self.scale)))
        self.counts = np.zeros((r, bins), dtype=np.int64)
        self.lo = np.full((r, bins), np.inf)
        self.hi = np.full((r, bins), -np.inf)
        self.sums = np.zeros(r)
        self.nans = np.zeros(r, dtype=np.int64)

    def update(self, values: np.ndarray) -> None:
        """Add a batch: ``values`` of shape (n, n_rows)."""
        v = np.ascontiguousarray(values, dtype=np.float64)
        _accumulate(v, self.scale, self.z_max, self.counts, self.lo, self.hi, self.sums, self.nans)

    @property
    def n(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def mean(self) -> np.ndarray:
        n = self.n
        return np.where(n > 0, self.sums / np.maximum(n, 1), np.nan)

    def quantile(self, q: float) -> np.ndarray:
        """ndarray of shape (n_rows,): the ``q`` quantile of each row (numpy 'linear' rule)."""
        return np.array(
            [_quantile_row(self.counts[j], self.lo[j], self.hi[j], q) for j in range(self.scale.size)]
        )
