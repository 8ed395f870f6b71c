"""Each scenario's headline numbers, their Monte Carlo standard errors, and paired differences.

Every scenario of a sweep runs with the same seed, paths and chunk size, so path ``i`` of
every scenario is drawn from the same random stream (common random numbers). A difference
to the base is then estimated from *paired* paths and its Monte Carlo error is that of the
per-path differences, usually far smaller than either scenario's own error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from runway.errors import RunwayError
from runway.stats.mcse import Z95, mcse_mean, mcse_proportion, quantile_mcse

if TYPE_CHECKING:
    from runway.result import Result

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
"""Funding-gap quantiles in the sweep table."""
N_BATCHES = 20
"""Batches of paired paths behind the interval of a difference of quantiles."""
MIN_BATCH_PATHS = 100


@dataclass
class Outcome:
    """Per-path outcomes of one scenario: what its row of the sweep table is computed from.

    Attributes
    ----------
    id : int
        Scenario id.
    insolvent_by : ndarray of bool, shape (n_paths, n_years)
        Whether the path is insolvent by the end of each sweep year.
    funding_gap_bn : ndarray of float, shape (n_paths, n_years)
        Funding gap per path and sweep year, $bn.
    months_to_insolvency : ndarray of float, shape (n_paths,)
        Months from the cash anchor to insolvency; ``inf`` for paths that survive.
    seconds, worker, threads : float, str, int
        Wall time of the simulation, where it ran (``host:pid``) and its numba threads, for
        ``timings.csv`` only.
    """

    id: int
    insolvent_by: np.ndarray
    funding_gap_bn: np.ndarray
    months_to_insolvency: np.ndarray
    seconds: float = 0.0
    worker: str = ""
    threads: int = 0


def outcome_from_result(sid: int, res: Result, years: tuple[int, ...] | list[int]) -> Outcome:
    """The per-path arrays of a :class:`~runway.result.Result` that the sweep table needs."""
    df = res.paths
    ins_year = np.array(
        [float(m[:4]) if isinstance(m, str) else np.inf for m in df["insolvent_month"]]
    )
    ys = np.asarray(years, dtype=float)
    return Outcome(
        id=sid,
        insolvent_by=ins_year[:, None] <= ys[None, :],
        funding_gap_bn=np.column_stack([df[f"funding_gap_{y}"].to_numpy(float) for y in years]),
        months_to_insolvency=np.asarray(res.months_to_insolvency, dtype=float),
    )


def _quantile(x: np.ndarray, q: float, method: str) -> float:
    return float(np.quantile(x, q, method=method))  # type: ignore[call-overload]


def paired_mean_diff(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``mean(x - y)`` over paired paths with its normal 95% interval ``+- 1.96 sd(d)/sqrt(n)``."""
    d = x.astype(float) - y.astype(float)
    m = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.nan
    return m, m - Z95 * se, m + Z95 * se


