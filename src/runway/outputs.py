"""The run directory (DESIGN.md): every file an analyst opens, forwards and cites.

summary.json, annual.csv, paths.parquet, fan.parquet, config.resolved.toml, deterministic.csv
(the deterministic path the plots overlay), quarters.parquet (every path's quarterly revenue,
burn, quarter-end cash and money raised by source), the PNG plots, report.md and report.html; on
request monthly.csv (``--monthly``) and idata.nc (``--idata``: per-path outcomes as arviz
``InferenceData``, chain = seed stream; it repeats paths.parquet's outcome columns, so it is
not written by default).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pandas as pd

from runway.io import dump_json, write_run_dir
from runway.report.plots import PLOTS
from runway.result import Result

RUN_FILES = (
    "summary.json",
    "annual.csv",
    "paths.parquet",
    "inputs.parquet",
    "fan.parquet",
    "config.resolved.toml",
    "deterministic.csv",
    "report.md",
    "report.html",
    "quarters.parquet",  # tools: quarterly lines per path (backtest, condition)
)
"""Files of every run directory; idata.nc and monthly.csv are added on request."""


PATHS_DICTIONARY_COLUMNS = (
    "chain",
    "insolvent_month",
    "months_to_insolvency",
    "ipo_month",
    "n_rounds",
    "round_attempts",
    "renegotiations",
    "price_wars",
)
"""paths.parquet columns of few distinct values, dictionary-encoded. The money columns hold
about one value per path: dictionary encoding would only cost time before Arrow falls back to
plain encoding (a third of the write time at 1,000,000 paths)."""

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
    # the [run] table holds what ran, so the file runs as written and reproduces the run
    data["run"]["paths"] = int(summary["paths"])
    if summary["seed"] is not None:
        data["run"]["seed"] = int(summary["seed"])
    data["run"]["chunk_size"] = int(result.raw.chunk_size)
    data["run"]["deterministic"] = bool(summary["deterministic"])
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
        "overrides": list(getattr(result, "overrides", None) or []),
    }
    return dumps(
        data,
        header="runway: every value this run used (config defaults and --set overrides\n"
        "included); [run] holds the paths, seed and chunk size that ran (a --target-mcse run:\n"
        "its final path count). `runway run config.resolved.toml` reproduces the run; the\n"
        "[resolved] table records what ran and is not used by the model.",
    )


PARQUET_ROW_GROUP = 65_536
"""Rows of paths.parquet converted and written at a time (one row group each)."""


def write_paths_parquet(paths: pd.DataFrame, path: Path) -> None:
    """Write the per-path table as what ``paths.to_parquet(path, index=False)`` writes.

    The same schema (pandas metadata included) and values; written in row groups of
    :data:`PARQUET_ROW_GROUP` rows, so Arrow reuses one batch's buffers instead of allocating
    (and page-faulting) a copy of the whole table, with dictionary encoding only for
    :data:`PATHS_DICTIONARY_COLUMNS` and Arrow's default snappy compression. Measured against
    the alternatives (README, performance): no compression writes 25% faster but 21% more
    bytes (all fsynced), zstd is 1.6x slower for 8% fewer, dictionaries everywhere cost time.
    Each batch is copied first: the per-year columns are strided views of the engine's
    (path, year, line) array, which Arrow converts element by element, while a copy makes every
    column contiguous (0.3-0.6 CPU-s less at 1,000,000 paths; the same bytes).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(paths, preserve_index=False)
    with pq.ParquetWriter(path, schema, use_dictionary=list(PATHS_DICTIONARY_COLUMNS)) as w:
        for i in range(0, max(len(paths), 1), PARQUET_ROW_GROUP):
            batch = paths.iloc[i : i + PARQUET_ROW_GROUP].copy()
            w.write_table(pa.Table.from_pandas(batch, schema=schema, preserve_index=False))


def backtest_summary(result: Result) -> dict | None:
    """``summary.json["backtest"]``: the shipped actuals after the as-of month (issue 13).

    ``None`` for a deterministic run (one path has no percentiles).
    """
    from runway import backtest as bt

    if result.raw.n_paths < 2:
        return None
    f = bt.shipped_actuals()
    return bt.to_summary(bt.backtest_result(result, bt.load_actuals(f)), f.name)


