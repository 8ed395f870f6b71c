"""The run directory (DESIGN.md): every file an analyst opens, forwards and cites.

summary.json, annual.csv, paths.parquet, fan.parquet (+ monthly.csv for small runs),
idata.nc (per-path outcomes, chain = seed stream), config.resolved.toml, deterministic.csv
(the deterministic path the plots overlay), the PNG plots, report.md and report.html.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd

from runway.io import dump_json, write_run_dir
from runway.result import Result

RUN_FILES = (
    "summary.json",
    "annual.csv",
    "paths.parquet",
    "fan.parquet",
    "idata.nc",
    "config.resolved.toml",
    "deterministic.csv",
    "report.md",
    "report.html",
)


_OTHER_PACKAGES = ("scipy", "pyarrow", "xarray", "arviz", "h5netcdf", "matplotlib", "pydantic")
"""Further packages whose versions ``config.resolved.toml`` records (with python, numpy, ...)."""


def _version_of(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def resolved_config_toml(result: Result, summary: dict) -> str:
    """``config.resolved.toml``: every config value used (defaults included), the run's settings.

    The ``[resolved]`` table records what the config file does not: the paths and seed
    actually run (and the ``--target-mcse`` setting that chose the paths), the config's
    sha256 and package versions.
    """
    import numba
    import numpy as np

    from runway.report.tomlw import dumps

    data = result.config.model_dump(mode="json")
    prov = summary["provenance"]
    data["resolved"] = {
        "paths": int(summary["paths"]),
        "seed": summary["seed"] if summary["seed"] is not None else "none",
        "deterministic": bool(summary["deterministic"]),
        "chunk_size": int(result.raw.chunk_size),
        "target_mcse": summary["target_mcse"]["target"] if summary.get("target_mcse") else "none",
        "max_paths": summary["target_mcse"]["max_paths"] if summary.get("target_mcse") else "none",
        "config_sha256": prov["config_sha256"],
        "runway_version": prov["runway_version"],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
        **{name.replace("-", "_"): _version_of(name) for name in _OTHER_PACKAGES},
        "created": prov["created"],
    }
    return dumps(
        data,
        header="runway: every value this run used (config defaults included).\n"
        "Re-run: delete the [resolved] table, then\n"
        "`runway run config.resolved.toml --paths P --seed S` with P and S from it\n"
        "(a --target-mcse run is reproduced exactly by its final --paths).",
    )


def deterministic_path(result: Result) -> pd.DataFrame:
    """Monthly cash and revenue of the deterministic path of the run's config."""
    if result.raw.deterministic:
        det = result
    else:
        from runway import simulate

        det = simulate(result.config, deterministic=True)
    m = det.monthly
    assert m is not None  # a deterministic run is one path: its monthly trace is always kept
    return m[["month", "cash", "revenue"]].reset_index(drop=True)


def write_outputs(result: Result, out: str | Path, *, report: bool = True) -> Path:
    """Write ``result`` as a run directory at ``out`` (replacing it atomically).

    ``monthly.csv`` (every monthly line of every path) is added for runs of at most
    1,000 paths, a deterministic run included. With ``report`` the plots, report.md and
    report.html are rendered from the files just written (inside the atomic swap).
    """
    from runway.report.idata import write_idata
    from runway.report.render import render_report

    summary = result.summary()
    det = deterministic_path(result)
    writers = {
        "summary.json": dump_json(summary),
        "annual.csv": lambda p: result.annual_wide().to_csv(p, float_format="%.10g"),
        "paths.parquet": lambda p: result.paths.to_parquet(p, index=False),
        "fan.parquet": lambda p: result.fan.to_parquet(p, index=False),
        "idata.nc": lambda p: write_idata(result.to_idata(), p),
        "config.resolved.toml": lambda p: p.write_text(resolved_config_toml(result, summary)),
        "deterministic.csv": lambda p: det.to_csv(p, index=False, float_format="%.10g"),
    }
    monthly = result.monthly
    if monthly is not None:
        writers["monthly.csv"] = lambda p: monthly.to_csv(p, index=False, float_format="%.10g")
    if report:
        # runs last: it reads the files above from the directory being written
        writers["report.md"] = lambda p: render_report(p.parent)
    return write_run_dir(out, writers)