def paired_quantile_diff(
    x: np.ndarray, y: np.ndarray, q: float, method: str = "linear"
) -> tuple[float, float, float]:
    """``Q_q(x) - Q_q(y)`` over paired paths with a 95% interval by batching (sectioning).

    Notes
    -----
    The paths are cut into ``b = min(20, n // 100)`` contiguous batches; in each batch the
    same difference of quantiles is computed on the paired paths, and the interval is the
    full-sample difference ``+- t_{0.975, b-1} sd(batch differences) / sqrt(b)``. Paths are
    independent, so the batch differences are i.i.d. with variance about ``b`` times that of
    the full-sample difference, and pairing enters through the batches keeping paths
    together. The estimate is centred on the full sample (sectioning, Asmussen & Glynn,
    *Stochastic Simulation*, 2007, III.5), so the small-sample bias of each batch's quantile
    widens the interval slightly rather than shifting it. Undefined (``nan``) below 200
    paths or when a quantile is beyond the horizon (infinite).
    """
    from scipy.stats import t as student_t

    diff = _quantile(x, q, method) - _quantile(y, q, method)
    if not math.isfinite(diff):
        return math.nan, math.nan, math.nan
    b = min(N_BATCHES, x.size // MIN_BATCH_PATHS)
    if b < 2:
        return diff, math.nan, math.nan
    parts = [
        _quantile(xb, q, method) - _quantile(yb, q, method)
        for xb, yb in zip(np.array_split(x, b), np.array_split(y, b), strict=True)
    ]
    if not all(math.isfinite(p) for p in parts):
        return diff, math.nan, math.nan
    half = float(student_t.ppf(0.975, b - 1)) * float(np.std(parts, ddof=1)) / math.sqrt(b)
    return diff, diff - half, diff + half


def _finite(v: float) -> float:
    return v if math.isfinite(v) else math.nan


def scenario_row(out: Outcome, base: Outcome, years: list[int]) -> dict[str, float]:
    """The result columns of one scenario, paired against the base.

    Parameters
    ----------
    out, base : Outcome
        The scenario and the base scenario, with the same number of paths.
    years : list of int
        The sweep years, matching the columns of the outcome arrays.

    Returns
    -------
    dict
        For each year ``Y``: ``p_insolvent_Y`` (P(insolvent by the end of Y)) and
        ``funding_gap_Y_{mean,p05,p50,p95}`` ($bn); then ``tti_p50_months`` (median months
        from the cash anchor to insolvency, ``nan`` when beyond the horizon). Each has
        ``_mcse`` and the paired difference to the base, ``_diff``, with its 95% interval
        ``_diff_lo``, ``_diff_hi`` (``nan`` where undefined).

    Notes
    -----
    MCSEs: binomial ``sqrt(p (1-p) / n)`` for a probability, ``sd / sqrt(n)`` for a mean,
    the order-statistic interval for a quantile, ``nan`` when it reaches a censored value
    (:func:`runway.stats.mcse.quantile_mcse`, the convention of ``summary.json``).

    Differences of probabilities and means are means of the per-path differences
    (``1[insolvent]_s - 1[insolvent]_base``, ``gap_s - gap_base``) with normal intervals
    from their standard deviation (:func:`paired_mean_diff`). A difference of quantiles is
    not a mean of per-path differences; its interval comes from batches of paired paths
    (:func:`paired_quantile_diff`). Against itself every difference is exactly 0.
    """
    n = out.insolvent_by.shape[0]
    if base.insolvent_by.shape[0] != n:
        raise RunwayError(
            f"scenario {out.id} has {n} paths but the base has {base.insolvent_by.shape[0]}"
        )
    row: dict[str, float] = {}

    def put(name: str, value: float, mcse: float, diff: tuple[float, float, float]) -> None:
        row[name] = _finite(value)
        row[f"{name}_mcse"] = mcse
        row[f"{name}_diff"], row[f"{name}_diff_lo"], row[f"{name}_diff_hi"] = diff

    for j, y in enumerate(years):
        ins, ins0 = out.insolvent_by[:, j], base.insolvent_by[:, j]
        p = float(ins.mean())
        put(f"p_insolvent_{y}", p, mcse_proportion(p, n), paired_mean_diff(ins, ins0))
        g, g0 = out.funding_gap_bn[:, j], base.funding_gap_bn[:, j]
        put(f"funding_gap_{y}_mean", float(g.mean()), mcse_mean(g), paired_mean_diff(g, g0))
        for k, q in QUANTILES.items():
            put(
                f"funding_gap_{y}_{k}",
                _quantile(g, q, "linear"),
                quantile_mcse(g, q),
                paired_quantile_diff(g, g0, q, "linear"),
            )
    t, t0 = out.months_to_insolvency, base.months_to_insolvency
    put(
        "tti_p50_months",
        _quantile(t, 0.5, "inverted_cdf"),
        quantile_mcse(t, 0.5),
        paired_quantile_diff(t, t0, 0.5, "inverted_cdf"),
    )
    return row
