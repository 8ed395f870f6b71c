"""``runway compare RUNDIR RUNDIR ...``: runs side by side, each difference with its MCSE.

Every run directory (``runway run --out``) or conditioned directory (``runway condition``)
gives its headline numbers (:func:`runway.condition.headline`: P(out of cash) by each year
end, the funding gap's and revenue's mean and quantiles per year, each with its MCSE,
weighted for a conditioned directory). Each run after the first is compared with the first
(the base), on the years the runs share:

- *paired* when both are plain runs with the same seed and path count: path ``i`` of both
  is drawn from the same random numbers (the Philox streams depend only on the seed and the
  path id, :mod:`runway.kernel.rng`), so a probability's or a mean's difference is the mean
  of the per-path differences with the standard error ``sd(d) / sqrt(n)``, and a quantile's
  difference gets the sectioning error of 20 batches of paired paths
  (:func:`runway.sweep.stats.paired_quantile_diff`). A run against itself differs by 0 ± 0;
- *independent* otherwise: the difference of the two estimates, with the standard error
  ``sqrt(se_a^2 + se_b^2)`` of their own MCSEs.

Written: ``compare.json`` (every number), ``report.md``/``report.html`` (the headline table,
the differences, the plots), ``pd_curves.png``, ``funding_gap_fans.png``, ``cash_fans.png``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from runway.condition import HEADLINE_METRICS, QUANTILES, RunData, headline, load_run
from runway.errors import RunwayError
from runway.stats import weighted as W

STATS = ("mean", "p05", "p50", "p95")


def load_runs(dirs: list[Path]) -> list[RunData]:
    """Every directory read (one-line error naming the first bad one); labels made unique."""
    if len(dirs) < 2:
        raise RunwayError(
            "runway compare needs at least two run directories (the first is the base)"
        )
    runs = [load_run(d) for d in dirs]
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.label] = seen.get(r.label, 0) + 1
    for i, r in enumerate(runs):
        if seen[r.label] > 1:
            r.label = f"{r.label} ({dirs[i]})"
    return runs


def is_paired(a: RunData, b: RunData) -> bool:
    """Whether two runs share their random numbers path by path (same seed, paths; no weights)."""
    return (
        a.weights is None
        and b.weights is None
        and a.seed is not None
        and a.seed == b.seed
        and a.n == b.n
    )


def _clean(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _paired_mean(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    return float(d.mean()), (float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.nan)


def _paired_quantile(x: np.ndarray, y: np.ndarray, q: float) -> tuple[float, float]:
    from runway.sweep.stats import MIN_BATCH_PATHS, N_BATCHES

    diff = float(np.quantile(x, q) - np.quantile(y, q))
    b = min(N_BATCHES, x.size // MIN_BATCH_PATHS)
    if b < 2 or not math.isfinite(diff):
        return diff, math.nan
    parts = [
        float(np.quantile(xb, q) - np.quantile(yb, q))
        for xb, yb in zip(np.array_split(x, b), np.array_split(y, b), strict=True)
    ]
    return diff, float(np.std(parts, ddof=1)) / math.sqrt(b)


def differences(run: RunData, base: RunData, years: list[int]) -> dict[str, Any]:
    """Each headline number of ``run`` minus the base's, with its MCSE (module docstring)."""
    paired = is_paired(run, base)
    h, h0 = headline(run), headline(base)
    out: dict[str, Any] = {
        "paired": paired,
        "p_insolvent_by": {},
        **{m: {} for m in HEADLINE_METRICS},
    }

    def indep(v: dict[str, Any], v0: dict[str, Any]) -> dict[str, float | None]:
        if v["value"] is None or v0["value"] is None:
            return {"diff": None, "mcse": None}
        se = (
            None
            if v["mcse"] is None or v0["mcse"] is None
            else math.sqrt(v["mcse"] ** 2 + v0["mcse"] ** 2)
        )
        return {"diff": v["value"] - v0["value"], "mcse": se}

    for y in years:
        j, j0 = run.years.index(y), base.years.index(y)
        key = str(y)
        if paired:
            d, se = _paired_mean(run.insolvent_year <= y, base.insolvent_year <= y)
            out["p_insolvent_by"][key] = {"diff": _clean(d), "mcse": _clean(se)}
        else:
            out["p_insolvent_by"][key] = indep(h["p_insolvent_by"][key], h0["p_insolvent_by"][key])
        for metric in HEADLINE_METRICS:
            x, x0 = getattr(run, metric)[:, j], getattr(base, metric)[:, j0]
            row: dict[str, Any] = {}
            for stat in STATS:
                if paired:
                    d, se = (
                        _paired_mean(x, x0)
                        if stat == "mean"
                        else _paired_quantile(x, x0, QUANTILES[stat])
                    )
                    row[stat] = {"diff": _clean(d), "mcse": _clean(se)}
                else:
                    row[stat] = indep(h[metric][key][stat], h0[metric][key][stat])
            out[metric][key] = row
    return out


