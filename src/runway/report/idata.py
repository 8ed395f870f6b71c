"""Per-path outcomes as an arviz ``InferenceData`` and the convergence numbers built on it.

Layout, following arviz's conventions for simulated (not fitted) quantities:

- ``posterior_predictive``: every per-path outcome (:data:`SCALARS`, :data:`PER_YEAR`) with
  dims ``(chain, draw[, year])``. The paths are independent draws of one forward Monte Carlo,
  so there is one chain and ``draw`` is the path number: every path is there, none dropped.
  The coordinate ``seed_stream`` (along ``draw``) is each path's seed stream, the chunk of
  ``run.chunk_size`` paths whose generator drew it.
- ``posterior`` (the drawn inputs of each path) is absent: the engine does not keep the
  per-path parameter draws, so there is nothing honest to put there.

The diagnostics (:func:`diagnostics`) treat the complete seed streams as chains: R-hat across
streams checks that they agree. A ragged last stream would need NaN padding, which ESS and
R-hat do not accept, so its paths are left out of the ESS and R-hat only (everything else,
``idata.nc`` included, has them). When no stream is complete (fewer paths than one chunk) the
single partial stream is the one chain.
"""

from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from runway.engine import ANNUAL_KEEP

if TYPE_CHECKING:
    from runway.result import Result

# per-path outcomes that get ESS and R-hat (the headline numbers are functions of them)
SCALARS = ("months_to_insolvency", "min_cash", "raised_total")
PER_YEAR = ("funding_gap", "revenue", "insolvent_by")
MIN_DRAWS = 4
"""arviz's minimum draws per chain for ESS and R-hat (its shape validation)."""
MAX_DIAGNOSTIC_THREADS = 4
"""Threads computing ESS and R-hat of different outcomes at once (sorting releases the GIL)."""


