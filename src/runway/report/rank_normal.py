"""Bulk ESS and rank-normalised R-hat with one sort per outcome (arviz does three).

arviz's ``ess(method="bulk")`` and ``rhat(method="rank")`` (Vehtari et al. 2021) rank the
split chains with ``scipy.stats.rankdata``, a stable argsort, once for the ESS, once for
R-hat's bulk part and once for the folded draws ``|x - median|`` of its tail part. At a million
draws those sorts are most of the time. The same scores come from one unstable argsort:
average ranks of ties do not depend on the order of the tied values, the folded draws are two
runs of that sorted order merged in linear time, and the normal quantile of each possible
rank is the same for every outcome of a run, so it is computed once. arviz then does what it
does with the scores (:func:`ess_rhat`); the numbers are arviz's to the last bit (tested).

References
----------
Vehtari, Gelman, Simpson, Carpenter, Buerkner (2021), Rank-normalization, folding, and
localization: an improved R-hat for assessing convergence of MCMC. Bayesian Analysis 16(2).
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache

import numpy as np

BLOM_OFFSET = 3 / 8
"""arviz's ``_backtransform_ranks``: rank ``r`` of ``n`` maps to ``(r - 3/8) / (n - 3/4 + 1)``."""


@lru_cache(maxsize=2)
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


def _scores(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Normal scores of the values ``flat`` with ``flat[order] == sorted_values`` (ascending)."""
    n = sorted_values.size
    table = normal_score_table(n)
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if starts.size == n:  # no ties: the ranks are 1..n
        in_order = table[::2]
    else:  # a tie group of `count` from `start` has average rank start + 1 + (count - 1) / 2
        counts = np.diff(starts, append=n)
        in_order = np.repeat(table[2 * starts + counts - 1], counts)
    z = np.empty(n)
    z[order] = in_order
    return z


def rank_normal_scores(x: np.ndarray, folded: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Rank-normalised scores of ``x`` and, with ``folded``, of ``|x - median(x)|``.

    Ranked over all elements, as arviz's ``_z_scale`` (ties get their average rank, as
    ``scipy.stats.rankdata(method="average")``). ``x`` must be finite.

    Returns
    -------
    z, z_folded : ndarray of the shape of ``x`` (``z_folded`` None without ``folded``)
    """
    flat = x.ravel()
    order = np.argsort(flat)
    s = flat[order]
    z = _scores(s, order).reshape(x.shape)
    if not folded:
        return z, None
    med = np.median(s)  # the median of the same values (cheap on sorted ones)
    dist = np.abs(s - med)  # non-increasing below the median, non-decreasing from it
    k = int(np.searchsorted(s, med, side="left"))
    runs = np.concatenate([dist[:k][::-1], dist[k:]])
    run_order = np.concatenate([order[:k][::-1], order[k:]])
    merge = np.argsort(runs, kind="stable")  # timsort: two sorted runs, one linear merge
    return z, _scores(runs[merge], run_order[merge]).reshape(x.shape)


def ess_rhat(x: np.ndarray, rhat: bool = True) -> tuple[float, float]:
    """Bulk ESS and rank-normalised split R-hat of ``x`` of shape (chain, draw).

    Equal to ``az.ess(x, method="bulk")`` and ``az.rhat(x, method="rank")``: the scores of
    the split chains (:func:`rank_normal_scores`) go to arviz's ``ess(method="mean")`` and
    ``rhat(method="split")``, which split the chains the same way and do nothing else.
    Draws with NaN or infinity go to arviz as they are. R-hat is NaN without ``rhat``.

    Safe to call from several threads once arviz is imported: no warnings filter is touched
    (``np.errstate`` is per thread).
    """
    az = sys.modules.get("arviz")
    if az is None:
        from runway.report.idata import arviz

        az = arviz()
    with np.errstate(all="ignore"):
        if not np.isfinite(x).all():
            r = float(az.rhat(x, method="rank")) if rhat else math.nan
            return float(az.ess(x, method="bulk")), r
        # arviz splits each chain into its first and last n_draw // 2 draws (dropping the
        # middle draw of an odd count); the ranks are over the draws it keeps
        n_draw = x.shape[1]
        half = n_draw // 2
        kept = np.delete(x, half, axis=1) if n_draw % 2 else x
        z, z_folded = rank_normal_scores(kept, folded=rhat)
        if n_draw % 2:  # put back a placeholder for the dropped draw
            z = np.insert(z, half, 0.0, axis=1)
            z_folded = None if z_folded is None else np.insert(z_folded, half, 0.0, axis=1)
        ess = float(az.ess(z, method="mean"))
        r = math.nan
        if z_folded is not None:
            r = float(max(az.rhat(z, method="split"), az.rhat(z_folded, method="split")))
    return ess, r
