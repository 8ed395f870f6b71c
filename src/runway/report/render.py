"""report.md and report.html from the files of a run directory (no simulation).

The report is built once as a list of blocks and written twice, as Markdown and as a
self-contained HTML page (every PNG embedded as a base64 data URI, no external resource,
so it opens offline). It opens with four answers in words and numbers (how big the funding
gap is, when cash runs out, with what probability, what drives it), then the tables with
human headers and units, the figures, and an appendix with the Monte Carlo precision and
diagnostics. A deterministic run (one path) gets a model-versus-published table instead.

Every number in it is a value of ``summary.json``, rounded (tested); probabilities are shown
as percentages of those values. Published figures come only from the summary's
``references`` (the config's ``[[references.figures]]``): a config without them is quoted
against nothing.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from runway.report import plots as P
from runway.report.escape import escape_md, unescape_md

# decimals per kind of number: one rule for the whole report
DECIMALS = {"bn": 1, "prob": 4, "months": 1, "mcse": 4, "ess": 0, "rhat": 3, "pct1": 1}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt(x: float | int | None, kind: str) -> str:
    """The report's one number formatter; ``None`` (undefined / beyond horizon) is "n/a"."""
    if x is None:
        return "n/a"
    if kind == "int":
        return f"{int(x):,}"
    if kind == "g":  # a user-given setting, shown as typed (0.002, not 0.0020)
        return f"{float(x):g}"
    return f"{float(x):,.{DECIMALS[kind]}f}"


def money(x: float | None) -> str:
    """``$165bn``: whole billions from $10bn up, one decimal below (``$2.3bn``)."""
    if x is None:
        return "n/a"
    d = 0 if abs(x) >= 10 or x == 0 else 1
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x):,.{d}f}bn"


def plus_minus(se: float | None) -> str:
    """`` ± 1bn`` for a Monte Carlo standard error in $bn (empty when there is none)."""
    if not se:
        return ""
    d = 0 if se >= 1 else (1 if se >= 0.1 else 2)
    return f" ± {se:,.{d}f}bn"


def pct(p: float | None) -> str:
    """``23%`` (``1.9%`` below 10%, ``0%`` for none)."""
    if p is None:
        return "n/a"
    v = 100 * p
    if v == 0 or round(v, 1) >= 10:
        return f"{v:.0f}%"
    return f"{v:.1f}%"


def pct_pm(se: float | None) -> str:
    """`` ± 0.3 pts`` for the MCSE of a probability, in percentage points."""
    if not se:
        return ""
    return f" ± {100 * se:.1f} pts"


def date(month: str | None) -> str:
    """``"2026-09"`` -> ``"Sep 2026"``."""
    if not month:
        return "n/a"
    y, m = month.split("-")
    return f"{MONTHS[int(m) - 1]} {y}"


METRIC_NAMES = {
    "revenue": "Revenue",
    "consumer": "Consumer subscriptions",
    "enterprise": "Enterprise and API",
    "advertising": "Advertising",
    "cost_of_sales": "Cost of sales",
    "rnd": "R&D",
    "sga": "SG&A",
    "revenue_share": "Microsoft revenue share",
    "operating_income": "Operating income",
    "compute_rent": "Compute rent",
    "fcf": "Free cash flow",
    "cumulative_fcf": "Free cash flow since the start",
    "cash": "Cash at year end",
    "funding_gap": "Funding gap",
}
"""Human names of the summary's metrics (report headers: never a code identifier)."""

OUTCOME_NAMES = {
    "months_to_insolvency": "Months until cash runs out",
    "min_cash": "Lowest cash balance",
    "raised_total": "Money raised",
    "funding_gap": "Funding gap",
    "revenue": "Revenue",
    "insolvent_by": "Run out of cash by year end",
}


def _mcse_name(key: str) -> str:
    """A summary MCSE key in words: ``funding_gap_2030_p50`` -> "Funding gap 2030, median"."""
    stat = {"p05": "5th percentile", "p50": "median", "p95": "95th percentile", "mean": "mean"}
    m = re.fullmatch(r"p_insolvent_by_(\d{4})", key)
    if m:
        return f"Probability of running out of cash by end-{m.group(1)}"
    m = re.fullmatch(r"funding_gap_(\d{4})_(\w+)", key)
    if m:
        return f"Funding gap {m.group(1)}, {stat.get(m.group(2), m.group(2))}"
    m = re.fullmatch(r"time_to_insolvency_(\w+)", key)
    if m:
        s = stat.get(m.group(1), "mean of the months, the horizon for survivors")
        return f"Months until cash runs out, {s}"
    return key.replace("_", " ")


def _outcome_name(key: str) -> str:
    m = re.fullmatch(r"(\w+?)_(\d{4})", key)
    if m and m.group(1) in OUTCOME_NAMES:
        return f"{OUTCOME_NAMES[m.group(1)]}, {m.group(2)}"
    return OUTCOME_NAMES.get(key, key.replace("_", " "))


Block = tuple


def _last_year(s: dict[str, Any]) -> str:
    return list(s["p_insolvent_by"])[-1]


def _refs(s: dict[str, Any], measure: str | None = None) -> list[dict[str, Any]]:
    return [r for r in (s.get("references") or []) if measure is None or r["measure"] == measure]


def _ref_quote(r: dict[str, Any]) -> str:
    return f"{r['source']}: {r['name']}, {money(r['published_bn'])}"


def _dates_sentence(s: dict[str, Any]) -> str:
    """When cash runs out, in dates (from ``insolvency_dates``; older runs: from the months)."""
    d = s.get("insolvency_dates")
    if d is None:
        return "Dates were not recorded by the run that wrote this directory (re-run it)."
    horizon = date(d["horizon"])
    if d["first"] is None:
        return f"No path runs out of cash before the horizon ({horizon})."
    parts = [f"The first paths run out of cash in **{date(d['first'])}**"]
    if d["p05"] is not None:
        parts.append(f"one path in twenty has run out by **{date(d['p05'])}**")
    else:
        parts.append(f"fewer than one path in twenty runs out before the horizon ({horizon})")
    if d["p50"] is not None:
        parts.append(f"half of them by **{date(d['p50'])}** (the median date)")
    else:
        parts.append(
            f"more than half still have cash at the horizon ({horizon}), so the median date "
            "lies beyond it"
        )
    text = "; ".join(parts) + "."
    risky = d.get("riskiest_months") or []
    if risky:
        months = ", ".join(f"{date(r['month'])} ({pct(r['share'])} of paths)" for r in risky)
        text += f" The riskiest months, those in which most paths run out: {months}."
    return text


