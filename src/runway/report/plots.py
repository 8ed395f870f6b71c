"""The report's figures (matplotlib): each function returns a :class:`matplotlib.figure.Figure`.

Nothing here writes a file or touches pyplot's global state: a notebook shows the returned
figure, and :func:`draw_all` (the CLI and the run directory) saves and closes them. The
published figures drawn come from the summary's ``references`` (the config's
``[[references.figures]]``), never from constants: a config without references gets none.
:func:`from_result` draws every figure from a :class:`runway.result.Result` in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SOURCES = (
    ("equity_raised", "equity rounds"),
    ("debt_raised", "debt"),
    ("ipo_raised", "IPO"),
    ("strategic_raised", "strategic"),
    ("facility_drawn", "facilities drawn"),
    ("bridge_raised", "bridges"),  # fin: financing
    ("equity_committed", "committed tranches"),  # fin2
)

PLOTS = {
    "cash_fan.png": "Cash balance by month: 90% and 50% ranges of the paths, median, the "
    "survivors' median and 5th percentile (paths not yet defaulted), and the deterministic path",
    "revenue_fan.png": "Revenue per year: 90% and 50% ranges, median, published figures",
    "survival.png": "Share of paths with cash left, by date, with its 95% Monte Carlo band; "
    "probability of having run out by each year end",
    "funding_gap.png": "Funding gap per year across paths (box: middle half, whiskers: 90%), "
    "published figures",
    "raised_by_source.png": "Money raised per year by source (mean over paths)",
    # credit: issue 16
    "exposure.png": "Who is hurt if OpenAI fails, and when: expected exposure at default per "
    "counterparty by year end (E[1(default by then) x what is still owed])",
}
DETERMINISTIC_CAPTIONS = {
    "cash_fan.png": "Cash balance by month on the deterministic path",
    "revenue_fan.png": "Revenue per year on the deterministic path, published figures",
    "funding_gap.png": "Funding gap per year on the deterministic path, published figures",
    "raised_by_source.png": "Money raised per year by source on the deterministic path",
}
DETERMINISTIC_PLOTS = ("cash_fan.png", "revenue_fan.png", "funding_gap.png", "raised_by_source.png")
"""A deterministic run is one path: no survival curve (it would be a step from 1 to 0 or none)."""


def _figure(figsize: tuple[float, float], ncols: int = 1):
    """A new Figure outside pyplot (nothing global to close; the caller saves it)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _refs(references, measure: str) -> list[dict]:
    return [
        r for r in (references or []) if r.get("measure") == measure and r.get("draw") != "none"
    ]


def path_columns(years: list[int]) -> list[str]:
    """The ``paths.parquet`` columns the plots read (of its 1 + 2 x n_years, out of many)."""
    return (
        ["months_to_insolvency"]
        + [f"revenue_{y}" for y in years]
        + [f"funding_gap_{y}" for y in years]
    )


def _month_index(labels) -> pd.DatetimeIndex:
    return pd.to_datetime(pd.Series(list(labels)) + "-01").pipe(pd.DatetimeIndex)


CASH_LINTHRESH_BN = 10.0
"""The cash fan's y axis is linear within +-$10bn and logarithmic beyond (symlog)."""


