"""The uncertain inputs of a config, their quantiles, and groups that read in an analyst's words.

An *input* is one per-path draw row (:func:`runway.layout.draw_row_names`) whose distribution
is not fixed. A *group* is one or more inputs moved together: by default every contract's
share online is one group, every contract's slip another (and, should they become drawn, the
regime matrix's entries one more); every other input is its own group.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from runway.config import Config
from runway.errors import RunwayError
from runway.layout import Kind, draw_row_names

LABELS: dict[str, str] = {
    "consumer.users_anchor_bn": "weekly users at the anchor",
    "consumer.users_ceiling_bn": "ceiling on weekly users",
    "consumer.users_growth_per_yr": "users' growth rate",
    "consumer.conversion_start": "paid conversion now",
    "consumer.conversion_target": "paid conversion by 2030",
    "consumer.price_usd_month": "consumer price per month",
    "enterprise.market_anchor_bn": "enterprise AI market in the anchor year",
    "enterprise.market_growth_per_yr": "enterprise market growth at the start",
    "enterprise.market_growth_anchor_per_yr": "enterprise market growth in the anchor year",
    "enterprise.market_growth_after_per_yr": "enterprise market growth after the anchor",
    "enterprise.share_start": "OpenAI's enterprise share now",
    "enterprise.share_anchor": "OpenAI's enterprise share in the anchor year",
    "advertising.ad_market_bn": "digital ad market",
    "advertising.ad_market_growth_per_yr": "ad market growth",
    "advertising.llm_share_target": "AI assistants' share of ads by 2030",
    "advertising.openai_share_start": "OpenAI's consumer share now",
    "advertising.openai_share_target": "OpenAI's consumer share by 2030",
    "revenue_share.rate_start": "Microsoft revenue share now",
    "revenue_share.rate_end": "Microsoft revenue share by 2030",
    "compute.cost_per_gw_bn": "cost per GW of compute",
    "compute.inference_share": "inference share of compute",
    "compute.vendor_financed_share": "vendor-financed share of compute",
    "compute.revenue_compute_elasticity": "how far revenue follows compute online",
    "opex.rnd_people_bn": "R&D staff cost now",
    "opex.rnd_people_growth_per_yr": "R&D staff cost growth",
    "opex.sga_fixed_bn": "fixed SG&A now",
    "opex.sga_fixed_growth_per_yr": "fixed SG&A growth",
    "opex.sga_pct_revenue": "variable SG&A (share of revenue)",
    "opex.other_cogs_pct_revenue": "other cost of sales (share of revenue)",
    "opex.stock_pay_share_start": "stock pay share now",
    "opex.stock_pay_share_end": "stock pay share later",
    "shocks.price_war_per_yr": "price wars per year",
    "shocks.price_war_cut": "price cut in a price war",
}
"""Analyst's words for the per-path parameters (config dotted path -> label)."""

_CONTRACT = re.compile(r"^compute\.contracts\[(\d+)\]\.(share_online|slip_months)$")
GROUP_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"^compute\.contracts\[\d+\]\.slip_months$"),
        "compute.contracts[*].slip_months",
        "all contracts' slips",
    ),
    (
        re.compile(r"^compute\.contracts\[\d+\]\.share_online$"),
        "compute.contracts[*].share_online",
        "all contracts' share online",
    ),
    (re.compile(r"^financing\.regime\."), "financing.regime.*", "the regime matrix"),
)
"""Default groups: (pattern on the config path, group name, label)."""

P_LOW, P_HIGH = 0.10, 0.90
"""The tornado's low and high settings of an input: its 10th and 90th percentiles."""


@dataclass(frozen=True)
class Group:
    """Inputs moved together: ``name`` (a config path, or a pattern with ``*``), ``label``."""

    name: str
    label: str
    members: tuple[str, ...]  # config dotted paths of the draw rows


