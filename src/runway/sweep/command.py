"""``runway sweep``: parse the options, run the sweep with a progress bar, print one line."""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from runway.errors import RunwayError


class ExecutorChoice(enum.StrEnum):
    """``--executor`` values (click lists them in --help and rejects others as a usage error)."""

    local = "local"
    dask = "dask"


def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep TOML (see configs/sweeps/).")],
    executor: Annotated[
        ExecutorChoice, typer.Option("--executor", "-e", help="local (processes) or dask.")
    ] = ExecutorChoice.local,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running dask scheduler (--executor dask)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep the scenarios already finished in --out.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: runs/sweeps/<name>)."),
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option("--paths", "-n", help="Paths per scenario (default: the sweep file's)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Worker processes (default: one per CPU)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
    max_scenarios: Annotated[
        int | None,
        typer.Option(
            "--max-scenarios",
            help="Refuse a design of more scenarios than this (default 10,000), before any "
            "is built.",
        ),
    ] = None,
) -> None:
    """Run a sweep of scenarios with common random numbers; write the sweep table and report."""
    from runway.sweep.execute import default_out_dir, run_sweep
    from runway.sweep.spec import load_sweep

    executor = ExecutorChoice(executor).value  # type: ignore[assignment]
    if scheduler is not None:
        from runway.sweep.execute import check_scheduler_address

        check_scheduler_address(scheduler, in_process=False)  # this process has no scheduler
    if max_scenarios is not None and max_scenarios < 1:
        raise RunwayError(f"--max-scenarios must be at least 1, got {max_scenarios}")
    sweep = load_sweep(sweep_file, max_scenarios=max_scenarios)
    t0 = time.perf_counter()
    bar = None if quiet else ScenarioBar()
    try:
        table = run_sweep(
            sweep,
            out=out,
            executor=executor,  # type: ignore[arg-type]
            scheduler=scheduler,
            resume=resume,
            paths=paths,
            workers=workers,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        target = out if out is not None else default_out_dir(sweep)
        typer.echo(
            f"{sweep.spec.name}: {len(table)} scenario(s) in {time.perf_counter() - t0:.1f} s; "
            f"wrote {target}"
        )


class ScenarioBar:
    """A rich progress bar over scenarios (``progress(done, total)``)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` scenarios finished."""
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("scenarios"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("scenarios", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        """Stop the bar (it clears itself)."""
        if self._bar is not None:
            self._bar.stop()
