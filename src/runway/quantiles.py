"""Streaming quantiles: fixed-bin histograms that are merged batch by batch.

Memory is ``rows x bins`` whatever the number of paths. Bins are log-linear in
``v = x / scale`` (the layout of HDR histograms): ``|v| < 1`` is cut into ``2**sub_bits``
equal bins, and every binade ``[2**e, 2**(e + 1))`` above it into ``2**sub_bits`` equal
bins, mirrored for negative values, up to ``|x| = limit``. So bins are absolutely fine
(``scale / 2**sub_bits``) near zero and relatively fine for large values of either sign, and
a bin index costs a ``frexp`` and a few integer operations (no ``log``/``asinh``).

Each bin also keeps the smallest and largest value that fell in it, and a quantile is read
by linear interpolation between those, so

* a quantile is exact whenever its bin holds a single distinct value (a deterministic run
  gives every quantile equal to the value), and
* the error is never more than the width of one bin: for ``|x| >= scale`` a relative error
  of at most ``2**-sub_bits`` (:func:`relative_error_bound`: 0.78% with the defaults); the
  interpolation between the bin's own extremes usually does better (the largest error
  measured in ``tests/test_quantiles.py``, over 7 quantiles of 5 shapes of 50,000 draws,
  was 0.27%).

Counts are integers, and each row is filled by one thread in path order, so results do not
depend on the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from runway._jit import njit, njit_parallel

DEFAULT_SUB_BITS = 7
DEFAULT_LIMIT = 1.0e6
_ROW_BLOCK = 8  # rows per parallel task: one cache line of a batch row


def relative_error_bound(sub_bits: int = DEFAULT_SUB_BITS) -> float:
    """Worst-case relative quantile error for values at least ``scale`` in size."""
    return 2.0**-sub_bits


def n_bins(scale: float, sub_bits: int = DEFAULT_SUB_BITS, limit: float = DEFAULT_LIMIT) -> int:
    """Bins per row for the smallest ``scale`` of a histogram (both signs)."""
    binades = max(1, math.frexp(limit / scale)[1])
    return 2 * (2**sub_bits) * (1 + binades)


@njit
def _bin(x: float, inv_scale: float, sub: int, half: int) -> int:
    """Bin of ``x``: ``half + b`` for ``x >= 0``, else ``half - 1 - b``; ``b`` the magnitude bin."""
    v = x * inv_scale
    a = abs(v)
    if a < 1.0:
        b = int(a * sub)
    elif a < 1.0e300:
        mant, e = math.frexp(a)  # a = mant * 2**e, mant in [0.5, 1), e >= 1
        b = sub * e + int((2.0 * mant - 1.0) * sub)
    else:  # beyond any limit, including inf
        b = half - 1
    if b >= half:
        b = half - 1
    return half + b if v >= 0.0 else half - 1 - b


@njit_parallel
def _accumulate(values, inv_scale, sub, counts, lo, hi, sums, nans):
    n, r = values.shape
    half = counts.shape[1] // 2
    n_blocks = (r + _ROW_BLOCK - 1) // _ROW_BLOCK
    for jb in prange(n_blocks):
        j0 = jb * _ROW_BLOCK
        j1 = min(j0 + _ROW_BLOCK, r)
        for i in range(n):
            for j in range(j0, j1):
                x = values[i, j]
                if math.isnan(x):
                    nans[j] += 1
                    continue
                sums[j] += x
                b = _bin(x, inv_scale[j], sub, half)
                counts[j, b] += 1
                if x < lo[j, b]:
                    lo[j, b] = x
                if x > hi[j, b]:
                    hi[j, b] = x


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
            if c == 1 or hi[b] == lo[b] or rank == seen:
                return lo[b]
            if rank == seen + c - 1:
                return hi[b]
            # clamped: beyond the histogram's range a bin can span 1e9 to 1e27, where
            # lo + (hi - lo) * f loses everything to rounding
            v = lo[b] + (hi[b] - lo[b]) * (rank - seen) / (c - 1)
            return min(max(v, lo[b]), hi[b])
        if rank < seen + c:
            # between this bin's largest value and the next occupied bin's smallest
            frac = rank - (seen + c - 1)
            for b2 in range(b + 1, counts.size):
                if counts[b2] > 0:
                    v = hi[b] + (lo[b2] - hi[b]) * frac
                    return min(max(v, hi[b]), lo[b2])
            return hi[b]
        seen += c
    return hi[counts.size - 1]


class StreamingQuantiles:
    """Quantiles and means of ``n_rows`` variables observed in batches.

    Parameters
    ----------
    scale : ndarray of shape (n_rows,)
        Absolute resolution near zero for each row, in the row's unit.
    sub_bits : int
        ``2**sub_bits`` bins per binade (and below ``scale``): relative error ``2**-sub_bits``.
    limit : float
        Values beyond +-limit (in the row's unit, for the smallest scale) fall in the outermost
        bins, whose min/max stay exact.
    """

    def __init__(
        self, scale: np.ndarray, sub_bits: int = DEFAULT_SUB_BITS, limit: float = DEFAULT_LIMIT
    ):
        self.scale = np.asarray(scale, dtype=np.float64)
        r = self.scale.size
        self.sub = 2**sub_bits
        bins = n_bins(float(np.min(self.scale)), sub_bits, limit)
        self.counts = np.zeros((r, bins), dtype=np.int64)
        self.lo = np.full((r, bins), np.inf)
        self.hi = np.full((r, bins), -np.inf)
        self.sums = np.zeros(r)
        self.nans = np.zeros(r, dtype=np.int64)

    @staticmethod
    def memory_bytes(n_rows: int, scale: float = 0.01) -> int:
        """Bytes held by a histogram of ``n_rows`` rows (counts, min and max per bin)."""
        return n_rows * n_bins(scale) * 24

    def update(self, values: np.ndarray) -> None:
        """Add a batch: ``values`` of shape (n, n_rows)."""
        v = np.ascontiguousarray(values, dtype=np.float64)
        inv = 1.0 / self.scale
        _accumulate(v, inv, self.sub, self.counts, self.lo, self.hi, self.sums, self.nans)

    @property
    def n(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def mean(self) -> np.ndarray:
        n = self.n
        return np.where(n > 0, self.sums / np.maximum(n, 1), np.nan)

    def quantile(self, q: float) -> np.ndarray:
        """Ndarray of shape (n_rows,): the ``q`` quantile of each row (numpy 'linear' rule)."""
        return np.array(
            [_quantile_row(self.counts[j], self.lo[j], self.hi[j], q) for j in range(self.scale.size)]
        )
