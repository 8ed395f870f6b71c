"""The numbers behind the report's four answers that ``Result.summary()`` does not hold.

:func:`answers` adds to ``summary.json`` (new keys; the keys of DESIGN.md are untouched):

``insolvency_dates``
    Calendar months of the insolvency distribution: ``first`` (the earliest month any path
    runs out of cash), ``p05``, ``p50``, ``p95`` (the month by which 5%, 50%, 95% of paths
    have run out; ``None`` when that many do not run out within the horizon), ``horizon``
    (the last simulated month) and ``riskiest_months``: the three months in which most paths
    run out, each with the share of all paths that run out in it.
``insolvency_hazard_by_year``
    Per year, the probability that a path still solvent at the start of the year runs out of
    cash during it (``None`` when no path is left).
``references``
    The config's published figures (``[[references.figures]]``), each with the model's value
    on the same definition: ``model_bn`` for a deterministic run (the one path), and the
    median ``median_bn`` of a Monte Carlo run where the figure is one calendar year of an
    annual line or a year's funding gap; ``miss`` is ``model / published - 1`` and
    ``within`` says whether ``|miss| <= tolerance``.
``market_references``
    The config's published probabilities of dated events (``[[references.markets]]``), each
    with the model's probability of the same event by the end of the same month
    (``model``: the share of paths, ``model_mcse`` its binomial MCSE; ``None`` for a
    deterministic run or a month outside the horizon).
``overrides``
    The ``--set`` items of the run (``[]`` when none).

Insolvency months count from the calendar's first month (the kernel's month index); the
quantiles use the inverted empirical CDF, as ``time_to_insolvency_months`` does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from runway.calendar import format_month, parse_month

if TYPE_CHECKING:
    from runway.result import Result

RISKIEST = 3
"""How many riskiest months the summary lists."""


def insolvency_dates(result: Result) -> dict[str, Any]:
    """``summary["insolvency_dates"]`` (see the module docstring)."""
    cal = result.calendar
    ins = result.raw.outcomes["insolvent_month"]
    n = ins.size
    dead = ins[ins >= 0].astype(np.int64)
    t = np.sort(np.where(ins >= 0, ins, np.inf))

    def label(m: float) -> str | None:
        return format_month(cal.start + int(m)) if math.isfinite(m) else None

    out: dict[str, Any] = {"first": label(float(dead.min())) if dead.size else None}
    for key, q in (("p05", 0.05), ("p50", 0.50), ("p95", 0.95)):
        out[key] = label(float(np.quantile(t, q, method="inverted_cdf")))
    out["horizon"] = format_month(cal.end)
    counts = np.bincount(dead, minlength=cal.n_months) if dead.size else np.zeros(1, np.int64)
    top = np.argsort(-counts, kind="stable")[:RISKIEST]
    out["riskiest_months"] = [
        {"month": label(float(m)), "share": float(counts[m] / n)} for m in top if counts[m] > 0
    ]
    return out


def hazard_by_year(result: Result) -> dict[str, float | None]:
    """``summary["insolvency_hazard_by_year"]``: P(run out in year | solvent at its start)."""
    cal = result.calendar
    ins = result.raw.outcomes["insolvent_month"]
    out: dict[str, float | None] = {}
    for year in cal.years:
        first = max(year * 12, cal.start) - cal.start
        last = min(year * 12 + 11, cal.end) - cal.start
        at_risk = int(np.sum((ins < 0) | (ins >= first)))
        events = int(np.sum((ins >= first) & (ins <= last)))
        out[str(year)] = events / at_risk if at_risk else None
    return out


def _model_value(result: Result, ref: Any) -> float | None:
    """The deterministic path's value of ``ref`` on its own definition (None outside the grid)."""
    cal = result.calendar
    a, b = parse_month(ref.from_month), parse_month(ref.to_month)
    if ref.measure == "funding_gap":
        year = b // 12
        if year not in cal.years:
            return None
        from runway.engine import ANNUAL_KEEP

        j = list(cal.years).index(year)
        return float(result.raw.annual_paths[0, j, ANNUAL_KEEP.index("funding_gap")]) * ref.sign
    if a < cal.start or b > cal.end:
        return None
    m = result.monthly
    if m is None:
        return None
    sel = (m["month"] >= ref.from_month) & (m["month"] <= ref.to_month)
    return float(m.loc[sel, ref.measure].sum()) * ref.sign


