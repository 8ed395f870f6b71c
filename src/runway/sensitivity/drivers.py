"""Drivers of the worst outcomes from an existing run: no new simulation.

Regional sensitivity analysis (Hornberger and Spear 1981; Saltelli et al., Global
Sensitivity Analysis: The Primer, 2008, 5.2): the paths are split into a *target* set and the
rest, and each input's distribution is compared between the two. Targets: the worst decile of
the funding gap of a year (the paths whose gap is at or above its 90th percentile) and the
paths that ran out of cash by the end of that year.

Per input (a group: the mean of its members' values, e.g. the average slip of the contracts):

- ``ks``: the Kolmogorov-Smirnov distance between the input's distribution in the target set
  and in the rest (0: it does not separate them; 1: it separates them completely), with a
  95% Poisson-bootstrap half-width over paths (``ks_conf``);
- ``pawn``: the PAWN index of SALib (Pianosi and Wagener 2015; the median over 10 slices of
  the input of the KS distance between the output's conditional and unconditional
  distributions) of the target's output (the gap itself; the default indicator), computed
  by :func:`pawn_median` (equal to ``SALib.analyze.pawn``'s median, tested, and vectorised
  over bootstrap weights), with a bootstrap half-width;
- ``median_target``, ``median_rest`` and ``direction``: which way the input leans in the
  target set.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from runway.config import Config
from runway.errors import RunwayError
from runway.sensitivity.inputs import make_groups, uncertain_inputs

COLUMNS = [
    "target",
    "input",
    "label",
    "members",
    "ks",
    "ks_conf",
    "pawn",
    "pawn_conf",
    "median_target",
    "median_rest",
    "direction",
    "rank",
    "n_target",
    "n",
]
"""Columns of :func:`drivers`' table (docs/sensitivity.md); ranked by ``ks`` per target."""
BOOTSTRAP = 50
"""Poisson-bootstrap resamples of the intervals."""
BOOT_MAX_PATHS = 20_000
"""The intervals are bootstrapped on the first ``m`` paths at most (paths are exchangeable) and
scaled to the run's ``n`` paths by ``sqrt(m / n)`` (both indices' errors fall as 1/sqrt(n))."""
PAWN_BOOTSTRAP = 20
PAWN_BOOT_MAX_PATHS = 10_000
"""PAWN's interval: fewer resamples on fewer paths (it costs ten KS distances a resample)."""
PAWN_SLICES = 10
RUN_MAX_PATHS = 20_000
"""Paths the drivers section of ``runway run``'s report uses (the first ones): its cost stays a
second or so whatever the run's size, so that it does not weigh on a large run."""
WORST = 0.90