_BOUND = {"point": "", "upper": "at most ", "lower": "at least "}
_EVENT = {"default": "Default", "ipo": "IPO"}


def _markets_blocks(s: dict[str, Any]) -> list[Block]:
    """The model's probabilities beside published and market ones (``market_references``)."""
    refs = s.get("market_references") or []
    if not refs:
        return []
    rows = []
    for r in refs:
        model = "n/a" if r["model"] is None else pct(r["model"]) + pct_pm(r["model_mcse"])
        rows.append(
            [
                escape_md(r["name"]),
                escape_md(r["source"]),
                date(r["quoted"]),
                f"{_EVENT[r['event']]} by {date(r['by_month'])}",
                _BOUND[r["bound"]] + pct(r["probability"]),
                model,
            ]
        )
    head = ["Reference", "Source", "Quoted", "Event", "Published", "This model (± MCSE)"]
    return [
        ("h", 3, "The model beside published and market probabilities"),
        ("table", head, rows),
        (
            "p",
            "Why they differ: a lender's spread and a prediction market price a dated event "
            "with what their traders know on the day they are quoted (and a lender's pricing "
            "includes a premium for bearing the risk), while the model's probabilities are "
            "real-world ones under its own assumptions as of its vintage: an IPO only from "
            "`financing.ipo_earliest` once ARR passes `financing.ipo_min_arr_bn`, and a "
            "default only when a financing winter outlasts every round retry and the "
            "insiders' bridge.",
        ),
    ]


# credit: the credit view, who is owed what, Bain's lens (issue 16) --------------------------
def _bp(x: float | None, se: float | None = None) -> str:
    """``12.3bp`` (`` ± 2.1``) for a spread in basis points."""
    if x is None:
        return "n/a"
    out = f"{x:,.1f}bp"
    return out + (f" ± {se:,.1f}" if se else "")


def _pp(p: float | None, se: float | None) -> str:
    """``0.26% ± 0.04 pts``: default probabilities are small, so two decimals."""
    if p is None:
        return "n/a"
    return f"{100 * p:.2f}%" + (f" ± {100 * se:.2f} pts" if se else "")


def _credit_blocks(s: dict[str, Any]) -> list[Block]:
    """Default term structure, implied spreads and the revolver (``summary["credit"]``)."""
    c = s.get("credit")
    if not c:
        return []
    r = c["recovery_rate"]
    b: list[Block] = [
        ("h", 2, "The credit view: default probabilities and the spread they imply"),
        (
            "p",
            f"From the valuation date ({date(c['valuation_month'])}, the cash anchor). A year's "
            "conditional probability is the share of the paths with cash at its start that "
            "default during it; the hazard is the constant rate per year that gives it. The "
            f"implied spread is `{c['spread_formula']}` with recovery R = {pct(r)} "
            f"({escape_md(c['recovery_source'])}): the spread over the risk-free rate of a claim "
            "paid in full unless a default comes first, R of it if one does; the forward spread "
            f"of a year is `{c['forward_spread_formula']}`. ± is the Monte Carlo standard "
            "error.",
        ),
    ]
    rows = [
        [
            y["horizon"],
            _pp(y["cumulative_pd"], y["cumulative_pd_mcse"]),
            _pp(y["marginal_pd"], y["marginal_pd_mcse"]),
            _pp(y["conditional_pd"], y["conditional_pd_mcse"]),
            _pp(y["hazard_per_yr"], y["hazard_per_yr_mcse"]),
            _bp(y["spread_bp"], y["spread_bp_mcse"]),
            _bp(y["forward_spread_bp"], y["forward_spread_bp_mcse"]),
        ]
        for y in c["by_year"]
    ]
    head = [
        "Year",
        "Defaulted by year end",
        "Defaults in the year (share of all paths)",
        "Of those with cash at the start of the year",
        "Hazard per year",
        "Implied spread to year end",
        "Forward spread of the year",
    ]
    b.append(("table", head, rows))
    if c["by_tenor"]:
        b.append(("h", 3, "By tenor, in whole years from the valuation date"))
        b.append(
            (
                "table",
                ["Tenor (years)", "Cumulative default probability", "Implied spread"],
                [
                    [
                        fmt(t["t_years"], "g"),
                        _pp(t["cumulative_pd"], t["cumulative_pd_mcse"]),
                        _bp(t["spread_bp"], t["spread_bp_mcse"]),
                    ]
                    for t in c["by_tenor"]
                ],
            )
        )
    b.append(("p", escape_md(c["caveat"])))
    v = c.get("revolver")
    if v:
        b.append(_revolver_block(v, c))
    b.extend(_exposure_blocks(c))
    return b


def _revolver_block(v: dict[str, Any], c: dict[str, Any]) -> Block:
    model = (
        "beyond the horizon"
        if v["model_pd"] is None
        else f"{_pp(v['model_pd'], v['model_pd_mcse'])}, a spread of "
        f"{_bp(v['model_spread_bp'], v['model_spread_bp_mcse'])}"
    )
    return (
        "p",
        f"**The revolver beside it.** The revolving credit facility's margin of "
        f"{fmt(v['spread_bp'], 'g')}bp over SOFR for {fmt(v['term_years'], 'g')} years "
        f"implies, by `{v['formula']}` at R = {pct(v['recovery_rate'])}, a default "
        f"probability of at most {pct(v['implied_pd'])} over its term (a bank's margin also "
        f"pays for funding and the relationship). The model's over the same "
        f"{fmt(v['term_years'], 'g')} years from the valuation date: {model}.",
    )