def write_quarters_parquet(result: Result, path: Path) -> None:
    """Write ``quarters.parquet`` (:attr:`runway.result.Result.quarters`) in row groups.

    Each group of :data:`PARQUET_ROW_GROUP` paths is copied out of the engine's (path,
    quarter, line) float32 array and converted alone, so writing holds no second copy of it.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = result.raw
    q = raw.quarterly
    assert q is not None
    names = ["path"] + [f"{ln}_{lb}" for ln in raw.quarter_lines for lb in raw.quarter_labels]
    schema = pa.schema(
        [pa.field("path", pa.int64())] + [pa.field(n, pa.float32()) for n in names[1:]]
    )
    with pq.ParquetWriter(path, schema, use_dictionary=False) as w:
        for i in range(0, max(raw.n_paths, 1), PARQUET_ROW_GROUP):
            # (line, quarter, path), contiguous: each column one run of memory, as ``names``
            block = np.ascontiguousarray(q[i : i + PARQUET_ROW_GROUP].transpose(2, 1, 0))
            flat = block.reshape(-1, block.shape[2])
            cols = [pa.array(np.arange(i, i + flat.shape[1], dtype=np.int64))]
            cols += [pa.array(flat[j]) for j in range(flat.shape[0])]
            w.write_table(pa.Table.from_arrays(cols, schema=schema))


def write_inputs_parquet(result: Result, path: Path) -> None:
    """Write ``inputs.parquet``: the path id, then every drawn input of every path.

    One column per config dotted path (:attr:`runway.result.Result.inputs`) after ``path``;
    a deterministic run has no input columns.
    """
    import numpy as np

    df = pd.concat(
        [pd.DataFrame({"path": np.arange(len(result.inputs), dtype=np.int64)}), result.inputs],
        axis=1,
    )
    df.to_parquet(path, index=False)


def sensitivity_summary(result: Result) -> dict | None:
    """``summary.json["sensitivity"]``: the run's drivers (:func:`runway.sensitivity.drivers`).

    On the first :data:`runway.sensitivity.drivers.RUN_MAX_PATHS` paths (a second or so of CPU
    whatever the run's size); ``runway sensitivity RUNDIR --method drivers`` uses them all.

    ``None`` for a deterministic run or one of fewer than 20 paths (nothing to separate).
    """
    if result.raw.deterministic or result.raw.n_paths < 20 or result.inputs.shape[1] == 0:
        return None
    from runway.sensitivity import drivers
    from runway.sensitivity.drivers import RUN_MAX_PATHS
    from runway.sensitivity.report import summary_section

    return summary_section(drivers(result, max_paths=RUN_MAX_PATHS))


def deterministic_path(result: Result) -> pd.DataFrame:
    """Monthly cash and revenue of the deterministic path of the run's config."""
    if result.raw.deterministic:
        det = result
    elif result.baseline is not None:  # made with the run (engine.run(..., baseline=True))
        det = result.baseline
    else:
        from runway import simulate

        det = simulate(result.config, deterministic=True)
    m = det.monthly
    assert m is not None  # a deterministic run is one path: its monthly trace is always kept
    return m[["month", "cash", "revenue"]].reset_index(drop=True)


Writer = Callable[[Path], object]
"""Writes one file of the run directory, given its path (what it returns is ignored)."""

BACKGROUND = False
"""Write paths.parquet and compute ESS/R-hat in pool threads beside the rest (else serially).

Both release the GIL for most of their time (Arrow's conversion, Parquet encoding and file
writes; numba's and numpy's sorts and FFTs), while the rest (tables, the summary, matplotlib)
holds it. Measured with ``tools/bench_writers.py`` on the project's 2 shared cores (load 5 to
7), the threads gave 0.94x, 1.27x and 0.96x the serial wall time at 1M, 500k and 250k paths
and used 0-12% more CPU: no reliable gain, so the files are written serially by default.
``background=True`` is there for machines with idle cores."""


class _Background:
    """Writers run in a pool thread while the writers after them run in this one.

    :func:`~runway.io.write_run_dir` swaps the directory in, or removes it on an error, once
    the last writer returns: so every writer here waits for the background ones before it
    raises, and the last one waits for them in any case (re-raising their errors). With no
    pool (serial writing) every job runs where it is started and raises there.
    """

    def __init__(self, pool: ThreadPoolExecutor | None) -> None:
        self.pool = pool
        self.jobs: dict[str, Future] = {}

    def submit(self, name: str, fn: Callable[[], object]) -> Future:
        """Run ``fn`` in the pool (or now, without one) as job ``name``."""
        if self.pool is not None:
            job = self.pool.submit(fn)
        else:  # serial: run now, an error raised at once
            job = Future()
            job.set_result(fn())
        self.jobs[name] = job
        return job

    def start(self, name: str, write: Writer) -> Writer:
        """``write`` as a writer that starts it in the pool and returns."""

        def start(p: Path) -> None:
            self.submit(name, lambda: write(p))

        return start

    def guard(self, writers: dict[str, Writer]) -> dict[str, Callable[[Path], None]]:
        """``writers`` made to wait for the background ones (see the class docstring)."""
        last = list(writers)[-1]

        def guarded(name: str, write: Writer) -> Callable[[Path], None]:
            def run(p: Path) -> None:
                try:
                    write(p)
                except BaseException:
                    wait(self.jobs.values())  # nothing is removed while a writer writes
                    raise
                if name == last:
                    wait(self.jobs.values())
                    for job in self.jobs.values():
                        job.result()

            return run

        return {name: guarded(name, w) for name, w in writers.items()}


def write_outputs(
    result: Result,
    out: str | Path,
    *,
    report: bool = True,
    monthly: bool = False,
    background: bool | None = None,
    idata: bool = False,
) -> Path:
    """Write ``result`` as a run directory at ``out`` (replacing it atomically).

    With ``monthly`` (``runway run --monthly``), ``monthly.csv`` (every monthly line of
    every path) is added for runs of at most 1,000 paths, a deterministic run included.
    With ``report`` the plots, report.md and report.html are rendered from the files just
    written (inside the atomic swap). With ``idata`` (``runway run --idata``) ``idata.nc`` is
    added: it repeats paths.parquet's outcome columns and costs as much CPU time as writing
    paths.parquet (arviz's import, the netCDF file), and no other file reads it.

    With ``background`` (default :data:`BACKGROUND`) paths.parquet is written and ESS/R-hat
    computed in two pool threads while this thread writes the small tables, the summary's
    numbers, idata.nc and the plots; otherwise each is done in turn. No file depends on it.
    """
    from runway.report.answers import answers
    from runway.report.render import draw_plots, render_report

    det = deterministic_path(result)
    extra = answers(result)
    # cached; the threads all read them
    _ = result.months_to_insolvency, result.raised_total, result.paths
    summary: dict = {}
    use_pool = BACKGROUND if background is None else background

    with ThreadPoolExecutor(2, thread_name_prefix="runway-outputs") as pool:
        jobs = _Background(pool if use_pool else None)

        def write_nc(p: Path) -> None:
            from runway.report.idata import write_idata

            idata = result.to_idata()  # imports arviz
            jobs.start("idata.nc", lambda q: write_idata(idata, q))(p)

        def start_background(p: Path) -> None:
            jobs.start("paths.parquet", lambda q: write_paths_parquet(result.paths, q))(p)
            jobs.submit("diagnostics", lambda: result.diagnostics)  # for summary.json

        def write_plots(p: Path) -> None:
            draw_plots(p.parent, {**result.summary(diagnostics=False), **extra}, result.paths)

        def write_summary(p: Path) -> None:
            jobs.jobs["diagnostics"].result()  # re-raises what the diagnostics raised
            summary.update(result.summary())
            summary.update(extra)  # dates, hazard, published references
            summary["sensitivity"] = sensitivity_summary(result)
            summary["backtest"] = backtest_summary(result)  # issue 13: the shipped actuals
            dump_json(summary)(p)

        writers: dict[str, Writer] = {
            "paths.parquet": start_background,
            "inputs.parquet": lambda p: write_inputs_parquet(result, p),
            "fan.parquet": lambda p: result.fan.to_parquet(p, index=False),
            "annual.csv": lambda p: result.annual_wide().to_csv(p, float_format="%.10g"),
            "deterministic.csv": lambda p: det.to_csv(p, index=False, float_format="%.10g"),
        }
        if result.raw.quarterly is not None:  # tools: quarterly lines per path
            writers["quarters.parquet"] = lambda p: write_quarters_parquet(result, p)
        if idata:
            writers["idata.nc"] = write_nc
        if report:
            # the plots read the small files above and the table paths.parquet is written
            # from; they need no ESS or R-hat (drawn while those are computed, in background)
            writers[next(iter(PLOTS))] = write_plots
        writers["summary.json"] = write_summary
        writers["config.resolved.toml"] = lambda p: p.write_text(
            resolved_config_toml(result, summary)
        )
        lines = result.monthly if monthly else None
        if lines is not None:
            writers["monthly.csv"] = lambda p: lines.to_csv(p, index=False, float_format="%.10g")
        if report:
            writers["report.md"] = lambda p: render_report(p.parent, plots=False)
        return write_run_dir(out, jobs.guard(writers))
