"""Command line: thin typer commands that parse, call and print.

Exit codes: 0 success, 2 bad input (one line on stderr naming the key or option), 1 a bug.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from runway.errors import RunwayError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="runway: Monte Carlo model of OpenAI's cash runway (funding gap, time to insolvency).",
    pretty_exceptions_enable=False,
)

_DEBUG = False
MAX_PATHS = 100_000_000
"""Largest --paths accepted (the config's run.paths has the same bound)."""
MAX_THREADS = 4096


def _fail(msg: str) -> None:
    raise RunwayError(msg)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks (for bug reports).")] = False,
) -> None:
    global _DEBUG
    _DEBUG = debug


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="Config TOML (default: the shipped HSBC base config).")
    ] = None,
    paths: Annotated[int | None, typer.Option("--paths", "-n", help="Number of paths (default: the config's run.paths).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="Seed (default: the config's run.seed).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory to write (default: runs/<scenario>).")] = None,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Central values, no shocks: one path.")] = False,
    threads: Annotated[int | None, typer.Option("--threads", "-t", help="Numba threads (results do not depend on it).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    target_mcse: Annotated[float | None, typer.Option(
        "--target-mcse", metavar="X",
        help="Add paths until the MCSE of P(insolvent by the last full year) is <= X and the "
             "MCSE of that year's median funding gap is <= X of the median; --paths is then "
             "the first step.",
    )] = None,
    max_paths: Annotated[int | None, typer.Option(
        "--max-paths", help="Cap on the paths --target-mcse may add up to (default 1,000,000).",
    )] = None,
) -> None:
    """Simulate a config and write a run directory.

    With --target-mcse X the path count is chosen by the run: it is the same run, bit for bit,
    as --paths N with the N it reports (summary.json: target_mcse).
    """
    import runway
    from runway.io import check_output_dir
    from runway.outputs import write_outputs

    from runway.guard import check_disk, check_memory

    if paths is not None and not 1 <= paths <= MAX_PATHS:
        _fail(f"--paths must be between 1 and {MAX_PATHS:,}, got {paths}")
    if seed is not None and not 0 <= seed < 2**63:
        _fail(f"--seed must be an integer in [0, 2**63), got {seed}")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        _fail(f"--threads must be between 1 and {MAX_THREADS}, got {threads}")
    path = config if config is not None else runway.default_config_path()
    cfg = runway.load_config(path)
    out_dir = out if out is not None else Path("runs") / cfg.scenario.name
    check_output_dir(out_dir, replacing=True)
    if max_paths is not None and not 1 <= max_paths <= MAX_PATHS:
        _fail(f"--max-paths must be between 1 and {MAX_PATHS:,}, got {max_paths}")
    if target_mcse is not None:
        from runway.engine import DEFAULT_MAX_PATHS

        cap = max_paths if max_paths is not None else DEFAULT_MAX_PATHS
        planned = 1 if deterministic else cap
    else:
        planned = 1 if deterministic else (paths if paths is not None else cfg.run.paths)
    check_memory(cfg, planned)
    check_disk(out_dir, cfg, planned)  # free space for the run directory, before simulating
    t0 = time.perf_counter()
    progress = None if quiet else _progress_bar(target_mcse)
    try:
        res = runway.simulate(
            path, paths=paths, seed=seed, deterministic=deterministic, threads=threads,
            progress=progress, target_mcse=target_mcse, max_paths=max_paths,
            on_check=None if progress is None else progress.check,
        )
    finally:
        if progress is not None:
            progress.close()
    if quiet:
        written = write_outputs(res, out_dir)
    else:
        from rich.console import Console

        # summary, ESS/R-hat, idata.nc, Parquet and plots take seconds on large runs
        with Console(stderr=True).status(f"writing {out_dir} (tables, idata.nc, plots, report)"):
            written = write_outputs(res, out_dir)
    if not quiet:
        s = res.summary()
        last = str(res.calendar.full_years[-1]) if res.calendar.full_years else str(res.calendar.years[-1])
        gap = s["funding_gap"][last]
        typer.echo(
            f"{cfg.scenario.name}: {res.raw.n_paths:,} path(s) in {time.perf_counter() - t0:.1f} s; "
            f"funding gap {last}: median ${gap['p50']:.1f}bn (P5 {gap['p05']:.1f}, P95 {gap['p95']:.1f}); "
            f"P(insolvent by {last}) = {s['p_insolvent_by'][last]:.3f}"
        )
        tm = s.get("target_mcse")
        if tm:
            rel = tm["rel_mcse_funding_gap_p50"]
            got = (f"MCSE of P(insolvent by {tm['year']}) {tm['mcse_p_insolvent']:.4g}, "
                   "relative MCSE of the median funding gap "
                   f"{'n/a' if rel is None else f'{rel:.4g}'}")
            if tm["reached"]:
                typer.echo(f"--target-mcse {tm['target']:g} reached with {tm['paths']:,} paths "
                           f"({got})")
            else:
                typer.echo(f"--target-mcse {tm['target']:g} NOT reached: stopped at the cap of "
                           f"--max-paths {tm['max_paths']:,} paths ({got})")
        typer.echo(f"wrote {written}")


@app.command()
def validate(config: Annotated[Path, typer.Argument(help="Config TOML to check.")]) -> None:
    """Check a config and print a one-line verdict."""
    import runway

    cfg = runway.load_config(config)
    typer.echo(f"{config}: ok ({cfg.scenario.name}, {cfg.calendar.start}..{cfg.calendar.end}, {len(cfg.compute.contracts)} contracts)")


class _progress_bar:
    """A rich progress bar over paths, shown only when a run lasts more than a moment.

    With --target-mcse the total is the current step's path count and a status column shows
    the last check's MCSEs against the target.
    """

    def __init__(self, target_mcse: float | None = None) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._t0 = time.perf_counter()
        self._target = target_mcse
        self._status = f"target MCSE {target_mcse:g}" if target_mcse is not None else ""

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if (done >= total and self._target is None) or time.perf_counter() - self._t0 < 0.5:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = [TextColumn("paths"), BarColumn(), MofNCompleteColumn()]
            if self._target is not None:
                columns += [TimeElapsedColumn(), TextColumn("{task.fields[status]}")]
            else:
                columns.append(TimeRemainingColumn())
            self._bar = Progress(*columns, transient=True)
            self._bar.start()
            self._task = self._bar.add_task("paths", total=total, status=self._status)
        self._bar.update(self._task, completed=done, total=total, status=self._status)

    def check(self, chk) -> None:
        """Show a :class:`runway.engine.TargetCheck` (called after each --target-mcse step)."""
        rel = "n/a" if chk.rel_mcse_gap_p50 == float("inf") else f"{chk.rel_mcse_gap_p50:.4f}"
        self._status = (f"MCSE: P(insolvent) {chk.mcse_p_insolvent:.4f}, median gap (relative) "
                        f"{rel}; target {self._target:g}{' met' if chk.met else ''}")
        if self._bar is not None:
            self._bar.update(self._task, status=self._status)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _click_exception_types() -> tuple[type[BaseException], ...]:
    """Click's exception base classes: typer >= 0.2x vendors its own click, older ones use click."""
    types: list[type[BaseException]] = []
    try:
        from typer._click import exceptions as vendored

        types.append(vendored.ClickException)
    except ImportError:  # pragma: no cover - depends on the typer version
        pass
    try:
        import click

        types.append(click.ClickException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2.

    Without ``--debug`` no traceback reaches the user for a problem they can fix
    (:class:`RunwayError`, a bad option or argument, a file that cannot be read or written);
    anything else is a bug and keeps its traceback (exit code 1).
    """
    global _DEBUG
    _DEBUG = "--debug" in sys.argv[1:2] or _DEBUG
    click_errors = _click_exception_types()
    try:
        # With standalone_mode=False click returns (not raises) the code of a typer.Exit.
        rc = app(standalone_mode=False)
    except RunwayError as exc:
        if _DEBUG:
            raise
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except click_errors as exc:
        if _DEBUG:
            raise
        typer.echo(f"error: {_one_line(exc.format_message())}", err=True)  # type: ignore[attr-defined]
        sys.exit(2)
    if isinstance(rc, int) and rc != 0:
        sys.exit(rc)


def _one_line(msg: str) -> str:
    return " ".join(msg.split()) or "invalid input"


# --- further commands, each in its own module (one registration line each) -----------------
from runway.report.command import report as _report_cmd  # noqa: E402

app.command("report")(_report_cmd)
from runway.sweep import sweep_command  # noqa: E402
app.command("sweep")(sweep_command)
from runway.bench import bench  # noqa: E402
app.command("bench")(bench)
