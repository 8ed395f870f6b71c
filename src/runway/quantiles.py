"""Streaming quantiles: fixed-bin histograms that are merged batch by batch.

Memory is ``rows x bins`` whatever the number of paths. Bins are log-linear in
``v = x / scale`` (the layout of HDR histograms): ``|v| < 1`` is cut into ``2**sub_bits``
equal bins, and every binade ``[2**e, 2**(e + 1))`` above it into ``2**sub_bits`` equal
bins, mirrored for negative values, up to ``|x| = limit``. So bins are absolutely fine
(``scale / 2**sub_bits``) near zero and relatively fine for large values of either sign, and
a bin index is read off the float's bits: for ``|v| >= 1`` the binade is the IEEE-754
exponent and the sub-bin the top ``sub_bits`` bits of the mantissa (what ``math.frexp``
gives, without its C call; no ``log``/``asinh``).

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

Speed (``tools/bench_fold.py``, one process): a batch is folded row by row, from a row-major
copy when it is path-major (a row's values contiguous, so one row's bins stay in cache while
its values stream), the bins of 256 values at a time in a loop LLVM vectorises, then the
counts, minima and maxima updated without branches. See the README section on performance
for the figures.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from runway._bits import float_bits
from runway._jit import njit, njit_parallel

DEFAULT_SUB_BITS = 7
DEFAULT_LIMIT = 1.0e6


def relative_error_bound(sub_bits: int = DEFAULT_SUB_BITS) -> float:
    """Worst-case relative quantile error for values at least ``scale`` in size."""
    return 2.0**-sub_bits


def n_bins(scale: float, sub_bits: int = DEFAULT_SUB_BITS, limit: float = DEFAULT_LIMIT) -> int:
    """Bins per row for the smallest ``scale`` of a histogram (both signs)."""
    binades = max(1, math.frexp(limit / scale)[1])
    return 2 * (2**sub_bits) * (1 + binades)


@njit
def _bin(x: float, inv_scale: float, sub_bits: int, half: int) -> int:
    """Bin of ``x``: ``half + b`` for ``x >= 0``, else ``half - 1 - b``; ``b`` the magnitude bin.

    With ``v = x * inv_scale``, ``a = |v|`` and ``sub = 2**sub_bits``: ``b = floor(a sub)``
    for ``a < 1``; for ``1 <= a < 1e300`` (so ``a`` is normal), ``a = (1 + f) 2**E`` and
    ``b = sub (E + 1) + floor(f sub)``, the exponent and the top ``sub_bits`` mantissa bits
    (``frexp`` writes ``a = m 2**e`` with ``m = (1 + f) / 2``, ``e = E + 1``); beyond, and
    for ``inf``, the outermost bin. ``b`` is clamped to ``half - 1``. Selects only, no
    branches; a NaN ``x`` gives some valid bin (callers skip NaN).
    """
    v = x * inv_scale
    a = abs(v)
    sub = 1 << sub_bits
    small = int((a if a < 1.0 else 1.0) * sub)
    u: int = float_bits(a)  # type: ignore[call-arg]  # numba types the intrinsic
    big = sub * ((u >> 52) - 1022) + ((u >> (52 - sub_bits)) & (sub - 1))
    b = small if a < 1.0 else (big if a < 1.0e300 else half - 1)
    b = b if b < half else half - 1
    return half + b if v >= 0.0 else half - 1 - b


@njit
def bin_index(x: float, inv_scale: float, sub_bits: int, half: int) -> int:
    """:func:`_bin` as a callable function (tests compare it with a ``frexp`` reference)."""
    return _bin(x, inv_scale, sub_bits, half)


_LANES = 256
"""Values of a row whose bins are computed together (a vectorised loop) before they are counted."""
_ROW_BLOCK = 8
"""Rows of a path-major batch per parallel task: one cache line of each path's values."""
_PATH_TILE = 32_768
"""Paths of a path-major batch copied into a task's row-major scratch at a time (2 MB)."""


@njit
def _fold_row(x_row, inv_scale, sub_bits, counts, lo, hi, total, bins):
    """Fold the values ``x_row`` of one row in order; returns the new sum and the NaN count.

    ``counts``, ``lo``, ``hi`` are the row's bins; ``bins`` a scratch of :data:`_LANES` ints.
    """
    n = x_row.size
    half = counts.size // 2
    n_nan = 0
    for i0 in range(0, n, _LANES):
        m = min(_LANES, n - i0)
        for k in range(m):  # no dependence between values: vectorised
            bins[k] = _bin(x_row[i0 + k], inv_scale, sub_bits, half)
        for k in range(m):
            x = x_row[i0 + k]
            if math.isnan(x):
                n_nan += 1
                continue
            total += x  # in path order: the sum is the same whatever the layout or threads
            b = bins[k]
            counts[b] += 1
            lb = lo[b]
            lo[b] = x if x < lb else lb  # a store either way: no branch to mispredict
            hb = hi[b]
            hi[b] = x if x > hb else hb
    return total, n_nan


