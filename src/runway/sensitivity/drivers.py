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
- ``pawn``: SALib's PAWN index (Pianosi and Wagener 2015; median over 10 slices of the input
  of the KS distance between the output's conditional and unconditional distributions) of
  the target's output (the gap itself; the default indicator), with a bootstrap half-width;
- ``median_target``, ``median_rest`` and ``direction``: which way the input leans in the
  target set.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

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
BOOTSTRAP = 200
PAWN_BOOTSTRAP = 30
PAWN_MAX_PATHS = 50_000
"""PAWN is computed on at most this many paths (the first ones: paths are exchangeable)."""
WORST = 0.90


def _ks_boot(x: np.ndarray, t: np.ndarray, rng: np.random.Generator, reps: int) -> np.ndarray:
    """KS distance of ``x`` between ``t`` and ``~t``: the estimate, then ``reps`` resamples."""
    order = np.argsort(x, kind="stable")
    xs, ts = x[order], t[order].astype(np.float64)
    ends = np.flatnonzero(np.r_[xs[1:] != xs[:-1], True])  # last index of each run of ties
    out = np.empty(reps + 1)
    n = x.size
    step = max(1, 2_000_000 // max(n, 1))
    done = 0
    while done < reps + 1:
        k = min(step, reps + 1 - done)
        w = np.ones((k, n)) if done == 0 else rng.poisson(1.0, (k, n)).astype(np.float64)
        if done == 0:
            w[1:] = rng.poisson(1.0, (k - 1, n))
        a = np.cumsum(w * ts, axis=1)[:, ends]
        b = np.cumsum(w * (1.0 - ts), axis=1)[:, ends]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.abs(a / a[:, -1:] - b / b[:, -1:]).max(axis=1)
        out[done : done + k] = d
        done += k
    return out


def _pawn(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from SALib.analyze import pawn

    d = x.shape[1]
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}
    with np.errstate(all="ignore"):
        r = pawn.analyze(problem, x, y, S=10, seed=seed)
    return np.asarray(r["median"], dtype=float)


def _frames(source) -> tuple[pd.DataFrame, pd.DataFrame, object]:
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

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, targets ``funding_gap_<year>_worst_decile`` and
        ``insolvent_by_<year>``; rows sorted by ``ks`` within a target.
    """
    inputs, paths, cfg = _frames(source)
    if inputs.shape[1] == 0 or len(inputs) < 20:
        raise RunwayError(
            "drivers: needs a Monte Carlo run of at least 20 paths with drawn inputs "
            "(a deterministic run has none)"
        )
    from runway.calendar import Calendar

    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    y = int(year) if year is not None else (cal.full_years[-1] if cal.full_years else cal.years[-1])
    if y not in cal.years:
        raise RunwayError(f"drivers: year {y} is outside the horizon {cal.years[0]}..{cal.years[-1]}")
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
        if 0 < nt < n:
            m = min(n, PAWN_MAX_PATHS)
            pawn0 = _pawn(x[:m], yv[:m], seed)
            boots = [
                _pawn(x[idx], yv[idx], seed)
                for idx in (rng.integers(0, m, m) for _ in range(PAWN_BOOTSTRAP))
            ]
            pawn_conf = 1.96 * np.std(np.array(boots), axis=0, ddof=1)
        else:
            pawn0 = pawn_conf = np.full(len(gs), math.nan)
        for j, g in enumerate(gs):
            if 0 < nt < n:
                ks = _ks_boot(x[:, j], t, rng, bootstrap)
                k0, kc = float(ks[0]), float(1.96 * np.std(ks[1:], ddof=1))
                mt, mr = float(np.median(x[t, j])), float(np.median(x[~t, j]))
                mean_t, mean_r = float(x[t, j].mean()), float(x[~t, j].mean())
                lean = mt - mr if mt != mr else mean_t - mean_r
                direction = "higher" if lean > 0 else ("lower" if lean < 0 else "same")
            else:
                k0 = kc = mt = mr = math.nan
                direction = "n/a"
            rows.append(
                {
                    "target": tname,
                    "input": g.name,
                    "label": g.label,
                    "members": len(g.members),
                    "ks": k0,
                    "ks_conf": kc,
                    "pawn": float(pawn0[j]),
                    "pawn_conf": float(pawn_conf[j]),
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