def cash_fan(fan: pd.DataFrame, det: pd.DataFrame | None, det_label: str = "deterministic path"):
    """Monthly cash quantiles; a symlog y axis keeps the median readable when the tails explode.

    Parameters
    ----------
    fan : DataFrame
        ``fan.parquet`` / ``Result.fan`` (rows of metric ``"cash"`` are used).
    det : DataFrame or None
        The deterministic path (``month``, ``cash``), drawn dashed.
    det_label : str
        Its legend entry.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import FuncFormatter

    f = fan[fan["metric"] == "cash"]
    x = _month_index(f["month"])
    fig, ax = _figure((9, 4.8))
    one_path = bool((f["p05"] == f["p95"]).all())
    if not one_path:
        ax.fill_between(x, f["p05"], f["p95"], color="C0", alpha=0.18, label="90% of paths")
        ax.fill_between(x, f["p25"], f["p75"], color="C0", alpha=0.35, label="middle half")
    ax.plot(x, f["p50"], color="C0", lw=2, label="the path" if one_path else "median")
    sv = fan[fan["metric"] == "cash_survivors"]
    if not one_path and len(sv) == len(f) and sv["share_excluded"].max() > 0.0:
        # fin2: the companies still alive: a defaulted path's cash runs on, flagged, and drags
        # the all-paths fan down; the survivors' fan leaves it out (Result.fan)
        last = float(sv["share_excluded"].iloc[-1])
        gone = f"{100 * last:.1f}% defaulted by {sv['month'].iloc[-1]}"
        ax.plot(x, sv["p50"].to_numpy(), color="C2", lw=1.3, label=f"median of survivors ({gone})")
        ax.plot(
            x, sv["p05"].to_numpy(), color="C2", lw=1.0, ls=":", label="survivors' 5th percentile"
        )
    if det is not None and "cash" in det:
        ax.plot(
            _month_index(det["month"]), det["cash"], color="C3", lw=1.5, ls="--", label=det_label
        )
    ax.axhline(0, color="k", lw=0.6)
    ax.set_yscale("symlog", linthresh=CASH_LINTHRESH_BN, linscale=0.5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel(f"cash, US$ bn (symlog: linear within ±{CASH_LINTHRESH_BN:.0f})")
    ax.set_title("Cash balance")
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def _ref_year(r: dict) -> int:
    return int(str(r["to_month"])[:4])


def _ref_label(r: dict) -> str:
    return f"{r['source'].split(',')[0]}: {r['name']}, ${r['published_bn']:,.0f}bn"


def revenue_fan(
    paths: pd.DataFrame,
    years: list[int],
    det_annual: pd.DataFrame | None,
    references: list[dict] | None = None,
):
    """Revenue per year: 90% and 50% ranges, median, the deterministic path, published figures.

    Parameters
    ----------
    paths : DataFrame
        Per-path table with ``revenue_<year>`` columns.
    years : list of int
        Years drawn; a published point in another year is left out (the axis is not stretched).
    det_annual : DataFrame or None
        Deterministic revenue per ``year``.
    references : list of dict, optional
        ``summary["references"]``: those of measure ``revenue`` are drawn (points at their
        year, or horizontal lines).

    Returns
    -------
    matplotlib.figure.Figure
    """
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    # a column at a time: the same numbers as np.quantile(stacked, qs, axis=0), a third the time
    q = np.column_stack([np.quantile(paths[f"revenue_{y}"].to_numpy(float), qs) for y in years])
    fig, ax = _figure((9, 4.8))
    if len(paths) > 1:
        ax.fill_between(years, q[0], q[4], color="C2", alpha=0.18, label="90% of paths")
        ax.fill_between(years, q[1], q[3], color="C2", alpha=0.35, label="middle half")
    ax.plot(
        years, q[2], color="C2", lw=2, marker="o", label="median" if len(paths) > 1 else "the path"
    )
    if det_annual is not None and "revenue" in det_annual and len(paths) > 1:
        ax.plot(
            det_annual["year"], det_annual["revenue"], color="C3", ls="--", label="deterministic"
        )
    refs = _refs(references, "revenue")
    points = [x for x in refs if x.get("draw") == "point" and _ref_year(x) in years]
    for i, x in enumerate(points):
        ax.scatter(
            [_ref_year(x)],
            [x["published_bn"]],
            color="k",
            marker="D",
            zorder=5,
            label=_ref_label(x) if i < 4 else None,
        )
    for j, x in enumerate([x for x in refs if x.get("draw") == "line"]):
        ax.axhline(x["published_bn"], color=f"C{1 + j}", ls=":", lw=1.5, label=_ref_label(x))
    ax.set_yscale("log")
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_ylabel("revenue per year, US$ bn (log scale)")
    ax.set_title("Revenue")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def survival(
    paths: pd.DataFrame,
    horizon: float,
    p_by: dict[str, float],
    mcse: dict,
    anchor: str | None = None,
):
    """Share of paths with cash left, by date (95% binomial band); P(out of cash by year end).

    Parameters
    ----------
    paths : DataFrame
        Per-path ``months_to_insolvency`` (NaN: survives the horizon).
    horizon : float
        Months from the cash anchor to the horizon.
    p_by, mcse : dict
        ``summary["p_insolvent_by"]`` and ``summary["mcse"]``.
    anchor : str, optional
        The cash anchor month (``YYYY-MM``, ``summary["cash_as_of"]``): the x axis is then in
        dates; without it, in months from the anchor.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = paths["months_to_insolvency"].to_numpy(float)
    t = np.where(np.isnan(t), np.inf, t)
    n = t.size
    grid = np.arange(0, int(horizon) + 1)
    s = np.array([(t > g).mean() for g in grid])
    half = 1.959963984540054 * np.sqrt(s * (1 - s) / n)
    fig, (a1, a2) = _figure((11, 4.4), ncols=2)
    x: Any = grid
    if anchor:
        x = pd.DatetimeIndex(
            [pd.Timestamp(f"{anchor}-01") + pd.DateOffset(months=int(g)) for g in grid]
        )
    a1.fill_between(
        x,
        np.clip(s - half, 0, 1),
        np.clip(s + half, 0, 1),
        step="post",
        color="C0",
        alpha=0.3,
        label="95% Monte Carlo band",
    )
    a1.step(x, s, where="post", color="C0", label="share of paths with cash left")
    a1.set_xlabel("date" if anchor else "months from the cash anchor")
    a1.set_ylabel("share of paths")
    a1.set_ylim(max(0.0, float(np.min(s - half)) - 0.05), 1.01)
    a1.set_title("When cash runs out")
    a1.legend(fontsize=8)
    years = list(p_by)
    vals = [p_by[y] for y in years]
    err = [1.959963984540054 * (mcse.get(f"p_insolvent_by_{y}") or 0.0) for y in years]
    a2.bar(years, vals, yerr=err, color="C3", alpha=0.8, capsize=3)
    a2.set_ylabel("probability of having run out of cash")
    a2.set_title("Out of cash by year end (95% error bars)")
    fig.tight_layout()
    return fig


