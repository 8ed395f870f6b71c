"""``runway report DIR``: re-render report.md/report.html and the plots without simulating."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runway.errors import OutputError

PLOT_INPUTS = ("paths.parquet", "fan.parquet", "annual.csv")
"""Files the plots are drawn from; without them (``reports/``) the existing PNGs are reused."""


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `runway run`.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Render report.md, report.html and the plots again from a run directory's files.

    A directory without the per-path files (the committed ``reports/<scenario>/``) keeps its
    PNGs and gets report.md and report.html again.
    """
    from runway.io import MARKER, recover_run_dir, require_complete
    from runway.report.plots import PLOTS
    from runway.report.render import render_report

    recover_run_dir(run_dir)
    if run_dir.is_dir() and not (run_dir / MARKER).is_file():
        if not (run_dir / "summary.json").is_file():
            raise OutputError(
                f"{run_dir}: not a run directory (no summary.json); give a directory written "
                "by `runway run CONFIG --out DIR`"
            )
        raise OutputError(
            f"{run_dir}: an incomplete run directory (no {MARKER} marker: the run writing it "
            "was interrupted); run it again into a new directory: "
            "`runway run CONFIG --out NEW_DIR`"
        )
    require_complete(run_dir)  # never read what an interrupted run left behind
    if not (run_dir / "summary.json").is_file():
        raise OutputError(f"{run_dir}: not a run directory (missing summary.json)")
    missing = [f for f in PLOT_INPUTS if not (run_dir / f).is_file()]
    plots = not missing
    import json

    from runway.report.plots import DETERMINISTIC_PLOTS

    deterministic = json.loads((run_dir / "summary.json").read_text()).get("deterministic")
    needed = DETERMINISTIC_PLOTS if deterministic else PLOTS
    if missing and not all((run_dir / f).is_file() for f in needed):
        raise OutputError(f"{run_dir}: not a run directory (missing {', '.join(missing)})")
    if quiet:
        written = render_report(run_dir, plots=plots)
    else:
        from rich.console import Console

        with Console(stderr=True).status(f"rendering the report of {run_dir}"):
            written = render_report(run_dir, plots=plots)
        note = "" if plots else f" (plots kept: no {', '.join(missing)})"
        typer.echo(f"wrote {len(written)} file(s) in {run_dir}{note}")
