"""Per-path outcomes as an arviz ``InferenceData`` and the convergence numbers built on it.

Chains are the independent seed streams of a run (``SeedSequence(seed).spawn(n_chunks)``,
one per chunk of ``run.chunk_size`` paths) and draws are the paths within a chunk. Only
complete chunks become chains: a ragged last chunk would need NaN padding, which arviz's
ESS and R-hat do not accept, so its paths are left out of ``idata.nc`` (their number is in
the ``paths_dropped`` attribute). When no chunk is complete (fewer paths than one chunk)
the single partial chunk is the one chain.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

# per-path outcomes that get ESS and R-hat (the headline numbers are functions of them)
SCALARS = ("months_to_insolvency", "min_cash", "raised_total")
PER_YEAR = ("funding_gap", "revenue", "insolvent_by")
MIN_DRAWS = 4
"""arviz's minimum draws per chain for ESS and R-hat (its shape validation)."""


def arviz():
    """Import arviz with its import-time FutureWarning (the 1.x refactor notice) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def outcomes_from_paths(
    paths: pd.DataFrame, years: list[int], horizon_months: float
) -> dict[str, np.ndarray]:
    """Per-path outcome arrays from a ``paths`` table.

    ``months_to_insolvency`` is censored at the horizon (survivors get the horizon), so
    every value is finite; ``insolvent_by`` is 1.0 when the path is insolvent by the end of
    that year.
    """
    t = paths["months_to_insolvency"].to_numpy(dtype=float)
    t_cens = np.where(np.isnan(t), horizon_months, np.minimum(t, horizon_months))
    ins = paths["insolvent_month"]
    ins_year = np.array([int(m[:4]) if isinstance(m, str) else 10**6 for m in ins])
    out = {
        "months_to_insolvency": t_cens,
        "min_cash": paths["min_cash"].to_numpy(dtype=float),
        "raised_total": paths["raised_total"].to_numpy(dtype=float),
        "funding_gap": np.stack(
            [paths[f"funding_gap_{y}"].to_numpy(dtype=float) for y in years], axis=1
        ),
        "revenue": np.stack([paths[f"revenue_{y}"].to_numpy(dtype=float) for y in years], axis=1),
        "insolvent_by": np.stack([(ins_year <= y).astype(float) for y in years], axis=1),
    }
    return out


def to_idata(
    paths: pd.DataFrame,
    years: list[int],
    horizon_months: float,
    attrs: dict[str, Any] | None = None,
):
    """Build ``InferenceData`` with a ``posterior`` group of dims ``(chain, draw[, year])``.

    Parameters
    ----------
    paths : DataFrame
        The run's ``paths`` table (needs ``chain`` and the per-year columns).
    years : list of int
        Calendar years of the per-year outcomes.
    horizon_months : float
        Censoring time of ``months_to_insolvency``.
    attrs : dict, optional
        Extra attributes (scenario, seed, ...).
    """
    az = arviz()

    chain = paths["chain"].to_numpy()
    ids, counts = np.unique(chain, return_counts=True)
    full = ids[counts == counts.max()]
    if len(ids) > 1 and counts[-1] < counts.max():
        keep_ids = full
    else:
        keep_ids = ids
    if len(keep_ids) > 1 and len(set(counts[np.isin(ids, keep_ids)])) != 1:  # pragma: no cover
        raise ValueError("chains of unequal length")
    mask = np.isin(chain, keep_ids)
    n_chain = len(keep_ids)
    n_draw = int(mask.sum()) // n_chain
    outcomes = outcomes_from_paths(paths[mask], years, horizon_months)
    post = {}
    for name, arr in outcomes.items():
        post[name] = arr.reshape((n_chain, n_draw) + arr.shape[1:])
    dims = {name: ["year"] for name in PER_YEAR}
    all_attrs = {
        "chain_meaning": "independent seed stream (one chunk of paths)",
        "draw_meaning": "path within the chunk",
        "paths_total": int(len(paths)),
        "paths_used": int(mask.sum()),
        "paths_dropped": int((~mask).sum()),
        "months_to_insolvency_censored_at": float(horizon_months),
        "units": "US$ bn; months",
        **(attrs or {}),
    }
    with warnings.catch_warnings():
        # The arrays are built as (chain, draw, ...) above; arviz's guess that more chains than
        # draws means a transposed array does not apply (small run.chunk_size: many short streams).
        warnings.filterwarnings(
            "ignore", message=r"More chains \(\d+\) than draws", category=UserWarning
        )
        idata = az.from_dict(posterior=post, dims=dims, coords={"year": list(years)})
    idata.posterior.attrs.update(all_attrs)
    return idata


def diagnostics(idata) -> dict[str, dict[str, float | None]]:
    """ESS (bulk) and R-hat (rank-normalised) of every headline outcome, flattened by year.

    R-hat needs two chains or more; with one chain it is ``None``. A constant outcome (for
    example a year in which no path can be insolvent) has no defined ESS or R-hat: ``None``.
    With fewer than :data:`MIN_DRAWS` paths per seed stream (a tiny ``run.chunk_size``) arviz
    declines both (and logs a warning), so every value is ``None``.
    """
    az = arviz()

    post = idata.posterior
    n_chain = post.sizes["chain"]
    short = post.sizes["draw"] < MIN_DRAWS
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ess = None if short else az.ess(post, method="bulk")
        rhat = az.rhat(post) if (n_chain > 1 and not short) else None
    out_ess: dict[str, float | None] = {}
    out_rhat: dict[str, float | None] = {}
    for name in list(SCALARS) + list(PER_YEAR):
        keys: list[tuple[str, dict]] = (
            [(name, {})]
            if name in SCALARS
            else [(f"{name}_{int(y)}", {"year": y}) for y in post["year"].values]
        )
        for key, sel in keys:
            constant = float(post[name].sel(sel).std()) == 0.0
            e = float(ess[name].sel(sel)) if (ess is not None and not constant) else math.nan
            out_ess[key] = e if math.isfinite(e) else None
            r = float(rhat[name].sel(sel)) if (rhat is not None and not constant) else math.nan
            out_rhat[key] = r if math.isfinite(r) else None
    return {"ess": out_ess, "rhat": out_rhat}


def write_idata(idata, path) -> None:
    """Write ``idata`` as netCDF (h5netcdf engine, no netCDF4 needed)."""
    idata.to_netcdf(str(path), engine="h5netcdf")
