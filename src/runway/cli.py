"""Command line: thin typer commands that parse, call and print.

Exit codes: 0 success, 2 bad input (one line on stderr naming the key or option, or click's
usage message with its "Try ... --help" line), 1 a bug.

``runway --help`` imports neither numba nor pandas: the commands import what they need when
they run, and the commands defined in other modules (``report``, ``sweep``, ``bench``) are
imported only when invoked (:data:`LAZY_COMMANDS`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from runway.errors import RunwayError

LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "report": (
        "runway.report.command",
        "report",
        "Render report.md, report.html and the plots again from a run directory's files.",
    ),
    "sweep": (
        "runway.sweep.command",
        "sweep_command",
        "Run a sweep of scenarios with common random numbers; write the sweep table and report.",
    ),
    "sensitivity": (
        "runway.sensitivity.command",
        "sensitivity",
        "Rank what drives the gap and the default risk: tornado, Sobol' indices or drivers.",
    ),
    "bench": (
        "runway.bench",
        "bench",
        "Benchmark the numba kernel against the numpy reference; scaling, memory, start-up.",
    ),
}
"""Commands defined elsewhere: name -> (module, function, the one-line help ``--help`` lists).

The line is the first line of the function's docstring (tested), so the list in
``runway --help`` needs no import of the module.
"""


class _LazyGroup(TyperGroup):
    """A typer group whose :data:`LAZY_COMMANDS` are imported when invoked, not when listed."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return names + [n for n in LAZY_COMMANDS if n not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in LAZY_COMMANDS:
            from typer.core import TyperCommand

            short = LAZY_COMMANDS[cmd_name][2]
            return TyperCommand(cmd_name, help=short, short_help=short)  # listed, not loaded
        return cmd

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        if name in LAZY_COMMANDS and name not in self.commands:
            cmd = load_command(name)
            self.commands[name] = cmd
        return name, cmd, rest


def load_command(name: str) -> Any:
    """The click command of lazy command ``name`` (imports its module)."""
    import importlib

    module, attr, _ = LAZY_COMMANDS[name]
    func = getattr(importlib.import_module(module), attr)
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    sub.command(name)(func)
    cmd = typer.main.get_command(sub)
    cmd.name = name
    return cmd


app = typer.Typer(
    cls=_LazyGroup,
    add_completion=True,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="runway: Monte Carlo model of OpenAI's cash runway (funding gap, time to insolvency).",
    pretty_exceptions_enable=False,
)

_DEBUG = False
MAX_PATHS = 100_000_000
"""Largest --paths accepted (the config's run.paths has the same bound)."""
MAX_THREADS = 4096


