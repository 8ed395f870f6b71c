"""``runway report DIR``: re-render report.md/report.html and the plots without simulating.

Safe on any directory, however it was changed after the run:

* the directory must be complete (``.complete``), must not resolve through a symbolic link,
  and this command holds its lock (:func:`runway.io.lock_output`) while it reads and writes,
  so a run replacing the directory meanwhile is refused (or refuses this command), never
  mixed with it;
* every file read is checked first, each problem one line naming the file: a symbolic link
  (never followed), a non-regular or oversized file, summary.json that is empty, truncated,
  not UTF-8, not strict JSON (NaN or Infinity: runway never writes them), or missing what
  the report needs; a Parquet or CSV file that cannot be read, is empty, lacks its columns
  or holds non-finite numbers where runway writes none;
* nothing is written in place: the new files are rendered in a private sibling directory
  (``.NAME.HOST.PID.XXXX.partial``, holding hard links to the inputs) and each is then
  renamed over its old version, so a kill or a full disk leaves every file of the directory
  whole (old or new), and the directory stays marked complete only with whole files. A
  symbolic link in place of an output is replaced, its target untouched.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from runway.errors import OutputError

PLOT_INPUTS = ("paths.parquet", "fan.parquet", "annual.csv")
"""Files the plots are drawn from; without them (``reports/``) the existing PNGs are reused."""
OUTPUTS = ("report.md", "report.html")
SUMMARY_KEYS = {
    "scenario": str,
    "paths": int,
    "funding_gap": dict,
    "p_insolvent_by": dict,
    "annual": dict,
    "provenance": dict,
}
"""Top-level keys of summary.json the report needs, with their JSON types."""
MAX_TABLE_BYTES = 16 * 2**30


def _bad(path: Path, msg: str) -> OutputError:
    return OutputError(f"{path}: {msg}; re-run `runway run` to write the directory again")


def _regular(path: Path, what: str) -> Path:
    """``path`` if it is a regular file that is not a symbolic link (else one line)."""
    if path.is_symlink():
        raise OutputError(
            f"{path}: is a symbolic link; `runway report` does not follow links inside a run "
            "directory (replace it with the file)"
        )
    if not path.exists():
        raise _bad(path, f"missing ({what})")
    if not path.is_file():
        raise _bad(path, f"not a regular file ({what})")
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise _bad(path, f"larger than {MAX_TABLE_BYTES / 2**30:.0f} GiB")
    if path.stat().st_size == 0:
        raise _bad(path, f"the file is empty ({what})")
    return path


def _finite_json(obj: Any, path: Path) -> None:
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        o, where = stack.pop()
        if isinstance(o, float) and not math.isfinite(o):
            raise _bad(path, f"{where.lstrip('.') or 'a value'} is {o} (runway never writes it)")
        if isinstance(o, dict):
            stack += [(v, f"{where}.{k}") for k, v in o.items()]
        elif isinstance(o, list):
            stack += [(v, f"{where}.{i}") for i, v in enumerate(o)]


def read_summary(d: Path) -> dict[str, Any]:
    """summary.json of run directory ``d``, checked (one line naming the file otherwise)."""
    from runway.io import read_json

    path = _regular(d / "summary.json", "the run's summary")
    s = read_json(path, what="summary.json of a run directory")
    if not isinstance(s, dict):
        raise _bad(path, "not a JSON object")
    _finite_json(s, path)
    for key, typ in SUMMARY_KEYS.items():
        if key not in s:
            raise _bad(path, f"has no {key!r}")
        if not isinstance(s[key], typ) or (typ is int and isinstance(s[key], bool)):
            raise _bad(path, f"{key!r} is not a JSON {typ.__name__}")
    try:
        years = [int(y) for y in s["funding_gap"]]
    except ValueError:
        raise _bad(path, "funding_gap: keys are not years") from None
    if not years:
        raise _bad(path, "funding_gap: no years")
    return s


def _table(path: Path, what: str, reader: Any, finite: bool = True) -> Any:
    import numpy as np

    _regular(path, what)
    try:
        df = reader(path)
    except Exception as exc:  # pyarrow / pandas raise many types for a damaged file
        msg = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise _bad(path, f"cannot be read as {what} ({type(exc).__name__}: {msg})") from None
    if len(df) == 0 or len(df.columns) == 0:
        raise _bad(path, f"holds no rows ({what})")
    if finite:
        num = df.select_dtypes("number")
        if not np.isfinite(num.to_numpy(dtype=float)).all():
            raise _bad(path, "holds NaN or infinite numbers, which runway never writes there")
    return df


def check_inputs(d: Path, plots: bool) -> tuple[dict[str, Any], Any]:
    """Check every file the report reads; returns summary.json and the paths table (or None)."""
    import pandas as pd

    from runway.report.plots import PLOTS, path_columns

    s = read_summary(d)
    years = [int(y) for y in s["funding_gap"]]
    paths = None
    if plots:
        cols = path_columns(years)
        paths = _table(
            d / "paths.parquet",
            "the per-path table (Parquet)",
            lambda p: pd.read_parquet(p, columns=cols),
            finite=False,
        )
        if len(paths) != s["paths"]:
            raise _bad(
                d / "paths.parquet",
                f"has {len(paths):,} rows but summary.json says {s['paths']:,} paths",
            )
        _table(d / "fan.parquet", "the fan table (Parquet)", pd.read_parquet)
        ann = _table(d / "annual.csv", "the annual table (CSV)", pd.read_csv)
        if "year" not in ann.columns:
            raise _bad(d / "annual.csv", "has no 'year' column")
        det = d / "deterministic.csv"
        if os.path.lexists(det):
            _table(
                det, "the deterministic path (CSV)", lambda p: pd.read_csv(p, dtype={"month": str})
            )
    else:
        from runway.report.plots import DETERMINISTIC_PLOTS

        needed = DETERMINISTIC_PLOTS if s.get("deterministic") else PLOTS
        gone = [f for f in needed if not os.path.lexists(d / f)]
        if gone:
            missing = [f for f in PLOT_INPUTS if not os.path.lexists(d / f)]
            raise OutputError(
                f"{d}: not a run directory (missing {', '.join(missing)} and the plot "
                f"{gone[0]}, so the plots can neither be drawn nor kept)"
            )
        for f in needed:
            _regular(d / f, "a plot")
    return s, paths


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copyfile(src, dst, follow_symlinks=False)


def rerender(run_dir: Path, plots: bool) -> list[Path]:
    """Render the report of ``run_dir`` in a private sibling, then rename each file into place.

    The caller holds the directory's lock. Returns the paths written in ``run_dir``.
    """
    from runway.io import (
        MARKER,
        _fsync,
        _make_partial,
        atomic_write_file,
        clean_stale_leftovers,
        marker_files,
        os_error_line,
        stale_tmp_files,
    )
    from runway.report.plots import PLOTS
    from runway.report.render import render_report

    d = run_dir
    s, paths = check_inputs(d, plots)
    clean_stale_leftovers(d)
    for stale in stale_tmp_files(d):  # a killed report's half-written marker update
        stale.unlink(missing_ok=True)
    try:
        stage = _make_partial(d)
    except OSError as exc:
        raise OutputError(os_error_line(exc, d, "runway report")) from None
    try:
        inputs = ["summary.json", *(f for f in (*PLOT_INPUTS, "deterministic.csv") if plots)]
        if not plots:
            inputs += [f for f in PLOTS if (d / f).is_file()]
        for f in inputs:
            if (d / f).is_file() and not (d / f).is_symlink():
                _link_or_copy(d / f, stage / f)
        try:
            render_report(stage, plots=plots, paths=paths)
        except OSError as exc:
            raise OutputError(os_error_line(exc, d, "runway report")) from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise _bad(
                d / "summary.json",
                f"does not have the layout runway writes ({type(exc).__name__}: {exc})",
            ) from None
        made = [f for f in (*OUTPUTS, *(PLOTS if plots else ())) if (stage / f).is_file()]
        for f in made:
            _fsync(stage / f)
        written = []
        for f in made:  # each rename is atomic: the old file or the new one, never a part
            try:
                os.replace(stage / f, d / f)
            except OSError as exc:
                raise OutputError(os_error_line(exc, d / f, "runway report")) from None
            written.append(d / f)
        _fsync(d, directory=True)
        listed = marker_files(d)
        if listed is not None and not set(made) <= set(listed):
            names = sorted(set(listed) | set(made))
            atomic_write_file(
                d / MARKER,
                lambda p: p.write_text("ok\n" + "".join(f"{n}\n" for n in names)),
                option="runway report",
            )
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `runway run`.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Render report.md, report.html and the plots again from a run directory's files.

    A directory without the per-path files (the committed ``reports/<scenario>/``) keeps its
    PNGs and gets report.md and report.html again. Every file is checked first; nothing is
    written in place (see ``runway/report/command.py``).
    """
    from runway.io import _first_symlink, lock_output, release_output, require_complete

    absolute = Path(os.path.abspath(run_dir))
    link = _first_symlink(absolute)
    if link is not None:
        raise OutputError(
            f"{run_dir}: resolves through the symbolic link {link}; give the real path"
        )
    require_complete(run_dir)  # never read what an interrupted run left behind
    lock_output(run_dir, option="runway report")
    try:
        require_complete(run_dir)  # a run may have replaced it while we waited for the lock
        missing = [f for f in PLOT_INPUTS if not os.path.lexists(run_dir / f)]
        plots = not missing
        if quiet:
            written = rerender(run_dir, plots)
        else:
            from rich.console import Console

            with Console(stderr=True).status(f"rendering the report of {run_dir}"):
                written = rerender(run_dir, plots)
            note = "" if plots else f" (plots kept: no {', '.join(missing)})"
            typer.echo(f"wrote {len(written)} file(s) in {run_dir}{note}")
    finally:
        release_output(run_dir)
