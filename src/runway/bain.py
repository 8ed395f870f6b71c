"""Bain's lens: the industry's compute arithmetic for 2030 and OpenAI's share of it.

Bain & Company (Global Technology Report 2025, 23 Sep 2025; ``docs/credit.md``):

- revenue needed = capex / (capex / revenue): ~$500bn of annual data-centre capex by 2030 at
  the sustainable capex-to-revenue ratio of cloud providers needs ~$2tn of annual revenue;
- shortfall = revenue needed - revenue fundable: ~$800bn short even if all US on-premise IT
  moved to the cloud and ~20% AI savings were reinvested.

Bain publishes the capex, the $2tn and the $800bn; it does not publish the ratio or the
fundable revenue as numbers. The defaults of ``[credit.bain]`` are what the published figures
imply (0.25 and $1.2tn), so the reproduction checks the arithmetic and that the config still
holds Bain's figures; a changed input changes the outcome and the check says so.

OpenAI's share (a stated rule, OURS): its peak GW online within the horizon against Bain's
200 GW of incremental global compute demand by 2030; the revenue its compute would need under
Bain's ratio is that share of the $2tn, i.e. GW times Bain's revenue per GW.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

REL_TOL = 0.005
"""How close a reproduced figure must be to Bain's published one (relative) to match."""
_Q = {"p05": 0.05, "p50": 0.50, "p95": 0.95}


def industry(cfg: Any) -> dict[str, Any]:
    """Bain's arithmetic from its inputs (``cfg``: :class:`runway.config.Bain`)."""
    needed = cfg.capex_bn / cfg.capex_to_revenue
    short = needed - cfg.funded_revenue_bn
    return {
        "year": cfg.year,
        "source": cfg.source,
        "capex_bn": cfg.capex_bn,
        "capex_to_revenue": cfg.capex_to_revenue,
        "funded_revenue_bn": cfg.funded_revenue_bn,
        "demand_gw": cfg.demand_gw,
        "revenue_needed_bn": needed,
        "revenue_needed_published_bn": cfg.revenue_needed_bn,
        "revenue_needed_matches": abs(needed / cfg.revenue_needed_bn - 1.0) <= REL_TOL,
        "shortfall_bn": short,
        "shortfall_published_bn": cfg.shortfall_bn,
        "shortfall_matches": cfg.shortfall_bn > 0
        and abs(short / cfg.shortfall_bn - 1.0) <= REL_TOL,
        "revenue_per_gw_bn": needed / cfg.demand_gw,
        "formula": "revenue needed = capex / (capex/revenue); shortfall = revenue needed - "
        "fundable revenue; OpenAI needs (its GW / Bain's GW) x revenue needed",
    }


def openai(ind: dict[str, Any], gw: np.ndarray, revenue: np.ndarray | None) -> dict[str, Any]:
    """OpenAI against Bain's ratio, path by path.

    ``gw``: its peak GW online; ``revenue``: its revenue in Bain's year (``None`` when the
    horizon does not reach it).
    """
    gw = np.asarray(gw, dtype=float)
    need = gw / ind["demand_gw"] * ind["revenue_needed_bn"]
    out: dict[str, Any] = {
        "rule": "share = OpenAI's peak GW online within the horizon / Bain's GW; revenue its "
        "compute needs = share x Bain's revenue needed",
        "gw_p50": float(np.median(gw)),
        "share_p50": float(np.median(gw) / ind["demand_gw"]),
        "revenue_needed_p05": float(np.quantile(need, 0.05)),
        "revenue_needed_p50": float(np.median(need)),
        "revenue_needed_p95": float(np.quantile(need, 0.95)),
        "revenue_p50": None,
        "coverage_p05": None,
        "coverage_p50": None,
        "coverage_p95": None,
        "p_revenue_covers": None,
        "p_revenue_covers_mcse": None,
        "gap_p50": None,
    }
    if revenue is None:
        return out
    rev = np.asarray(revenue, dtype=float)
    pos = need > 0  # a path with no GW online needs nothing: no coverage ratio
    cover = rev[pos] / need[pos]
    q = {k: _f(np.quantile(cover, v)) if cover.size else None for k, v in _Q.items()}
    p = float(np.mean(rev >= need))
    out.update(
        {
            "revenue_p50": float(np.median(rev)),
            "coverage_p05": q["p05"],
            "coverage_p50": q["p50"],
            "coverage_p95": q["p95"],
            "p_revenue_covers": p,
            "p_revenue_covers_mcse": math.sqrt(p * (1.0 - p) / rev.size),
            "gap_p50": float(np.median(need - rev)),
        }
    )
    return out


def _f(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
