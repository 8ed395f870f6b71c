"""``runway condition RUNDIR --actuals FILE``: reweight a run's paths by new actuals.

The paths of a run are draws from the model's distribution as of its as-of month. An actual
reported later (revenue, burn, cash or money raised over a dated period, with its stated
uncertainty) is evidence about which paths are plausible. Each actual ``a`` dated after the
run's as-of month is taken as Gaussian around the path's own value of that quantity:

    log w_i = sum_a -(x_a - v_ai)^2 / (2 sigma_a^2)

(``x_a`` the reported value, ``sigma_a`` its ``uncertainty_bn``, ``v_ai`` path ``i``'s value
from ``quarters.parquet`` or ``monthly.csv``, :func:`runway.backtest.run_values`). The raw
weights are Pareto-smoothed (PSIS, Vehtari et al. 2024, ``arviz.psislw``; paths are
independent, so the relative efficiency is 1) and normalised; every headline number is then
a weighted estimate with its weighted MCSE (:mod:`runway.stats.weighted`). The effective
sample size ``1 / sum w_i^2`` and the Pareto shape ``k-hat`` of the largest weights say how
far the answer can be trusted: with ``k-hat > 0.7`` a few paths carry the answer and its error
is not estimable (Vehtari et al. 2024, section 3), so the output says the reweighting is not
reliable and that the newer vintage should be run instead. It is still written, flagged,
never silently.

The "before" column uses the same weighted estimators with equal weights, so before and after
differ only by the weights (quantiles by Hyndman and Fan's definition 5, within one order
statistic of the run's own summary.json).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from runway import backtest as bt
from runway.errors import RunwayError
from runway.stats import weighted as W

K_HAT_MAX = 0.7
"""Above this Pareto k-hat the reweighting is not reliable (Vehtari et al. 2024)."""
Z_MAX = 3.0
"""An actual farther than this many of its uncertainties from every path contradicts the run."""
JOINT_LEVEL = 0.999
"""The best path's chi-square above this quantile of chi2(m): no path fits the m actuals jointly."""
QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
HEADLINE_METRICS = ("funding_gap", "revenue")
"""Per-year distributions in the headline (with ``p_insolvent_by``), $bn."""


@dataclass
class RunData:
    """What the comparison and the conditioning read from a run directory.

    ``insolvent_year``: the calendar year a path ran out of cash (``inf``: it did not);
    ``funding_gap``, ``revenue``: (n_paths, n_years) $bn. ``weights``: normalised weights of a
    conditioned directory (``None`` for a plain run); ``source`` the run it reweights.
    """

    dir: Path
    summary: dict[str, Any]
    years: list[int]
    insolvent_year: np.ndarray
    funding_gap: np.ndarray
    revenue: np.ndarray
    label: str
    weights: np.ndarray | None = None
    source: Path | None = None
    conditioned: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of paths."""
        return int(self.insolvent_year.size)

    @property
    def w(self) -> np.ndarray:
        """The weights of every path (equal for a plain run)."""
        return self.weights if self.weights is not None else W.uniform(self.n)

    @property
    def seed(self) -> Any:
        """The run's seed (``None`` for a deterministic run)."""
        return self.summary.get("seed")

    def quarters(self) -> pd.DataFrame | None:
        """``quarters.parquet`` of the run (of the source run, for a conditioned directory)."""
        f = (self.source or self.dir) / "quarters.parquet"
        return pd.read_parquet(f) if f.is_file() else None


def _read_run(run_dir: Path) -> tuple[dict[str, Any], list[int], pd.DataFrame]:
    from runway.io import require_complete
    from runway.report.command import _table, read_summary

    d = require_complete(run_dir)
    s = read_summary(d)
    if s.get("kind") == "conditioned":
        raise RunwayError(f"{d}: a conditioned directory, not a run directory")
    if s.get("deterministic"):
        raise RunwayError(f"{d}: a deterministic run (one path): nothing to reweight or compare")
    years = [int(y) for y in s["funding_gap"]]
    cols = ["insolvent_month"] + [f"{m}_{y}" for m in HEADLINE_METRICS for y in years]
    paths = _table(
        d / "paths.parquet",
        "the per-path table (Parquet)",
        lambda p: pd.read_parquet(p, columns=cols),
        finite=False,
    )
    if len(paths) != s["paths"]:
        raise RunwayError(
            f"{d / 'paths.parquet'}: has {len(paths):,} rows but summary.json says "
            f"{s['paths']:,} paths"
        )
    return s, years, paths