def _exposure_blocks(c: dict[str, Any]) -> list[Block]:
    """Who is owed what at default (``summary["credit"]["exposure"]``)."""
    ex = c["exposure"]
    r = c["recovery_rate"]
    xs = c["exposure_thresholds_bn"]
    last = c["by_year"][-1]["horizon"]
    b: list[Block] = [
        ("h", 2, "Who is hurt if OpenAI fails, and when"),
        (
            "p",
            "Exposure at default (EAD): the compute payments a counterparty is still owed "
            "under its contracts in the month OpenAI defaults, net of any renegotiation, those "
            "scheduled after the horizon included (a contract's slip and its share online are "
            "drawn per path, so they shrink or move it before default). A path that does not "
            "default within the horizon has no exposure at default. The last column is the "
            "part of it that was due by the end of the horizon (a contract that slips past the "
            "horizon has none inside it). Expected loss = "
            f"(1 - R) E[1(default by the year end) EAD], R = {pct(r)}. US$ bn.",
        ),
    ]
    head = (
        ["Counterparty", "EAD if OpenAI defaults: mean (5th to 95th percentile)"]
        + [f"P(default while owed more than {money(x)})" for x in xs]
        + [f"Expected EAD by {last}", f"Expected loss by {last}", "Mean EAD / reported backlog"]
        + ["Of the EAD, due by the horizon: mean"]
    )
    rows = []
    for cp, v in ex.items():
        g = v["given_default"]
        h = v["by_horizon"][last]
        bl = v.get("backlog")
        share = (
            "n/a"
            if not bl or bl["share_mean"] is None
            else f"{pct(bl['share_mean'])} of {money(bl['value_bn'])} "
            f"({escape_md(bl['what'])}, {date(bl['as_of'])})"
        )
        name = "All counterparties" if cp == "total" else escape_md(cp)
        rows.append(
            [
                name,
                f"{money(g['mean'])} ({money(g['p05'])} to {money(g['p95'])})",
                *[_pp(v["p_default_owed_over"][f"{x:g}"]["p"], None) for x in xs],
                money(h["expected_ead"]) + plus_minus(h["expected_ead_mcse"]),
                money(h["expected_loss"]) + plus_minus(h["expected_loss_mcse"]),
                share,
                money((v.get("inside_horizon") or {}).get("given_default", {}).get("mean")),
            ]
        )
    b.append(("table", head, rows))
    years = list(ex["total"]["by_horizon"])
    b.append(
        (
            "table",
            ["Counterparty"] + [f"Expected loss by {y}" for y in years],
            [
                ["All counterparties" if cp == "total" else escape_md(cp)]
                + [money(v["by_horizon"][y]["expected_loss"]) for y in years]
                for cp, v in ex.items()
            ],
        )
    )
    top = c.get("largest_expected_ead") or []
    if top:
        b.append(
            (
                "p",
                f"Largest expected exposures at default by {last}: "
                + ", ".join(
                    f"{escape_md(t['counterparty'])} {money(t['expected_ead_bn'])}" for t in top
                )
                + ".",
            )
        )
    return b


def _bain_blocks(s: dict[str, Any]) -> list[Block]:
    """Bain's industry arithmetic and OpenAI against it (``summary["bain"]``)."""
    bn = s.get("bain")
    if not bn:
        return []
    o = bn["openai"]
    ok = "reproduced" if bn["revenue_needed_matches"] and bn["shortfall_matches"] else "NOT matched"
    b: list[Block] = [
        ("h", 2, "Bain's lens: the revenue the industry's compute needs"),
        (
            "p",
            f"{escape_md(bn['source'])}: {money(bn['capex_bn'])} of data-centre capex a year by "
            f"{bn['year']} at a capex-to-revenue ratio of {pct(bn['capex_to_revenue'])} needs "
            f"**{money(bn['revenue_needed_bn'])}** of revenue a year (published: "
            f"{money(bn['revenue_needed_published_bn'])}); with {money(bn['funded_revenue_bn'])} "
            f"fundable it is **{money(bn['shortfall_bn'])}** short (published: "
            f"{money(bn['shortfall_published_bn'])}): {ok}. Bain publishes the capex and the two "
            "results, not the ratio or the fundable revenue; those are what its figures imply. "
            f"That is {money(bn['revenue_per_gw_bn'])} of revenue a year per GW of its "
            f"{fmt(bn['demand_gw'], 'g')} GW.",
        ),
    ]
    if o["p_revenue_covers"] is None:
        b.append(("p", f"The horizon does not reach {bn['year']}: no OpenAI comparison."))
        return b
    b.append(
        (
            "p",
            f"**OpenAI under Bain's ratio** (rule: its peak GW online within the horizon over "
            f"Bain's GW). Median {fmt(o['gw_p50'], 'bn')} GW, {pct(o['share_p50'])} of Bain's "
            f"demand: its compute needs {money(o['revenue_needed_p50'])} of revenue in "
            f"{bn['year']} (5th to 95th percentile {money(o['revenue_needed_p05'])} to "
            f"{money(o['revenue_needed_p95'])}); the model's median {bn['year']} revenue is "
            f"{money(o['revenue_p50'])}. Revenue over what the compute needs: median "
            f"{fmt(o['coverage_p50'], 'prob')} (5th to 95th percentile "
            f"{fmt(o['coverage_p05'], 'prob')} to {fmt(o['coverage_p95'], 'prob')}); "
            f"P(revenue covers it) {_pp(o['p_revenue_covers'], o['p_revenue_covers_mcse'])}; "
            f"median shortfall {money(o['gap_p50'])}.",
        )
    )
    return b


