"""Writing a sensitivity analysis: sensitivity.csv/json, the tornado plot, report.md.

Also the "What drives it" words of ``runway run``'s report (``summary.json`` key
``sensitivity``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

TORNADO_PNG = "tornado.png"
DRIVERS_PNG = "drivers.png"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN -> null)."""
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def metric_of(method: str) -> str:
    """The ranking column of a method's table."""
    return {"tornado": "swing", "sobol": "ST", "drivers": "ks"}[method]


def key_of(method: str) -> str:
    """The column naming the output (``target`` for drivers)."""
    return "target" if method == "drivers" else "output"


def top(df: pd.DataFrame, method: str, output: str, k: int = 3) -> pd.DataFrame:
    """The ``k`` highest-ranked rows of ``output`` (the shocks factor of Sobol' excluded)."""
    d = df[df[key_of(method)] == output]
    if method == "sobol":
        d = d[d["input"] != "shocks"]
    return d.sort_values("rank").head(k)


def plot_bars(df: pd.DataFrame, method: str, output: str, path: Path, title: str) -> None:
    """A tornado (or a bar chart of the index) of ``output``, largest at the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = df[df[key_of(method)] == output].sort_values("rank").head(15).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(d) + 1.6))
    y = range(len(d))
    if method == "tornado":
        base = float(d["base"].iloc[0]) if len(d) else 0.0
        lo = d["at_low"].fillna(base) - base
        hi = d["at_high"].fillna(base) - base
        ax.barh(y, lo, left=base, color="#4c72b0", label="input at its P10")
        ax.barh(y, hi, left=base, color="#dd8452", label="input at its P90")
        ax.axvline(base, color="black", lw=0.8)
        ax.set_xlabel(f"{output} (base {base:,.3g})")
        ax.legend(loc="lower right", fontsize=8)
    else:
        col = metric_of(method)
        conf = d[col + "_conf"].fillna(0.0)
        ax.barh(y, d[col].fillna(0.0), xerr=conf, color="#4c72b0")
        ax.set_xlabel(f"{col} of {output} (bars: 95% interval)")
    ax.set_yticks(list(y))
    ax.set_yticklabels(list(d["label"]), fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:,.{digits}g}"


def words(df: pd.DataFrame, method: str, output: str, k: int = 3) -> list[str]:
    """The top ``k`` drivers of ``output`` in words."""
    out = []
    for _, r in top(df, method, output, k).iterrows():
        if method == "tornado":
            out.append(
                f"{r['label']}: from its P10 ({_fmt(r['value_low'])}) to its P90 "
                f"({_fmt(r['value_high'])}) moves {output} from {_fmt(r['at_low'])} to "
                f"{_fmt(r['at_high'])} (swing {_fmt(r['swing'])} ± {_fmt(r['swing_mcse'], 2)})"
            )
        elif method == "sobol":
            out.append(
                f"{r['label']}: total index {_fmt(r['ST'], 2)} ± {_fmt(r['ST_conf'], 2)}, "
                f"first order {_fmt(r['S1'], 2)} ± {_fmt(r['S1_conf'], 2)}"
            )
        else:
            out.append(
                f"{r['label']}: {r['direction']} in these paths (median {_fmt(r['median_target'])}"
                f" vs {_fmt(r['median_rest'])} in the rest); KS distance {_fmt(r['ks'], 2)} ± "
                f"{_fmt(r['ks_conf'], 2)}, PAWN {_fmt(r['pawn'], 2)}"
            )
    return out


def summary_section(df: pd.DataFrame, k: int = 5) -> dict[str, Any]:
    """``summary.json["sensitivity"]`` of a run: its drivers (docs/sensitivity.md)."""
    targets = list(dict.fromkeys(df["target"]))
    return {
        "method": "drivers",
        "description": (
            f"Regional sensitivity on this run's first {int(df['n'].iloc[0]):,} paths (no new "
            "simulation; path ids are exchangeable, so they are a simple random sample): the "
            "KS distance "
            "between an input's distribution in the target paths and in the rest, with a 95% "
            "bootstrap half-width, and SALib's PAWN index; groups are the mean of their members."
        ),
        "targets": {
            t: {
                "n_target": int(df[df.target == t]["n_target"].iloc[0]),
                "top": records(top(df, "drivers", t, k)),
                "words": words(df, "drivers", t, 3),
            }
            for t in targets
        },
    }


def report_md(df: pd.DataFrame, method: str, meta: dict[str, Any], plot: str | None) -> str:
    """``report.md`` of ``runway sensitivity``."""
    key = key_of(method)
    outs = list(dict.fromkeys(df[key]))
    lines = [f"# runway sensitivity ({method}): {meta['scenario']}", ""]
    lines.append(meta["description"])
    lines.append("")
    if plot:
        lines += [f"![{method} of {meta['headline']}]({plot})", ""]
    for o in outs:
        lines += [f"## {o}", ""]
        lines += [f"- {w}" for w in words(df, method, o, 3)]
        lines.append("")
    lines += ["## Settings", "", "```json", json.dumps(meta, indent=2), "```", ""]
    return "\n".join(lines)