@dataclass(frozen=True)
class Uncertain:
    """The uncertain inputs of a config with their distributions (quantile functions)."""

    cfg: Config
    names: tuple[str, ...]  # draw rows whose distribution is not fixed
    rows: tuple[int, ...]  # their draw row indices
    kind: np.ndarray
    dpar: np.ndarray
    dtab: np.ndarray

    def quantile(self, name: str, p: np.ndarray | float) -> np.ndarray:
        """Values of input ``name`` at probabilities ``p`` (its inverse CDF, bounds applied).

        Exact for the kernel's draw: each kind uses either the uniform or the normal of its
        Philox block (:func:`runway.kernel.numeric.draw_value`), so ``draw_value(u=p,
        z=Phi^-1(p))`` is the ``p``-quantile. Slips are rounded to whole months by the
        kernel when held, as when drawn.
        """
        from runway.kernel.numeric import draw_value, norm_ppf

        j = self.names.index(name)
        k, d, tab = int(self.kind[j]), self.dpar[j], self.dtab[j]
        ps = np.atleast_1d(np.asarray(p, dtype=np.float64))
        out = np.empty(ps.size)
        for i, q in enumerate(ps):
            q = min(max(float(q), 1e-12), 1.0 - 1e-12)
            out[i] = draw_value(k, d[0], d[1], d[2], d[4], d[5], q, norm_ppf(q), tab)
        if name.endswith(".slip_months"):
            out = np.floor(out + 0.5)  # what the kernel holds (and draws): whole months
        return out if np.ndim(p) else out[:1]

    def label(self, name: str) -> str:
        """An input's words: the parameter's label, or the contract's name and field."""
        m = _CONTRACT.match(name)
        if m:
            c = self.cfg.compute.contracts[int(m.group(1))]
            what = "slip (months)" if m.group(2) == "slip_months" else "share online"
            return f"{c.name} contract {what}"
        # a parameter without a label reads as its key in words ("a_b_per_yr" -> "a b per yr")
        return LABELS.get(name, name.rsplit(".", 1)[-1].replace("_", " "))


def uncertain_inputs(cfg: Config) -> Uncertain:
    """The per-path inputs of ``cfg`` that are drawn (distribution not fixed)."""
    from runway import kernel as K
    from runway.model import build_inputs

    inp = build_inputs(cfg, stochastic=True)
    k = K.pack(inp)
    all_names = draw_row_names(inp.c_value.size)
    rows = tuple(int(i) for i in np.flatnonzero(k.dkind != Kind.FIXED))
    return Uncertain(
        cfg=cfg,
        names=tuple(all_names[i] for i in rows),
        rows=rows,
        kind=k.dkind[list(rows)],
        dpar=k.dpar[list(rows)],
        dtab=k.dtab[list(rows)],
    )


def make_groups(unc: Uncertain, groups: bool | dict[str, list[str]] = True) -> list[Group]:
    """Groups of the uncertain inputs, in draw-row order of their first member.

    ``groups``: ``True`` for :data:`GROUP_RULES`, ``False`` for one group per input, or a dict
    ``{label: [config paths]}`` (inputs in no group stay on their own).
    """
    out: list[Group] = []
    seen: dict[str, int] = {}
    if isinstance(groups, dict):
        owner: dict[str, str] = {}
        for label, members in groups.items():
            for m in members:
                if m not in unc.names:
                    raise RunwayError(
                        f"groups: {m!r} (in {label!r}) is not an uncertain input of this config"
                    )
                owner[m] = label
    for name in unc.names:
        gname, glabel = name, unc.label(name)
        if isinstance(groups, dict):
            if name in owner:
                gname = glabel = owner[name]
        elif groups:
            for pat, gn, gl in GROUP_RULES:
                if pat.match(name):
                    gname, glabel = gn, gl
                    break
        if gname in seen:
            g = out[seen[gname]]
            out[seen[gname]] = Group(g.name, g.label, g.members + (name,))
        else:
            seen[gname] = len(out)
            out.append(Group(gname, glabel, (name,)))
    # a pattern group of one member reads as that input
    return [
        Group(g.members[0], unc.label(g.members[0]), g.members)
        if len(g.members) == 1 and "*" in g.name
        else g
        for g in out
    ]


def finite(x: float) -> float | None:
    """``x`` as a JSON number, ``None`` when not finite."""
    x = float(x)
    return x if math.isfinite(x) else None