def _blocks_monte_carlo(s: dict[str, Any], plot_files: list[str]) -> list[Block]:
    b: list[Block] = []
    prov = s.get("provenance", {})
    last = _last_year(s)
    mc = s.get("mcse") or {}
    g = s["funding_gap"][last]
    b.append(("h", 1, f"runway report: {escape_md(s['scenario'])}"))  # config text: escaped
    if s.get("description"):
        b.append(("p", escape_md(s["description"])))
    b.append(
        (
            "p",
            f"Monte Carlo run of {fmt(s['paths'], 'int')} paths from {date(s['start'])} to "
            f"{date(s['end'])}, cash as of {date(s.get('cash_as_of'))}. Money in US$ billions; "
            "flows per calendar year, balances at year end. A path runs out of cash (defaults) "
            "when, after every financing the model allows that month (committed money, equity "
            "rounds, an IPO, facilities, debt, an insiders' bridge), its cash plus what it can "
            "still draw is below the minimum buffer; it raises nothing after that.",
        )
    )
    if s.get("overrides"):
        b.append(
            (
                "p",
                "Changed from the config file: "
                + ", ".join(f"`{o}`" for o in s["overrides"])
                + ".",
            )
        )

    b.append(("h", 2, "The four answers"))
    # 1. funding gap
    per_year = ", ".join(f"{y} {money(v['p50'])}" for y, v in s["funding_gap"].items())
    text = (
        f"**1. How big is the funding gap?** By the end of {last}: "
        f"**{money(g['p50'])}{plus_minus(mc.get(f'funding_gap_{last}_p50'))}** (median of the "
        f"paths; nine paths in ten between {money(g['p05'])} and {money(g['p95'])}). This is the "
        "external money needed, beyond what is committed, to keep cash at the buffer. "
        f"Median by year end: {per_year}."
    )
    quotes = [r for r in _refs(s, "funding_gap")]
    if quotes:
        text += " Published: " + "; ".join(_ref_quote(r) for r in quotes) + "."
    b.append(("p", text, "answer"))
    # 2. when
    b.append(("p", "**2. When does cash run out?** " + _dates_sentence(s), "answer"))
    # 3. probability
    pb = s["p_insolvent_by"]
    terms = ", ".join(f"{y} {pct(p)}" for y, p in pb.items())
    b.append(
        (
            "p",
            f"**3. With what probability?** Probability of having run out of cash by the end "
            f"of {last}: **{pct(pb[last])}{pct_pm(mc.get(f'p_insolvent_by_{last}'))}**. By "
            f"year end: {terms}.",
            "answer",
        )
    )
    b.append(("p", _drives_answer(s), "answer"))
    b.append(("h", 3, "Probability of running out of cash, by year"))
    hz = s.get("insolvency_hazard_by_year") or {}
    head = ["Year", "Run out by year end", "± (Monte Carlo standard error)"]
    if hz:
        head.insert(2, "Of the paths with cash at the start of the year, run out during it")
    rows = []
    for y, p in pb.items():
        row = [y, pct(p), pct_pm(mc.get(f"p_insolvent_by_{y}")).strip(" ±") or "0 pts"]
        if hz:
            row.insert(2, pct(hz.get(y)))
        rows.append(row)
    b.append(("table", head, rows))

    b.extend(_markets_blocks(s))
    b.extend(_credit_blocks(s))  # credit: issue 16
    b.extend(_bain_blocks(s))  # credit: issue 16

    tm = s.get("target_mcse")
    b.append(("h", 2, "Funding gap by year"))
    b.append(
        (
            "p",
            "External capital needed to keep cash at the buffer through each year, with no new "
            "money beyond what is committed. US$ bn.",
        )
    )
    b.append(
        (
            "table",
            [
                "Year",
                "Mean",
                "5th percentile",
                "Median",
                "95th percentile",
                "Median ± (standard error)",
            ],
            [
                [
                    y,
                    fmt(v["mean"], "bn"),
                    fmt(v["p05"], "bn"),
                    fmt(v["p50"], "bn"),
                    fmt(v["p95"], "bn"),
                    fmt(mc.get(f"funding_gap_{y}_p50"), "mcse"),
                ]
                for y, v in s["funding_gap"].items()
            ],
        )
    )

    b.append(("h", 2, "Annual figures"))
    b.append(("p", "Median of the paths, with the range of nine paths in ten in brackets. US$ bn."))
    metrics = ("revenue", "operating_income", "compute_rent", "fcf", "cumulative_fcf", "cash")
    first = next(iter(s["annual"].values()))
    shown = [k for k in metrics if k in first]
    rows = [
        [y]
        + [
            f"{fmt(m[k]['p50'], 'bn')} ({fmt(m[k]['p05'], 'bn')} to {fmt(m[k]['p95'], 'bn')})"
            for k in shown
        ]
        for y, m in s["annual"].items()
    ]
    b.append(("table", ["Year"] + [METRIC_NAMES[k] for k in shown], rows))
    refs = [
        r for r in _refs(s) if r.get("median_bn") is not None and r.get("tolerance") is not None
    ]
    if refs:
        b.append(("h", 2, "Published figures"))
        b.append(("p", "From the config's references; the run's median on the same definition."))
        b.append(
            (
                "table",
                ["Figure", "Source", "Published (US$ bn)", "This run's median (US$ bn)"],
                [
                    [
                        r["name"],
                        r["source"],
                        fmt(r["published_bn"], "bn"),
                        fmt(r["median_bn"], "bn"),
                    ]
                    for r in refs
                ],
            )
        )

    b.append(("h", 2, "Figures"))
    for f in plot_files:
        b.append(("img", f, P.PLOTS.get(f, f)))

    b.append(("h", 2, "What drives it"))
    b.extend(_drives_blocks(s))

    b.append(("h", 2, "Appendix: Monte Carlo precision and diagnostics"))
    b.extend(_target_blocks(tm))
    b.append(
        (
            "p",
            "Monte Carlo standard errors: binomial for probabilities, standard deviation over "
            "the square root of the path count for means, order statistics for quantiles "
            "(the paths are independent).",
        )
    )
    b.append(
        (
            "table",
            ["Number", "Monte Carlo standard error"],
            [[_mcse_name(k), fmt(v, "mcse")] for k, v in mc.items()],
        )
    )
    t = s["time_to_insolvency_months"]
    b.append(
        (
            "p",
            "Months from the cash anchor until cash runs out (n/a: beyond the horizon of "
            f"{fmt(t.get('horizon_months'), 'months')} months, where the paths that still have "
            "cash are censored):",
        )
    )
    b.append(
        (
            "table",
            ["Statistic", "Months", "Monte Carlo standard error"],
            [
                [
                    {
                        "p05": "5th percentile",
                        "p50": "Median",
                        "p95": "95th percentile",
                        "mean_censored": "Mean, counting the horizon for paths with cash left",
                    }[k],
                    fmt(t.get(k), "months"),
                    fmt(mc.get(f"time_to_insolvency_{k}"), "mcse"),
                ]
                for k in ("p05", "p50", "p95", "mean_censored")
            ],
        )
    )
    d = s.get("diagnostics") or {}
    if d.get("ess") is not None:
        rh = [v for v in (d.get("rhat") or {}).values() if v is not None]
        summary_line = (
            f"R-hat from {fmt(min(rh), 'rhat')} to {fmt(max(rh), 'rhat')} (1 means the seed "
            "streams agree). "
            if rh
            else "R-hat needs two seed streams or more. "
        )
        b.append(
            (
                "p",
                summary_line + "Effective sample size (bulk) and rank-normalised R-hat from "
                f"arviz, across {fmt(d.get('chains'), 'int')} seed streams of "
                f"{fmt(d.get('draws_per_chain'), 'int')} paths:",
            )
        )
        b.append(
            (
                "table",
                ["Outcome", "Effective sample size", "R-hat"],
                [
                    [_outcome_name(k), fmt(v, "ess"), fmt((d.get("rhat") or {}).get(k), "rhat")]
                    for k, v in d["ess"].items()
                ],
            )
        )
    b.extend(_provenance(prov))
    return b