def _fail(msg: str) -> None:
    raise RunwayError(msg)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runway")
    except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path
        from runway import __version__

        return __version__


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"runway {_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks (for bug reports).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_show_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    global _DEBUG
    _DEBUG = debug
    if ctx.invoked_subcommand is None:  # bare `runway`: the help, exit 0
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def _quiet_libraries() -> None:
    """--quiet: matplotlib's and numba's own warnings and log lines are not printed either."""
    import logging
    import warnings

    for name in ("matplotlib", "matplotlib.font_manager", "numba", "distributed"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="matplotlib")
    warnings.filterwarnings("ignore", message=r"Matplotlib .*")


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="Config TOML (default: the shipped HSBC base config).")
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option("--paths", "-n", help="Number of paths (default: the config's run.paths)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", "-s", help="Seed (default: the config's run.seed).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run directory to write (default: runs/<scenario>)."),
    ] = None,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic",
            help="Central values, no shocks: one path (also run.deterministic in the config).",
        ),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option("--threads", "-t", help="Numba threads (results do not depend on it)."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar, summary or library warnings."),
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Change one config value, e.g. --set consumer.conversion_target=0.15 "
            '(dotted key; the value is TOML: 0.15, true, "2027-01", [1, 2]); repeatable. '
            "Validated like the file and recorded in config.resolved.toml.",
        ),
    ] = None,
    monthly: Annotated[
        bool,
        typer.Option(
            "--monthly",
            help="Also write monthly.csv: every monthly line of every path (runs of at most "
            "1,000 paths).",
        ),
    ] = False,
    target_mcse: Annotated[
        float | None,
        typer.Option(
            "--target-mcse",
            metavar="X",
            help="Add paths until the MCSE of P(insolvent by the last full year) is <= X and the "
            "MCSE of that year's median funding gap is <= X of the median; --paths is then "
            "the first step.",
        ),
    ] = None,
    max_paths: Annotated[
        int | None,
        typer.Option(
            "--max-paths", help="Cap on the paths --target-mcse may add up to (default 1,000,000)."
        ),
    ] = None,
    idata: Annotated[
        bool,
        typer.Option(
            "--idata",
            help="Also write idata.nc: every path's outcomes as arviz InferenceData (netCDF; "
            "the same numbers as paths.parquet).",
        ),
    ] = False,
    policies: Annotated[  # pol: policies
        str,
        typer.Option(
            "--policies",
            metavar="on|off",
            help="on: run the config's [[policies]] and compare with the same seed without them "
            "(summary.json: policies); off: run without them.",
        ),
    ] = "on",
) -> None:
    """Simulate a config and write a run directory.

    With --target-mcse X the path count is chosen by the run: it is the same run, bit for bit,
    as --paths N with the N it reports (summary.json: target_mcse). A run directory's
    config.resolved.toml runs as it is written and reproduces the run.
    """
    if quiet:
        _quiet_libraries()
    import runway
    from runway.config import apply_override_strings
    from runway.guard import check_disk, check_memory
    from runway.io import check_output_dir
    from runway.outputs import write_outputs

    if paths is not None and not 1 <= paths <= MAX_PATHS:
        _fail(f"--paths must be between 1 and {MAX_PATHS:,}, got {paths}")
    if seed is not None and not 0 <= seed < 2**63:
        _fail(f"--seed must be an integer in [0, 2**63), got {seed}")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        _fail(f"--threads must be between 1 and {MAX_THREADS}, got {threads}")
    path = config if config is not None else runway.default_config_path()
    cfg = runway.load_config(path)
    if set_:
        cfg = apply_override_strings(cfg, set_)
    if policies not in ("on", "off"):  # pol: policies
        _fail(f"--policies must be on or off, got {policies!r}")
    if policies == "off":
        from runway.policies import without_policies

        cfg = without_policies(cfg)
    deterministic = deterministic or cfg.run.deterministic
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
    progress = None if quiet else _progress_bar(target_mcse, compiling=_kernel_cache_cold())
    import hashlib

    sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    try:
        res = runway.simulate(
            cfg,
            paths=paths,
            seed=seed,
            deterministic=deterministic,
            threads=threads,
            progress=progress,
            target_mcse=target_mcse,
            max_paths=max_paths,
            on_check=None if progress is None else progress.check,
        )
    finally:
        if progress is not None:
            progress.close()
    from runway.result import Result

    res = Result(res.raw, config_sha256=sha)  # the file's hash, as for a path given to simulate
    if cfg.policies:  # pol: policies -- the paired run without them, same seed and paths
        from runway.policies import compare_with_run

        res.policy_comparison = compare_with_run(res.raw, threads=threads)
    # the --set items, read by runway.report.answers into summary.json and config.resolved.toml
    res.overrides = list(set_ or [])  # type: ignore[attr-defined]
    if quiet:
        written = write_outputs(res, out_dir, monthly=monthly, idata=idata)
    else:
        from rich.console import Console

        # summary, ESS/R-hat, Parquet, plots (and idata.nc) take seconds on large runs
        what = "tables, idata.nc, plots, report" if idata else "tables, plots, report"
        with Console(stderr=True).status(f"writing {out_dir} ({what})"):
            written = write_outputs(res, out_dir, monthly=monthly, idata=idata)
    if not quiet:
        typer.echo(_summary_line(res, time.perf_counter() - t0))
        tm = res.summary(diagnostics=False).get("target_mcse")
        if tm:
            rel = tm["rel_mcse_funding_gap_p50"]
            got = (
                f"MCSE of P(insolvent by {tm['year']}) {tm['mcse_p_insolvent']:.4g}, "
                "relative MCSE of the median funding gap "
                f"{'n/a' if rel is None else f'{rel:.4g}'}"
            )
            if tm["reached"]:
                typer.echo(
                    f"--target-mcse {tm['target']:g} reached with {tm['paths']:,} paths ({got})"
                )
            else:
                typer.echo(
                    f"--target-mcse {tm['target']:g} NOT reached: stopped at the cap of "
                    f"--max-paths {tm['max_paths']:,} paths ({got})"
                )
        typer.echo(f"report: {Path(written) / 'report.html'}")


