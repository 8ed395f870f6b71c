"""report.md and report.html from the files of a run directory (no simulation).

The report is built once as a list of blocks and written twice, as Markdown and as a
self-contained HTML page (every PNG embedded as a base64 data URI, no external resource,
so it opens offline). Every number in it comes from ``summary.json`` through :func:`fmt`
(tested); the only other figures are the published references of FIGURES.md (HSBC's
revenue and funding gap, Bain's $2tn), named as such.
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
DECIMALS = {"bn": 1, "prob": 4, "months": 1, "mcse": 4, "ess": 0, "rhat": 3}


def fmt(x: float | int | None, kind: str) -> str:
    """The report's one number formatter; ``None`` (undefined / beyond horizon) is "n/a"."""
    if x is None:
        return "n/a"
    if kind == "int":
        return f"{int(x):,}"
    if kind == "g":  # a user-given setting, shown as typed (0.002, not 0.0020)
        return f"{float(x):g}"
    return f"{float(x):,.{DECIMALS[kind]}f}"


Block = tuple


def _blocks(s: dict[str, Any], plot_files: list[str]) -> list[Block]:
    b: list[Block] = []
    prov = s.get("provenance", {})
    years = list(s["p_insolvent_by"])
    last = years[-1]
    b.append(("h", 1, f"runway report: {escape_md(s['scenario'])}"))  # config text: escaped
    if s.get("description"):
        b.append(("p", escape_md(s["description"])))
    det = s.get("deterministic")
    b.append(
        (
            "p",
            (
                f"{fmt(s['paths'], 'int')} path(s), "
                f"seed {s['seed'] if s['seed'] is not None else 'n/a'}, "
                f"{'deterministic run (central values, no shocks)' if det else 'Monte Carlo run'}; "
                f"calendar `{s['start']}` to `{s['end']}`, cash as of `{s.get('cash_as_of', '')}`. "
                "Money in US$ bn; flows per calendar year, balances at year end."
            ),
        )
    )
    g = s["funding_gap"][last]
    mc = s.get("mcse") or {}
    b.append(
        (
            "p",
            (
                f"**Headline.** P(insolvent by {last}) = {fmt(s['p_insolvent_by'][last], 'prob')} "
                f"(MCSE {fmt(mc.get(f'p_insolvent_by_{last}'), 'mcse')}); "
                f"median funding gap in {last} ${fmt(g['p50'], 'bn')}bn "
                f"(MCSE {fmt(mc.get(f'funding_gap_{last}_p50'), 'mcse')}), "
                f"P5 ${fmt(g['p05'], 'bn')}bn, P95 ${fmt(g['p95'], 'bn')}bn. "
                "Reference: HSBC's deterministic funding gap is $207bn by 2030."
            ),
        )
    )
    tm = s.get("target_mcse")
    if tm:
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

    b.append(("h", 2, "Probability of insolvency"))
    b.append(
        (
            "table",
            ["year", "P(insolvent by year end)", "MCSE"],
            [
                [y, fmt(p, "prob"), fmt(mc.get(f"p_insolvent_by_{y}"), "mcse")]
                for y, p in s["p_insolvent_by"].items()
            ],
        )
    )
    t = s["time_to_insolvency_months"]
    b.append(
        (
            "p",
            (
                "Time to insolvency, months from the cash anchor (n/a: beyond the horizon of "
                f"{fmt(t.get('horizon_months'), 'months')} months, "
                "where surviving paths are censored):"
            ),
        )
    )
    b.append(
        (
            "table",
            ["statistic", "months", "MCSE"],
            [
                [
                    k.replace("p05", "P5")
                    .replace("p50", "P50")
                    .replace("p95", "P95")
                    .replace("mean_censored", "mean of min(T, horizon)"),
                    fmt(t.get(k), "months"),
                    fmt(mc.get(f"time_to_insolvency_{k}"), "mcse"),
                ]
                for k in ("p05", "p50", "p95", "mean_censored")
            ],
        )
    )

    b.append(("h", 2, "Funding gap"))
    b.append(
        (
            "p",
            "External capital needed to keep cash at the buffer through each year, with no new "
            "money beyond what is committed (HSBC's definition). MCSE of the median in the last "
            "column.",
        )
    )
    b.append(
        (
            "table",
            ["year", "mean", "P5", "P50", "P95", "MCSE P50"],
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

    b.append(("h", 2, "Annual lines (median, P5 to P95)"))
    metrics = ("revenue", "operating_income", "compute_rent", "fcf", "cumulative_fcf", "cash")
    rows = []
    for y, m in s["annual"].items():
        rows.append(
            [y]
            + [
                f"{fmt(m[k]['p50'], 'bn')} ({fmt(m[k]['p05'], 'bn')} to {fmt(m[k]['p95'], 'bn')})"
                for k in metrics
                if k in m
            ]
        )
    b.append(
        ("table", ["year"] + [k for k in metrics if k in next(iter(s["annual"].values()))], rows)
    )

    b.append(("h", 2, "Figures"))
    for f in plot_files:
        b.append(("img", f, P.PLOTS.get(f, f)))

    b.append(("h", 2, "Convergence"))
    b.append(
        (
            "p",
            (
                "Monte Carlo standard errors (MCSE): binomial for probabilities, sd/sqrt(n) for "
                "means, order statistics for quantiles (paths are independent). "
                "Every MCSE in summary.json:"
            ),
        )
    )
    b.append(("table", ["number", "MCSE"], [[f"`{k}`", fmt(v, "mcse")] for k, v in mc.items()]))
    if tm:
        b.append(
            (
                "p",
                (
                    f"Steps of `--target-mcse` {fmt(tm['target'], 'g')} (each step adds whole "
                    "chunks; the outputs equal those of a plain run of the final path count "
                    "with the same seed):"
                ),
            )
        )
        b.append(
            (
                "table",
                [
                    "paths",
                    f"MCSE P(insolvent by {tm['year']})",
                    f"relative MCSE median gap {tm['year']}",
                    "target met",
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
    d = s.get("diagnostics") or {}
    if d.get("ess") is None:
        b.append(("p", "ESS and R-hat: not applicable (deterministic run)."))
    else:
        b.append(
            (
                "p",
                (
                    "ESS (bulk) and R-hat (rank-normalised) from arviz across "
                    f"{fmt(d.get('chains'), 'int')} seed stream(s) of "
                    f"{fmt(d.get('draws_per_chain'), 'int')} paths (complete chunks only; "
                    "R-hat needs two streams or more):"
                ),
            )
        )
        b.append(
            (
                "table",
                ["outcome", "ESS", "R-hat"],
                [
                    [f"`{k}`", fmt(v, "ess"), fmt((d.get("rhat") or {}).get(k), "rhat")]
                    for k, v in d["ess"].items()
                ],
            )
        )

    b.append(("h", 2, "Provenance"))
    b.append(
        (
            "ul",
            [f"{k}: `{v}`" for k, v in prov.items()]
            + [
                "files: `summary.json`, `annual.csv`, `paths.parquet`, `fan.parquet`, `idata.nc`, "
                "`config.resolved.toml`"
            ],
        )
    )
    return b


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
            out.append(unescape_md(e))  # escaped config text (escape_md) stays plain text
    return "".join(out)


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
document.title=(ok===im.length&&n===0?'ok':'fail')+':'+ok+'/'+im.length+':errors='+n;
document.body.setAttribute('data-images-ok',String(ok));});
</script>"""


def to_html(blocks: list[Block], run_dir: Path, title: str) -> str:
    """The report blocks as one self-contained HTML page (PNGs from ``run_dir`` inlined)."""
    body: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h":
            body.append(f"<h{blk[1]}>{_inline_html(blk[2])}</h{blk[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline_html(blk[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in blk[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(str(c))}</td>" for c in r) + "</tr>"
                for r in blk[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode((run_dir / blk[1]).read_bytes()).decode("ascii")
            alt = html.escape(blk[2])
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" '
                f"onload=\"this.dataset.loaded='1'\" onerror=\"this.dataset.loaded='0'\">"
                f"<figcaption>{alt}</figcaption></figure>"
            )
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in blk[1]) + "</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style>{_CHECK}</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
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
        files = [f for f in P.PLOTS if (d / f).exists()]
    blocks = _blocks(s, files)
    (d / "report.md").write_text(to_markdown(blocks))
    (d / "report.html").write_text(to_html(blocks, d, f"runway report: {s['scenario']}"))
    return written + [d / "report.md", d / "report.html"]