def _drives_answer(s: dict[str, Any]) -> str:
    """Answer 4 from ``summary.json["sensitivity"]`` (the run's drivers), when there."""
    sens = s.get("sensitivity") or {}
    tg = sens.get("targets") or {}
    gap = next((v for k, v in tg.items() if k.endswith("_worst_decile")), None)
    if not gap or not gap.get("top"):
        return (
            "**4. What drives it?** Not computed in this run (see "
            "[What drives it](#what-drives-it))."
        )
    names = ", ".join(escape_md(r["label"]) for r in gap["top"][:3])
    return (
        "**4. What drives it?** The inputs that most separate the worst tenth of funding gaps "
        f"from the rest: {names} (see [What drives it](#what-drives-it)). "
        "`runway sensitivity` gives the tornado and Sobol' indices."
    )


_TARGET_WORDS = {
    "worst_decile": "the worst tenth of funding gaps by the end of {y}",
    "insolvent": "the paths that ran out of cash by the end of {y}",
}


def _drives_blocks(s: dict[str, Any]) -> list[Block]:
    """The "What drives it" section from ``summary.json["sensitivity"]``."""
    sens = s.get("sensitivity") or {}
    tg = sens.get("targets") or {}
    if not tg:
        return [
            (
                "p",
                "Not computed in this run (a deterministic run, or too few paths). "
                "`runway sensitivity CONFIG` ranks the drivers by tornado or Sobol' indices.",
            )
        ]
    b: list[Block] = [
        (
            "p",
            "Which assumptions separate the worst paths from the rest, read from this run's "
            "own paths (no new simulation): the Kolmogorov-Smirnov distance between an "
            "input's values in those paths and in the others (0: no difference, 1: complete "
            "separation; ± a 95% bootstrap interval) and SALib's PAWN index. Groups (all "
            "contracts' slips, all contracts' share online) are the mean of their members. "
            "Inputs move together with the monthly shocks here; the tornado and Sobol' "
            "indices of `runway sensitivity` move one input at a time.",
        )
    ]
    for key, t in tg.items():
        y = key.split("_")[2] if key.startswith("funding_gap_") else key.rsplit("_", 1)[-1]
        kind = "worst_decile" if key.endswith("_worst_decile") else "insolvent"
        what = _TARGET_WORDS[kind].format(y=y)
        if not t.get("top") or t["top"][0].get("ks") is None:
            b.append(("p", f"Not defined for {what}: no path, or every path, is in it."))
            continue
        b.append(("h", 3, f"Drivers of {what} ({fmt(t.get('n_target'), 'int')} paths)"))
        b.append(("ul", [escape_md(w) for w in t.get("words") or []]))
        b.append(
            (
                "table",
                ["Input", "In these paths", "Median there", "Median elsewhere", "KS ±", "PAWN"],
                [
                    [
                        escape_md(r["label"]),
                        str(r["direction"]),
                        fmt(r.get("median_target"), "rhat"),
                        fmt(r.get("median_rest"), "rhat"),
                        f"{fmt(r.get('ks'), 'rhat')} ± {fmt(r.get('ks_conf'), 'rhat')}",
                        fmt(r.get("pawn"), "rhat"),
                    ]
                    for r in t["top"]
                ],
            )
        )
    return b


def _target_blocks(tm: dict[str, Any] | None) -> list[Block]:
    if not tm:
        return []
    b: list[Block] = []
    x, ty = fmt(tm["target"], "g"), tm["year"]
    goal = (
        f"paths were added until the MCSE of P(insolvent by {ty}) was at most {x} and the MCSE "
        f"of the median {ty} funding gap at most {x} of the median"
    )
    got = (
        f"MCSE {fmt(tm['mcse_p_insolvent'], 'mcse')} and, relative, "
        f"{fmt(tm['rel_mcse_funding_gap_p50'], 'mcse')}"
    )
    head = f"**Path count.** Set by `--target-mcse` {x}: {goal}"
    if tm["reached"]:
        text = f"{head}. That took {fmt(tm['paths'], 'int')} paths ({got})."
    else:
        text = (
            f"{head}. **Target not reached**: the run stopped at the cap of "
            f"{fmt(tm['max_paths'], 'int')} paths (`--max-paths`) with {got}."
        )
    b.append(("p", text))
    b.append(
        (
            "p",
            f"Steps of `--target-mcse` {fmt(tm['target'], 'g')} (each step adds whole "
            "chunks; the outputs equal those of a plain run of the final path count "
            "with the same seed):",
        )
    )
    b.append(
        (
            "table",
            [
                "Paths",
                f"MCSE of P(insolvent by {tm['year']})",
                f"Relative MCSE of the median gap {tm['year']}",
                "Target met",
            ],
            [
                [
                    fmt(c["paths"], "int"),
                    fmt(c["mcse_p_insolvent"], "mcse"),
                    fmt(c["rel_mcse_funding_gap_p50"], "mcse"),
                    "yes" if c["met"] else "no",
                ]
                for c in tm["checks"]
            ],
        )
    )
    return b