def load_run(run_dir: str | Path) -> RunData:
    """A plain run directory, or a conditioned one (its source run and its weights)."""
    d = Path(run_dir)
    from runway.io import read_json, require_complete

    require_complete(d)
    head = (
        read_json(d / "summary.json", what="summary.json") if (d / "summary.json").is_file() else {}
    )
    if isinstance(head, dict) and head.get("kind") == "conditioned":
        from runway.report.command import _table

        if not isinstance(head.get("source_run"), str):
            raise RunwayError(f"{d / 'summary.json'}: a conditioned summary without source_run")
        src = Path(head["source_run"])
        base = load_run(src)
        wt = _table(d / "weights.parquet", "the weights (Parquet)", pd.read_parquet)
        if len(wt) != base.n or "weight" not in wt:
            raise RunwayError(
                f"{d / 'weights.parquet'}: {len(wt):,} weights for the {base.n:,} paths of {src}"
            )
        w = wt["weight"].to_numpy(float)
        if not (np.all(w >= 0) and w.sum() > 0):
            raise RunwayError(f"{d / 'weights.parquet'}: weights must be >= 0 with a positive sum")
        return RunData(
            dir=d,
            summary=base.summary,
            years=base.years,
            insolvent_year=base.insolvent_year,
            funding_gap=base.funding_gap,
            revenue=base.revenue,
            label=f"{base.label} conditioned",
            weights=w / w.sum(),
            source=src,
            conditioned=head,
        )
    s, years, paths = _read_run(d)
    ins = paths["insolvent_month"]
    ins_year = np.array([float(str(m)[:4]) if isinstance(m, str) else np.inf for m in ins])
    return RunData(
        dir=d,
        summary=s,
        years=years,
        insolvent_year=ins_year,
        funding_gap=np.column_stack([paths[f"funding_gap_{y}"].to_numpy(float) for y in years]),
        revenue=np.column_stack([paths[f"revenue_{y}"].to_numpy(float) for y in years]),
        label=str(s["scenario"]),
    )


