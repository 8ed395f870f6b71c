"""``runway sensitivity``: tornado, Sobol' indices or drivers; writes a small directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from runway.errors import RunwayError

METHODS = ("tornado", "sobol", "drivers")


class _Bar:
    """A rich progress bar over the runs of a method (none with --quiet)."""

    def __init__(self, what: str, quiet: bool) -> None:
        self.what, self.quiet = what, quiet
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn(self.what),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def sensitivity(
    source: Annotated[
        Path,
        typer.Argument(
            help="Config TOML (tornado, sobol) or a run directory of `runway run` (drivers)."
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help="tornado, sobol or drivers.")
    ] = "tornado",
    outputs: Annotated[
        str | None,
        typer.Option(
            "--outputs",
            help="Comma-separated outputs, e.g. p_insolvent_by_2030,funding_gap_2030_p50 "
            "(tornado) or funding_gap_2030,insolvent_by_2030 (sobol); default: all years.",
        ),
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option(
            "--paths",
            "-n",
            help="Paths per run (tornado; default 16,384) or the base N (sobol; default 2,048).",
        ),
    ] = None,
    target_mcse: Annotated[
        float | None,
        typer.Option(
            "--target-mcse",
            metavar="X",
            help="Tornado: double --paths until every swing's MCSE of P(insolvent by the last "
            "full year) is <= X and of its median gap <= X of the base median.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory to write (default: runs/<scenario>_<method>)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="Seed.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", "-t", help="Numba threads.")] = None,
    no_groups: Annotated[
        bool,
        typer.Option("--no-groups", help="One row per input (no groups of contracts' inputs)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Rank what drives the gap and the default risk: tornado, Sobol' indices or drivers."""
    import runway
    from runway.io import check_output_dir, dump_json, write_run_dir
    from runway.sensitivity import drivers, sobol, tornado
    from runway.sensitivity import report as R

    if method not in METHODS:
        raise RunwayError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if paths is not None and not 1 <= paths <= 10_000_000:
        raise RunwayError(f"--paths must be between 1 and 10,000,000, got {paths}")
    if seed is not None and not 0 <= seed < 2**63:
        raise RunwayError(f"--seed must be an integer in [0, 2**63), got {seed}")
    if threads is not None and not 1 <= threads <= 4096:
        raise RunwayError(f"--threads must be between 1 and 4096, got {threads}")
    if target_mcse is not None and method != "tornado":
        raise RunwayError("--target-mcse applies to --method tornado only")
    outs = [o.strip() for o in outputs.split(",") if o.strip()] if outputs else None
    groups = not no_groups
    t0, c0 = time.perf_counter(), time.process_time()
    bar = _Bar(method, quiet)
    if method == "drivers":
        if not source.is_dir():
            raise RunwayError(
                f"{source}: --method drivers reads a run directory of `runway run`, not a file"
            )
        if outs or paths is not None:
            raise RunwayError("--method drivers reads a run: --outputs and --paths do not apply")
        from runway.io import require_complete

        cfg = runway.load_config(require_complete(source) / "config.resolved.toml")
        out_dir = out if out is not None else Path("runs") / f"{cfg.scenario.name}_drivers"
        check_output_dir(out_dir)
        df = drivers(source, groups=groups, seed=seed or 0)
        headline = str(df["target"].iloc[0])
    else:
        if source.is_dir():
            raise RunwayError(f"{source}: --method {method} needs a config TOML, not a directory")
        cfg = runway.load_config(source)
        out_dir = out if out is not None else Path("runs") / f"{cfg.scenario.name}_{method}"
        check_output_dir(out_dir)
        try:
            if method == "tornado":
                df = tornado(
                    cfg,
                    outputs=outs,
                    paths=paths,
                    seed=seed,
                    groups=groups,
                    target_mcse=target_mcse,
                    threads=threads,
                    progress=bar,
                )
            else:
                df = sobol(
                    cfg,
                    outputs=outs,
                    n=paths,
                    seed=seed,
                    groups=groups,
                    threads=threads,
                    progress=bar,
                )
        finally:
            bar.close()
        from runway.calendar import Calendar
        from runway.sensitivity.measures import default_year

        y = default_year(Calendar.from_strings(cfg.calendar.start, cfg.calendar.end))
        want = f"funding_gap_{y}_p50" if method == "tornado" else f"funding_gap_{y}"
        keys = list(dict.fromkeys(df["output"]))
        headline = want if want in keys else keys[0]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    desc = {
        "tornado": "Each uncertain input (or group) held at its 10th and 90th percentiles, every "
        "other input and monthly shock as drawn, paired by common random numbers; MCSE of the "
        "paired differences (sectioning for quantiles). Interactions are ignored.",
        "sobol": "First-order (S1) and total (ST) Sobol' indices from SALib's Saltelli/Sobol' "
        "design over the per-path inputs; the monthly shocks (the model's own noise) are one "
        "more factor, 'shocks'. Intervals: 95% bootstrap half-widths.",
        "drivers": "Which inputs separate the target paths (worst decile of the gap; paths "
        "out of cash) from the rest in an existing run: KS distance with a 95% bootstrap "
        "half-width, SALib's PAWN index.",
    }[method]
    meta = {
        "method": method,
        "scenario": cfg.scenario.name,
        "source": str(source),
        "description": desc,
        "headline": headline,
        "paths_per_run": int(df["paths"].iloc[0]) if "paths" in df else None,
        "sobol_N": int(df["N"].iloc[0]) if "N" in df else None,
        "runs_paths": int(df["n"].iloc[0]) if "n" in df else None,
        "seed": seed if seed is not None else cfg.run.seed,
        "groups": groups,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "columns": list(df.columns),
    }
    png = R.TORNADO_PNG if method == "tornado" else R.DRIVERS_PNG
    title = f"{cfg.scenario.name}: {method} of {headline}"
    writers = {
        "sensitivity.csv": lambda p: df.to_csv(p, index=False, float_format="%.10g"),
        "sensitivity.json": dump_json({"meta": meta, "rows": R.records(df)}),
        png: lambda p: R.plot_bars(df, method, headline, p, title),
        "report.md": lambda p: p.write_text(R.report_md(df, method, meta, png)),
    }
    written = write_run_dir(out_dir, writers)
    if not quiet:
        typer.echo(f"{method}: {len(df)} rows in {wall:.1f} s wall, {cpu:.1f} s CPU")
        for w in R.words(df, method, headline, 3):
            typer.echo(f"  {w}")
        typer.echo(f"written: {written}")