def _provenance(prov: dict[str, Any]) -> list[Block]:
    return [
        ("h", 2, "Provenance"),
        (
            "ul",
            [f"{k}: `{v}`" for k, v in prov.items()]
            + [
                "files: `summary.json`, `annual.csv`, `paths.parquet`, `fan.parquet`, "
                "`config.resolved.toml` (runs as written: `runway run config.resolved.toml`); "
                "`idata.nc` with `runway run --idata`"
            ],
        ),
    ]


def _blocks_deterministic(s: dict[str, Any], plot_files: list[str]) -> list[Block]:
    b: list[Block] = []
    last = _last_year(s)
    b.append(("h", 1, f"runway report: {s['scenario']}, deterministic"))
    if s.get("description"):
        b.append(("p", s["description"]))
    b.append(
        (
            "p",
            "One deterministic path: every uncertain input at its central value, no shocks, "
            f"from {date(s['start'])} to {date(s['end'])}, cash as of {date(s.get('cash_as_of'))}. "
            "It checks the config against the published figures it is built to reproduce; run "
            "without `--deterministic` for the distribution and the probabilities. Money in US$ "
            "billions.",
        )
    )
    if s.get("overrides"):
        b.append(
            (
                "p",
                "Changed from the config file: "
                + ", ".join(f"`{o}`" for o in s["overrides"])
                + ".",
            )
        )
    refs = _refs(s)
    targets = [r for r in refs if r.get("tolerance") is not None]
    b.append(("h", 2, "Model versus published figures"))
    if targets:
        misses = [r["name"] for r in targets if r.get("within") is False]
        verdict = (
            "Every figure is within its tolerance."
            if not misses and all(r.get("within") for r in targets)
            else "Outside tolerance or not comparable: "
            + "; ".join(r["name"] for r in targets if not r.get("within"))
            + "."
        )
        b.append(("p", verdict))
        b.append(
            (
                "table",
                [
                    "Figure",
                    "Published (US$ bn)",
                    "Model (US$ bn)",
                    "Miss",
                    "Tolerance",
                    "Within",
                    "Source",
                ],
                [
                    [
                        r["name"],
                        fmt(r["published_bn"], "bn"),
                        fmt(r.get("model_bn"), "bn"),
                        "n/a" if r.get("miss") is None else f"{100 * r['miss']:+.1f}%",
                        f"± {100 * r['tolerance']:.0f}%",
                        {True: "yes", False: "**no**", None: "n/a"}[r.get("within")],
                        r["source"],
                    ]
                    for r in targets
                ],
            )
        )
    else:
        b.append(("p", "The config lists no published figures to compare with (`[references]`)."))
    context = [r for r in refs if r.get("tolerance") is None]
    if context:
        b.append(
            (
                "p",
                "For context (not a target of this config): "
                + "; ".join(
                    f"{_ref_quote(r)}, against {money(r.get('model_bn'))} on this path"
                    for r in context
                )
                + ".",
            )
        )

    b.append(("h", 2, "The four answers, on this one path"))
    g = s["funding_gap"][last]["p50"]
    b.append(
        ("p", f"**1. How big is the funding gap?** {money(g)} by the end of {last}.", "answer")
    )
    b.append(
        (
            "table",
            [
                "Year",
                "Funding gap (US$ bn)",
                "Revenue (US$ bn)",
                "Free cash flow (US$ bn)",
                "Cash at year end (US$ bn)",
            ],
            [
                [
                    y,
                    fmt(s["funding_gap"][y]["p50"], "bn"),
                    fmt(m["revenue"]["p50"], "bn"),
                    fmt(m["fcf"]["p50"], "bn"),
                    fmt(m["cash"]["p50"], "bn"),
                ]
                for y, m in s["annual"].items()
            ],
        )
    )
    d = s.get("insolvency_dates") or {}
    when = (
        f"This path runs out of cash in **{date(d['first'])}**."
        if d.get("first")
        else "This path does not run out of cash before the horizon "
        f"({date(d.get('horizon') or s['end'])})."
    )
    b.append(("p", "**2. When does cash run out?** " + when, "answer"))
    b.append(
        (
            "p",
            "**3. With what probability?** Not meaningful for one path: run without "
            "`--deterministic` for the probabilities by year.",
            "answer",
        )
    )
    b.append(
        (
            "p",
            "**4. What drives it?** Not computed in this run (no sensitivity analysis).",
            "answer",
        )
    )
    b.append(("h", 2, "Figures"))
    for f in plot_files:
        b.append(("img", f, P.DETERMINISTIC_CAPTIONS.get(f, f)))
    b.extend(_provenance(s.get("provenance", {})))
    return b


def _bn1(x: float) -> str:
    """``$13.1bn``: one decimal whatever the size (actuals are quoted to it)."""
    return f"{'-' if x < 0 else ''}${abs(x):,.1f}bn"