def _weighted_ks(
    order: np.ndarray, ends: np.ndarray, sel: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted counts behind a KS distance: (in ``sel``, all) at each tie-run end.

    Per row of weights ``w`` (k, n); ``order`` sorts the compared values, ``ends`` ends their
    runs of ties.
    """
    ws = w[:, order]
    s = sel[order].astype(np.float64)
    a = np.cumsum(ws * s, axis=1)[:, ends]
    c = np.cumsum(ws, axis=1)[:, ends]
    return a, c


def ks_distance(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """KS distance of ``x`` between ``t`` and ``~t``, per row of path weights ``w`` (k, n)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ends = np.flatnonzero(np.r_[xs[1:] != xs[:-1], True])  # last index of each run of ties
    a, c = _weighted_ks(order, ends, t, w)
    b = c - a
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(a / a[:, -1:] - b / b[:, -1:]).max(axis=1)


def pawn_median(x: np.ndarray, y: np.ndarray, w: np.ndarray, slices: int = PAWN_SLICES):
    """SALib's PAWN index per row of path weights ``w`` (k, n).

    As ``SALib.analyze.pawn``: the median over ``slices`` slices of ``x`` of the KS distance
    between ``y`` in the slice and all of ``y``; with unit weights it equals SALib's
    ``median`` (tested). The slices are cut at the unweighted quantiles of ``x`` (SALib's
    rule: ``q_s <= x < q_{s+1}``).
    """
    order = np.argsort(y, kind="stable")
    ys = y[order]
    ends = np.flatnonzero(np.r_[ys[1:] != ys[:-1], True])
    edges = np.nanquantile(x, np.arange(0, 1 + 1 / slices, 1 / slices))
    out = np.full((w.shape[0], slices), np.nan)
    for s in range(slices):
        sel = (x >= edges[s]) & (x < edges[s + 1])
        if not sel.any():
            continue
        a, c = _weighted_ks(order, ends, sel, w)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, s] = np.abs(a / a[:, -1:] - c / c[:, -1:]).max(axis=1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(out, axis=1)


def _with_interval(f, n: int, w: np.ndarray | None) -> tuple[float, float]:
    """``f(weights)`` on every path and its 95% Poisson-bootstrap half-width.

    ``w`` (reps, m): the resamples' weights of the first ``m`` paths (shared by the inputs of
    a target: a joint bootstrap); ``None`` or fewer than 2 resamples: no interval.
    """
    est = float(f(np.ones((1, n)), slice(None))[0])
    if w is None or w.shape[0] < 2:
        return est, math.nan
    m = w.shape[1]
    boot = f(w, slice(0, m))
    boot = boot[np.isfinite(boot)]
    if boot.size < 2:
        return est, math.nan
    return est, float(1.96 * np.std(boot, ddof=1) * math.sqrt(m / n))


def _frames(source) -> tuple[pd.DataFrame, pd.DataFrame, Config]:
    """(inputs, paths, config) of a :class:`~runway.result.Result` or a run directory."""
    if isinstance(source, str | Path):
        import runway
        from runway.io import require_complete

        d = require_complete(source)
        f = d / "inputs.parquet"
        if not f.is_file():
            raise RunwayError(
                f"drivers: {d} has no inputs.parquet (written by `runway run` since the "
                "sensitivity issue); run it again"
            )
        cfg = runway.load_config(d / "config.resolved.toml")
        inputs = pd.read_parquet(f)
        years = [str(y) for y in _cal_years(cfg)]
        cols = ["insolvent_month"] + [f"funding_gap_{y}" for y in years]
        paths = pd.read_parquet(d / "paths.parquet", columns=cols)
        return inputs.drop(columns=["path"], errors="ignore"), paths, cfg
    return source.inputs, source.paths, source.config


def _cal_years(cfg) -> list[int]:
    from runway.calendar import Calendar

    return list(Calendar.from_strings(cfg.calendar.start, cfg.calendar.end).years)


def drivers(
    source,
    *,
    year: int | None = None,
    groups: bool | dict[str, list[str]] = True,
    seed: int = 0,
    bootstrap: int = BOOTSTRAP,
    max_paths: int | None = None,
) -> pd.DataFrame:
    """Which inputs separate the worst paths from the rest (see the module docstring).

    Parameters
    ----------
    source : Result or path
        A Monte Carlo :class:`~runway.result.Result` or a run directory (``inputs.parquet``,
        ``paths.parquet``, ``config.resolved.toml``).
    year : int, optional
        Year of the targets (default: the last full year).
    groups : bool or dict
        Groups of inputs (:func:`runway.sensitivity.inputs.make_groups`).
    seed : int
        Seed of the bootstrap.
    bootstrap : int
        Bootstrap resamples of the KS intervals.
    max_paths : int, optional
        Use only the first ``max_paths`` paths (path ids are exchangeable, so a prefix is a
        simple random sample of the run; the intervals widen accordingly). ``runway run``'s
        report uses :data:`RUN_MAX_PATHS`; ``runway sensitivity RUNDIR --method drivers`` uses
        every path.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, targets ``funding_gap_<year>_worst_decile`` and
        ``insolvent_by_<year>``; rows sorted by ``ks`` within a target.
    """
    inputs, paths, cfg = _frames(source)
    if max_paths is not None and len(inputs) > max_paths:
        inputs, paths = inputs.iloc[:max_paths], paths.iloc[:max_paths]
    if inputs.shape[1] == 0 or len(inputs) < 20:
        raise RunwayError(
            "drivers: needs a Monte Carlo run of at least 20 paths with drawn inputs "
            "(a deterministic run has none)"
        )
    from runway.calendar import Calendar

    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    y = int(year) if year is not None else (cal.full_years[-1] if cal.full_years else cal.years[-1])
    if y not in cal.years:
        raise RunwayError(
            f"drivers: year {y} is outside the horizon {cal.years[0]}..{cal.years[-1]}"
        )
    unc = uncertain_inputs(cfg)
    gs = [g for g in make_groups(unc, groups) if all(m in inputs.columns for m in g.members)]
    x = np.column_stack([inputs[list(g.members)].to_numpy(float).mean(axis=1) for g in gs])
    gap = paths[f"funding_gap_{y}"].to_numpy(float)
    ins = paths["insolvent_month"]
    by = ins.notna().to_numpy() & (ins.fillna("9999-99").astype(str).str[:4] <= str(y)).to_numpy()
    targets = {
        f"funding_gap_{y}_worst_decile": (gap >= np.quantile(gap, WORST), gap),
        f"insolvent_by_{y}": (by, by.astype(np.float64)),
    }
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    frames = []
    for tname, (t, yv) in targets.items():
        nt = int(t.sum())
        rows = []
        w_ks = rng.poisson(1.0, (bootstrap, min(n, BOOT_MAX_PATHS))).astype(np.float64)
        w_pawn = w_ks[: min(bootstrap, PAWN_BOOTSTRAP), : min(n, PAWN_BOOT_MAX_PATHS)]
        for j, g in enumerate(gs):
            xj = x[:, j]
            if 0 < nt < n:
                k0, kc = _with_interval(
                    lambda w, sl, xj=xj, t=t: ks_distance(xj[sl], t[sl], w), n, w_ks
                )
                p0, pc = _with_interval(
                    lambda w, sl, xj=xj, yv=yv: pawn_median(xj[sl], yv[sl], w), n, w_pawn
                )
                mt, mr = float(np.median(xj[t])), float(np.median(xj[~t]))
                lean = mt - mr if mt != mr else float(xj[t].mean() - xj[~t].mean())
                direction = "higher" if lean > 0 else ("lower" if lean < 0 else "same")
            else:
                k0 = kc = p0 = pc = mt = mr = math.nan
                direction = "n/a"
            rows.append(
                {
                    "target": tname,
                    "input": g.name,
                    "label": g.label,
                    "members": len(g.members),
                    "ks": k0,
                    "ks_conf": kc,
                    "pawn": p0,
                    "pawn_conf": pc,
                    "median_target": mt,
                    "median_rest": mr,
                    "direction": direction,
                    "n_target": nt,
                    "n": n,
                }
            )
        df = pd.DataFrame(rows)
        df["rank"] = df["ks"].rank(ascending=False, method="first", na_option="bottom").astype(int)
        frames.append(df.sort_values("rank"))
    return pd.concat(frames, ignore_index=True)[COLUMNS]
