"""Streaming-quantile fold: the bins-from-bits fold against the ``frexp`` fold it replaced.

Both run in this process on the batches a real HSBC run folds (captured from
``runway.simulate``), best of ``--repeat`` runs, CPU seconds (``time.process_time``: the
machine may be shared). Prints ns per value and the ratio, and checks the two agree bit for
bit. Usage: ``python tools/bench_fold.py [--paths 32768] [--threads 2] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np
from numba import prange

import runway
from runway import quantiles as Q
from runway._jit import njit, njit_parallel

_ROW_BLOCK = 8


@njit
def _old_bin(x, inv_scale, sub, half):
    """The ``quantiles._bin`` of runway 40b4ae4 (``math.frexp``)."""
    v = x * inv_scale
    a = abs(v)
    if a < 1.0:
        b = int(a * sub)
    elif a < 1.0e300:
        mant, e = math.frexp(a)
        b = sub * e + int((2.0 * mant - 1.0) * sub)
    else:
        b = half - 1
    if b >= half:
        b = half - 1
    return half + b if v >= 0.0 else half - 1 - b


@njit_parallel
def _old_accumulate(values, inv_scale, sub, counts, lo, hi, sums, nans):
    """The ``quantiles._accumulate`` of runway 40b4ae4: row blocks of 8 over a path-major batch."""
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
                b = _old_bin(x, inv_scale[j], sub, half)
                counts[j, b] += 1
                if x < lo[j, b]:
                    lo[j, b] = x
                if x > hi[j, b]:
                    hi[j, b] = x


def capture(paths: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (batch, scale) pairs an HSBC run of ``paths`` paths folds."""
    got: list[tuple[np.ndarray, np.ndarray]] = []
    update = Q.StreamingQuantiles.update

    def spy(self, values):
        got.append((np.array(values), self.scale.copy()))
        return update(self, values)

    Q.StreamingQuantiles.update = spy  # type: ignore[method-assign]
    try:
        runway.simulate(runway.load_config(runway.default_config_path()), paths=paths, seed=1)
    finally:
        Q.StreamingQuantiles.update = update  # type: ignore[method-assign]
    return got


def main() -> None:
    """Time both folds on the captured batches and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=32_768)
    max_threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at import
    ap.add_argument("--threads", type=int, default=max_threads)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    batches = capture(a.paths)
    numba.set_num_threads(a.threads)
    n_values = sum(v.size for v, _ in batches)

    def old(q: Q.StreamingQuantiles, v: np.ndarray) -> None:
        _old_accumulate(v, 1.0 / q.scale, q.sub, q.counts, q.lo, q.hi, q.sums, q.nans)

    def new(q: Q.StreamingQuantiles, v: np.ndarray) -> None:
        q.update(v)

    def timed(fold, data) -> tuple[float, list[Q.StreamingQuantiles]]:
        best = math.inf
        for _ in range(a.repeat + 1):  # the first run compiles or loads the cache
            qs = [Q.StreamingQuantiles(s) for _, s in data]
            t = time.process_time()
            for q, (v, _) in zip(qs, data, strict=True):
                fold(q, v)
            best = min(best, time.process_time() - t)
        return best, qs

    t_old, q_old = timed(old, batches)
    t_new, q_new = timed(new, batches)
    row_major = [(np.asfortranarray(v), sc) for v, sc in batches]  # each row contiguous
    t_rm, q_rm = timed(new, row_major)
    same = all(
        np.array_equal(x.counts, y.counts)
        and np.array_equal(x.lo.view(np.int64), y.lo.view(np.int64))
        and np.array_equal(x.hi.view(np.int64), y.hi.view(np.int64))
        and np.array_equal(x.sums.view(np.int64), y.sums.view(np.int64))
        and np.array_equal(x.nans, y.nans)
        for qs in (q_new, q_rm)
        for x, y in zip(q_old, qs, strict=True)
    )
    print(f"{len(batches)} batches, {n_values:,} values, {a.threads} thread(s), CPU seconds")
    print(f"frexp fold (40b4ae4): {1e9 * t_old / n_values:6.2f} ns/value")
    print(f"bits fold           : {1e9 * t_new / n_values:6.2f} ns/value")
    print(f"bits fold, row-major: {1e9 * t_rm / n_values:6.2f} ns/value (a batch laid out by row)")
    print(f"ratio               : {t_old / t_new:6.2f}x (row-major batch: {t_old / t_rm:.2f}x)")
    print(f"bit-identical       : {same}")


if __name__ == "__main__":
    main()