def _backtest_blocks(s: dict[str, Any]) -> list[Block]:
    """The shipped actuals dated after the run's as-of month against its paths (issue 13).

    The rows ``runway run`` put in ``summary.json["backtest"]`` (:mod:`runway.backtest`, as
    ``runway backtest RUNDIR`` gives them); rows the run could not give are named.
    """
    from types import SimpleNamespace

    bt = s.get("backtest") or {}
    rows = [SimpleNamespace(**r) for r in bt.get("rows") or []]
    if not rows:
        return []
    done = [r for r in rows if r.inside_90 is not None]
    missing = [r for r in rows if r.inside_90 is None]
    b: list[Block] = [("h", 2, "Backtest: what happened after the as-of month")]
    if done:
        n90 = sum(1 for r in done if r.inside_90)
        n98 = sum(1 for r in done if r.inside_98)
        b.append(
            (
                "p",
                f"{n90} of {len(done)} sourced actuals dated after "
                f"{date(str(s.get('cash_as_of')))} lie inside the run's `P5..P95` band and "
                f"{n98} inside its `P1..P99` band. A percentile is the reported figure's "
                "place in the distribution the run gives for that figure: a path's value plus "
                "the figure's own stated uncertainty (`src/runway/_data/actuals.toml`); the "
                "paths' own percentile is beside it. A backtest is a check, not a fit.",
            )
        )
        b.append(
            (
                "table",
                [
                    "Actual",
                    "Period",
                    "Reported",
                    "Percentile",
                    "`P5`",
                    "`P50`",
                    "`P95`",
                    "In `P5..P95`",
                    "In `P1..P99`",
                    "Percentile of the paths",
                ],
                [
                    [
                        escape_md(r.name),
                        r.period,
                        _bn1(r.value_bn),
                        fmt(100 * r.percentile, "pct1"),
                        _bn1(r.p05),
                        _bn1(r.p50),
                        _bn1(r.p95),
                        "yes" if r.inside_90 else "**no**",
                        "yes" if r.inside_98 else "**no**",
                        fmt(100 * r.path_percentile, "pct1"),
                    ]
                    for r in done
                ],
            )  # fmt: skip
        )
    if missing:
        names = ", ".join(escape_md(r.name) for r in missing)
        b.append(
            (
                "p",
                f"Not computable from this run: {names} (a flow over a single month needs "
                "`monthly.csv`: `runway run --monthly`, at most 1,000 paths, then "
                "`runway backtest RUNDIR`).",
            )
        )
    return b


def _blocks(s: dict[str, Any], plot_files: list[str]) -> list[Block]:
    if s.get("deterministic"):
        b = _blocks_deterministic(s, plot_files)
    else:
        b = _blocks_monte_carlo(s, plot_files)
    if s.get("policies"):  # pol: policies -- before the figures
        at = next((i for i, x in enumerate(b) if x[:3] == ("h", 2, "Figures")), len(b))
        b[at:at] = _policies_blocks(s["policies"])
    return b


# pol: policies
def _pts(x: float | None) -> str:
    """A change of a probability in percentage points, signed: ``-0.35 pts``."""
    return "n/a" if x is None else f"{100 * x:+.2f} pts"


def _p2(x: float | None) -> str:
    """A probability with two decimals of a percent (policy effects are often small)."""
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _policies_blocks(pol: dict[str, Any]) -> list[Block]:
    """The "Management policies" section: how often each fired, what it did (paired run)."""
    head = pol["headline_year"]
    h = pol["p_insolvent_by"][head]
    lo, hi = h["change_ci95"]
    ci = f" (95% paired interval {_pts(lo)} to {_pts(hi)})" if lo is not None else ""
    b: list[Block] = [("h", 2, "Management policies")]
    b.append(
        (
            "p",
            "The config's policies act on the funded path only; "
            + (
                "the deterministic path was run without them. "
                if pol["seed"] is None
                else f"the same {fmt(pol['paths'], 'int')} paths (seed {pol['seed']}) were run "
                "without them. "
            )
            + f"P(insolvent by {head}) "
            f"{_p2(h['with'])} with the policies, {_p2(h['without'])} without: a change of "
            f"{_pts(h['change'])}{ci}. The funding gap (no new money, no reaction) is "
            + ("unchanged." if pol["funding_gap_unchanged"] else "CHANGED (a defect)."),
        )
    )
    b.append(
        (
            "table",
            [
                "Policy",
                "Trigger",
                "Action",
                "P(fired)",
                "Median first firing",
                "Compute where fired",
                "Revenue where fired",
            ],
            [
                [
                    escape_md(r["name"]),
                    escape_md(r["trigger"]),
                    escape_md(r["action"]),
                    pct(r["p_fired"]),
                    date(r["median_first_month"]),
                    money(r["fired_mean_change_compute_bn"]),
                    money(r["fired_mean_change_revenue_bn"]),
                ]
                for r in pol["policies"]
            ],
        )
    )
    b.append(
        (
            "p",
            "Compute and revenue where fired: the mean paired change, path by path, of compute "
            "expensed and revenue from the cash anchor to the horizon on the paths where the "
            "policy fired (the effect of all the config's policies together on those paths). "
            f"Penalties paid: {money(pol['mean_policy_cost_bn'])} a path on average.",
        )
    )
    b.append(
        (
            "table",
            ["Year", "P(insolvent) with", "without", "change", "95% paired interval"],
            [
                [
                    y,
                    _p2(v["with"]),
                    _p2(v["without"]),
                    _pts(v["change"]),
                    f"{_pts(v['change_ci95'][0])} to {_pts(v['change_ci95'][1])}",
                ]
                for y, v in pol["p_insolvent_by"].items()
            ],
        )
    )
    return b


def headline_html(s: dict[str, Any]) -> str:
    """The report's opening (title, run, first section) as an HTML fragment (notebooks)."""
    out: list[Block] = []
    h2 = 0
    for blk in _blocks(s, []):
        if blk[0] == "h" and blk[1] == 2:
            h2 += 1
            if h2 > 1:
                break
        out.append(blk)
    return "<div>" + _body_html(out, None) + "</div>"


def _inline_md(text: str) -> str:
    return text


