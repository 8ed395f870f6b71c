"""Sobol' indices: first-order and total, from SALib's Saltelli/Sobol' design.

The design is over the per-path parameters (each uncertain input's probability in (0, 1),
mapped through its inverse CDF: :meth:`runway.sensitivity.inputs.Uncertain.quantile`) plus
one more factor, **the monthly shocks**: the model's own noise (users, conversion, enterprise
growth, price wars, the financing regime, rounds). It enters as a factor of its own: the
rows of SALib's matrix ``A`` (and the ``AB_g`` built from it) share shock stream ``A`` (the
seed), those of ``B`` (and ``AB_shocks``) shock stream ``B`` (the seed + 1), path ``j`` of
each run being design row ``j``. Its indices say how much of the variance no input explains.

Estimators: SALib's (Saltelli 2010 first order, Jansen total), with bootstrap 95% intervals
(``S1_conf``, ``ST_conf``: half-widths). A group's indices are those of its members moved
together (SALib ``groups``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from runway import engine
from runway.config import Config
from runway.errors import RunwayError
from runway.sensitivity import measures as M
from runway.sensitivity.inputs import make_groups, uncertain_inputs

DEFAULT_N = 2048
"""Base sample size ``N`` of the design: ``N x (groups + 3)`` paths in all."""
SHOCKS = "shocks"
SHOCKS_LABEL = "monthly shocks (the model's own noise)"
COLUMNS = ["output", "input", "label", "members", "S1", "S1_conf", "ST", "ST_conf", "rank", "N"]
"""Columns of :func:`sobol`'s table (docs/sensitivity.md); ranked by ``ST`` within an output."""

Evaluate = Callable[[np.ndarray, int], dict[str, np.ndarray]]
"""``evaluate(values, stream) -> {output: (N,) per-path values}``: one run of the design, its
rows the inputs' values (columns: the factors but the shocks), ``stream`` 0 (A) or 1 (B)."""


def saltelli_indices(
    factors: list[tuple[str, str, int]],
    quantile: Callable[[int, np.ndarray], np.ndarray],
    evaluate: Evaluate,
    n: int,
    *,
    seed: int = 0,
    shocks: bool = True,
    num_resamples: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Sobol' indices of ``evaluate`` over ``factors`` (SALib design and estimators).

    ``factors``: (group name, label, number of columns) in column order; ``quantile(col, u)``
    maps probabilities to column ``col``'s values. With ``shocks`` a last factor stands for
    the evaluation's own noise (stream A or B). Shared by :func:`sobol` (the model) and the
    tests (analytic functions), so both go through the same design and estimators.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    names: list[str] = []
    grp: list[str] = []
    for g, _, k in factors:
        for j in range(k):
            names.append(f"{g}#{j}")
            grp.append(g)
    if shocks:
        names.append(SHOCKS)
        grp.append(SHOCKS)
    d = len(names)
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d, "groups": grp}
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    gnames = list(dict.fromkeys(grp))
    blocks = len(gnames) + 2
    if x.shape[0] != n * blocks:  # pragma: no cover - SALib's layout changed
        raise RuntimeError("SALib's Sobol' design has an unexpected shape")
    a, b = x[0::blocks], x[blocks - 1 :: blocks]
    ncol = d - (1 if shocks else 0)
    ys: dict[str, np.ndarray] = {}
    for k in range(blocks):
        u = x[k::blocks]
        # the design row's shock stream: B for the B block and the block that swaps the shocks
        stream = 0
        if shocks:
            stream = 1 if np.array_equal(u[:, -1], b[:, -1]) else 0
            if not (stream or np.array_equal(u[:, -1], a[:, -1])):  # pragma: no cover
                raise RuntimeError("SALib's Sobol' design: shocks column neither A nor B")
        vals = np.column_stack([quantile(c, u[:, c]) for c in range(ncol)]) if ncol else u[:, :0]
        out = evaluate(vals, stream)
        for name, y in out.items():
            ys.setdefault(name, np.empty(x.shape[0]))[k::blocks] = y
        if progress is not None:
            progress(k + 1, blocks)
    labels = {g: lab for g, lab, _ in factors}
    sizes = {g: k for g, _, k in factors}
    labels[SHOCKS], sizes[SHOCKS] = SHOCKS_LABEL, 0
    frames = []
    for name, y in ys.items():
        if np.std(y) == 0.0:
            s1 = st = np.full(len(gnames), np.nan)
            s1c = stc = np.full(len(gnames), np.nan)
        else:
            r = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=num_resamples,
                conf_level=0.95,
                seed=seed,
            )
            s1, s1c, st, stc = r["S1"], r["S1_conf"], r["ST"], r["ST_conf"]
        df = pd.DataFrame(
            {
                "output": name,
                "input": gnames,
                "label": [labels[g] for g in gnames],
                "members": [sizes[g] for g in gnames],
                "S1": np.asarray(s1, dtype=float),
                "S1_conf": np.asarray(s1c, dtype=float),
                "ST": np.asarray(st, dtype=float),
                "ST_conf": np.asarray(stc, dtype=float),
                "N": n,
            }
        )
        df["rank"] = df["ST"].rank(ascending=False, method="first", na_option="bottom")
        frames.append(df.sort_values("rank"))
    out = pd.concat(frames, ignore_index=True)
    out["rank"] = out["rank"].astype(int)
    return out[COLUMNS]