def funding_gap(paths: pd.DataFrame, years: list[int], references: list[dict] | None = None):
    """Funding gap per year (box: middle half, whiskers: 90%), published figures marked.

    Parameters
    ----------
    paths : DataFrame
        Per-path table with ``funding_gap_<year>`` columns.
    years : list of int
        Years drawn (a published figure of another year is left out).
    references : list of dict, optional
        ``summary["references"]`` (those of measure ``funding_gap`` are drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = [paths[f"funding_gap_{y}"].to_numpy(float) for y in years]
    fig, ax = _figure((9, 4.8))
    ax.boxplot(data, positions=range(len(years)), whis=(5, 95), showfliers=False, widths=0.5)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    for x in _refs(references, "funding_gap"):
        if x.get("draw") == "line":
            ax.axhline(x["published_bn"], color="C3", ls=":", lw=1, label=_ref_label(x))
        elif _ref_year(x) in years:
            ax.scatter(
                [years.index(_ref_year(x))],
                [x["published_bn"]],
                color="C3",
                marker="*",
                s=140,
                zorder=5,
                label=_ref_label(x),
            )
    ax.set_ylabel("funding gap, US$ bn")
    ax.set_title("Funding gap per year (box: middle half of paths, whiskers: 90%)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def raised_by_source(annual: pd.DataFrame):
    """Money raised per year by source, stacked (mean over paths, ``annual.csv``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    years = annual["year"].astype(int).to_numpy()
    fig, ax = _figure((9, 4.8))
    bottom = np.zeros(len(years))
    for col, label in SOURCES:
        c = f"{col}_mean"
        if c not in annual:
            continue
        v = annual[c].to_numpy(float)
        ax.bar(years, v, bottom=bottom, label=label)
        bottom += v
    ax.set_ylabel("US$ bn per year (mean over paths)")
    ax.set_title("Money raised by source")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figures(
    summary: dict,
    paths: pd.DataFrame,
    fan: pd.DataFrame,
    annual: pd.DataFrame,
    det: pd.DataFrame | None,
) -> dict[str, Any]:
    """Every figure of the report: file name (a key of :data:`PLOTS`) -> Figure.

    ``annual`` is ``annual.csv`` as a DataFrame with a ``year`` column (``annual_wide()``
    reset); a deterministic run gets :data:`DETERMINISTIC_PLOTS` only.
    """
    years = [int(y) for y in summary["funding_gap"]]
    det_annual = None
    if det is not None:
        d = det.copy()
        d["year"] = d["month"].str[:4].astype(int)
        det_annual = d.groupby("year", as_index=False)["revenue"].sum()
    scenario = str(summary.get("scenario", ""))
    label = f"deterministic path ({scenario})"
    refs = summary.get("references") or []
    out: dict[str, Any] = {
        "cash_fan.png": cash_fan(fan, det, label),
        "revenue_fan.png": revenue_fan(paths, years, det_annual, refs),
    }
    if not summary.get("deterministic"):
        horizon = summary["time_to_insolvency_months"].get("horizon_months", 0.0)
        out["survival.png"] = survival(
            paths,
            horizon,
            summary["p_insolvent_by"],
            summary.get("mcse") or {},
            anchor=summary.get("cash_as_of"),
        )
    out["funding_gap.png"] = funding_gap(paths, years, refs)
    out["raised_by_source.png"] = raised_by_source(annual)
    if summary.get("credit"):  # credit: issue 16
        out["exposure.png"] = exposure(summary["credit"])
    return out


# credit: issue 16
def exposure(credit: dict):
    """Expected exposure at default per counterparty by year end (``summary["credit"]``)."""
    ex = {k: v for k, v in credit["exposure"].items() if k != "total"}
    years = list(credit["exposure"]["total"]["by_horizon"])
    fig, ax = _figure((7.5, 4.2))
    x = np.arange(len(years))
    last = years[-1]
    order = sorted(ex, key=lambda cp: -(ex[cp]["by_horizon"][last]["expected_ead"] or 0.0))
    for cp in order:
        y = [ex[cp]["by_horizon"][t]["expected_ead"] or 0.0 for t in years]
        se = [ex[cp]["by_horizon"][t]["expected_ead_mcse"] or 0.0 for t in years]
        line = ax.plot(x, y, marker="o", label=cp)[0]
        ax.fill_between(
            x,
            np.array(y) - 1.96 * np.array(se),
            np.array(y) + 1.96 * np.array(se),
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    ax.set_xticks(x, years)
    ax.set_ylabel("US$ bn (expected exposure at default)")
    ax.set_title("Expected exposure at default by year end, with 95% Monte Carlo band")
    if order:
        ax.legend(fontsize=8, ncols=2)
    fig.tight_layout()
    return fig


def from_result(result) -> dict[str, Any]:
    """Every figure of a :class:`runway.result.Result`, drawn in memory (notebooks).

    >>> figs = from_result(res)            # doctest: +SKIP
    >>> figs["cash_fan.png"]               # a Figure; shown by Jupyter  # doctest: +SKIP
    """
    from runway.outputs import deterministic_path
    from runway.report.answers import answers

    summary = {**result.summary(diagnostics=False), **answers(result)}
    annual = result.annual_wide().reset_index()
    return figures(summary, result.paths, result.fan, annual, deterministic_path(result))


def draw_all(
    run_dir: Path,
    summary: dict,
    paths: pd.DataFrame,
    fan: pd.DataFrame,
    annual: pd.DataFrame,
    det: pd.DataFrame | None,
) -> list[str]:
    """Draw every figure and save it as PNG in ``run_dir``; returns the file names."""
    figs = figures(summary, paths, fan, annual, det)
    for name, fig in figs.items():
        fig.savefig(run_dir / name, dpi=90)
    return list(figs)
