"""Bulk ESS and rank-normalised R-hat of per-path outcomes on at most 64 chains of seed streams.

Chains. Every chunk of ``run.chunk_size`` paths has its own seed stream; a chain is a group of
``k = ceil(S / 64)`` consecutive complete streams (``S`` the complete streams), so there are
``S // k <= 64`` chains of ``k x chunk_size`` draws each (:func:`chain_layout`). The
ragged last chunk and the ``S mod k`` streams past the last whole group (fewer than ``k``, so
under 1/64 of the paths plus one chunk) are left out. R-hat compares those groups of streams,
so it still flags streams that disagree; the ESS is that of the paths used. Paths are
independent, so both should read about ``paths_used`` and 1.0. With one stream (a run
smaller than two chunks) the one chain holds all paths and R-hat is undefined.

Statistics (Vehtari, Gelman, Simpson, Carpenter, Buerkner 2021, as arviz 0.23 computes them).
Each chain is split in half (the middle draw of an odd count dropped); the split draws are
rank-normalised together, ``z = Phi^-1((r - 3/8) / (N + 1/4))`` with ``r`` the average rank
(:func:`rank_normal_scores`). Bulk ESS is the mean-ESS of ``z`` (autocovariances by FFT,
Geyer's initial positive and monotone sequences); R-hat is the larger of the split R-hat of
``z`` and of the rank-normalised folded draws ``|x - median(x)|``. The numbers equal arviz's
``ess(method="bulk")`` and ``rhat(method="rank")`` to the last bit (``tests/test_rank_normal.py``)
but come without importing arviz (two seconds) and with one sort per outcome instead of three;
outcomes of whole numbers (months, 0/1 indicators) are ranked by counting, with no sort.
Draws with NaN or infinity go to arviz itself (imported then).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from runway._bits import bits_float, float_bits
from runway._jit import njit

MAX_CHAINS = 64
"""Most chains ESS and R-hat are computed on (groups of consecutive seed streams)."""
MIN_DRAWS = 4
"""Fewest draws per chain for ESS and R-hat (arviz's shape validation)."""
MAX_THREADS = 1
"""Threads computing the outcomes at once by default (sorting and FFTs release the GIL).

One: on the project's 2 shared cores two threads took 2.13 CPU-s against 1.71 and no less wall
time (2.12 s against 1.95 s) for the 21 outcomes of a 1M-path run; pass ``threads`` on a
machine with idle cores."""
BLOM_OFFSET = 3 / 8
"""arviz's ``_backtransform_ranks``: rank ``r`` of ``n`` maps to ``(r - 3/8) / (n - 3/4 + 1)``."""
MAX_COUNTED_RANGE = 1 << 22
"""Whole-number outcomes spanning at most this many values are ranked by counting."""


@dataclass(frozen=True)
class ChainLayout:
    """Which paths are draws of which chain.

    Attributes
    ----------
    n_chain, n_draw : int
        Chains and draws per chain; the draws are paths ``0 .. n_chain * n_draw - 1`` in path
        order, chain ``c`` holding ``[c n_draw, (c + 1) n_draw)``.
    streams_per_chain : int
        Seed streams (chunks) per chain.
    paths_used, paths_total : int
    """

    n_chain: int
    n_draw: int
    streams_per_chain: int
    paths_used: int
    paths_total: int


def chain_layout(chain: np.ndarray, max_chains: int = MAX_CHAINS) -> ChainLayout:
    """Group the seed streams of a run into at most ``max_chains`` chains (module docstring).

    Parameters
    ----------
    chain : ndarray of int, shape (n_paths,)
        Seed stream (chunk) of each path: ``0, 0, ..., 1, 1, ...`` in path order, every
        stream of the same length except perhaps the last.
    max_chains : int
        At most this many chains.
    """
    c = np.asarray(chain, dtype=np.int64)
    n = int(c.size)
    counts = np.bincount(c) if n else np.zeros(0, np.int64)
    if counts.size <= 1:
        return ChainLayout(1, n, 1, n, n)
    size = int(counts[0])
    full = int(np.count_nonzero(counts == size))
    in_order = bool((np.diff(c) >= 0).all())
    if not in_order or not (counts[:full] == size).all() or full < counts.size - 1:
        raise ValueError("seed streams must be consecutive and of equal length (but the last)")
    k = -(-full // max_chains)
    n_chain = full // k
    return ChainLayout(n_chain, k * size, k, n_chain * k * size, n)


@lru_cache(maxsize=4)
def normal_score_table(n: int) -> np.ndarray:
    """Normal scores of the ranks ``(j + 2) / 2``: ndarray of shape (2 n - 1,), ``j`` the index.

    Every average rank of ``n`` values is a whole or half number from 1 to ``n``. The score
    is ``scipy.stats.norm.ppf`` of the Blom-offset rank: ``ndtri`` then ``+ 0.0``, which is
    what ``norm.ppf`` adds (loc 0), turning ``-0.0`` into ``0.0``.
    """
    from scipy.special import ndtri

    ranks = (np.arange(2 * n - 1) + 2) / 2
    c = BLOM_OFFSET
    table = ndtri((ranks - c) / (n - 2 * c + 1)) + 0.0
    table.flags.writeable = False
    return table


_RADIX_BITS = 11
"""Bits of the key sorted per pass of :func:`_argsort`: 6 passes over 64-bit keys at most."""


@njit
def _argsort(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable argsort of finite float64 ``x`` and ``x`` sorted: ``order, x[order]``.

    LSD radix sort on the order-preserving unsigned key of each float (negatives: every bit
    flipped; others: the sign bit set), :data:`_RADIX_BITS` bits a pass, a pass skipped when
    every key has the same digit. ``-0.0`` sorts just before ``0.0``; they are still one tie
    group for the ranks (compared as values). Equal to ``np.argsort(x, kind="stable")``.
    """
    n = x.size
    top = np.uint64(1) << np.uint64(63)
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        u = np.uint64(float_bits(x[i]))  # type: ignore[call-arg]  # numba types the intrinsic
        keys[i] = ~u if u & top else u | top
    order = np.arange(n)
    keys2 = np.empty(n, dtype=np.uint64)
    order2 = np.empty(n, dtype=np.int64)
    n_buckets = 1 << _RADIX_BITS
    mask = np.uint64(n_buckets - 1)
    count = np.empty(n_buckets, dtype=np.int64)
    for shift in range(0, 64, _RADIX_BITS):
        sh = np.uint64(shift)
        count[:] = 0
        for i in range(n):
            count[(keys[i] >> sh) & mask] += 1
        if count.max() == n:  # one digit for every key: the order stays
            continue
        total = 0
        for b in range(n_buckets):
            c = count[b]
            count[b] = total
            total += c
        for i in range(n):
            d = (keys[i] >> sh) & mask
            p = count[d]
            count[d] = p + 1
            keys2[p] = keys[i]
            order2[p] = order[i]
        keys, keys2 = keys2, keys
        order, order2 = order2, order
    s = np.empty(n)
    for i in range(n):
        k = keys[i]
        s[i] = bits_float(np.int64(k ^ top if k & top else ~k))  # type: ignore[call-arg]
    return order, s


@njit
def _scatter_scores(sorted_values: np.ndarray, order: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Normal scores: ``z[order[i]]`` is the score of the average rank of ``sorted_values[i]``.

    A tie group ``[i, j)`` has average rank ``(i + j + 1) / 2``, the entry ``i + j - 1`` of
    :func:`normal_score_table`.
    """
    n = sorted_values.size
    z = np.empty(n)
    i = 0
    while i < n:
        j = i + 1
        while j < n and sorted_values[j] == sorted_values[i]:
            j += 1
        score = table[i + j - 1]
        for p in range(i, j):
            z[order[p]] = score
        i = j
    return z


@njit
def _folded_sorted(s: np.ndarray, order: np.ndarray, med: float) -> tuple[np.ndarray, np.ndarray]:
    """``|s - med|`` of sorted ``s``, sorted (stably), and the matching ``order``.

    Below the median the distances fall and from it they rise: the two runs are merged in
    one pass, the lower run first among equals (what a stable argsort of the lower run
    reversed, then the upper run, gives).
    """
    n = s.size
    k = np.searchsorted(s, med)  # first index with s >= med
    out = np.empty(n)
    out_order = np.empty(n, dtype=np.int64)
    a = k - 1  # lower run, read downwards
    b = k  # upper run, read upwards
    for p in range(n):
        take_a = False
        if a >= 0:
            if b >= n:
                take_a = True
            else:
                take_a = abs(s[a] - med) <= abs(s[b] - med)
        if take_a:
            out[p] = abs(s[a] - med)
            out_order[p] = order[a]
            a -= 1
        else:
            out[p] = abs(s[b] - med)
            out_order[p] = order[b]
            b += 1
    return out, out_order


def _whole_numbers(flat: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``(flat - min)`` as int64 and ``min`` when ``flat`` holds whole numbers of a small range."""
    lo, hi = float(flat.min()), float(flat.max())
    if not (hi - lo <= MAX_COUNTED_RANGE and abs(lo) < 2**52 and abs(hi) < 2**52):
        return None
    offset = flat - lo
    ints = offset.astype(np.int64)
    if not np.array_equal(ints, offset):
        return None
    return ints, lo


def _scores_counted(ints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal scores of whole numbers ``ints >= 0`` by counting, and the count of each value."""
    counts = np.bincount(ints)
    starts = np.cumsum(counts) - counts
    table = normal_score_table(ints.size)
    per_value = np.zeros(counts.size)
    seen = counts > 0
    per_value[seen] = table[2 * starts[seen] + counts[seen] - 1]
    return per_value[ints], counts


def _median_counted(counts: np.ndarray, lo: float) -> float:
    """``np.median`` of the whole numbers ``lo + v`` with ``counts[v]`` copies of each."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    upper = lo + float(np.searchsorted(cum, n // 2 + 1))  # the value of order statistic n // 2
    if n % 2:
        return upper
    lower = lo + float(np.searchsorted(cum, n // 2))  # order statistic n // 2 - 1
    return float(np.mean(np.array([lower, upper])))


def rank_normal_scores(x: np.ndarray, folded: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Rank-normalised scores of ``x`` and, with ``folded``, of ``|x - median(x)|``.

    Ranked over all elements, as arviz's ``_z_scale`` (ties get their average rank, as
    ``scipy.stats.rankdata(method="average")``). ``x`` must be finite. Whole numbers of a small
    range (:data:`MAX_COUNTED_RANGE`) are ranked by counting; other values with one radix
    argsort (:func:`_argsort`), the folded draws then being two runs of that order merged in
    linear time (:func:`_folded_sorted`).

    Returns
    -------
    z, z_folded : ndarray of the shape of ``x`` (``z_folded`` None without ``folded``)
    """
    flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
    whole = _whole_numbers(flat)
    if whole is not None:
        ints, lo = whole
        z, counts = _scores_counted(ints)
        if not folded:
            return z.reshape(x.shape), None
        med = _median_counted(counts, lo)
        twice = np.abs(2.0 * (flat - med))  # |x - med| is a multiple of 1/2: 2 |x - med| whole
        zf, _ = _scores_counted(twice.astype(np.int64))
        return z.reshape(x.shape), zf.reshape(x.shape)
    order, s = _argsort(flat)
    table = normal_score_table(flat.size)
    z = _scatter_scores(s, order, table).reshape(x.shape)
    if not folded:
        return z, None
    med = float(np.median(s))  # the median of the same values (cheap on sorted ones)
    dist, dist_order = _folded_sorted(s, order, med)
    return z, _scatter_scores(dist, dist_order, table).reshape(x.shape)


# --- arviz 0.23's _ess and _rhat, on numpy arrays -------------------------------------------
@njit
def _var_1d(data: np.ndarray, ddof: int) -> float:
    """The ``stats_variance_1d`` of arviz (what it runs when numba is installed), loop for loop."""
    a_a, b_b = 0.0, 0.0
    for i in data:
        a_a = a_a + i
        b_b = b_b + i * i
    var = b_b / (len(data)) - ((a_a / (len(data))) ** 2)
    var = var * (len(data) / (len(data) - ddof))
    return var


@njit
def _var_rows(data: np.ndarray, ddof: int) -> np.ndarray:
    """The ``stats_variance_2d(data, ddof, axis=1)`` of arviz: the variance of each row."""
    out = np.zeros(data.shape[0])
    for i in range(data.shape[0]):
        out[i] = _var_1d(data[i], ddof)
    return out


@lru_cache(maxsize=16)
def _fast_len(n: int) -> int:
    """The least 5-smooth number ``2**a 3**b 5**c >= n``: arviz's ``scipy.fftpack.next_fast_len``.

    Computed here so that scipy.fftpack is not imported (a third of a second).
    """
    best = 1 << max(n - 1, 0).bit_length()  # a power of two >= n
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # the least power of two that brings p35 to n or more
            q = p35 << max(0, (-(-n // p35) - 1).bit_length())
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


def _autocov(ary: np.ndarray) -> np.ndarray:
    """The ``autocov(ary, axis=1)`` of arviz: autocovariance of each row at every lag, by FFT."""
    n = ary.shape[1]
    m = _fast_len(2 * n)
    ary = ary - ary.mean(1, keepdims=True)
    ifft_ary = np.fft.rfft(ary, n=m, axis=1)
    ifft_ary *= np.conjugate(ifft_ary)
    cov = np.fft.irfft(ifft_ary, n=m, axis=1)[:, :n]
    cov /= n
    return cov


def ess_mean(ary: np.ndarray) -> float:
    """The ``_ess`` of arviz of split chains ``ary`` of shape (chain, draw): the mean-ESS."""
    if np.isnan(ary).any():
        return math.nan
    if (np.max(ary) - np.min(ary)) < np.finfo(float).resolution:
        return float(ary.size)
    n_chain, n_draw = ary.shape
    acov = _autocov(ary)
    chain_mean = ary.mean(axis=1)
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += _var_1d(chain_mean, 1)

    rho_hat_t = np.zeros(n_draw)
    rho_hat_even = 1.0
    rho_hat_t[0] = rho_hat_even
    rho_hat_odd = 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho_hat_t[1] = rho_hat_odd
    t = 1  # Geyer's initial positive sequence
    while t < (n_draw - 3) and (rho_hat_even + rho_hat_odd) > 0.0:
        rho_hat_even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        rho_hat_odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if (rho_hat_even + rho_hat_odd) >= 0:
            rho_hat_t[t + 1] = rho_hat_even
            rho_hat_t[t + 2] = rho_hat_odd
        t += 2
    max_t = t - 2
    if rho_hat_even > 0:
        rho_hat_t[max_t + 1] = rho_hat_even
    t = 1  # Geyer's initial monotone sequence
    while t <= max_t - 2:
        if (rho_hat_t[t + 1] + rho_hat_t[t + 2]) > (rho_hat_t[t - 1] + rho_hat_t[t]):
            rho_hat_t[t + 1] = (rho_hat_t[t - 1] + rho_hat_t[t]) / 2.0
            rho_hat_t[t + 2] = rho_hat_t[t + 1]
        t += 2
    ess = n_chain * n_draw
    tau_hat = -1.0 + 2.0 * np.sum(rho_hat_t[: max_t + 1]) + np.sum(rho_hat_t[max_t + 1 : max_t + 2])
    tau_hat = max(tau_hat, 1 / np.log10(ess))
    out = ess / tau_hat
    if np.isnan(rho_hat_t).any():
        return math.nan
    return float(out)


def rhat_split(ary: np.ndarray) -> float:
    """The ``_rhat`` of arviz of split chains ``ary`` of shape (chain, draw)."""
    if np.isnan(ary).any():
        return math.nan
    _, num_samples = ary.shape
    chain_mean = np.mean(ary, axis=1)
    chain_var = _var_rows(ary, 1)
    between_chain_variance = num_samples * _var_1d(chain_mean, 1)
    within_chain_variance = np.mean(chain_var)
    return float(
        np.sqrt((between_chain_variance / within_chain_variance + num_samples - 1) / num_samples)
    )


def _arviz_ess_rhat(x: np.ndarray, rhat: bool) -> tuple[float, float]:
    az: Any = sys.modules.get("arviz")
    if az is None:
        import warnings

        with warnings.catch_warnings():  # its import-time FutureWarning (the 1.x notice)
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as az
    r = float(az.rhat(x, method="rank")) if rhat else math.nan
    return float(az.ess(x, method="bulk")), r


def ess_rhat(x: np.ndarray, rhat: bool = True) -> tuple[float, float]:
    """Bulk ESS and rank-normalised split R-hat of ``x`` of shape (chain, draw).

    Equal to arviz's ``ess(x, method="bulk")`` and ``rhat(x, method="rank")`` (module
    docstring); R-hat is NaN without ``rhat`` or with one chain, both are NaN with fewer than
    :data:`MIN_DRAWS` draws. Draws with NaN or infinity go to arviz as they are. Safe to call
    from several threads (``np.errstate`` is per thread; no warnings filter is touched unless
    arviz has to be imported).
    """
    n_chain, n_draw = x.shape
    if n_draw < MIN_DRAWS:
        return math.nan, math.nan
    rhat = rhat and n_chain > 1
    with np.errstate(all="ignore"):
        if not np.isfinite(x).all():
            return _arviz_ess_rhat(x, rhat)
        half = n_draw // 2
        split = np.vstack((x[:, :half], x[:, -half:]))  # arviz's _split_chains
        z, z_folded = rank_normal_scores(split, folded=rhat)
        ess = ess_mean(z)
        r = math.nan
        if z_folded is not None:
            r = float(max(rhat_split(z), rhat_split(z_folded)))
    return ess, r


def flatten_outcomes(outcomes: Mapping[str, np.ndarray], years: list[int]) -> dict[str, np.ndarray]:
    """Per-path outcomes as 1-D arrays: a (n_paths, n_years) one becomes ``{name}_{year}`` each.

    The order is that of ``outcomes``, years in order within a name (the keys of
    ``summary.json``'s ``diagnostics``).
    """
    out: dict[str, np.ndarray] = {}
    for name, x in outcomes.items():
        if x.ndim == 1:
            out[name] = x
        else:
            for j, y in enumerate(years):
                out[f"{name}_{y}"] = x[:, j]
    return out


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def diagnostics(
    draws: Mapping[str, np.ndarray],
    chain: np.ndarray,
    *,
    max_chains: int = MAX_CHAINS,
    threads: int | None = None,
) -> dict[str, Any]:
    """ESS (bulk) and R-hat (rank-normalised) of each outcome, on at most ``max_chains`` chains.

    Parameters
    ----------
    draws : mapping of str to ndarray of shape (n_paths,)
        Per-path outcomes in path order (finite values expected; see :func:`ess_rhat`).
    chain : ndarray of shape (n_paths,)
        Seed stream of each path (:func:`chain_layout` groups them).
    max_chains : int
        At most this many chains.
    threads : int, optional
        Outcomes computed at once (default :data:`MAX_THREADS`, at most the CPUs); the numbers
        do not depend on it.

    Returns
    -------
    dict
        ``ess`` and ``rhat`` (outcome -> float, ``None`` where undefined: a constant outcome,
        one chain for R-hat, fewer than :data:`MIN_DRAWS` draws per chain), ``chains``,
        ``draws_per_chain``, ``streams_per_chain`` and ``paths_used``.
    """
    lay = chain_layout(chain, max_chains)
    short = lay.n_draw < MIN_DRAWS

    def shaped(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)[: lay.paths_used].reshape(lay.n_chain, lay.n_draw)

    arrays = {k: shaped(x) for k, x in draws.items()}
    # a constant outcome has no rank to normalise: undefined, not computed
    todo = {k: x for k, x in arrays.items() if not short and x.min() != x.max()}

    def one(x: np.ndarray) -> tuple[float, float]:
        return ess_rhat(x, rhat=lay.n_chain > 1)

    n_threads = threads or min(_cpus(), MAX_THREADS)
    if n_threads > 1 and len(todo) > 1:
        with ThreadPoolExecutor(n_threads, thread_name_prefix="runway-ess-rhat") as pool:
            done = dict(zip(todo, pool.map(one, todo.values()), strict=True))
    else:
        done = {k: one(x) for k, x in todo.items()}
    ess: dict[str, float | None] = {}
    rhat: dict[str, float | None] = {}
    for key in arrays:
        e, r = done.get(key, (math.nan, math.nan))
        ess[key] = e if math.isfinite(e) else None
        rhat[key] = r if math.isfinite(r) else None
    return {
        "ess": ess,
        "rhat": rhat,
        "chains": lay.n_chain,
        "draws_per_chain": lay.n_draw,
        "streams_per_chain": lay.streams_per_chain,
        "paths_used": lay.paths_used,
    }