def _summary_line(res: Any, seconds: float) -> str:
    s = res.summary(diagnostics=False)
    cal = res.calendar
    last = str(cal.full_years[-1]) if cal.full_years else str(cal.years[-1])
    gap = s["funding_gap"][last]
    return (
        f"{s['scenario']}: {res.raw.n_paths:,} path(s) in {seconds:.1f} s; "
        f"funding gap {last}: median ${gap['p50']:.1f}bn (P5 {gap['p05']:.1f}, "
        f"P95 {gap['p95']:.1f}); P(insolvent by {last}) = {s['p_insolvent_by'][last]:.3f}"
    )


@app.command()
def validate(config: Annotated[Path, typer.Argument(help="Config TOML to check.")]) -> None:
    """Check a config and print a one-line verdict."""
    import runway

    cfg = runway.load_config(config)
    typer.echo(
        f"{config}: ok ({cfg.scenario.name}, {cfg.calendar.start}..{cfg.calendar.end}, "
        f"{len(cfg.compute.contracts)} contracts)"
    )


@app.command()
def backtest(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (runway run --out).")],
    actuals: Annotated[
        Path | None,
        typer.Option("--actuals", help="Actuals TOML (default: the shipped sourced file)."),
    ] = None,
) -> None:
    """Each actual after the run's as-of month: percentile, inside the 90% band, interval score."""
    from runway import backtest as bt

    rows = bt.backtest(run_dir, bt.load_actuals(actuals or bt.shipped_actuals()))
    typer.echo(bt.table(rows))


# tools: runway condition, runway compare ---------------------------------------------------
@app.command()
def condition(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (runway run --out).")],
    actuals: Annotated[
        Path | None,
        typer.Option("--actuals", help="Actuals TOML (default: the shipped sourced file)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory to write (default: RUNDIR_conditioned)."),
    ] = None,
) -> None:
    """Reweight a run's paths by the actuals dated after its as-of month (PSIS); before/after."""
    from runway import backtest as bt
    from runway import condition as cond
    from runway.report.render import money, pct

    f = actuals or bt.shipped_actuals()
    acts = bt.load_actuals(f)
    c = cond.condition(run_dir, acts)
    target = out if out is not None else run_dir.parent / f"{run_dir.name}_conditioned"
    written = cond.write(c, target, str(f))
    y = str(c.run.years[-1])
    k = f"{c.pareto_k:.2f}" if c.pareto_k == c.pareto_k else "not finite"
    typer.echo(
        f"{c.run.label}: {len(c.used)} actual(s) after {c.as_of}; ESS {c.ess:,.0f} of "
        f"{c.run.n:,} paths; Pareto k-hat {k}"
    )
    b, a = c.before, c.after
    typer.echo(
        f"P(insolvent by {y}): {pct(b['p_insolvent_by'][y]['value'])} -> "
        f"{pct(a['p_insolvent_by'][y]['value'])}; median funding gap {y}: "
        f"{money(b['funding_gap'][y]['p50']['value'])} -> "
        f"{money(a['funding_gap'][y]['p50']['value'])}"
    )
    warning = c.warning()
    if warning:
        typer.echo(f"WARNING: {warning}")
    typer.echo(f"report: {Path(written) / 'report.html'}")