def arviz():
    """Import arviz with its import-time FutureWarning (the 1.x refactor notice) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def _cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def chain_layout(chain: np.ndarray) -> tuple[np.ndarray | slice, int, int]:
    """Which paths become draws, and the number of chains and of draws per chain.

    Parameters
    ----------
    chain : ndarray of shape (n_paths,)
        Seed stream (chunk) of each path.

    Returns
    -------
    keep : slice or ndarray of bool
        The paths kept (a slice when they are the leading ones, as a ragged chunk is last).
    n_chain, n_draw : int
    """
    ids, counts = np.unique(chain, return_counts=True)
    keep_ids = ids[counts == counts.max()] if len(ids) > 1 and counts[-1] < counts.max() else ids
    if len(keep_ids) > 1 and len(set(counts[np.isin(ids, keep_ids)])) != 1:  # pragma: no cover
        raise ValueError("chains of unequal length")
    mask = np.isin(chain, keep_ids)
    n_used = int(mask.sum())
    keep: np.ndarray | slice = slice(0, n_used) if mask[:n_used].all() else mask
    return keep, len(keep_ids), n_used // len(keep_ids)


def outcomes_from_result(result: Result) -> dict[str, np.ndarray]:
    """Per-path outcome arrays, built from the run's raw per-path arrays.

    ``months_to_insolvency`` is censored at the horizon (survivors get the horizon), so
    every value is finite; ``insolvent_by`` is 1.0 when the path is insolvent by the end of
    that year (the event behind ``p_insolvent_by``).

    Returns
    -------
    dict of ndarray
        Shape (n_paths,) for :data:`SCALARS`, (n_paths, n_years) for :data:`PER_YEAR`.
    """
    raw = result.raw
    cal = result.calendar
    gap, rev = ANNUAL_KEEP.index("funding_gap"), ANNUAL_KEEP.index("revenue")
    ins = raw.outcomes["insolvent_month"]
    # month index of the last month of each year (insolvent by then <=> insolvent_month <= it)
    last = np.array([y * 12 + 11 - cal.start for y in cal.years], dtype=float)
    return {
        "months_to_insolvency": np.minimum(result.months_to_insolvency, result.horizon_months),
        "min_cash": raw.outcomes["min_cash"].copy(),
        "raised_total": result.raised_total,
        "funding_gap": np.ascontiguousarray(raw.annual_paths[:, :, gap]),
        "revenue": np.ascontiguousarray(raw.annual_paths[:, :, rev]),
        "insolvent_by": ((ins[:, None] >= 0) & (ins[:, None] <= last[None, :])).astype(float),
    }


def to_idata(
    outcomes: dict[str, np.ndarray],
    chain: np.ndarray,
    years: list[int],
    horizon_months: float,
    attrs: dict[str, Any] | None = None,
):
    """Build ``InferenceData`` with a ``posterior_predictive`` group of every path.

    Parameters
    ----------
    outcomes : dict of ndarray
        Per-path outcomes (:func:`outcomes_from_result`), first axis the path.
    chain : ndarray of shape (n_paths,)
        Seed stream of each path (the ``seed_stream`` coordinate).
    years : list of int
        Calendar years of the per-year outcomes.
    horizon_months : float
        Censoring time of ``months_to_insolvency``.
    attrs : dict, optional
        Extra attributes (scenario, seed, ...).

    Returns
    -------
    arviz.InferenceData
        Group ``posterior_predictive``, dims ``(chain, draw[, year])`` of sizes
        ``(1, n_paths[, n_years])``.
    """
    az = arviz()

    n_paths = len(chain)
    pp = {name: np.asarray(arr)[None, ...] for name, arr in outcomes.items()}
    dims = {name: ["year"] for name in PER_YEAR}
    all_attrs = {
        "chain_meaning": "one forward Monte Carlo: the paths are independent draws",
        "draw_meaning": "path number (paths.parquet row)",
        "seed_stream_meaning": "seed stream (chunk of run.chunk_size paths) of each path",
        "paths_total": int(n_paths),
        "paths_dropped": 0,
        "months_to_insolvency_censored_at": float(horizon_months),
        "units": "US$ bn; months",
        **(attrs or {}),
    }
    idata = az.from_dict(
        posterior_predictive=pp,
        dims=dims,
        coords={"year": list(years), "draw": np.arange(n_paths)},
    )
    group = idata.posterior_predictive.assign_coords(
        seed_stream=("draw", np.asarray(chain, dtype=np.int64))
    )
    group.attrs.update(all_attrs)
    idata.posterior_predictive = group
    return idata


def seed_stream_draws(idata, name: str, year: int | None = None) -> np.ndarray:
    """An outcome as ``(stream, path within it)`` over the complete seed streams.

    What :func:`diagnostics` passes to ESS and R-hat (see the module docstring).
    """
    pp = idata.posterior_predictive
    v = pp[name] if year is None else pp[name].sel(year=year)
    keep, n_chain, n_draw = chain_layout(pp["seed_stream"].values)
    return v.values[0][keep].reshape(n_chain, n_draw)


def diagnostics(idata, threads: int | None = None) -> dict[str, Any]:
    """ESS (bulk) and R-hat (rank-normalised) of every headline outcome, flattened by year.

    The chains are the complete seed streams (:func:`seed_stream_draws`); ``chains`` and
    ``draws_per_chain`` say how many and how long. R-hat needs two chains or more; with one
    chain it is ``None``. A constant outcome (for example a year in which no path can be
    insolvent) has no defined ESS or R-hat: ``None``. With fewer than :data:`MIN_DRAWS` paths
    per seed stream (a tiny ``run.chunk_size``) arviz declines both, so every value is
    ``None``. The outcomes are computed in ``threads`` threads (default: the CPU count, at
    most :data:`MAX_DIAGNOSTIC_THREADS`); the numbers do not depend on it. No warnings filter
    is touched (those are process-wide), so this may run in a background thread.
    """
    pp = idata.posterior_predictive
    _, n_chain, n_draw = chain_layout(pp["seed_stream"].values)
    short = n_draw < MIN_DRAWS
    years = [int(y) for y in pp["year"].values]
    draws: dict[str, np.ndarray] = {}
    for name in SCALARS:
        draws[name] = seed_stream_draws(idata, name)
    for name in PER_YEAR:
        for y in years:
            draws[f"{name}_{y}"] = seed_stream_draws(idata, name, y)
    # a constant outcome has no rank to normalise: undefined, not computed
    todo = {k: x for k, x in draws.items() if not short and x.min() != x.max()}

    from runway.report.rank_normal import ess_rhat

    def one(x: np.ndarray) -> tuple[float, float]:
        return ess_rhat(x, rhat=n_chain > 1)

    arviz()  # imported here, not in the threads (importing touches the warnings filters)
    n_threads = threads or min(_cpus(), MAX_DIAGNOSTIC_THREADS)
    if n_threads > 1 and len(todo) > 1:
        with ThreadPoolExecutor(n_threads, thread_name_prefix="runway-ess-rhat") as pool:
            done = dict(zip(todo, pool.map(one, todo.values()), strict=True))
    else:
        done = {k: one(x) for k, x in todo.items()}
    out_ess: dict[str, float | None] = {}
    out_rhat: dict[str, float | None] = {}
    for key in draws:
        e, r = done.get(key, (math.nan, math.nan))
        out_ess[key] = e if math.isfinite(e) else None
        out_rhat[key] = r if math.isfinite(r) else None
    return {"ess": out_ess, "rhat": out_rhat, "chains": n_chain, "draws_per_chain": n_draw}


NETCDF_COMPRESSION = {"zlib": True, "complevel": 1, "shuffle": True}
"""Encoding of the compressed variables of ``idata.nc`` (deflate level 1 after the byte
shuffle filter, both standard in netCDF-4/HDF5)."""
NETCDF_COMPRESSED = ("months_to_insolvency", "insolvent_by")
"""Variables of whole numbers (months, 0/1) and the coordinates: compressed 10 to 20 times.
The money variables are stored as they are: deflate saves 5 to 50% of them (most of it on
the funding gap's zeros) at five times the time of writing the whole file uncompressed."""


def write_idata(idata, path) -> None:
    """Write ``idata`` as netCDF-4 (h5netcdf engine, no netCDF4 needed), one group per group.

    What ``InferenceData.to_netcdf`` writes, with :data:`NETCDF_COMPRESSION` on the
    coordinates and :data:`NETCDF_COMPRESSED` (arviz compresses every variable);
    ``arviz.from_netcdf`` reads it back.
    """
    import xarray as xr

    mode: Literal["w", "a"] = "w"
    if idata.attrs:
        xr.Dataset(attrs=idata.attrs).to_netcdf(str(path), mode=mode, engine="h5netcdf")
        mode = "a"
    for group in idata.groups():
        data = getattr(idata, group)
        encoding = {
            name: dict(NETCDF_COMPRESSION)
            for name in data.variables
            if name in data.coords or name in NETCDF_COMPRESSED
        }
        data.to_netcdf(str(path), mode=mode, group=group, engine="h5netcdf", encoding=encoding)
        mode = "a"
