"""Streaming quantiles against exact ones (numpy's linear rule), and their invariances."""

from __future__ import annotations

import numpy as np
import pytest

from runway.quantiles import StreamingQuantiles, relative_error_bound

QS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _samples(rng, n):
    """Columns shaped like the model's lines: wide lognormal, both signs, a point mass at 0."""
    return np.column_stack(
        [
            rng.lognormal(4.0, 1.5, n),  # revenue-like, $bn
            rng.normal(-50.0, 400.0, n),  # cash-like, crosses zero
            np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(5.0, 1.0, n)),  # funding gap
            rng.standard_t(2, n) * 1e3,  # heavy tails
            rng.uniform(-0.009, 0.009, n),  # inside the linear bins near zero
        ]
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_error_within_one_bin_and_measured(seed):
    rng = np.random.default_rng(seed)
    x = _samples(rng, 50_000)
    q = StreamingQuantiles(np.full(x.shape[1], 0.01))
    for part in np.array_split(x, 7):  # batches of unequal size
        q.update(part)
    bound = relative_error_bound()
    for p in QS:
        got = q.quantile(p)
        want = np.quantile(x, p, axis=0)
        # one bin: relative 2**-sub_bits above the scale, absolute scale/2**sub_bits below it
        tol = np.maximum(bound * np.abs(want), 0.01 / 128)
        assert np.all(np.abs(got - want) <= tol + 1e-12), (p, got, want)
    np.testing.assert_allclose(q.mean(), x.mean(axis=0), rtol=1e-12, atol=1e-12)


def test_single_value_rows_are_exact():
    x = np.full((1000, 3), [123.456, -7.25, 0.0])
    q = StreamingQuantiles(np.full(3, 0.01))
    q.update(x)
    for p in QS:
        assert np.array_equal(q.quantile(p), x[0])


def test_batching_and_order_do_not_matter():
    rng = np.random.default_rng(5)
    x = _samples(rng, 20_000)
    a = StreamingQuantiles(np.full(x.shape[1], 0.01))
    a.update(x)
    b = StreamingQuantiles(np.full(x.shape[1], 0.01))
    for part in np.array_split(x[::-1], 13):
        b.update(part)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.lo, b.lo) and np.array_equal(a.hi, b.hi)
    for p in QS:
        assert np.array_equal(a.quantile(p), b.quantile(p))


def test_extremes_and_nan():
    x = np.array([[np.inf], [-np.inf], [1e300], [-1e300], [np.nan], [5.0]])
    q = StreamingQuantiles(np.array([0.01]))
    q.update(x)
    assert q.nans[0] == 1 and q.n[0] == 5
    assert q.quantile(0.0)[0] == -np.inf and q.quantile(1.0)[0] == np.inf
    assert q.quantile(0.5)[0] == 5.0
