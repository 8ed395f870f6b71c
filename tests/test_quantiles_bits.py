"""The fold's bins from the float's bits equal the ``math.frexp`` bins they replaced, bit for bit.

The reference below is the previous implementation written out in plain Python (``frexp`` for
the binade, first-seen minimum and maximum, sums in path order), so the comparison does not
depend on numba or on the layout of the batch.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from runway.quantiles import _PATH_TILE, StreamingQuantiles, bin_index

SUB_BITS = 7
SUB = 2**SUB_BITS


def ref_bin(x: float, inv_scale: float, sub: int, half: int) -> int:
    """The bin the ``frexp`` fold gave ``x`` (runway 40b4ae4, ``quantiles._bin``)."""
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


def ref_fold(values: np.ndarray, q: StreamingQuantiles) -> tuple[np.ndarray, ...]:
    """counts, lo, hi, sums, nans of the previous fold of ``values`` into an empty ``q``."""
    counts, lo, hi = q.counts.copy(), q.lo.copy(), q.hi.copy()
    sums, nans = q.sums.copy(), q.nans.copy()
    inv = 1.0 / q.scale
    with np.errstate(invalid="ignore", over="ignore"):  # inf + -inf in a sum is NaN, as in numba
        _ref_fold_into(values, inv, q.sub, counts, lo, hi, sums, nans)
    return counts, lo, hi, sums, nans


def _ref_fold_into(values, inv, sub, counts, lo, hi, sums, nans) -> None:
    half = counts.shape[1] // 2
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            x = float(values[i, j])
            if math.isnan(x):
                nans[j] += 1
                continue
            sums[j] += x
            b = ref_bin(x, float(inv[j]), sub, half)
            counts[j, b] += 1
            if x < lo[j, b]:
                lo[j, b] = x
            if x > hi[j, b]:
                hi[j, b] = x


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def _same_state(q: StreamingQuantiles, want: tuple[np.ndarray, ...]) -> None:
    counts, lo, hi, sums, nans = want
    assert np.array_equal(q.counts, counts)
    assert np.array_equal(q.nans, nans)
    # bit for bit: -0.0 against 0.0 and the last bit of every sum count
    assert np.array_equal(_bits(q.lo), _bits(lo))
    assert np.array_equal(_bits(q.hi), _bits(hi))
    assert np.array_equal(_bits(q.sums), _bits(sums))


def edge_values(scale: float) -> np.ndarray:
    """Zeros, subnormals, infinities, huge values, and every bin edge near ``scale`` (+- 1 ulp)."""
    special = [
        0.0,
        5e-324,
        2.2250738585072014e-308,
        2.225073858507201e-308,
        1e-300,
        1.0,
        1e299,
        1e300,
        1.7976931348623157e308,
        np.inf,
    ]
    linear = scale * np.arange(SUB + 1) / SUB  # edges of the bins below the scale
    binade = scale * np.ldexp(1.0 + np.arange(SUB)[None, :] / SUB, np.arange(0, 60)[:, None])
    edges = np.concatenate([linear, binade.ravel(), 1e6 * np.array([0.5, 1.0, 2.0])])
    up, down = np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)
    pos = np.concatenate([special, edges, up, down])
    return np.concatenate([pos, -pos])


@pytest.mark.parametrize("scale", [1e-2, 1e-5, 1e-3, 1.0, 3.7e-4])
def test_bins_equal_frexp_bins_on_edges_and_special_values(scale):
    q = StreamingQuantiles(np.array([scale]))
    half = q.counts.shape[1] // 2
    inv = 1.0 / scale
    for x in edge_values(scale):
        assert bin_index(float(x), inv, SUB_BITS, half) == ref_bin(float(x), inv, SUB, half), x


def test_bins_equal_frexp_bins_on_random_values():
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [
            rng.normal(0.0, 1.0, 20_000) * 10.0 ** rng.uniform(-8, 8, 20_000),
            rng.standard_cauchy(5_000) * 1e3,
            np.ldexp(rng.random(5_000), rng.integers(-1074, 1024, 5_000)),  # any exponent
        ]
    )
    for scale in (1e-2, 1e-5):
        half = StreamingQuantiles(np.array([scale])).counts.shape[1] // 2
        inv = 1.0 / scale
        got = [bin_index(float(v), inv, SUB_BITS, half) for v in x]
        want = [ref_bin(float(v), inv, SUB, half) for v in x]
        assert got == want


def test_nan_gets_a_valid_bin_and_is_not_counted():
    q = StreamingQuantiles(np.array([0.01]))
    half = q.counts.shape[1] // 2
    assert 0 <= bin_index(math.nan, 100.0, SUB_BITS, half) < 2 * half
    q.update(np.array([[np.nan], [1.0], [np.nan]]))
    assert q.nans[0] == 2 and q.n[0] == 1


def _mixed_batch(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows shaped like the model's lines, sprinkled with special values."""
    x = np.column_stack(
        [
            rng.lognormal(4.0, 1.5, n),
            rng.normal(-50.0, 400.0, n),
            np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(5.0, 1.0, n)),
            rng.standard_t(2, n) * 1e3,
            rng.uniform(-0.009, 0.009, n),
        ]
    )
    specials = np.array([0.0, -0.0, 5e-324, -5e-324, np.inf, -np.inf, np.nan, 1e300, -1e300])
    idx = rng.integers(0, x.size, 400)
    x.flat[idx] = specials[rng.integers(0, specials.size, idx.size)]
    return x


SCALES = np.array([1e-2, 1e-2, 1e-2, 1e-4, 1e-5])


def test_fold_equals_the_frexp_fold_bit_for_bit():
    rng = np.random.default_rng(3)
    x = _mixed_batch(rng, _PATH_TILE + 300)  # a whole tile of paths and a ragged one
    q = StreamingQuantiles(SCALES)
    want = ref_fold(x, q)
    q.update(x)
    _same_state(q, want)


def test_fold_does_not_depend_on_layout_batches_or_threads():
    rng = np.random.default_rng(4)
    x = _mixed_batch(rng, 2 * _PATH_TILE + 5)
    base = StreamingQuantiles(SCALES)
    base.update(x)
    want = (base.counts, base.lo, base.hi, base.sums, base.nans)
    layouts = {
        "fortran": np.asfortranarray(x),
        "strided": np.repeat(x, 2, axis=1)[:, ::2],
        "negative strides": x[::-1, ::-1].copy()[::-1, ::-1],
    }
    for v in layouts.values():
        q = StreamingQuantiles(SCALES)
        q.update(v)
        _same_state(q, want)
    q = StreamingQuantiles(SCALES)
    for part in np.array_split(x, 5):
        q.update(part)
    _same_state(q, want)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        q = StreamingQuantiles(SCALES)
        q.update(x)
    finally:
        numba.set_num_threads(old)
    _same_state(q, want)


def test_update_rejects_a_batch_of_the_wrong_shape():
    q = StreamingQuantiles(SCALES)
    with pytest.raises(ValueError, match="shape"):
        q.update(np.zeros((3, 4)))
