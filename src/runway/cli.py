"""Command line: thin typer commands that parse, call and print.

Exit codes: 0 success, 2 bad input (one line on stderr naming the key or option), 1 a bug.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from runway.errors import RunwayError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="runway: Monte Carlo model of OpenAI's cash runway (funding gap, time to insolvency).",
    pretty_exceptions_enable=False,
)

_DEBUG = False


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


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
) -> None:
    """Simulate a config and write a run directory."""
    import runway
    from runway.io import check_output_dir
    from runway.outputs import write_outputs

    path = config if config is not None else runway.default_config_path()
    cfg = runway.load_config(path)
    if paths is not None and paths < 1:
        _fail(f"--paths must be at least 1, got {paths}")
    if seed is not None and seed < 0:
        _fail(f"--seed must be a non-negative integer, got {seed}")
    if threads is not None and threads < 1:
        _fail(f"--threads must be at least 1, got {threads}")
    out_dir = out if out is not None else Path("runs") / cfg.scenario.name
    check_output_dir(out_dir)
    t0 = time.perf_counter()
    progress = None if quiet else _progress_bar()
    try:
        res = runway.simulate(path, paths=paths, seed=seed, deterministic=deterministic, threads=threads, progress=progress)
    finally:
        if progress is not None:
            progress.close()
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
        typer.echo(f"wrote {written}")


@app.command()
def validate(config: Annotated[Path, typer.Argument(help="Config TOML to check.")]) -> None:
    """Check a config and print a one-line verdict."""
    import runway

    cfg = runway.load_config(config)
    typer.echo(f"{config}: ok ({cfg.scenario.name}, {cfg.calendar.start}..{cfg.calendar.end}, {len(cfg.compute.contracts)} contracts)")


class _progress_bar:
    """A rich progress bar over paths, shown only when a run lasts more than a moment."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None
        self._t0 = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if done >= total or time.perf_counter() - self._t0 < 0.5:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("paths"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
            )
            self._bar.start()
            self._task = self._bar.add_task("paths", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def main() -> None:
    """Console entry point: user errors become one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except RunwayError as exc:
        if _DEBUG:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.UsageError):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        if isinstance(exc, click.exceptions.ClickException):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        raise


# --- further commands, each in its own module (one registration line each) -----------------
# (report) app.command("report")(...)
# (sweep) app.command("sweep")(...)
# (bench) app.command("bench")(...)
