"""The outputs a sensitivity analysis reads from a run, per path and as statistics.

Statistics (tornado): ``p_insolvent_by_<year>``, ``funding_gap_<year>_p50`` and ``_p95``,
``time_to_insolvency_p50`` (months from the cash anchor; ``NaN`` when the median path
survives the horizon); also ``<line>_<year>_<p50|p95|mean>`` for the annual lines kept per
path (``revenue``, ``fcf``, ``funding_gap``, ``cash``). Per-path outputs (Sobol, drivers):
``insolvent_by_<year>`` (0/1), ``<line>_<year>`` and ``months_to_insolvency`` (censored at
the horizon: a surviving path counts the horizon).

Monte Carlo standard errors of the difference between two runs paired by common random
numbers: for a probability, the standard deviation of the per-path differences of the
indicator over ``sqrt(n)``; for a quantile, by sectioning (Asmussen and Glynn, Stochastic
Simulation, 2007, III.5): the paths are cut into :data:`SECTIONS` contiguous sections, the
difference is computed on each, and the MCSE is their standard deviation over
``sqrt(SECTIONS)``.
"""

from __future__ import annotations

import math
import re

import numpy as np

from runway.engine import RawRun
from runway.errors import RunwayError
from runway.layout import O

SECTIONS = 20
_STAT = re.compile(r"^(?P<line>[a-z_]+?)_(?P<year>\d{4})_(?P<stat>p50|p95|mean)$")
_PATH = re.compile(r"^(?P<line>[a-z_]+?)_(?P<year>\d{4})$")


def _last_month(raw: RawRun, year: int) -> int:
    cal = raw.calendar
    return min(year * 12 + 11, cal.end) - cal.start


def default_year(raw_or_cal) -> int:
    """The last full calendar year of the horizon (the headline year)."""
    cal = getattr(raw_or_cal, "calendar", raw_or_cal)
    return cal.full_years[-1] if cal.full_years else cal.years[-1]


def default_stats(years: list[int]) -> list[str]:
    """Every tornado statistic: P(insolvent by), gap median and P95 per year, median time."""
    out = [f"p_insolvent_by_{y}" for y in years]
    for y in years:
        out += [f"funding_gap_{y}_p50", f"funding_gap_{y}_p95"]
    return out + ["time_to_insolvency_p50"]


def default_path_outputs(years: list[int]) -> list[str]:
    """Every per-path output of the Sobol method: gap and default indicator by year, time."""
    out = [f"funding_gap_{y}" for y in years] + [f"insolvent_by_{y}" for y in years]
    return out + ["months_to_insolvency"]


def months_to_insolvency(raw: RawRun) -> np.ndarray:
    """Months from the cash anchor to insolvency, ``inf`` for a path that survives."""
    m = raw.out[:, O.INSOLVENT]
    anchor = raw.inputs.cash_start - 1
    return np.where(m >= 0, m - anchor, np.inf)


def path_output(raw: RawRun, name: str) -> np.ndarray:
    """Per-path values of output ``name`` (see the module docstring)."""
    if name == "months_to_insolvency":
        h = raw.inputs.n_months - raw.inputs.cash_start
        return np.minimum(months_to_insolvency(raw), h)
    if name.startswith("insolvent_by_"):
        y = _year(raw, name[len("insolvent_by_") :], name)
        ins = raw.out[:, O.INSOLVENT]
        return ((ins >= 0) & (ins <= _last_month(raw, y))).astype(np.float64)
    m = _PATH.match(name)
    if m and m["line"] in raw.annual_keep:
        y = _year(raw, m["year"], name)
        return raw.annual_path(m["line"])[:, raw.calendar.years.index(y)]
    raise RunwayError(
        f"--outputs: unknown per-path output {name!r}; use funding_gap_<year>, "
        "insolvent_by_<year>, months_to_insolvency or <revenue|fcf|cash>_<year>"
    )


def _year(raw: RawRun, text: str, name: str) -> int:
    y = int(text) if text.isdigit() else -1
    if y not in raw.calendar.years:
        raise RunwayError(
            f"--outputs: {name!r} names year {text}, outside the horizon "
            f"{raw.calendar.years[0]}..{raw.calendar.years[-1]}"
        )
    return y


def stat_input(raw: RawRun, name: str) -> tuple[np.ndarray, str, float]:
    """``(per-path values, 'mean' | 'quantile', q)`` behind statistic ``name``."""
    if name.startswith("p_insolvent_by_"):
        return path_output(raw, "insolvent_by_" + name[len("p_insolvent_by_") :]), "mean", 0.0
    if name == "time_to_insolvency_p50":
        return months_to_insolvency(raw), "quantile", 0.5
    m = _STAT.match(name)
    if m and m["line"] in raw.annual_keep:
        v = path_output(raw, f"{m['line']}_{m['year']}")
        if m["stat"] == "mean":
            return v, "mean", 0.0
        return v, "quantile", float(m["stat"][1:]) / 100.0
    raise RunwayError(
        f"--outputs: unknown statistic {name!r}; use p_insolvent_by_<year>, "
        "funding_gap_<year>_p50 or _p95, time_to_insolvency_p50"
    )


def _stat(v: np.ndarray, how: str, q: float) -> float:
    if v.size == 0:
        return math.nan
    if how == "mean":
        return float(np.mean(v))
    x = float(np.quantile(v, q, method="inverted_cdf"))
    return x if math.isfinite(x) else math.nan


def statistic(raw: RawRun, name: str) -> float:
    """Statistic ``name`` of a run (NaN where undefined: a median beyond the horizon)."""
    v, how, q = stat_input(raw, name)
    return _stat(v, how, q)


def paired_difference(a: np.ndarray, b: np.ndarray, how: str, q: float) -> tuple[float, float]:
    """``stat(a) - stat(b)`` and its MCSE, ``a`` and ``b`` paired path by path."""
    d = _stat(a, how, q) - _stat(b, how, q)
    n = a.size
    if how == "mean":
        diff = a - b
        se = float(np.std(diff, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        return d, se
    if n < 2 * SECTIONS:
        return d, math.nan
    cuts = np.linspace(0, n, SECTIONS + 1).astype(np.int64)
    parts = [
        _stat(a[i:j], how, q) - _stat(b[i:j], how, q) for i, j in zip(cuts, cuts[1:], strict=False)
    ]
    arr = np.asarray(parts)
    if not np.all(np.isfinite(arr)):
        return d, math.nan
    return d, float(np.std(arr, ddof=1) / math.sqrt(SECTIONS))


def stat_mcse(v: np.ndarray, how: str, q: float) -> float:
    """MCSE of one run's statistic (binomial / sd over sqrt(n) for means, sectioning else)."""
    n = v.size
    if how == "mean":
        return float(np.std(v, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    if n < 2 * SECTIONS:
        return math.nan
    cuts = np.linspace(0, n, SECTIONS + 1).astype(np.int64)
    arr = np.asarray([_stat(v[i:j], how, q) for i, j in zip(cuts, cuts[1:], strict=False)])
    if not np.all(np.isfinite(arr)):
        return math.nan
    return float(np.std(arr, ddof=1) / math.sqrt(SECTIONS))
