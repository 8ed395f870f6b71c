"""Tornado: each uncertain input (or group) held at its P10 and at its P90, everything else drawn.

The base run and the ``2 x groups`` held runs use the same seed and path ids, so every other
input and every monthly shock of path ``p`` is the same in all of them (each draw row has its
own Philox counter: :func:`runway.kernel.path.hold_path_params`). The change in a statistic is
then a paired difference with a small MCSE (:func:`runway.sensitivity.measures.paired_difference`).
Holding one input at a time ignores interactions, as @RISK's and Crystal Ball's tornadoes do;
the Sobol method measures them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from runway import engine
from runway.config import Config
from runway.errors import RunwayError
from runway.sensitivity import measures as M
from runway.sensitivity.inputs import P_HIGH, P_LOW, Group, make_groups, uncertain_inputs

DEFAULT_PATHS = 16_384
"""Paths per run of the tornado (the base and two per group): 25 runs on the HSBC config."""
TARGET_MAX_PATHS = 131_072
"""Largest path count a ``target_mcse`` tornado grows to."""

COLUMNS = [
    "output",
    "input",
    "label",
    "members",
    "value_low",
    "value_high",
    "base",
    "at_low",
    "at_high",
    "delta_low",
    "delta_low_mcse",
    "delta_high",
    "delta_high_mcse",
    "swing",
    "swing_mcse",
    "rank",
    "paths",
]
"""Columns of :func:`tornado`'s table (docs/sensitivity.md)."""


def _hold_values(unc, g: Group, p: float) -> dict[str, object]:
    return {m: float(unc.quantile(m, p)[0]) for m in g.members}


def _run(cfg: Config, paths: int, seed: int | None, threads, chunk_size, hold) -> engine.RawRun:
    return engine.run(
        cfg,
        paths=paths,
        seed=seed,
        threads=threads,
        chunk_size=chunk_size,
        fold=False,
        baseline=False,
        hold=hold,
    )


def tornado(
    cfg: Config,
    *,
    outputs: list[str] | None = None,
    paths: int | None = None,
    seed: int | None = None,
    groups: bool | dict[str, list[str]] = True,
    target_mcse: float | None = None,
    max_paths: int | None = None,
    threads: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Tornado table: one row per (output, input group), sorted by swing within each output.

    Parameters
    ----------
    cfg : Config
        Validated config.
    outputs : list of str, optional
        Statistics (:mod:`runway.sensitivity.measures`); default: P(insolvent by) and the
        funding gap's median and P95 for every year, and the median time to insolvency.
    paths : int, optional
        Paths per run (default :data:`DEFAULT_PATHS`); with ``target_mcse``, the first step.
    seed : int, optional
        Seed of every run (default: the config's).
    groups : bool or dict
        Groups of inputs (:func:`runway.sensitivity.inputs.make_groups`).
    target_mcse : float, optional
        Double the paths (up to ``max_paths``, default :data:`TARGET_MAX_PATHS`) until the
        MCSE of every swing of ``p_insolvent_by_<last full year>`` is at most ``target_mcse``
        and that of ``funding_gap_<year>_p50`` is at most ``target_mcse`` times the base
        median (as ``runway run --target-mcse``).
    progress : callable, optional
        ``progress(runs_done, runs_total)`` after each run.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`: the input's P10 and P90 (``value_low``, ``value_high``; a
        group's first member), the statistic in the base run and with the input held low
        and high, the paired differences and their MCSE, ``swing = |at_high - at_low|`` with
        its MCSE, its rank within the output (1 = largest) and the paths per run.
    """
    unc = uncertain_inputs(cfg)
    if not unc.names:
        raise RunwayError("tornado: the config has no uncertain input (every value is fixed)")
    gs = make_groups(unc, groups)
    cal_years = _years(cfg)
    stats = outputs or M.default_stats(cal_years)
    n = int(paths if paths is not None else DEFAULT_PATHS)
    if n < 2 * M.SECTIONS:
        raise RunwayError(f"--paths must be at least {2 * M.SECTIONS} for a tornado, got {n}")
    if target_mcse is not None and not (math.isfinite(target_mcse) and 0 < target_mcse < 1):
        raise RunwayError(f"--target-mcse must be a number in (0, 1), got {target_mcse}")
    cap = int(max_paths if max_paths is not None else TARGET_MAX_PATHS)
    while True:
        table = _tornado_once(cfg, unc, gs, stats, n, seed, threads, chunk_size, progress)
        if target_mcse is None or n >= cap or _met(table, cfg, target_mcse):
            return table
        n = min(2 * n, cap)


def _years(cfg: Config) -> list[int]:
    from runway.calendar import Calendar

    return list(Calendar.from_strings(cfg.calendar.start, cfg.calendar.end).years)


def _met(table: pd.DataFrame, cfg: Config, target: float) -> bool:
    from runway.calendar import Calendar

    y = M.default_year(Calendar.from_strings(cfg.calendar.start, cfg.calendar.end))
    ok = True
    p = table[table.output == f"p_insolvent_by_{y}"]
    if len(p):
        ok &= bool(np.nan_to_num(p.swing_mcse, nan=np.inf).max() <= target)
    g = table[table.output == f"funding_gap_{y}_p50"]
    if len(g):
        base = abs(float(g.base.iloc[0]))
        ok &= bool(np.nan_to_num(g.swing_mcse, nan=np.inf).max() <= target * max(base, 1e-9))
    return ok


def _tornado_once(cfg, unc, gs, stats, n, seed, threads, chunk_size, progress) -> pd.DataFrame:
    total = 1 + 2 * len(gs)
    base = _run(cfg, n, seed, threads, chunk_size, None)
    base_in = {s: M.stat_input(base, s) for s in stats}
    if progress is not None:
        progress(1, total)
    rows = []
    for gi, g in enumerate(gs):
        lo_h, hi_h = _hold_values(unc, g, P_LOW), _hold_values(unc, g, P_HIGH)
        lo = _run(cfg, n, seed, threads, chunk_size, lo_h)
        if progress is not None:
            progress(2 + 2 * gi, total)
        hi = _run(cfg, n, seed, threads, chunk_size, hi_h)
        if progress is not None:
            progress(3 + 2 * gi, total)
        for s in stats:
            vb, how, q = base_in[s]
            vl, vh = M.stat_input(lo, s)[0], M.stat_input(hi, s)[0]
            dl, sl = M.paired_difference(vl, vb, how, q)
            dh, sh = M.paired_difference(vh, vb, how, q)
            sw, ssw = M.paired_difference(vh, vl, how, q)
            rows.append(
                {
                    "output": s,
                    "input": g.name,
                    "label": g.label,
                    "members": len(g.members),
                    "value_low": lo_h[g.members[0]],
                    "value_high": hi_h[g.members[0]],
                    "base": M._stat(vb, how, q),
                    "at_low": M._stat(vl, how, q),
                    "at_high": M._stat(vh, how, q),
                    "delta_low": dl,
                    "delta_low_mcse": sl,
                    "delta_high": dh,
                    "delta_high_mcse": sh,
                    "swing": abs(sw),
                    "swing_mcse": ssw,
                    "paths": n,
                }
            )
    df = pd.DataFrame(rows)
    df["rank"] = (
        df.groupby("output", sort=False)["swing"]
        .rank(ascending=False, method="first", na_option="bottom")
        .astype(int)
    )
    order = {s: i for i, s in enumerate(stats)}
    df = df.sort_values(["output", "rank"], key=lambda c: c.map(order) if c.name == "output" else c)
    return df[COLUMNS].reset_index(drop=True)