@app.command()
def compare(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="Run directories (or conditioned ones), the first the base."),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory to write (default: runs/compare)."),
    ] = None,
) -> None:
    """Runs side by side: headline table, PD curves, gap and cash fans, differences with MCSE."""
    from runway import compare as cmp

    runs = cmp.load_runs(run_dirs)
    target = out if out is not None else Path("runs") / "compare"
    res = cmp.compare(runs)
    written = cmp.write(res, target)
    typer.echo(cmp.headline_text(res))
    typer.echo(f"report: {Path(written) / 'report.html'}")


def _kernel_cache_cold() -> bool:
    """Whether numba must compile the kernel on this run (no cache entry yet).

    Reads numba's cache index of the kernel's entry points (the ``parallel`` functions of
    ``runway.kernel.driver``, which the engine calls; the inlined blocks have no entry of their
    own). The cache directory is named after a digest of the kernel's sources
    (``runway._jit``), so an entry there is never stale. Any doubt counts as warm (no message).
    """
    try:
        from numba.core.dispatcher import Dispatcher

        from runway.kernel import driver

        jitted = [
            o
            for o in vars(driver).values()
            if isinstance(o, Dispatcher) and o._cache  # type: ignore[attr-defined]
        ]
        entries = [o for o in jitted if o.targetoptions.get("parallel")] or jitted
        for obj in entries:
            index = Path(obj._cache._cache_file._index_path)  # type: ignore[attr-defined]
            if not index.is_file():
                return True
    except Exception:  # pragma: no cover - numba internals moved: no message, no harm
        return False
    return False


COMPILE_MESSAGE = (
    "compiling the numba kernel (first run after an install or an update, about 20-30 s; "
    "cached for later runs)"
)


class _progress_bar:
    """A rich progress bar over paths, shown only when a run lasts more than a moment.

    With ``compiling`` a message and a spinner are shown until the first paths are done (the
    kernel compiles before them). With --target-mcse the total is the current step's path
    count and a status column shows the last check's MCSEs against the target.
    """

    def __init__(self, target_mcse: float | None = None, *, compiling: bool = False) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._t0 = time.perf_counter()
        self._target = target_mcse
        self._status = f"target MCSE {target_mcse:g}" if target_mcse is not None else ""
        self._spinner: Any = None
        if compiling:
            from rich.console import Console

            console = Console(stderr=True)
            if not console.is_terminal:  # a log file gets the message, a terminal a spinner too
                console.print(COMPILE_MESSAGE, soft_wrap=True, highlight=False)
            self._spinner = console.status(COMPILE_MESSAGE)
            self._spinner.start()

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None
            self._t0 = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        self._stop_spinner()
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
        self._status = (
            f"MCSE: P(insolvent) {chk.mcse_p_insolvent:.4f}, median gap (relative) "
            f"{rel}; target {self._target:g}{' met' if chk.met else ''}"
        )
        if self._bar is not None:
            self._bar.update(self._task, status=self._status)

    def close(self) -> None:
        self._stop_spinner()
        if self._bar is not None:
            self._bar.stop()


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2.

    Without ``--debug`` no traceback reaches the user for a problem they can fix: a
    :class:`RunwayError` is one line; a usage error (a bad option or argument) is click's
    usage message, its "Try ... --help" line and the error. Anything else is a bug and keeps
    its traceback (exit code 1).
    """
    from typer._click import exceptions as click_exc

    global _DEBUG
    _DEBUG = "--debug" in sys.argv[1:2] or _DEBUG
    try:
        # With standalone_mode=False click returns (not raises) the code of a typer.Exit.
        rc = app(prog_name="runway", standalone_mode=False)
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
    except click_exc.ClickException as exc:
        if _DEBUG:
            raise
        exc.show()  # a usage error prints "Usage: ...", "Try '... --help' for help." too
        sys.exit(2)
    if isinstance(rc, int) and rc != 0:
        sys.exit(rc)


def _one_line(msg: str) -> str:
    return " ".join(msg.split()) or "invalid input"