def sobol(
    cfg: Config,
    *,
    outputs: list[str] | None = None,
    n: int | None = None,
    seed: int | None = None,
    groups: bool | dict[str, list[str]] = True,
    num_resamples: int = 200,
    threads: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of per-path outputs of the model.

    Parameters
    ----------
    cfg : Config
        Validated config.
    outputs : list of str, optional
        Per-path outputs (:mod:`runway.sensitivity.measures`); default: the funding gap and
        the default indicator for every year, and the months to insolvency (censored).
    n : int, optional
        Base sample size (default :data:`DEFAULT_N`; a power of 2): ``n x (groups + 3)``
        paths.
    seed : int, optional
        Seed of the shock streams (A: ``seed``, B: ``seed + 1``) and of SALib's scrambling.
    groups : bool or dict
        Groups of inputs (:func:`runway.sensitivity.inputs.make_groups`).
    num_resamples : int
        Bootstrap resamples of the intervals.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`: one row per (output, group), the last factor ``shocks``
        (the monthly shocks); ``NaN`` indices for an output that does not vary.
    """
    unc = uncertain_inputs(cfg)
    if not unc.names:
        raise RunwayError("sobol: the config has no uncertain input (every value is fixed)")
    gs = make_groups(unc, groups)
    members = [m for g in gs for m in g.members]
    nn = int(n if n is not None else DEFAULT_N)
    if nn < 8:
        raise RunwayError(f"--paths (the Sobol' base sample N) must be at least 8, got {nn}")
    s = int(seed if seed is not None else cfg.run.seed)
    years = list(range(0))  # filled from the first run
    wanted = outputs

    def quantile(c: int, u: np.ndarray) -> np.ndarray:
        return unc.quantile(members[c], u)

    def evaluate(vals: np.ndarray, stream: int) -> dict[str, np.ndarray]:
        hold = {m: vals[:, j] for j, m in enumerate(members)}
        raw = engine.run(
            cfg,
            paths=vals.shape[0],
            seed=(s + stream) % 2**63,
            threads=threads,
            chunk_size=chunk_size,
            fold=False,
            baseline=False,
            hold=hold,
        )
        names = wanted or M.default_path_outputs(list(raw.calendar.years) or years)
        return {o: M.path_output(raw, o) for o in names}

    return saltelli_indices(
        [(g.name, g.label, len(g.members)) for g in gs],
        quantile,
        evaluate,
        nn,
        seed=s % 2**32,
        num_resamples=num_resamples,
        progress=progress,
    )