@dataclass
class Comparison:
    """The result of :func:`compare`."""

    runs: list[RunData]
    years: list[int]  # the years every run covers
    headlines: list[dict[str, Any]]
    diffs: list[dict[str, Any]]  # one per run after the base


def compare(runs: list[RunData]) -> Comparison:
    """Headline numbers of every run and the differences of each to the first."""
    years = sorted(set.intersection(*(set(r.years) for r in runs)))
    if not years:
        raise RunwayError("runway compare: the runs share no calendar year")
    base = runs[0]
    return Comparison(
        runs=runs,
        years=years,
        headlines=[headline(r) for r in runs],
        diffs=[differences(r, base, years) for r in runs[1:]],
    )


def to_json(c: Comparison) -> dict[str, Any]:
    """``compare.json``."""
    return {
        "kind": "comparison",
        "units": "US$ bn; flows per calendar year, balances at year end",
        "years": [str(y) for y in c.years],
        "base": c.runs[0].label,
        "runs": [
            {
                "label": r.label,
                "dir": str(r.dir),
                "scenario": r.summary.get("scenario"),
                "paths": r.n,
                "seed": r.seed,
                "conditioned": r.weights is not None,
                "ess": W.ess(r.w),
                "pareto_k": (r.conditioned.get("diagnostics") or {}).get("pareto_k"),
                "reliable": (r.conditioned.get("diagnostics") or {}).get("reliable", True),
                "headline": h,
            }
            for r, h in zip(c.runs, c.headlines, strict=True)
        ],
        "differences": [
            {"run": r.label, "minus": c.runs[0].label, **d}
            for r, d in zip(c.runs[1:], c.diffs, strict=True)
        ],
    }


# --- text, report, plots -------------------------------------------------------------------
def _fmt_value(v: dict[str, Any], prob: bool) -> str:
    from runway.report.render import money, pct, pct_pm, plus_minus

    if v["value"] is None:
        return "n/a"
    return (
        (pct(v["value"]) + pct_pm(v["mcse"]))
        if prob
        else (money(v["value"]) + plus_minus(v["mcse"]))
    )


def _fmt_diff(v: dict[str, Any], prob: bool) -> str:
    d, se = v["diff"], v["mcse"]
    if d is None:
        return "n/a"
    if prob:
        s = f"{100 * d:+.1f} ± {100 * se:.1f} pts" if se is not None else f"{100 * d:+.1f} pts"
    else:
        s = f"{d:+,.1f} ± {se:,.1f}bn" if se is not None else f"{d:+,.1f}bn"
    if se:
        s += f" ({abs(d) / se:.1f} MCSE)"
    elif se == 0.0 and d == 0.0:
        s += " (identical)"
    return s


def _rows(c: Comparison) -> list[tuple[str, str, str, str]]:
    """(label, section, year, stat) of the report's rows."""
    last = str(c.years[-1])
    rows = [(f"P(out of cash by end-{y})", "p_insolvent_by", str(y), "") for y in c.years]
    for y in c.years:
        if str(y) != last:
            rows.append((f"Funding gap {y}, median", "funding_gap", str(y), "p50"))
    names = {"p05": "P5", "p50": "median", "p95": "P95", "mean": "mean"}
    for metric, title in (("funding_gap", "Funding gap"), ("revenue", "Revenue")):
        for stat in ("p05", "p50", "p95", "mean"):
            rows.append((f"{title} {last}, {names[stat]}", metric, last, stat))
    return rows


def _get(h: dict[str, Any], section: str, year: str, stat: str) -> dict[str, Any]:
    return h[section][year] if section == "p_insolvent_by" else h[section][year][stat]


