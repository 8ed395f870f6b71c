"""Result: a run's outcomes as pandas tables and the ``summary.json`` dictionary."""

from __future__ import annotations

import hashlib
import math
import platform
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from runway.calendar import format_month
from runway.engine import ANNUAL_KEEP, RawRun
from runway.layout import LINE_NAMES, RAISED_OUTCOMES

QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
FAN_QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
ANNUAL_METRICS = tuple(n for n in LINE_NAMES if n != "regime")
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
"""pandas 3 copies on write: the ``paths`` columns can stay views of the per-path arrays
instead of being copied into one 2-D block (360 MB at a million paths); with pandas 2 an edit
of the table would reach those arrays, so it gets its copy."""


def _clean(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


class Result:
    """Outcomes of :func:`runway.simulate`.

    Attributes
    ----------
    paths : DataFrame
        One row per path: insolvency month (missing, ``None`` or NaN, when the path
        survives the horizon; ``censored`` is then true and ``months_to_insolvency`` NaN),
        months from the cash anchor to insolvency, minimum cash, money raised by source,
        revenue, free cash flow, cash and funding gap per year, compute obligations owed per
        counterparty at insolvency (or at the horizon).
    annual : DataFrame
        One row per (year, metric) with ``mean, p05, p50, p95``; money in $bn per year for
        flows and at year end for balances.
    fan : DataFrame
        One row per (month, metric) for cash, revenue and burn with monthly quantiles.
    monthly : DataFrame or None
        Every monthly line of every path, kept for runs of up to 1,000 paths (written as
        ``monthly.csv`` only with ``runway run --monthly``).
    """

    policy_comparison: dict[str, Any] | None = None
    """pol: policies -- ``summary.json["policies"]`` (:func:`runway.policies.compare`), or None."""

    def __init__(self, raw: RawRun, config_sha256: str | None = None):
        self.raw = raw
        self.config = raw.cfg
        self.calendar = raw.calendar
        self.config_sha256 = (
            config_sha256 or hashlib.sha256(raw.cfg.model_dump_json().encode()).hexdigest()
        )

    # --- tables --------------------------------------------------------------------------
    @cached_property
    def months_to_insolvency(self) -> np.ndarray:
        """Months from the cash anchor to insolvency; ``inf`` for paths that survive."""
        m = self.raw.outcomes["insolvent_month"]
        anchor = self.raw.inputs.cash_start - 1
        return np.where(m >= 0, m - anchor, np.inf)

    @property
    def horizon_months(self) -> int:
        """Months from the cash anchor to the end of the horizon (the censoring time)."""
        return self.raw.inputs.n_months - self.raw.inputs.cash_start

    @cached_property
    def raised_total(self) -> np.ndarray:
        """Money raised from every source per path, $bn: ndarray of shape (n_paths,)."""
        o = self.raw.outcomes
        return np.stack([o[n] for n in RAISED_OUTCOMES], axis=1).sum(axis=1)

    def _month_labels(self, month_index: np.ndarray) -> np.ndarray:
        """``"YYYY-MM"`` of each month index (``None`` where negative), as an object array.

        Each label is formatted once per month of the grid, not once per path.
        """
        n = max(self.calendar.n_months, int(month_index.max(initial=-1)) + 1)
        start = self.calendar.start
        labels = np.array([format_month(start + m) for m in range(n)] + [None], dtype=object)
        return labels[np.where(month_index >= 0, month_index, n).astype(np.intp)]

    @cached_property
    def paths(self) -> pd.DataFrame:
        """One row per path (see the class docstring)."""
        raw = self.raw
        outcomes = raw.outcomes
        ins = outcomes["insolvent_month"]
        cols: dict[str, Any] = {
            "path": np.arange(raw.n_paths, dtype=np.int64),
            "chain": raw.chain.astype(np.int64),
            "insolvent_month": self._month_labels(ins),
            "months_to_insolvency": np.where(
                np.isfinite(self.months_to_insolvency), self.months_to_insolvency, np.nan
            ),
            "censored": ins < 0,
        }
        for name, values in outcomes.items():
            if name in ("insolvent_month",):
                continue
            cols[name] = values
        cols["ipo_month"] = self._month_labels(outcomes["ipo_month"])
        cols["distress_month"] = self._month_labels(outcomes["distress_month"])
        cols["raised_total"] = self.raised_total
        for j, year in enumerate(self.calendar.years):
            for k, name in enumerate(raw.annual_keep):
                cols[f"{name}_{year}"] = raw.annual_paths[:, j, k]
        for c, cp in enumerate(raw.counterparties):
            cols[f"owed_{cp}"] = raw.exposure[:, c]
        return pd.DataFrame(cols, copy=not _COPY_ON_WRITE)

    # tools: quarterly lines per path (quarters.parquet) ------------------------------------
    @cached_property
    def quarters(self) -> pd.DataFrame | None:
        """One row per path: ``path``, then ``<line>_<YYYYQn>`` for every quarterly line.

        Lines :data:`runway.layout.QUARTER` (revenue, burn, quarter-end cash and money raised
        by source, $bn, float32) of every calendar quarter the grid touches; ``None`` when the
        engine kept none (``engine.run(quarters=False)``).
        """
        raw = self.raw
        if raw.quarterly is None:
            return None
        cols: dict[str, Any] = {"path": np.arange(raw.n_paths, dtype=np.int64)}
        for k, line in enumerate(raw.quarter_lines):
            for j, q in enumerate(raw.quarter_labels):
                cols[f"{line}_{q}"] = raw.quarterly[:, j, k]
        return pd.DataFrame(cols)

    @cached_property
    def annual(self) -> pd.DataFrame:
        """Per (year, metric): mean, p05, p50, p95 from the streaming histograms."""
        q = self.raw.annual
        if q is None:
            raise ValueError("this run was made with fold=False: no annual quantiles")
        stats = {"mean": q.mean(), **{k: q.quantile(v) for k, v in QUANTILES.items()}}
        years = self.calendar.years
        idx = pd.MultiIndex.from_product(
            [years, list(self.raw.line_names)], names=["year", "metric"]
        )
        df = pd.DataFrame(stats, index=idx)
        return df.drop(index="regime", level="metric")

    @cached_property
    def fan(self) -> pd.DataFrame:
        """Per (metric, month) of cash, revenue, burn and the survivors' cash: mean, p05..p95.

        ``cash_survivors`` leaves out every path that has defaulted by that month (its
        quantiles are NaN once none is left); ``share_excluded`` is the share of paths a row
        leaves out: for ``cash_survivors`` the share defaulted by the month, 0 elsewhere.
        """
        q = self.raw.fan
        if q is None:
            raise ValueError("this run was made with fold=False: no fan quantiles")
        stats = {"mean": q.mean(), **{k: q.quantile(v) for k, v in FAN_QUANTILES.items()}}
        counted = q.n
        stats["share_excluded"] = q.nans / np.maximum(counted + q.nans, 1)
        idx = pd.MultiIndex.from_product(
            [list(self.raw.fan_lines), self.calendar.labels()], names=["metric", "month"]
        )
        return pd.DataFrame(stats, index=idx).reset_index()

    @cached_property
    def monthly(self) -> pd.DataFrame | None:
        """Every monthly line of every path (runs of at most 1,000 paths), else None."""
        if self.raw.monthly is None:
            return None
        n, t, k = self.raw.monthly.shape
        df = pd.DataFrame(self.raw.monthly.reshape(n * t, k), columns=list(self.raw.line_names))
        df.insert(0, "month", self.calendar.labels() * n)
        df.insert(0, "path", np.repeat(np.arange(n), t))
        return df

    @cached_property
    def inputs(self) -> pd.DataFrame:
        """The drawn inputs of every path.

        One row per path, one column per drawn config value (its dotted path, e.g.
        ``consumer.conversion_target``; contracts as ``compute.contracts[i].share_online`` /
        ``.slip_months``, slips in whole months). Values that are fixed in the config are not
        columns; a deterministic run has none.
        """
        raw = self.raw
        drawn = raw.drawn if raw.drawn is not None else np.empty((raw.n_paths, 0))
        return pd.DataFrame(drawn, columns=list(raw.drawn_names), copy=not _COPY_ON_WRITE)

    @cached_property
    def baseline(self) -> Result | None:
        """The deterministic run of the same config (central values, median shocks).

        Made with this run; ``None`` for a deterministic run (it is its own baseline) or when
        the engine was called with ``baseline=False``.
        """
        b = self.raw.baseline
        return None if b is None else Result(b, config_sha256=self.config_sha256)

    def annual_wide(self) -> pd.DataFrame:
        """``annual.csv``: a row per year; each metric's median, then its p05, p95 and mean."""
        a = self.annual
        cols: dict[str, pd.Series] = {}
        for stat, suffix in (("p50", ""), ("p05", "_p05"), ("p95", "_p95"), ("mean", "_mean")):
            for metric in ANNUAL_METRICS:
                cols[metric + suffix] = a.xs(metric, level="metric")[stat]
        out = pd.DataFrame(cols)
        out.index.name = "year"
        return out

    # --- credit: the credit view and Bain's lens (issue 16; runway.credit, runway.bain) ----
    def _credit_horizons(self) -> tuple[list[float], list[str], list[float], list[str]]:
        """Year ends and whole-year tenors, months from the cash anchor (the valuation date)."""
        cal = self.calendar
        anchor = self.raw.inputs.cash_start - 1
        ends, labels = [], []
        for year in cal.years:
            e = min(year * 12 + 11, cal.end) - cal.start - anchor
            if e > 0:
                ends.append(float(e))
                labels.append(str(year))
        h = self.horizon_months
        tenors = [12.0 * k for k in range(1, h // 12 + 1)]
        return ends, labels, tenors, [f"{k}y" for k in range(1, len(tenors) + 1)]

    @cached_property
    def _credit(self) -> dict[str, Any] | None:
        from runway import credit as cr

        if self.raw.deterministic or not self.raw.n_paths:
            return None
        cc = self.config.credit
        r = cc.recovery_rate
        t = self.months_to_insolvency
        ends, labels, tenors, tlabels = self._credit_horizons()
        if not ends:
            return None
        backlog = {
            b.counterparty: {
                "value_bn": b.value_bn,
                "what": b.what,
                "as_of": b.as_of,
                "source": b.source,
                "sources_row": b.sources_row,
            }
            for b in cc.backlog
        }
        split = cr.owed_split(self.raw)
        expo = cr.exposure(
            t,
            self.raw.exposure,
            list(self.raw.counterparties),
            ends,
            labels,
            r,
            cc.exposure_thresholds_bn,
            backlog,
            None if split is None else split[1],
        )
        return {
            "valuation_month": self.config.liquidity.cash_as_of,
            "recovery_rate": r,
            "recovery_source": cc.recovery_source,
            "spread_formula": cr.SPREAD_FORMULA,
            "forward_spread_formula": cr.HAZARD_SPREAD_FORMULA,
            "caveat": cr.CAVEAT,
            "by_year": cr.term_structure(t, ends, labels, r),
            "by_tenor": cr.term_structure(t, tenors, tlabels, r) if tenors else [],
            "revolver": self._revolver(t, r),
            "exposure_thresholds_bn": list(cc.exposure_thresholds_bn),
            "exposure": expo,
            "largest_expected_ead": [
                {"counterparty": cp, "expected_ead_bn": v} for cp, v in cr.largest(expo, labels[-1])
            ],
        }

    def _revolver(self, t: np.ndarray, r: float) -> dict[str, Any] | None:
        from runway import credit as cr

        v = self.config.credit.revolver
        if v is None:
            return None
        out = cr.revolver(t, v.spread_bp, v.term_years, r)
        out["source"], out["sources_row"] = v.source, v.sources_row
        if v.term_years * 12 > self.horizon_months:  # past the horizon: no model value
            out.update(model_pd=None, model_pd_mcse=None, model_spread_bp=None)
            out["model_spread_bp_mcse"] = None
        return out

    def credit(self) -> dict[str, Any] | None:
        """``summary.json["credit"]``: default term structure, implied spreads, exposure.

        ``None`` for a deterministic run (one path has no probabilities). See
        :mod:`runway.credit` and ``docs/credit.md``.
        """
        import copy

        return copy.deepcopy(self._credit)

    def bain(self) -> dict[str, Any] | None:
        """``summary.json["bain"]``: Bain's 2030 arithmetic and OpenAI against its ratio.

        ``None`` where the config has no ``[credit.bain]``.
        See :mod:`runway.bain`. The OpenAI part uses the peak GW online within the horizon and
        the revenue of Bain's year per path (``None`` where the horizon does not reach it).
        """
        from runway import bain as bn

        cfg = self.config.credit.bain
        if cfg is None:
            return None
        ind = bn.industry(cfg)
        years = list(self.calendar.years)
        rev = None
        if cfg.year in years:
            j = years.index(cfg.year)
            rev = self.raw.annual_paths[:, j, ANNUAL_KEEP.index("revenue")]
        gw = self.raw.outcomes["max_gw_online"]
        return {**ind, "openai": bn.openai(ind, gw, rev)}

    # --- headline numbers ----------------------------------------------------------------
    def p_insolvent_by(self) -> dict[str, float]:
        """P(insolvent by the end of each year), from the per-path insolvency months."""
        ins = self.raw.outcomes["insolvent_month"]
        out = {}
        for year in self.calendar.years:
            last = min(year * 12 + 11, self.calendar.end) - self.calendar.start
            out[str(year)] = float(np.mean((ins >= 0) & (ins <= last)))
        return out

    @cached_property
    def _sorted_funding_gap(self) -> list[np.ndarray]:
        """Per year, the funding gap of every path sorted (quantiles and their MCSE)."""
        gi = ANNUAL_KEEP.index("funding_gap")
        return [np.sort(self.raw.annual_paths[:, j, gi]) for j in range(len(self.calendar.years))]

    @cached_property
    def _sorted_months_to_insolvency(self) -> np.ndarray:
        """:attr:`months_to_insolvency` sorted (its quantiles and their MCSE)."""
        return np.sort(self.months_to_insolvency)

    def funding_gap_quantiles(self) -> dict[str, dict[str, float]]:
        """Mean, p05, p50, p95 of the funding gap per year, exact over paths."""
        gi = ANNUAL_KEEP.index("funding_gap")
        out = {}
        for j, year in enumerate(self.calendar.years):
            g = self._sorted_funding_gap[j]  # a quantile depends on the values, not their order
            out[str(year)] = {
                "mean": float(self.raw.annual_paths[:, j, gi].mean()),
                **{k: float(np.quantile(g, v)) for k, v in QUANTILES.items()},
            }
        return out

    def time_to_insolvency(self) -> dict[str, float | None]:
        """Quantiles of months from the cash anchor to insolvency.

        A quantile that falls among the surviving (censored) paths is ``None``: it is beyond
        the horizon. ``mean_censored`` is the restricted mean, E[min(T, horizon)].
        """
        t = self.months_to_insolvency
        h = self.horizon_months
        out: dict[str, float | None] = {}
        for k, v in QUANTILES.items():
            x = float(np.quantile(self._sorted_months_to_insolvency, v, method="inverted_cdf"))
            out[k] = x if math.isfinite(x) else None
        out["mean_censored"] = float(np.minimum(t, h).mean())
        out["horizon_months"] = float(h)
        return out

    # --- convergence ---------------------------------------------------------------------
    def to_idata(self):
        """Per-path outcomes as arviz ``InferenceData``: group ``posterior_predictive``.

        Dims ``(chain, draw[, year])`` with one chain and ``draw`` = path (every path; the
        ``seed_stream`` coordinate gives each path's chunk). See :mod:`runway.report.idata`.
        """
        return self._idata

    @cached_property
    def _idata(self):
        from runway.report.idata import outcomes_from_result, to_idata

        cfg = self.config
        return to_idata(
            outcomes_from_result(self),
            self.raw.chain,
            list(self.calendar.years),
            float(self.horizon_months),
            attrs={
                "scenario": cfg.scenario.name,
                "seed": -1 if self.raw.seed is None else int(self.raw.seed),
                "deterministic": int(self.raw.deterministic),
                "chunk_size": int(self.raw.chunk_size),
            },
        )

    @cached_property
    def mcse(self) -> dict[str, float | None]:
        """Monte Carlo standard error of every headline number (flat keys; see ``report.mcse``)."""
        from runway.report.mcse import mcse_mean, mcse_proportion, mcse_quantile

        n = self.raw.n_paths
        out: dict[str, float | None] = {}
        for year, p in self.p_insolvent_by().items():
            out[f"p_insolvent_by_{year}"] = mcse_proportion(p, n)
        gi = ANNUAL_KEEP.index("funding_gap")
        for j, yr in enumerate(self.calendar.years):
            out[f"funding_gap_{yr}_mean"] = mcse_mean(self.raw.annual_paths[:, j, gi])
            g = self._sorted_funding_gap[j]
            for k, v in QUANTILES.items():
                out[f"funding_gap_{yr}_{k}"] = mcse_quantile(g, v, presorted=True)
        t = self._sorted_months_to_insolvency
        for k, v in QUANTILES.items():
            out[f"time_to_insolvency_{k}"] = (
                mcse_quantile(t, v, presorted=True)
                if np.isfinite(np.quantile(t, v, method="inverted_cdf"))
                else None
            )
        out["time_to_insolvency_mean_censored"] = mcse_mean(
            np.minimum(self.months_to_insolvency, self.horizon_months)  # path order: same sums
        )
        return {k: (None if v is None else _clean(v)) for k, v in out.items()}

    @cached_property
    def diagnostics(self) -> dict[str, Any]:
        """Bulk ESS and rank R-hat on at most 64 chains of seed streams; ``None`` if deterministic.

        See :mod:`runway.stats.convergence` (arviz's numbers, arviz not imported).
        """
        if self.raw.deterministic or self.raw.n_paths < 4:
            return {"ess": None, "rhat": None, "chains": None, "draws_per_chain": None}
        from runway.report.idata import outcomes_from_result
        from runway.stats.convergence import diagnostics, flatten_outcomes

        draws = flatten_outcomes(outcomes_from_result(self), list(self.calendar.years))
        return diagnostics(draws, self.raw.chain)

    def target_summary(self) -> dict[str, Any] | None:
        """How ``target_mcse`` chose the path count (``None`` for a run of fixed size).

        ``checks`` lists every step: the paths so far, the MCSE of P(insolvent by ``year``)
        and the MCSE of the median funding gap of ``year`` relative to that median
        (``None`` where undefined: a median of 0 with a non-zero MCSE).
        """
        t = self.raw.target
        if t is None:
            return None
        checks = [
            {
                "paths": c.paths,
                "p_insolvent": c.p_insolvent,
                "mcse_p_insolvent": _clean(c.mcse_p_insolvent),
                "funding_gap_p50": c.gap_p50,
                "mcse_funding_gap_p50": _clean(c.mcse_gap_p50),
                "rel_mcse_funding_gap_p50": _clean(c.rel_mcse_gap_p50),
                "met": c.met,
            }
            for c in t.checks
        ]
        last = checks[-1]
        return {
            "target": t.target_mcse,
            "year": str(t.year),
            "criteria": (
                f"MCSE of p_insolvent_by[{t.year}] <= target (absolute) and MCSE of "
                f"funding_gap[{t.year}].p50 <= target x the median (relative)"
            ),
            "reached": bool(t.reached),
            "paths": self.raw.n_paths,
            "initial_paths": t.initial_paths,
            "max_paths": t.max_paths,
            "mcse_p_insolvent": last["mcse_p_insolvent"],
            "rel_mcse_funding_gap_p50": last["rel_mcse_funding_gap_p50"],
            "checks": checks,
        }

    @cached_property
    def _headline(self) -> dict[str, Any]:
        """The summary's numbers that take a pass over every path (computed once)."""
        annual: dict[str, dict[str, dict[str, float | None]]] = {}
        for (year, metric), row in self.annual.iterrows():
            annual.setdefault(str(year), {})[str(metric)] = {
                k: _clean(row[k]) for k in ("mean", "p05", "p50", "p95")
            }
        return {
            "annual": annual,
            "p_insolvent_by": self.p_insolvent_by(),
            "time_to_insolvency_months": self.time_to_insolvency(),
            "funding_gap": self.funding_gap_quantiles(),
        }

    def summary(self, *, diagnostics: bool = True) -> dict[str, Any]:
        """The ``summary.json`` dictionary (keys of DESIGN.md; more may be added, never renamed).

        With ``diagnostics=False`` the ESS and R-hat (seconds at a million paths) are left
        out: ``"diagnostics"`` is then ``None``.
        """
        import copy

        import numba

        cfg = self.config
        headline = copy.deepcopy(self._headline)
        out: dict[str, Any] = {
            "scenario": cfg.scenario.name,
            "description": cfg.scenario.description,
            "paths": self.raw.n_paths,
            "seed": self.raw.seed,
            "deterministic": self.raw.deterministic,
            "start": cfg.calendar.start,
            "end": cfg.calendar.end,
            "cash_as_of": cfg.liquidity.cash_as_of,
            "min_cash_buffer_bn": cfg.liquidity.min_cash_buffer_bn,
            "units": "US$ bn; flows per calendar year, balances at year end",
            **headline,
            "mcse": self.mcse,
            "diagnostics": self.diagnostics if diagnostics else None,
            "target_mcse": self.target_summary(),
            "chunk_size": int(self.raw.chunk_size),
            "credit": self.credit(),  # credit: issue 16
            "bain": self.bain(),  # credit: issue 16
            "provenance": {
                "config_sha256": self.config_sha256,
                "runway_version": _version(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "numba": numba.__version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }
        if self.policy_comparison is not None:  # pol: policies
            out["policies"] = copy.deepcopy(self.policy_comparison)
        return out

    # --- notebooks (a self-contained block: repr and the Jupyter display) ------------------
    def _notebook_summary(self) -> dict[str, Any]:
        from runway.report.answers import answers

        return {**self.summary(diagnostics=False), **answers(self)}

    def __repr__(self) -> str:
        """One line: scenario, paths, the last year's median funding gap and P(insolvent)."""
        s = self.summary(diagnostics=False)
        last = list(s["p_insolvent_by"])[-1]
        gap = s["funding_gap"][last]["p50"]
        kind = "deterministic path" if s["deterministic"] else f"{s['paths']:,} paths"
        return (
            f"<runway.Result {s['scenario']}: {kind}, seed {s['seed']}; median funding gap "
            f"{last} ${gap:,.1f}bn; P(insolvent by {last}) {s['p_insolvent_by'][last]:.3f}>"
        )

    def _repr_html_(self) -> str:
        """The report's headline (the four answers) as HTML, for Jupyter."""
        from runway.report.render import headline_html

        return headline_html(self._notebook_summary())


def _version() -> str:
    from runway import __version__

    return __version__
