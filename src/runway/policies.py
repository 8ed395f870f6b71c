"""pol: policies -- what the config's management policies do: a paired run without them.

A run with policies is compared with the run of the same config, seed and path count with
the policies taken out (``Config.policies = []``). Every draw and shock of a path is the same
in both runs (each path's random numbers depend only on the seed and the path's id), so the
difference of an outcome path by path is the policies' effect on that path and its interval
is a paired one: ``mean(d) +- 1.96 sd(d) / sqrt(n)``, ``d`` the per-path difference.

The section (``summary.json["policies"]``, the report's "Management policies"):

- ``p_insolvent_by[year]``: P(insolvent by the end of the year) with and without the
  policies, the change and its paired 95% interval; ``headline_year``: 2028 when it is in the
  calendar, else the last year;
- per policy: P(fired), the median first firing month among the paths where it fired, mean
  number of firings, and on the paths where it fired the mean paired change in compute
  expensed and revenue from the cash anchor to the horizon ($bn) and the mean penalty paid;
- ``funding_gap_unchanged``: whether every path's funding gap (the no-new-money path, HSBC's
  measure) is the same in both runs, to ``GAP_RTOL`` of the largest gap (it must be: policies
  act on the funded path only; the difference is rounding), and the largest difference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runway.calendar import format_month
from runway.config import Config
from runway.engine import RawRun
from runway.engine import run as engine_run

Z95 = 1.959963984540054
HEADLINE_YEAR = 2028
GAP_RTOL = 1e-9
"""Relative agreement of the funding gaps with and without policies (rounding, see compare)."""


def without_policies(cfg: Config) -> Config:
    """``cfg`` with its ``[[policies]]`` taken out (everything else unchanged)."""
    return cfg.model_copy(update={"policies": []})


def paired(d: np.ndarray) -> tuple[float, float, float]:
    """Mean of the per-path differences ``d`` and its 95% interval (normal, paired)."""
    n = d.size
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return mean, mean - Z95 * se, mean + Z95 * se


def _insolvent_by(raw: RawRun, year: int) -> np.ndarray:
    cal = raw.calendar
    last = min(year * 12 + 11, cal.end) - cal.start
    ins = raw.outcomes["insolvent_month"]
    return ((ins >= 0) & (ins <= last)).astype(np.float64)


def compare(on: RawRun, off: RawRun) -> dict[str, Any]:
    """The ``policies`` section from a run with policies and the paired run without them."""
    if on.n_paths != off.n_paths or on.seed != off.seed:
        raise ValueError("a paired comparison needs the same paths and seed")
    cal = on.calendar
    years = list(cal.years)
    head = HEADLINE_YEAR if HEADLINE_YEAR in years else years[-1]
    by_year: dict[str, Any] = {}
    for y in years:
        a, b = _insolvent_by(on, y), _insolvent_by(off, y)
        mean, lo, hi = paired(a - b)
        by_year[str(y)] = {
            "with": float(a.mean()),
            "without": float(b.mean()),
            "change": _finite(mean),
            "change_ci95": [_finite(lo), _finite(hi)],
        }
    o = on.outcomes
    d_compute = o["compute_total"] - off.outcomes["compute_total"]
    d_revenue = o["revenue_total"] - off.outcomes["revenue_total"]
    rows = []
    for p in on.cfg.policies:
        first = o[f"policy_{p.name}_month"]
        fires = o[f"policy_{p.name}_fires"]
        fired = first >= 0
        nf = int(fired.sum())
        med = None
        if nf:
            med = format_month(cal.start + int(np.quantile(first[fired], 0.5, method="lower")))
        rows.append(
            {
                "name": p.name,
                "action": p.action.kind,
                "trigger": f"{p.trigger.metric} {p.trigger.comparison} {p.trigger.threshold}"
                + (f" {p.trigger.unit}" if p.trigger.unit else ""),
                "p_fired": nf / on.n_paths,
                "paths_fired": nf,
                "median_first_month": med,
                "mean_fires": float(fires.mean()),
                "fired_mean_change_compute_bn": float(d_compute[fired].mean()) if nf else None,
                "fired_mean_change_revenue_bn": float(d_revenue[fired].mean()) if nf else None,
            }
        )
    gap_on = on.annual_path("funding_gap")
    gap_off = off.annual_path("funding_gap")
    gap_diff = float(np.abs(gap_on - gap_off).max(initial=0.0))
    gap_scale = float(np.abs(gap_off).max(initial=0.0))
    return {
        "paths": on.n_paths,
        "seed": on.seed,
        "headline_year": str(head),
        "p_insolvent_by": by_year,
        "policies": rows,
        "mean_policy_cost_bn": float(o["policy_cost"].mean()),
        "mean_stake_sold_bn": float(o["policy_stake_sold"].mean()),
        # the no-new-money cash flow is the funded one with the policies' effects added back,
        # so the two runs' funding gaps agree to rounding (1e-13 of the gap), not bit for bit
        "funding_gap_max_abs_change_bn": gap_diff,
        "funding_gap_unchanged": gap_diff <= GAP_RTOL * max(gap_scale, 1.0),
        "units": "probabilities; money US$ bn from the cash anchor to the horizon",
    }


def compare_with_run(on: RawRun, *, threads: int | None = None) -> dict[str, Any]:
    """The ``policies`` section of a finished run with policies (runs the paired one)."""
    off = engine_run(
        without_policies(on.cfg),
        paths=on.n_paths,
        seed=on.seed,
        deterministic=on.deterministic,
        threads=threads,
        baseline=False,
        policy_outcomes=True,
    )
    return compare(on, off)


def run_paired(
    cfg: Config,
    *,
    paths: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
) -> tuple[RawRun, RawRun, dict[str, Any]]:
    """Run ``cfg`` with its policies and without them (same seed and paths) and compare."""
    if not cfg.policies:
        raise ValueError("the config has no [[policies]] to compare")
    on = engine_run(cfg, paths=paths, seed=seed, threads=threads)
    off = engine_run(
        without_policies(cfg),
        paths=on.n_paths,
        seed=on.seed,
        threads=threads,
        baseline=False,
        policy_outcomes=True,
    )
    return on, off, compare(on, off)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