@njit_parallel
def _fold_row_major(rows, inv_scale, sub_bits, counts, lo, hi, sums, nans):
    """Fold ``rows`` of shape (n_rows, n) (each row contiguous): one row per task."""
    r = rows.shape[0]
    for j in prange(r):
        bins = np.empty(_LANES, dtype=np.int64)
        s, n_nan = _fold_row(
            rows[j], inv_scale[j], sub_bits, counts[j], lo[j], hi[j], sums[j], bins
        )
        sums[j] = s
        nans[j] += n_nan


@njit_parallel
def _fold_path_major(values, inv_scale, sub_bits, counts, lo, hi, sums, nans):
    """Fold ``values`` of shape (n, n_rows), path-major: :data:`_ROW_BLOCK` rows per task.

    Each task copies its rows of up to :data:`_PATH_TILE` paths into a row-major scratch
    (one cache line per path read, in path order) and folds them row by row from there.
    """
    n, r = values.shape
    n_blocks = (r + _ROW_BLOCK - 1) // _ROW_BLOCK
    for jb in prange(n_blocks):
        j0 = jb * _ROW_BLOCK
        w = min(_ROW_BLOCK, r - j0)
        block = values[:, j0 : j0 + w]
        scratch = np.empty((w, min(n, _PATH_TILE)))
        bins = np.empty(_LANES, dtype=np.int64)
        for i0 in range(0, n, _PATH_TILE):
            m = min(_PATH_TILE, n - i0)
            for i in range(m):
                path = block[i0 + i]
                for k in range(w):
                    scratch[k, i] = path[k]
            for k in range(w):
                j = j0 + k
                s, n_nan = _fold_row(
                    scratch[k, :m], inv_scale[j], sub_bits, counts[j], lo[j], hi[j], sums[j], bins
                )
                sums[j] = s
                nans[j] += n_nan


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
        if not 0 <= sub_bits <= 20:
            raise ValueError(f"sub_bits must be in [0, 20], got {sub_bits}")
        self.sub_bits = int(sub_bits)
        self.sub = 2**sub_bits
        bins = n_bins(float(np.min(self.scale)), sub_bits, limit)
        self.counts = np.zeros((r, bins), dtype=np.int64)
        self.lo = np.full((r, bins), np.inf)
        self.hi = np.full((r, bins), -np.inf)
        self.sums = np.zeros(r)
        self.nans = np.zeros(r, dtype=np.int64)
        self._inv = 1.0 / self.scale

    @staticmethod
    def memory_bytes(n_rows: int, scale: float = 0.01) -> int:
        """Bytes held by a histogram of ``n_rows`` rows (counts, min and max per bin)."""
        return n_rows * n_bins(scale) * 24

    def update(self, values: np.ndarray) -> None:
        """Add a batch: ``values`` of shape (n, n_rows), any memory layout.

        A batch whose rows are contiguous (``values.T`` C-contiguous, e.g. a Fortran-ordered
        array) is folded where it is, the fastest case; any other is copied row block by row
        block into per-task scratch (:func:`_fold_path_major`). The result does not depend on
        the layout.
        """
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != self.scale.size:
            raise ValueError(f"values must have shape (n, {self.scale.size}), got {v.shape}")
        state = (self._inv, self.sub_bits, self.counts, self.lo, self.hi, self.sums, self.nans)
        if v.T.flags.c_contiguous:
            _fold_row_major(v.T, *state)
        else:
            _fold_path_major(v, *state)

    @property
    def n(self) -> np.ndarray:
        """Ndarray of shape (n_rows,): the values counted per row (NaN left out)."""
        return self.counts.sum(axis=1)

    def mean(self) -> np.ndarray:
        """Ndarray of shape (n_rows,): the mean of each row's values (NaN where none)."""
        n = self.n
        return np.where(n > 0, self.sums / np.maximum(n, 1), np.nan)

    def quantile(self, q: float) -> np.ndarray:
        """Ndarray of shape (n_rows,): the ``q`` quantile of each row (numpy 'linear' rule)."""
        rows = range(self.scale.size)
        return np.array([_quantile_row(self.counts[j], self.lo[j], self.hi[j], q) for j in rows])