def headline_text(c: Comparison) -> str:
    """A short markdown table for the terminal: the headline and the differences to the base."""
    head = ["number"] + [r.label for r in c.runs] + [f"{r.label} - base" for r in c.runs[1:]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    last = str(c.years[-1])
    for label, section, year, stat in _rows(c):
        if year != last:
            continue
        prob = section == "p_insolvent_by"
        cells = [_fmt_value(_get(h, section, year, stat), prob) for h in c.headlines]
        cells += [_fmt_diff(_get(d, section, year, stat), prob) for d in c.diffs]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines)


def _quarter_cash(r: RunData) -> tuple[pd.DatetimeIndex, np.ndarray] | None:
    """Quarter-end cash quantiles (P5, P25, P50, P75, P95) of a run, weighted; None if absent."""
    q = r.quarters()
    if q is None:
        return None
    cols = [c for c in q.columns if c.startswith("cash_")]
    w = r.w
    out = np.array(
        [
            [W.quantile(q[c].to_numpy(float), w, p)[0] for p in (0.05, 0.25, 0.5, 0.75, 0.95)]
            for c in cols
        ]
    )
    ends = [pd.Timestamp(year=int(c[5:9]), month=3 * int(c[10]), day=1) for c in cols]
    return pd.DatetimeIndex(ends), out


