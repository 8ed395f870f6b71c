"""The sweep report: ``sweep.md`` and a self-contained ``sweep.html``, with plots as PNG.

Plots: lines (with 95% Monte Carlo intervals) for a one-axis sweep, heatmaps for a two-axis
grid, a coloured scatter for two sampled axes, and one panel per axis beyond that. The page
is built with the run report's writers (:mod:`runway.report.render`).
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.report.render import to_html, to_markdown
from runway.sweep.spec import Sweep
from runway.sweep.stats import Z95

if TYPE_CHECKING:
    import pandas as pd

REPORT_FILES = ("sweep.md", "sweep.html")


def _fmt(v: Any, spec: str) -> str:
    return "n/a" if v is None or not math.isfinite(float(v)) else format(float(v), spec)


def _headline(sweep: Sweep) -> list[tuple[str, str, str]]:
    """(column, title, number format) of the numbers the report shows."""
    y = sweep.years[-1]
    return [
        (f"p_insolvent_{y}", f"P(insolvent by {y})", ".3f"),
        (f"funding_gap_{y}_p50", f"median funding gap {y}, $bn", ".1f"),
        ("tti_p50_months", "median months to insolvency", ".0f"),
    ]


def _table(table: pd.DataFrame, sweep: Sweep) -> tuple[list[str], list[list[str]]]:
    head = ["scenario", *sweep.axis_labels]
    for _, title, _ in _headline(sweep):
        head += [title, "difference to base [95% CI]"]
    rows = []
    for r in table.to_dict("records"):
        row = [f"{int(r['scenario'])}{' (base)' if r['is_base'] else ''}"]
        row += [f"{r[a]:.4g}" for a in sweep.axis_labels]
        for col, _, spec in _headline(sweep):
            if math.isfinite(r[col]):
                row.append(f"{_fmt(r[col], spec)} ± {_fmt(r[f'{col}_mcse'], spec)}")
            else:
                row.append("beyond horizon" if col.startswith("tti") else "n/a")
            d, lo, hi = r[f"{col}_diff"], r[f"{col}_diff_lo"], r[f"{col}_diff_hi"]
            row.append(f"{_fmt(d, '+' + spec)} [{_fmt(lo, spec)}, {_fmt(hi, spec)}]")
        rows.append(row)
    return head, rows


def _heatmap(
    ax: Any, fig: Any, pts: pd.DataFrame, base: Any, axes: list[str], col: str, title: str
) -> None:
    import numpy as np
    from matplotlib.patches import Rectangle

    grid = pts.pivot_table(index=axes[0], columns=axes[1], values=col, aggfunc="first")
    z = grid.to_numpy(float)
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [f"{v:.4g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:.4g}" for v in grid.index])
    ax.set_xlabel(axes[1])
    ax.set_ylabel(axes[0])
    spec = ".2f" if col.startswith("p_") else ".0f"
    finite = z[np.isfinite(z)]
    mid = 0.5 * (finite.min() + finite.max()) if finite.size else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = float(z[i, j])
            colour = "k" if math.isfinite(v) and v > mid else "w"
            ax.text(j, i, _fmt(v, spec), ha="center", va="center", color=colour, fontsize=8)
    rows, cols = list(grid.index), list(grid.columns)
    if base[axes[0]] in rows and base[axes[1]] in cols:  # outline the base config's cell
        i, j = rows.index(base[axes[0]]), cols.index(base[axes[1]])
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="C3", lw=2.5))
    fig.colorbar(im, ax=ax, label=title)


def plots(table: pd.DataFrame, sweep: Sweep) -> dict[str, Any]:
    """Matplotlib figures by file name (``sweep_<column>.png``)."""
    from matplotlib.figure import Figure

    axes = sweep.axis_labels
    pts = table[~table["is_base"]]
    base = table[table["is_base"]].iloc[0]
    figs: dict[str, Any] = {}
    for col, title, _ in _headline(sweep)[:2]:
        if len(axes) <= 2:
            fig = Figure(figsize=(6.4, 4.8), layout="constrained")
            ax = fig.add_subplot()
            if len(axes) == 1:
                xs = pts.sort_values(axes[0])
                ax.errorbar(
                    xs[axes[0]],
                    xs[col],
                    yerr=Z95 * xs[f"{col}_mcse"],
                    marker="o",
                    capsize=3,
                    label="scenario (95% Monte Carlo interval)",
                )
                ax.plot(
                    [base[axes[0]]],
                    [base[col]],
                    marker="*",
                    markersize=14,
                    linestyle="none",
                    color="C3",
                    label="base config",
                )
                ax.set_xlabel(axes[0])
                ax.set_ylabel(title)
                ax.legend()
            elif sweep.spec.design.kind == "grid":
                _heatmap(ax, fig, pts, base, axes, col, title)
            else:
                sc = ax.scatter(pts[axes[0]], pts[axes[1]], c=pts[col], cmap="viridis")
                ax.set_xlabel(axes[0])
                ax.set_ylabel(axes[1])
                fig.colorbar(sc, ax=ax, label=title)
            ax.set_title(f"{sweep.spec.name}: {title}")
            if len(axes) == 2 and sweep.spec.design.kind == "grid":
                ax.set_title(f"{sweep.spec.name}: {title} (outlined: base)")
        else:
            fig = Figure(figsize=(3.2 * len(axes), 3.4), layout="constrained")
            subs = fig.subplots(1, len(axes), sharey=True)
            for ax, a in zip(subs, axes, strict=True):
                ax.scatter(pts[a], pts[col], s=12)
                ax.plot([base[a]], [base[col]], marker="*", markersize=12, color="C3")
                ax.set_xlabel(a)
            subs[0].set_ylabel(title)
            fig.suptitle(f"{sweep.spec.name}: {title} against each axis (star: base)")
        figs[f"sweep_{col}.png"] = fig
    return figs


def write_sweep_report(
    table: pd.DataFrame, sweep: Sweep, meta: dict[str, Any], out_dir: Path
) -> list[Path]:
    """Write ``sweep.md``, a self-contained ``sweep.html`` and the plots as PNG.

    Returns
    -------
    list of Path
        The files written.
    """
    from runway.sweep.execute import atomic_write

    written = []
    figs = plots(table, sweep)
    for name, fig in figs.items():
        atomic_write(out_dir / name, partial(fig.savefig, format="png", dpi=110))
        written.append(out_dir / name)
    spec = sweep.spec
    axes_list = [
        f"`{a.label}`: {a.kind}{f' `{a.path}`' if a.path else ''}, "
        + (f"values {a.grid_values()}" if a.bounds is None else f"bounds {list(a.bounds)}")
        for a in spec.axes
    ]
    design = spec.design.kind + (
        f" ({spec.design.n} points, design seed {spec.design.seed})" if spec.design.n else ""
    )
    head, rows = _table(table, sweep)
    blocks: list[tuple[Any, ...]] = [("h", 1, f"Sweep {spec.name}")]
    if spec.description:
        blocks.append(("p", spec.description))
    blocks += [
        (
            "p",
            f"Base config `{spec.base}` (scenario 0); design {design}; {len(table)} scenarios "
            f"x {meta['paths']:,} paths, seed {meta['seed']}. Every scenario uses the same "
            "random streams (common random numbers), so its difference to the base is paired.",
        ),
        ("p", "Axes:"),
        ("ul", axes_list),
        (
            "p",
            "Values are `estimate ± MCSE`. Differences to the base are paired over paths, with "
            "95% intervals: per-path differences for probabilities, batches of paired paths "
            "for quantiles. Every year's numbers are in `sweep.parquet`.",
        ),
        ("table", head, rows),
    ]
    captions = {f"sweep_{col}.png": title for col, title, _ in _headline(sweep)}
    blocks += [("img", name, captions[name]) for name in figs]
    md, page = to_markdown(blocks), to_html(blocks, out_dir, f"runway sweep: {spec.name}")
    atomic_write(out_dir / "sweep.md", lambda p: p.write_text(md))
    atomic_write(out_dir / "sweep.html", lambda p: p.write_text(page))
    return [*written, out_dir / "sweep.md", out_dir / "sweep.html"]
