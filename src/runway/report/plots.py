"""The report's figures (matplotlib, Agg backend), drawn from run-directory files only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HSBC_REVENUE_BN = {2029: 153.79, 2030: 213.6}  # FIGURES.md section 0 / 1b
HSBC_FUNDING_GAP_BN = 207.0  # FIGURES.md: funding gap by end-2030
BAIN_REVENUE_NEEDED_BN = 2000.0  # FIGURES.md: Bain, $2tn a year by 2030

SOURCES = (
    ("equity_raised", "equity rounds"),
    ("debt_raised", "debt"),
    ("ipo_raised", "IPO"),
    ("strategic_raised", "strategic"),
    ("facility_drawn", "facilities drawn"),
)

PLOTS = {
    "cash_fan.png": "Cash (symlog axis): monthly P5-P95 and P25-P75 bands, median, deterministic",
    "revenue_fan.png": "Revenue per year: bands, median, HSBC 2029/2030 and Bain's $2tn",
    "survival.png": "Survival (no insolvency) with its 95% Monte Carlo band; P(insolvent by year)",
    "funding_gap.png": "Funding gap per year across paths, HSBC's $207bn marked",
    "raised_by_source.png": "Money raised per year by source (mean over paths)",
}


def path_columns(years: list[int]) -> list[str]:
    """The ``paths.parquet`` columns the plots read (of its 1 + 2 x n_years, out of many)."""
    return (
        ["months_to_insolvency"]
        + [f"revenue_{y}" for y in years]
        + [f"funding_gap_{y}" for y in years]
    )


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _month_index(labels) -> pd.DatetimeIndex:
    return pd.to_datetime(pd.Series(list(labels)) + "-01").pipe(pd.DatetimeIndex)


CASH_LINTHRESH_BN = 10.0
"""The cash fan's y axis is linear within +-$10bn and logarithmic beyond (symlog)."""


def cash_fan(
    fan: pd.DataFrame, det: pd.DataFrame | None, out: Path, det_label: str = "deterministic path"
) -> None:
    """Monthly cash quantiles; a symlog y axis keeps the median readable when the tails explode."""
    plt = _plt()
    from matplotlib.ticker import FuncFormatter

    f = fan[fan["metric"] == "cash"]
    x = _month_index(f["month"])
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.fill_between(x, f["p05"], f["p95"], color="C0", alpha=0.18, label="P5-P95")
    ax.fill_between(x, f["p25"], f["p75"], color="C0", alpha=0.35, label="P25-P75")
    ax.plot(x, f["p50"], color="C0", lw=2, label="median")
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
    fig.savefig(out, dpi=90)
    plt.close(fig)