def _inline_html(text: str) -> str:
    parts = re.split(r"((?<!\\)`[^`]*(?<!\\)`)", text)  # not escaped backticks
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) >= 2:
            out.append(f"<code>{html.escape(p[1:-1])}</code>")
        else:
            e = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(p))
            e = re.sub(r"\[([^\]]+)\]\((#[\w-]+)\)", r'<a href="\2">\1</a>', e)
            out.append(unescape_md(e))  # escaped config text (escape_md) stays plain text
    return "".join(out)


def slug(text: str) -> str:
    """A header's anchor, as GitHub's Markdown makes it: "What drives it" -> "what-drives-it"."""
    t = re.sub(r"[^\w\- ]", "", text.lower()).strip()
    return re.sub(r" ", "-", t)


def to_markdown(blocks: list[Block]) -> str:
    """The report blocks as Markdown (images by relative file name)."""
    lines: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h":
            lines += ["#" * blk[1] + " " + blk[2], ""]
        elif kind == "p":
            lines += [blk[1], ""]
        elif kind == "table":
            head, rows = blk[1], blk[2]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "|".join("---" for _ in head) + "|")
            lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
            lines.append("")
        elif kind == "img":
            lines += [f"![{blk[2]}]({blk[1]})", ""]
        elif kind == "ul":
            lines += [f"- {i}" for i in blk[1]] + [""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0 1.2em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:.5em 0}
figcaption{color:#555;font-size:.9em;margin-bottom:1.5em}code{background:#f5f5f5;padding:0 .2em}"""

# Each image reports its own load; once the page has loaded, the title says whether every
# image decoded and whether any script error or console.error occurred (read by the
# headless-browser test through --dump-dom).
_CHECK = """<script>
window.__errors=[];
window.addEventListener('error',function(e){window.__errors.push(String(e.message));});
(function(){var ce=console.error;
console.error=function(){window.__errors.push('console');ce.apply(console,arguments);};})();
window.addEventListener('load',function(){var im=document.images,ok=0;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){ok++;}}
var n=window.__errors.length;
var ans=document.querySelectorAll('p.answer'),fold=0;
for(var j=0;j<ans.length;j++){
if(ans[j].getBoundingClientRect().bottom<=window.innerHeight){fold++;}}
document.body.setAttribute('data-answers',String(ans.length));
document.body.setAttribute('data-answers-first-screen',String(fold));
document.title=(ok===im.length&&n===0?'ok':'fail')+':'+ok+'/'+im.length+':errors='+n;
document.body.setAttribute('data-images-ok',String(ok));});
</script>"""


def _body_html(blocks: list[Block], run_dir: Path | None) -> str:
    body: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h":
            n = blk[1]
            body.append(f'<h{n} id="{slug(blk[2])}">{_inline_html(blk[2])}</h{n}>')
        elif kind == "p":
            cls = f' class="{blk[2]}"' if len(blk) > 2 else ""
            body.append(f"<p{cls}>{_inline_html(blk[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in blk[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(str(c))}</td>" for c in r) + "</tr>"
                for r in blk[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img" and run_dir is not None:
            data = base64.b64encode((run_dir / blk[1]).read_bytes()).decode("ascii")
            alt = html.escape(blk[2])
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" '
                f"onload=\"this.dataset.loaded='1'\" onerror=\"this.dataset.loaded='0'\">"
                f"<figcaption>{alt}</figcaption></figure>"
            )
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in blk[1]) + "</ul>")
    return "\n".join(body)


def to_html(blocks: list[Block], run_dir: Path, title: str) -> str:
    """The report blocks as one self-contained HTML page (PNGs from ``run_dir`` inlined)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style>{_CHECK}</head><body>\n"
        + _body_html(blocks, run_dir)
        + "\n</body></html>\n"
    )


def draw_plots(
    run_dir: str | Path, summary: dict[str, Any], paths: pd.DataFrame | None = None
) -> list[str]:
    """Draw the PNG plots in ``run_dir``; returns their file names.

    Reads ``fan.parquet``, ``annual.csv``, when present ``deterministic.csv`` (the
    deterministic path overlaid on the cash fan), and the per-path columns the plots need
    (:func:`runway.report.plots.path_columns`) from ``paths.parquet``, or from ``paths``
    when given (the run's own table, which that file is written from). ``summary`` is the
    ``summary.json`` dictionary; its ``diagnostics`` are not used.
    """
    d = Path(run_dir)
    if paths is None:
        years = [int(y) for y in summary["funding_gap"]]
        paths = pd.read_parquet(d / "paths.parquet", columns=P.path_columns(years))
    fan = pd.read_parquet(d / "fan.parquet")
    annual = pd.read_csv(d / "annual.csv")
    det_file = d / "deterministic.csv"
    det = pd.read_csv(det_file, dtype={"month": str}) if det_file.exists() else None
    return P.draw_all(d, summary, paths, fan, annual, det)


def render_report(
    run_dir: str | Path, *, plots: bool = True, paths: pd.DataFrame | None = None
) -> list[Path]:
    """Write report.md, report.html (and the PNG plots) in ``run_dir`` from its files.

    Reads ``summary.json`` and, with ``plots``, what :func:`draw_plots` reads (``paths``:
    see there); without ``plots`` the PNGs already in ``run_dir`` are used. Nothing is
    simulated. Returns the paths written.
    """
    d = Path(run_dir)
    s = json.loads((d / "summary.json").read_text())
    written: list[Path] = []
    if plots:
        files = draw_plots(d, s, paths)
        written += [d / f for f in files]
    else:
        names = P.DETERMINISTIC_PLOTS if s.get("deterministic") else P.PLOTS
        files = [f for f in names if (d / f).exists()]
    blocks = _blocks(s, files)
    if not s.get("deterministic"):  # issue 13: the backtest, before the provenance
        at = next((i for i, x in enumerate(blocks) if x[:3] == ("h", 2, "Provenance")), None)
        at = len(blocks) if at is None else at
        blocks[at:at] = _backtest_blocks(s)
    (d / "report.md").write_text(to_markdown(blocks))
    (d / "report.html").write_text(to_html(blocks, d, f"runway report: {s['scenario']}"))
    return written + [d / "report.md", d / "report.html"]
