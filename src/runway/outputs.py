"""The run directory: summary.json, annual.csv, paths.parquet, fan.parquet (+ monthly.csv)."""

from __future__ import annotations

from pathlib import Path

from runway.io import dump_json, write_run_dir
from runway.result import Result

RUN_FILES = ("summary.json", "annual.csv", "paths.parquet", "fan.parquet")


def write_outputs(result: Result, out: str | Path) -> Path:
    """Write ``result`` as a run directory at ``out`` (replacing it atomically).

    ``monthly.csv`` (every monthly line of every path) is added for runs of at most
    1,000 paths, a deterministic run included.
    """
    writers = {
        "summary.json": dump_json(result.summary()),
        "annual.csv": lambda p: result.annual_wide().to_csv(p, float_format="%.10g"),
        "paths.parquet": lambda p: result.paths.to_parquet(p, index=False),
        "fan.parquet": lambda p: result.fan.to_parquet(p, index=False),
    }
    monthly = result.monthly
    if monthly is not None:
        writers["monthly.csv"] = lambda p: monthly.to_csv(p, index=False, float_format="%.10g")
    return write_run_dir(out, writers)