def _clean(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def headline(run: RunData, w: np.ndarray | None = None) -> dict[str, Any]:
    """Every headline number of ``run`` under weights ``w`` (default: the run's own), with MCSE.

    ``{"p_insolvent_by": {year: {"value", "mcse"}}, "funding_gap": {year: {stat: {"value",
    "mcse"}}}, "revenue": ...}``; stats ``mean, p05, p50, p95``; ``None`` where undefined.
    """
    w = run.w if w is None else w
    out: dict[str, Any] = {"p_insolvent_by": {}, **{m: {} for m in HEADLINE_METRICS}}
    for j, y in enumerate(run.years):
        p, se = W.proportion(run.insolvent_year <= y, w)
        out["p_insolvent_by"][str(y)] = {"value": _clean(p), "mcse": _clean(se)}
        for metric in HEADLINE_METRICS:
            x = getattr(run, metric)[:, j]
            m, se = W.mean(x, w)
            row = {"mean": {"value": _clean(m), "mcse": _clean(se)}}
            for k, q in QUANTILES.items():
                v, se = W.quantile(x, w, q)
                row[k] = {"value": _clean(v), "mcse": _clean(se)}
            out[metric][str(y)] = row
    return out


def as_of_month(run_dir: Path, summary: dict[str, Any]) -> str:
    """The run's as-of month: the later of its cash anchor and its ``calendar.as_of``.

    Months up to ``calendar.as_of`` are history the run already holds (``[[history.actuals]]``),
    so an actual there would be counted twice.
    """
    as_of = str(summary.get("cash_as_of") or "")
    f = run_dir / "config.resolved.toml"
    if f.is_file():
        try:
            cal = tomllib.loads(f.read_text()).get("calendar", {})
        except (OSError, tomllib.TOMLDecodeError):
            cal = {}
        if isinstance(cal.get("as_of"), str):
            as_of = max(as_of, cal["as_of"])
    if not as_of:
        raise RunwayError(f"{run_dir}: summary.json has no cash_as_of (not a run directory)")
    return as_of


@dataclass
class Conditioned:
    """The result of :func:`condition`."""

    run: RunData
    as_of: str
    used: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    log_lik: np.ndarray
    log_weights: np.ndarray  # Pareto-smoothed, normalised (log)
    weights: np.ndarray
    pareto_k: float
    ess: float
    ess_raw: float
    before: dict[str, Any]
    after: dict[str, Any]
    best_chi2: float = 0.0  # sum of z^2 of the path that fits the actuals best
    chi2_max: float = math.inf  # its JOINT_LEVEL quantile under chi2(len(used))

    @property
    def k_ok(self) -> bool:
        """Whether the Pareto k-hat is finite and at most :data:`K_HAT_MAX`."""
        return math.isfinite(self.pareto_k) and self.pareto_k <= K_HAT_MAX

    @property
    def contradicted(self) -> list[str]:
        """Actuals farther than :data:`Z_MAX` uncertainties from every path of the run."""
        return [u["name"] for u in self.used if u["closest_path_z"] > Z_MAX]

    @property
    def reliable(self) -> bool:
        """k-hat at most 0.7, no actual outside every path, some path fits them jointly.

        The second and third tests catch what k-hat cannot: an actual every path misses by the
        same amount (all paths raise nothing where the actual reports a raise) leaves the
        weights equal, and k-hat small, while the run is plainly contradicted.
        """
        return self.k_ok and not self.contradicted and self.best_chi2 <= self.chi2_max

    def warning(self) -> str | None:
        """The unreliability warning (``None`` when :attr:`reliable`)."""
        if self.reliable:
            return None
        why = []
        if not self.k_ok:
            k = "not finite" if not math.isfinite(self.pareto_k) else f"{self.pareto_k:.2f}"
            why.append(
                f"Pareto k-hat is {k} (> {K_HAT_MAX}): the reweighted numbers rest on "
                f"{self.ess:,.0f} effective paths of {self.run.n:,} and their error cannot be "
                "estimated"
            )
        if self.contradicted:
            why.append(
                f"{', '.join(self.contradicted)} lie(s) more than {Z_MAX:g} uncertainties from "
                "every path of the run"
            )
        if self.best_chi2 > self.chi2_max:
            why.append(
                f"no path fits the {len(self.used)} actuals jointly (best path chi-square "
                f"{self.best_chi2:,.1f} > {self.chi2_max:,.1f}, the {100 * JOINT_LEVEL:g}% level)"
            )
        return (
            "NOT RELIABLE: "
            + "; ".join(why)
            + ". The run's model does not contain what happened: run the newer vintage instead "
            "(a config whose as-of month includes these actuals), not this reweighting."
        )


def psis(log_lik: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised log weights of ``log_lik`` and the Pareto k-hat (arviz)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz's refactor notice; k-hat is reported by us
        import arviz

        lw, k = arviz.psislw(np.asarray(log_lik, dtype=float), reff=1.0)
    return np.asarray(lw, dtype=float), float(np.asarray(k))


def condition(run_dir: str | Path, actuals: list[bt.Actual]) -> Conditioned:
    """Reweight the paths of ``run_dir`` by the actuals dated after its as-of month."""
    run = load_run(run_dir)
    if run.weights is not None:
        raise RunwayError(f"{run_dir}: already conditioned; condition its source run {run.source}")
    d = run.dir
    as_of = as_of_month(d, run.summary)
    grid = (str(run.summary.get("start", "0000-01")), str(run.summary.get("end", "9999-12")))
    ll = np.zeros(run.n)
    used: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    values: list[np.ndarray] = []  # per-path values of each used actual
    run_values = bt.run_values(d, grid)
    for a in actuals:
        if bt.period_months(a.period)[-1] <= as_of:
            skipped.append({"name": a.name, "period": a.period, "reason": f"not after {as_of}"})
            continue
        if a.uncertainty_bn <= 0:
            raise RunwayError(
                f"actual {a.name!r}: uncertainty_bn must be positive to condition on it "
                f"(got {a.uncertainty_bn:g})"
            )
        v, basis = run_values(a)
        if v is None or v.size != run.n:
            skipped.append({"name": a.name, "period": a.period, "reason": basis})
            continue
        z = (a.value_bn - v) / a.uncertainty_bn
        ll_a = -0.5 * z * z
        ll += ll_a
        lw_a, k_a = psis(ll_a)  # this actual alone: which actual the run cannot absorb
        w_a = np.exp(lw_a - lw_a.max())
        lo, med, hi = (float(x) for x in np.quantile(v, [0.05, 0.5, 0.95]))
        used.append(
            {
                "name": a.name,
                "measure": a.measure,
                "period": a.period,
                "value_bn": a.value_bn,
                "uncertainty_bn": a.uncertainty_bn,
                "source": a.source,
                "basis": basis,
                "run_p05": lo,
                "run_p50": med,
                "run_p95": hi,
                "pareto_k_alone": _clean(k_a),
                "closest_path_z": float(np.min(np.abs(z))),
                "ess_alone": W.ess(w_a / w_a.sum()),
            }
        )
        values.append(v)
    if not used:
        why = "; ".join(f"{x['name']}: {x['reason']}" for x in skipped) or "the file is empty"
        raise RunwayError(
            f"no actual can be conditioned on: none is dated after the run's as-of month "
            f"{as_of} with per-path values in {d} ({why})"
        )
    from scipy.stats import chi2

    lw, k = psis(ll)
    w = np.exp(lw - lw.max())
    w /= w.sum()
    raw = np.exp(ll - ll.max())
    raw /= raw.sum()
    for u, v in zip(used, values, strict=True):
        u["conditioned_mean"], u["conditioned_mean_mcse"] = W.mean(v, w)
        u["conditioned_p50"] = W.quantile(v, w, 0.5)[0]
    return Conditioned(
        run=run,
        as_of=as_of,
        used=used,
        skipped=skipped,
        log_lik=ll,
        log_weights=lw,
        weights=w,
        pareto_k=k,
        ess=W.ess(w),
        ess_raw=W.ess(raw),
        before=headline(run, W.uniform(run.n)),
        after=headline(run, w),
        best_chi2=float(-2.0 * ll.max()),
        chi2_max=float(chi2.ppf(JOINT_LEVEL, len(used))),
    )


def summary(c: Conditioned, actuals_file: str) -> dict[str, Any]:
    """The conditioned ``summary.json``: every headline number before and after, diagnostics.

    Summary-like keys (``p_insolvent_by``, ``funding_gap``, ``mcse``) hold the conditioned
    numbers, so tools that read a run's summary read these the same way.
    """
    s = c.run.summary
    after = c.after
    mcse: dict[str, float | None] = {}
    for y, v in after["p_insolvent_by"].items():
        mcse[f"p_insolvent_by_{y}"] = v["mcse"]
    for metric in HEADLINE_METRICS:
        for y, row in after[metric].items():
            for k, v in row.items():
                mcse[f"{metric}_{y}_{k}"] = v["mcse"]
    return {
        "kind": "conditioned",
        "scenario": f"{s['scenario']} conditioned",
        "source_scenario": s["scenario"],
        "source_run": str(c.run.dir.resolve()),
        "paths": c.run.n,
        "seed": s.get("seed"),
        "as_of": c.as_of,
        "actuals_file": actuals_file,
        "units": "US$ bn; flows per calendar year, balances at year end",
        "diagnostics": {
            "pareto_k": _clean(c.pareto_k),
            "k_hat_max": K_HAT_MAX,
            "reliable": c.reliable,
            "k_hat_ok": c.k_ok,
            "contradicted": c.contradicted,
            "z_max": Z_MAX,
            "best_path_chi2": c.best_chi2,
            "chi2_max": c.chi2_max,
            "chi2_level": JOINT_LEVEL,
            "ess": c.ess,
            "ess_raw_weights": c.ess_raw,
            "paths": c.run.n,
        },
        "warning": c.warning(),
        "actuals_used": c.used,
        "actuals_skipped": c.skipped,
        "p_insolvent_by": {y: v["value"] for y, v in after["p_insolvent_by"].items()},
        "funding_gap": {
            y: {k: v["value"] for k, v in row.items()} for y, row in after["funding_gap"].items()
        },
        "mcse": mcse,
        "before": c.before,
        "after": c.after,
    }


# --- report ------------------------------------------------------------------------------
def _num(v: dict[str, Any], kind: str) -> str:
    from runway.report.render import fmt, money, pct, pct_pm, plus_minus

    x, se = v["value"], v["mcse"]
    if x is None:
        return "n/a"
    if kind == "prob":
        return pct(x) + pct_pm(se)
    if kind == "bn":
        return money(x) + plus_minus(se)
    return fmt(x, kind)


def report_blocks(s: dict[str, Any], plot: str | None) -> list[tuple[Any, ...]]:
    """The report of a conditioned summary, as :mod:`runway.report.render` blocks."""
    from runway.report.escape import escape_md
    from runway.report.render import fmt, money

    dg = s["diagnostics"]
    k = "not finite" if dg["pareto_k"] is None else f"{dg['pareto_k']:.2f}"
    blocks: list[tuple[Any, ...]] = [
        ("h", 1, f"Conditioned on new actuals: {escape_md(s['source_scenario'])}"),
        (
            "p",
            f"The {s['paths']:,} paths of the run `{escape_md(s['source_run'])}` (as of "
            f"{s['as_of']}) reweighted by {len(s['actuals_used'])} actual(s) dated after it "
            f"(`{escape_md(s['actuals_file'])}`), each Gaussian with its stated uncertainty, by "
            "Pareto-smoothed importance sampling. Values are `estimate ± MCSE` (weighted).",
        ),
    ]
    if s["warning"]:
        blocks.append(("p", f"**{escape_md(s['warning'])}**", "answer"))
    blocks.append(
        (
            "p",
            f"Effective sample size of the weights: **{dg['ess']:,.0f}** of {dg['paths']:,} paths "
            f"(raw weights, before smoothing: {dg['ess_raw_weights']:,.0f}); Pareto k-hat: "
            f"**{k}** (at most {dg['k_hat_max']}: {'yes' if dg['k_hat_ok'] else 'no'}). The "
            f"path that fits the actuals best has a chi-square of {dg['best_path_chi2']:,.1f} "
            f"over {len(s['actuals_used'])} actual(s) (at most {dg['chi2_max']:,.1f}, the "
            f"{100 * dg['chi2_level']:g}% level, for the run to contain them). Reliable: "
            f"**{'yes' if dg['reliable'] else 'no'}**.",
        )
    )
    blocks.append(("h", 2, "The actuals"))
    blocks.append(
        (
            "p",
            "Each actual with the run's 90% band of the same quantity, its conditioned median, "
            "the k-hat and effective sample size of the weights it would give alone, and how many "
            "of its uncertainties the closest path misses it by: an actual with a k-hat alone "
            f"above {K_HAT_MAX} or farther than {Z_MAX:g} sigmas from every path is one the "
            "run's paths cannot absorb.",
        )
    )
    rows = [
        [
            escape_md(u["name"]),
            u["period"],
            f"{u['value_bn']:g} ± {u['uncertainty_bn']:g}",
            f"{money(u['run_p05'])} .. {money(u['run_p50'])} .. {money(u['run_p95'])}",
            money(u["conditioned_p50"]),
            "n/a" if u["pareto_k_alone"] is None else f"{u['pareto_k_alone']:.2f}",
            f"{u['ess_alone']:,.0f}",
            f"{u['closest_path_z']:,.1f}",
            u["basis"],
        ]
        for u in s["actuals_used"]
    ]
    blocks.append(
        (
            "table",
            [
                "Actual",
                "Period",
                "Reported, $bn",
                "Run P5 .. P50 .. P95",
                "Conditioned P50",
                "k-hat alone",
                "ESS alone",
                "Closest path, sigmas",
                "From",
            ],
            rows,
        )
    )
    if s["actuals_skipped"]:
        blocks.append(
            (
                "ul",
                [
                    f"{escape_md(x['name'])} ({x['period']}): not used, {escape_md(x['reason'])}"
                    for x in s["actuals_skipped"]
                ],
            )
        )
    b, a = s["before"], s["after"]
    blocks.append(("h", 2, "Headline numbers before and after"))
    rows = [
        [f"P(out of cash by end-{y})", _num(b["p_insolvent_by"][y], "prob"), _num(v, "prob")]
        for y, v in a["p_insolvent_by"].items()
    ]
    names = {"funding_gap": "Funding gap", "revenue": "Revenue"}
    stat = {"p05": "P5", "p50": "median", "p95": "P95", "mean": "mean"}
    for metric in HEADLINE_METRICS:
        for y, row in a[metric].items():
            for key in ("p05", "p50", "p95", "mean"):
                rows.append(
                    [
                        f"{names[metric]} {y}, {stat[key]}",
                        _num(b[metric][y][key], "bn"),
                        _num(row[key], "bn"),
                    ]
                )
    blocks.append(("table", ["Number", "Before (the run)", "After (conditioned)"], rows))
    if plot:
        blocks.append(
            (
                "img",
                plot,
                "Before and after: P(out of cash) by year end, the last year's funding gap and "
                "revenue across paths (weighted)",
            )
        )
    blocks.append(
        (
            "p",
            f"Paths: {fmt(s['paths'], 'int')}, seed {s['seed']}. Weights per path: "
            "`weights.parquet`; every number: `summary.json`.",
        )
    )
    return blocks


def draw_plot(c: Conditioned) -> Any:
    """Before/after figure: P(out of cash) by year, last-year funding gap and revenue."""
    from runway.report.plots import _figure

    run = c.run
    fig, axes = _figure((12, 3.8), ncols=3)
    ys = run.years
    for name, h, style in (("before", c.before, "--"), ("after", c.after, "-")):
        axes[0].plot(
            ys, [h["p_insolvent_by"][str(y)]["value"] for y in ys], style, marker="o", label=name
        )
    axes[0].set_title("P(out of cash) by year end")
    top = max(v["value"] or 0.0 for h in (c.before, c.after) for v in h["p_insolvent_by"].values())
    axes[0].set_ylim(0, min(1.0, max(0.05, 1.15 * top)))
    axes[0].legend(fontsize=8)
    for ax, metric, title in (
        (axes[1], run.funding_gap, f"Funding gap {ys[-1]}, US$ bn"),
        (axes[2], run.revenue, f"Revenue {ys[-1]}, US$ bn"),
    ):
        x = metric[:, -1]
        lo, hi = np.quantile(x, [0.005, 0.995])
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 50)
        ax.hist(x, bins=bins, density=True, alpha=0.4, label="before")
        ax.hist(x, bins=bins, weights=c.weights, density=True, histtype="step", lw=2, label="after")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write(c: Conditioned, out: str | Path, actuals_file: str) -> Path:
    """Write the conditioned directory: summary.json, weights.parquet, the plot, the report."""
    from functools import partial

    from runway.io import dump_json, write_run_dir
    from runway.report.render import to_html, to_markdown

    s = summary(c, actuals_file)
    plot = "condition.png"
    weights = pd.DataFrame(
        {
            "path": np.arange(c.run.n, dtype=np.int64),
            "weight": c.weights,
            "log_weight": c.log_weights,
            "log_likelihood": c.log_lik,
        }
    )
    blocks = report_blocks(s, plot)

    def save_plot(p: Path) -> None:
        fig = draw_plot(c)
        fig.savefig(p, format="png", dpi=110)

    def write_md(p: Path) -> None:
        p.write_text(to_markdown(blocks))

    def write_html(p: Path) -> None:
        p.write_text(to_html(blocks, p.parent, f"runway condition: {s['source_scenario']}"))

    return write_run_dir(
        out,
        {
            "summary.json": dump_json(s),
            "weights.parquet": partial(weights.to_parquet, index=False),
            plot: save_plot,
            "report.md": write_md,
            "report.html": write_html,
        },
    )