def _median_value(summary: dict[str, Any], ref: Any) -> float | None:
    """A Monte Carlo run's median of ``ref`` where it is one year of an annual line."""
    a, b = parse_month(ref.from_month), parse_month(ref.to_month)
    year = str(b // 12)
    if ref.measure == "funding_gap":
        q = summary["funding_gap"].get(year)
        return None if q is None else float(q["p50"]) * ref.sign
    if a % 12 != 0 or b != a + 11:
        return None
    q = summary["annual"].get(year, {}).get(ref.measure)
    if q is None or q["p50"] is None:
        return None
    if ref.sign < 0:  # the median of -x is -(median of x)
        return -float(q["p50"])
    return float(q["p50"])


def references(result: Result) -> list[dict[str, Any]]:
    """``summary["references"]`` (see the module docstring)."""
    out = []
    det = bool(result.raw.deterministic)
    headline = result.summary(diagnostics=False) if not det else None
    for ref in result.config.references.figures:
        row: dict[str, Any] = {
            "name": ref.name,
            "source": ref.source,
            "sources_row": ref.sources_row,
            "published_bn": ref.value_bn,
            "measure": ref.measure,
            "from_month": ref.from_month,
            "to_month": ref.to_month,
            "sign": ref.sign,
            "tolerance": ref.tolerance,
            "draw": ref.draw,
        }
        if det:
            value = _model_value(result, ref)
            row["model_bn"] = value
        else:
            assert headline is not None
            value = _median_value(headline, ref)
            row["median_bn"] = value
        miss = None if value is None or ref.value_bn == 0 else value / ref.value_bn - 1.0
        row["miss"] = miss
        row["within"] = (
            None if miss is None or ref.tolerance is None else bool(abs(miss) <= ref.tolerance)
        )
        out.append(row)
    return out


def market_references(result: Result) -> list[dict[str, Any]]:
    """``summary["market_references"]`` (see the module docstring)."""
    refs = result.config.references.markets
    if not refs:
        return []
    last = result.config.calendar.end
    paths = None if result.raw.deterministic else result.paths
    out = []
    for ref in refs:
        row: dict[str, Any] = {
            "name": ref.name,
            "source": ref.source,
            "sources_row": ref.sources_row,
            "event": ref.event,
            "by_month": ref.by_month,
            "probability": ref.probability,
            "bound": ref.bound,
            "quoted": ref.quoted,
            "model": None,
            "model_mcse": None,
        }
        if paths is not None and parse_month(ref.by_month) <= parse_month(last):
            col = "insolvent_month" if ref.event == "default" else "ipo_month"
            months = paths[col]
            # months are "YYYY-MM" strings (None where it never happens): they sort as dates
            hit = (
                months.notna().to_numpy()
                & (months.fillna("9999-99").astype(str) <= ref.by_month).to_numpy()
            )
            v = float(hit.mean())
            row["model"] = v
            row["model_mcse"] = math.sqrt(v * (1.0 - v) / hit.size)
        out.append(row)
    return out


def answers(result: Result) -> dict[str, Any]:
    """The summary keys this module adds (see the module docstring)."""
    return {
        "insolvency_dates": insolvency_dates(result),
        "insolvency_hazard_by_year": hazard_by_year(result),
        "references": references(result),
        "market_references": market_references(result),
        "overrides": list(getattr(result, "overrides", None) or []),
    }
