"""ESS/R-hat on at most 64 chains of seed streams: the grouping, the ranks, arviz's numbers."""

from __future__ import annotations

import logging
import math
import sys
import warnings

import numpy as np
import pytest

from runway.stats.convergence import (
    MAX_CHAINS,
    _argsort,
    _fast_len,
    chain_layout,
    diagnostics,
    ess_rhat,
    rank_normal_scores,
)


def _arviz():
    from runway.report.idata import arviz

    return arviz()


def _arviz_ess_rhat(x):
    az = _arviz()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(az.ess(x, method="bulk")), float(az.rhat(x, method="rank"))


def _streams(n_streams: int, size: int, ragged: int = 0) -> np.ndarray:
    chain = np.repeat(np.arange(n_streams), size)
    return np.concatenate([chain, np.full(ragged, n_streams)]) if ragged else chain


@pytest.mark.parametrize(
    ("n_streams", "size", "ragged", "want"),
    [
        (1, 100, 0, (1, 100, 1, 100)),  # one stream: one chain
        (1, 100, 37, (1, 100, 1, 100)),  # one full stream, the ragged one left out
        (6, 500, 0, (6, 500, 1, 3000)),  # up to 64 streams: a chain each
        (64, 10, 3, (64, 10, 1, 640)),
        (65, 10, 0, (32, 20, 2, 640)),  # 2 streams a chain; one stream left out
        (488, 2048, 576, (61, 8 * 2048, 8, 61 * 8 * 2048)),  # 1M paths, chunk 2048
        (1000, 7, 0, (62, 16 * 7, 16, 62 * 16 * 7)),
    ],
)
def test_chain_layout_groups_streams_into_at_most_64_chains(n_streams, size, ragged, want):
    lay = chain_layout(_streams(n_streams, size, ragged))
    assert (lay.n_chain, lay.n_draw, lay.streams_per_chain, lay.paths_used) == want
    assert lay.n_chain <= MAX_CHAINS
    assert lay.paths_total == n_streams * size + ragged
    # fewer than one chain's worth of streams is left out, besides the ragged chunk
    assert n_streams * size - lay.paths_used < lay.streams_per_chain * size


def test_chain_layout_of_a_single_partial_chunk_is_one_chain():
    lay = chain_layout(np.zeros(37, dtype=np.int64))
    assert (lay.n_chain, lay.n_draw, lay.paths_used) == (1, 37, 37)


def test_chain_layout_rejects_streams_out_of_order():
    with pytest.raises(ValueError, match="consecutive"):
        chain_layout(np.array([0, 0, 1, 2, 2, 1]))


def test_radix_argsort_is_a_stable_argsort_of_any_floats():
    rng = np.random.default_rng(9)
    x = np.concatenate(
        [
            rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000),
            np.round(rng.standard_normal(5000), 1),  # ties
            [5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, np.inf, -np.inf],
            np.full(50, 3.25),
        ]
    )
    x = x[x != 0]
    rng.shuffle(x)
    order, s = _argsort(x)
    assert np.array_equal(order, np.argsort(x, kind="stable"))
    assert np.array_equal(s.view(np.int64), x[order].view(np.int64))


def test_radix_argsort_puts_negative_zero_first_among_zeros():
    x = np.array([0.0, 1.0, -0.0, -1.0, 0.0, -0.0])
    order, s = _argsort(x)
    assert list(order) == [3, 2, 5, 0, 4, 1]  # by bits: -0.0 < 0.0, each group stable
    assert np.array_equal(s, x[np.argsort(x, kind="stable")])  # as values: numpy's order


def test_fast_len_is_scipy_next_fast_len():
    from scipy.fftpack import next_fast_len

    assert all(_fast_len(n) == next_fast_len(n) for n in range(1, 5000))
    for n in (16_384, 32_768 + 1, 2_000_003):
        assert _fast_len(n) == next_fast_len(n)


KINDS = ("normal", "ties", "binary", "months", "halfint", "negzero", "mass_at_zero", "spread")


def _draws(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "ties":
        return np.round(rng.standard_normal(shape) * 3)
    if kind == "binary":
        return (rng.random(shape) < 0.3).astype(float)
    if kind == "months":  # censored months to insolvency: whole numbers, a mass at the horizon
        return np.minimum(rng.geometric(0.02, shape), 60).astype(float)
    if kind == "halfint":
        return np.round(rng.standard_normal(shape) * 3) / 2 + 0.25
    if kind == "negzero":
        x = np.round(rng.standard_normal(shape), 1) * 1.5
        x[x == 0] = -0.0
        x[:, ::2][x[:, ::2] == 0] = 0.0
        return x
    if kind == "mass_at_zero":
        return np.maximum(rng.lognormal(size=shape) - 1.5, 0.0)
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-200, 200, shape)


@pytest.mark.parametrize("shape", [(4, 10), (4, 11), (2, 4), (1, 100), (61, 256), (64, 1001)])
@pytest.mark.parametrize("kind", KINDS)
def test_ess_rhat_equal_arviz_to_the_bit(shape, kind, caplog):
    caplog.set_level(logging.CRITICAL, logger="arviz")
    x = _draws(kind, shape, np.random.default_rng(7))
    ess, rhat = ess_rhat(x)
    ess0, rhat0 = _arviz_ess_rhat(x)
    assert ess == ess0 or (math.isnan(ess) and math.isnan(ess0)), (ess, ess0)
    assert rhat == rhat0 or (math.isnan(rhat) and math.isnan(rhat0)), (rhat, rhat0)


def test_counted_and_sorted_ranks_agree():
    rng = np.random.default_rng(3)
    x = np.minimum(rng.geometric(0.05, (8, 300)), 40).astype(float)
    z, zf = rank_normal_scores(x, folded=True)  # whole numbers: counted
    nudged = x + 0.5**30  # no longer whole numbers: sorted; same order, same ties
    z2, zf2 = rank_normal_scores(nudged, folded=True)
    np.testing.assert_array_equal(z, z2)
    assert zf is not None and zf2 is not None
    np.testing.assert_array_equal(zf, zf2)


def test_diagnostics_group_streams_and_equal_arviz_on_the_groups():
    rng = np.random.default_rng(5)
    n_streams, size = 130, 16  # 3 streams a chain: 43 chains, one stream left out
    chain = _streams(n_streams, size, ragged=5)
    n = chain.size
    draws = {
        "x": rng.standard_normal(n),
        "flag": (rng.random(n) < 0.2).astype(float),
        "const": np.ones(n),
    }
    d = diagnostics(draws, chain, threads=2)
    assert (d["chains"], d["draws_per_chain"], d["streams_per_chain"]) == (43, 48, 3)
    assert d["paths_used"] == 43 * 48
    for key in ("x", "flag"):
        grouped = draws[key][: d["paths_used"]].reshape(43, 48)
        assert (d["ess"][key], d["rhat"][key]) == _arviz_ess_rhat(grouped)
    assert d["ess"]["const"] is None and d["rhat"]["const"] is None
    assert diagnostics(draws, chain, threads=1) == d


def test_diagnostics_do_not_import_arviz():
    import subprocess

    code = (
        "import sys, numpy as np\n"
        "from runway.stats.convergence import diagnostics\n"
        "rng = np.random.default_rng(1)\n"
        "d = diagnostics({'x': rng.standard_normal(4000)}, np.repeat(np.arange(100), 40))\n"
        "assert d['ess']['x'] > 0 and d['rhat']['x'] > 0\n"
        "print('arviz' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