def draw_plots(c: Comparison) -> dict[str, Any]:
    """The comparison's figures by file name."""
    from matplotlib.ticker import FuncFormatter

    from runway.report.plots import CASH_LINTHRESH_BN, _figure
    from runway.stats.mcse import Z95

    figs: dict[str, Any] = {}
    fig, ax = _figure((8, 4.5))
    for i, (r, h) in enumerate(zip(c.runs, c.headlines, strict=True)):
        ys = r.years
        p = [h["p_insolvent_by"][str(y)]["value"] for y in ys]
        se = [Z95 * (h["p_insolvent_by"][str(y)]["mcse"] or 0.0) for y in ys]
        ax.errorbar(ys, p, yerr=se, marker="o", capsize=3, color=f"C{i}", label=r.label)
    top = max(v["value"] or 0.0 for h in c.headlines for v in h["p_insolvent_by"].values())
    ax.set_ylim(0, min(1.0, max(0.05, 1.2 * top)))
    ax.set_ylabel("P(out of cash by year end)")
    ax.set_title("Default-probability term structure (95% Monte Carlo bars)")
    ax.grid(color="0.9", lw=0.6)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figs["pd_curves.png"] = fig

    fig, ax = _figure((8, 4.5))
    for i, (r, h) in enumerate(zip(c.runs, c.headlines, strict=True)):
        ys = r.years
        g = h["funding_gap"]
        x = np.array(ys, dtype=float) + (i - (len(c.runs) - 1) / 2) * 0.08
        ax.fill_between(
            x,
            [g[str(y)]["p05"]["value"] for y in ys],
            [g[str(y)]["p95"]["value"] for y in ys],
            color=f"C{i}",
            alpha=0.15,
        )
        ax.plot(
            x,
            [g[str(y)]["p50"]["value"] for y in ys],
            marker="o",
            color=f"C{i}",
            label=f"{r.label} (median; band P5-P95)",
        )
    ax.set_ylabel("funding gap, US$ bn")
    ax.set_title("Funding gap per year")
    ax.grid(color="0.9", lw=0.6)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figs["funding_gap_fans.png"] = fig

    fig, ax = _figure((9, 4.8))
    for i, r in enumerate(c.runs):
        qc = _quarter_cash(r)
        if qc is not None:
            x, v = qc
            ax.fill_between(x, v[:, 0], v[:, 4], color=f"C{i}", alpha=0.12)
            ax.plot(
                x,
                v[:, 2],
                color=f"C{i}",
                lw=2,
                label=f"{r.label} (median, quarter ends; band P5-P95)",
            )
            continue
        fan_file = r.dir / "fan.parquet"
        if r.weights is None and fan_file.is_file():
            f = pd.read_parquet(fan_file)
            f = f[f["metric"] == "cash"]
            x = pd.DatetimeIndex(pd.to_datetime(f["month"] + "-01"))
            ax.fill_between(x, f["p05"], f["p95"], color=f"C{i}", alpha=0.12)
            ax.plot(x, f["p50"], color=f"C{i}", lw=2, label=f"{r.label} (median; band P5-P95)")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_yscale("symlog", linthresh=CASH_LINTHRESH_BN, linscale=0.5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel(f"cash, US$ bn (symlog: linear within ±{CASH_LINTHRESH_BN:.0f})")
    ax.set_title("Cash balance")
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    figs["cash_fans.png"] = fig
    return figs


def report_blocks(c: Comparison, plots: list[str]) -> list[tuple[Any, ...]]:
    """The comparison report as :mod:`runway.report.render` blocks."""
    from runway.report.escape import escape_md

    base = c.runs[0]
    runs = []
    for r in c.runs:
        what = f"`{escape_md(str(r.dir))}`: {r.n:,} paths, seed {r.seed}"
        if r.weights is not None:
            dg = r.conditioned.get("diagnostics") or {}
            k = dg.get("pareto_k")
            what += (
                f", conditioned on {len(r.conditioned.get('actuals_used', []))} actual(s) "
                f"(ESS {W.ess(r.w):,.0f}, Pareto k-hat {'n/a' if k is None else f'{k:.2f}'}"
                f"{'' if dg.get('reliable', True) else ': NOT RELIABLE'})"
            )
        runs.append(f"**{escape_md(r.label)}**: {what}")
    blocks: list[tuple[Any, ...]] = [
        ("h", 1, "Comparison: " + " vs ".join(escape_md(r.label) for r in c.runs)),
        ("ul", runs),
        (
            "p",
            "Values are `estimate ± MCSE`. Each difference is to the first run "
            f"(**{escape_md(base.label)}**), with its MCSE and its size in MCSEs: paired over "
            "paths where both runs share the seed and the path count (per-path differences; "
            "batches of paired paths for quantiles), else independent (the two MCSEs combined).",
        ),
    ]
    unreliable = [
        r.label
        for r in c.runs
        if not (r.conditioned.get("diagnostics") or {}).get("reliable", True)
    ]
    if unreliable:
        blocks.append(
            (
                "p",
                "**Not reliable: the reweighting of "
                + ", ".join(escape_md(x) for x in unreliable)
                + " has a Pareto k-hat above 0.7 (its numbers rest on a handful of paths); run "
                "the newer vintage instead.**",
                "answer",
            )
        )
    head = ["Number"] + [escape_md(r.label) for r in c.runs]
    head += [f"{escape_md(r.label)} minus base" for r in c.runs[1:]]
    rows = []
    for label, section, year, stat in _rows(c):
        prob = section == "p_insolvent_by"
        cells = [_fmt_value(_get(h, section, year, stat), prob) for h in c.headlines]
        cells += [_fmt_diff(_get(d, section, year, stat), prob) for d in c.diffs]
        rows.append([label, *cells])
    blocks.append(("h", 2, "Headline numbers"))
    blocks.append(("table", head, rows))
    pairing = [
        f"{escape_md(r.label)} minus {escape_md(base.label)}: "
        + ("paired" if d["paired"] else "independent")
        for r, d in zip(c.runs[1:], c.diffs, strict=True)
    ]
    blocks.append(("ul", pairing))
    captions = {
        "pd_curves.png": "P(out of cash) by year end, each run, with 95% Monte Carlo bars",
        "funding_gap_fans.png": "Funding gap per year: median and P5-P95 band of each run",
        "cash_fans.png": "Cash balance: median and P5-P95 band of each run (quarter ends)",
    }
    blocks.append(("h", 2, "Figures"))
    blocks += [("img", p, captions[p]) for p in plots]
    blocks.append(("p", "Every number: `compare.json`."))
    return blocks


def write(c: Comparison, out: str | Path) -> Path:
    """Write the comparison directory (atomically)."""
    from runway.io import dump_json, write_run_dir
    from runway.report.render import to_html, to_markdown

    figs = draw_plots(c)
    blocks = report_blocks(c, list(figs))
    title = "runway compare: " + " vs ".join(r.label for r in c.runs)

    def save(fig: Any) -> Any:
        return lambda p: fig.savefig(p, format="png", dpi=110)

    writers: dict[str, Any] = {"compare.json": dump_json(to_json(c))}
    writers.update({name: save(fig) for name, fig in figs.items()})
    writers["report.md"] = lambda p: p.write_text(to_markdown(blocks))
    writers["report.html"] = lambda p: p.write_text(to_html(blocks, p.parent, title))
    return write_run_dir(out, writers)
