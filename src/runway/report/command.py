"""``runway report DIR``: re-render report.md/report.html and the plots without simulating."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runway.errors import OutputError


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `runway run`.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Render report.md, report.html and the plots again from a run directory's files."""
    from runway.report.render import render_report

    need = ("summary.json", "paths.parquet", "fan.parquet", "annual.csv")
    missing = [f for f in need if not (run_dir / f).is_file()]
    if missing:
        raise OutputError(f"{run_dir}: not a run directory (missing {', '.join(missing)})")
    written = render_report(run_dir)
    if not quiet:
        typer.echo(f"wrote {len(written)} file(s) in {run_dir}")