def revenue_fan(
    paths: pd.DataFrame, years: list[int], det_annual: pd.DataFrame | None, out: Path
) -> None:
    """Revenue per year: P5-P95/P25-P75 bands, median, HSBC's 2029/2030 points, Bain's $2tn."""
    plt = _plt()
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    # a column at a time: the same numbers as np.quantile(stacked, qs, axis=0), a third the time
    q = np.column_stack([np.quantile(paths[f"revenue_{y}"].to_numpy(float), qs) for y in years])
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.fill_between(years, q[0], q[4], color="C2", alpha=0.18, label="P5-P95")
    ax.fill_between(years, q[1], q[3], color="C2", alpha=0.35, label="P25-P75")
    ax.plot(years, q[2], color="C2", lw=2, marker="o", label="median")
    if det_annual is not None and "revenue" in det_annual:
        ax.plot(
            det_annual["year"], det_annual["revenue"], color="C3", ls="--", label="deterministic"
        )
    hy = [y for y in HSBC_REVENUE_BN]
    ax.scatter(
        hy,
        [HSBC_REVENUE_BN[y] for y in hy],
        color="k",
        marker="D",
        zorder=5,
        label="HSBC 2029 / 2030",
    )
    ax.axhline(
        BAIN_REVENUE_NEEDED_BN, color="C1", ls=":", lw=1.5, label="Bain: $2tn needed by 2030"
    )
    ax.set_yscale("log")
    ax.set_ylabel("revenue per year, US$ bn (log scale)")
    ax.set_title("Revenue")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def survival(
    paths: pd.DataFrame, horizon: float, p_by: dict[str, float], mcse: dict, out: Path
) -> None:
    """Survival curve with its 95% binomial band; P(insolvent by year) bars with error bars."""
    plt = _plt()
    t = paths["months_to_insolvency"].to_numpy(float)
    t = np.where(np.isnan(t), np.inf, t)
    n = t.size
    grid = np.arange(0, int(horizon) + 1)
    s = np.array([(t > g).mean() for g in grid])
    half = 1.959963984540054 * np.sqrt(s * (1 - s) / n)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.4))
    a1.fill_between(
        grid,
        np.clip(s - half, 0, 1),
        np.clip(s + half, 0, 1),
        step="post",
        color="C0",
        alpha=0.3,
        label="95% MC band",
    )
    a1.step(grid, s, where="post", color="C0", label="P(solvent after t)")
    a1.set_xlabel("months from the cash anchor")
    a1.set_ylabel("survival probability")
    a1.set_ylim(max(0.0, float(np.min(s - half)) - 0.05), 1.01)
    a1.set_title("Time to insolvency")
    a1.legend(fontsize=8)
    years = list(p_by)
    vals = [p_by[y] for y in years]
    err = [1.959963984540054 * (mcse.get(f"p_insolvent_by_{y}") or 0.0) for y in years]
    a2.bar(years, vals, yerr=err, color="C3", alpha=0.8, capsize=3)
    a2.set_ylabel("P(insolvent by year end)")
    a2.set_title("P(insolvent by year), 95% MC error bars")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def funding_gap(paths: pd.DataFrame, years: list[int], out: Path) -> None:
    """Funding gap per year (box P25-P75, whiskers P5-P95), HSBC's $207bn marked."""
    plt = _plt()
    data = [paths[f"funding_gap_{y}"].to_numpy(float) for y in years]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.boxplot(data, positions=range(len(years)), whis=(5, 95), showfliers=False, widths=0.5)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    if 2030 in years:
        ax.scatter(
            [years.index(2030)],
            [HSBC_FUNDING_GAP_BN],
            color="C3",
            marker="*",
            s=140,
            zorder=5,
            label="HSBC: $207bn by 2030",
        )
    ax.axhline(HSBC_FUNDING_GAP_BN, color="C3", ls=":", lw=1)
    ax.set_ylabel("funding gap, US$ bn")
    ax.set_title("Funding gap per year (box: P25-P75, whiskers: P5-P95)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def raised_by_source(annual: pd.DataFrame, out: Path) -> None:
    """Money raised per year by source, stacked (mean over paths, annual.csv)."""
    plt = _plt()
    years = annual["year"].astype(int).to_numpy()
    fig, ax = plt.subplots(figsize=(9, 4.8))
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
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def draw_all(
    run_dir: Path,
    summary: dict,
    paths: pd.DataFrame,
    fan: pd.DataFrame,
    annual: pd.DataFrame,
    det: pd.DataFrame | None,
) -> list[str]:
    """Draw every plot into ``run_dir``; returns the file names (keys of :data:`PLOTS`)."""
    years = [int(y) for y in summary["funding_gap"]]
    det_annual = None
    if det is not None:
        d = det.copy()
        d["year"] = d["month"].str[:4].astype(int)
        det_annual = d.groupby("year", as_index=False)["revenue"].sum()
    scenario = str(summary.get("scenario", ""))
    label = (
        "deterministic HSBC path"
        if scenario.startswith("hsbc")
        else f"deterministic path ({scenario})"
    )
    cash_fan(fan, det, run_dir / "cash_fan.png", label)
    revenue_fan(paths, years, det_annual, run_dir / "revenue_fan.png")
    horizon = summary["time_to_insolvency_months"].get("horizon_months", 0.0)
    survival(
        paths,
        horizon,
        summary["p_insolvent_by"],
        summary.get("mcse") or {},
        run_dir / "survival.png",
    )
    funding_gap(paths, years, run_dir / "funding_gap.png")
    raised_by_source(annual, run_dir / "raised_by_source.png")
    return list(PLOTS)
