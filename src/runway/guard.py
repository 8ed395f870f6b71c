"""Memory guard: refuse a run, sweep or grid that would not fit, before it starts.

The estimate is built from the real footprint of ``runway run``, measured (peak resident
set, ``VmHWM``, of a child process) and fitted to three size terms the config determines
(:func:`footprint_terms`):

``per_path_bytes``
    the engine's per-path arrays (outcomes, exposures, the annual lines kept per path);
``batch_bytes``
    the chunk-sized working buffers: one batch of monthly fan lines and annual lines, of
    ``max(1, 32,768 // chunk_size) * chunk_size`` rows (so a ``chunk_size`` of 1,000,000
    means batches of 1,000,000 rows, not 32,768);
``trace_bytes``
    the monthly trace of small runs (at most 1,000 paths), written to ``monthly.csv``.

A run peaks in one of two phases, so the estimate is the larger of

* simulating: :data:`SIM_BASE_BYTES` (interpreter, numpy, numba and the compiled kernel,
  pandas) ``+ per_path_bytes + BATCH_FACTOR * batch_bytes`` (the per-path arrays once, the
  batch buffers and the histogram updates' temporaries), and
* writing the outputs (the batch buffers are freed by then): :data:`BASE_BYTES` (the above
  plus pyarrow, arviz, matplotlib and the plots) ``+ PATH_FACTOR * per_path_bytes +
  TRACE_FACTOR * trace_bytes`` (the paths table, Parquet and netCDF buffers and the
  diagnostics each hold copies of the per-path data).

Re-measuring (when the kernel or the outputs change)
----------------------------------------------------
``python -m runway.guard --measure`` runs :data:`CALIBRATION` (five ``runway run`` child
processes of different path counts, chunk sizes and horizons; a few minutes), reads each
child's ``VmHWM`` from ``/proc/self/status`` as it exits (its own peak, not one inherited
through ``ru_maxrss``), fits the constants (least squares on the writing-phase points, and
on the two points dominated by their chunk-sized buffers) and prints each point's error;
paste them below. ``tests/test_guard.py`` checks the estimate against fresh measurements of
three other configs (within 25%).

The available memory is Linux's ``MemAvailable`` from ``/proc/meminfo`` (what can be
allocated without swapping), or free physical pages from :func:`os.sysconf` elsewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runway.config import Config
from runway.errors import RunwayError

HEADROOM = 0.8
"""Share of the available memory a run may plan to use (the OS and other programs need the rest)."""

# --- measured constants (python -m runway.guard --measure; see the module docstring) ----------
# Last measured 2026-12-02 on the 2-core Linux box of the project (python 3.11, numba threads
# = 2), the engine after the calibration, financing and sensitivity issues (idata.nc only on
# request, inputs.parquet written): fit errors +0.7%, +4.8%, +6.5%, -9.5%, 0.0%, 0.0% on the
# six CALIBRATION points (measured 521, 502, 875, 885, 725, 1114 MiB).
BASE_BYTES = 548_421_000
"""Writing phase: peak of a tiny run (interpreter, numba, pandas, pyarrow, arviz, matplotlib)."""
SIM_BASE_BYTES = 351_355_000
"""Simulating phase: what is resident before the outputs' libraries are imported (bytes)."""
PATH_FACTOR = 2.667
"""Writing phase: peak bytes per byte of ``per_path_bytes``."""
TRACE_FACTOR = 0.0
"""Writing phase: peak bytes per byte of the monthly trace of small runs."""
BATCH_FACTOR = 0.999
"""Simulating phase: peak bytes per byte of the chunk-sized batch buffers."""
WORKER_BASE_BYTES = 300_000_000
"""Resident memory of an idle sweep worker process (interpreter, numba, runway imported)."""

MAX_SCENARIOS = 10_000
"""Default cap on the scenarios of a sweep (``--max-scenarios``): each is a validated config
in memory (tens of kB) and a row; a grid's size is the product of its axes' lengths."""


class MemoryGuardError(RunwayError):
    """A run whose estimated memory exceeds what the machine has."""


def available_memory_bytes() -> int | None:
    """Memory that can be allocated now, in bytes, or None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _n_drawn(cfg: Config) -> int:
    """How many drawn values each path keeps (``Result.inputs``): the config's uncertain rows."""
    import numpy as np

    from runway import kernel
    from runway.layout import Kind
    from runway.model.inputs import build_inputs

    inp = build_inputs(cfg)
    if not inp.stochastic:
        return 0
    return int(np.count_nonzero(kernel.pack(inp).dkind != Kind.FIXED))


def footprint_terms(cfg: Config, paths: int) -> dict[str, int]:
    """The three size terms of a run of ``paths`` paths (bytes; see the module docstring)."""
    from runway import layout as K
    from runway.calendar import Calendar
    from runway.engine import ANNUAL_KEEP, BATCH_PATHS, MAX_QUARTER_PATHS, MAX_TRACE_PATHS

    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    n_years, n_months = len(cal.years), cal.n_months
    n_cp = len({c.counterparty for c in cfg.compute.contracts})
    per_path = 8 * (K.N_OUT + n_cp + n_years * len(ANNUAL_KEEP) + 1 + _n_drawn(cfg))
    cs = cfg.run.chunk_size
    rows = min(paths, max(1, BATCH_PATHS // cs) * cs)
    batch = rows * 8 * (3 * n_months + n_years * K.N_LINES)
    trace = paths * n_months * K.N_LINES * 8 if paths <= MAX_TRACE_PATHS else 0
    # tools: the quarterly lines (float32), held once in both phases (written in row groups)
    quarter = 4 * K.N_QUARTER * (cal.end // 3 - cal.start // 3 + 1) * paths
    if paths > MAX_QUARTER_PATHS:  # larger runs keep no quarterly lines (engine.run)
        quarter = 0
    return {
        "per_path_bytes": per_path * paths,
        "batch_bytes": batch,
        "trace_bytes": trace,
        "quarter_bytes": quarter,
    }


def estimate_peak_bytes(cfg: Config, paths: int) -> int:
    """Estimated peak resident memory of ``runway run`` with ``paths`` paths, in bytes."""
    t = footprint_terms(cfg, paths)
    return int(max(_sim_phase(t), _write_phase(t)))


def _sim_phase(t: dict[str, int]) -> float:
    q = t.get("quarter_bytes", 0)  # tools: quarterly lines
    return SIM_BASE_BYTES + t["per_path_bytes"] + BATCH_FACTOR * t["batch_bytes"] + q


def _write_phase(t: dict[str, int]) -> float:
    q = t.get("quarter_bytes", 0)  # tools: quarterly lines
    return BASE_BYTES + PATH_FACTOR * t["per_path_bytes"] + TRACE_FACTOR * t["trace_bytes"] + q


def check_memory(cfg: Config, paths: int, available: int | None = None) -> int:
    """Raise :class:`MemoryGuardError` when a run of ``paths`` paths would not fit.

    Parameters
    ----------
    cfg : Config
        The validated config (its horizon, contracts and chunk size set the sizes).
    paths : int
        Number of paths of the run.
    available : int, optional
        Available memory in bytes (default: :func:`available_memory_bytes`).

    Returns
    -------
    int
        The estimate in bytes.
    """
    need = estimate_peak_bytes(cfg, paths)
    have = available_memory_bytes() if available is None else available
    if have is None:
        return need
    budget = int(have * HEADROOM)
    if need > budget:
        t = footprint_terms(cfg, paths)
        batch = BATCH_FACTOR * t["batch_bytes"]
        if _sim_phase(t) > _write_phase(t) and batch > (budget - SIM_BASE_BYTES) / 2:
            raise MemoryGuardError(
                f"run.chunk_size = {cfg.run.chunk_size:,}: the run needs an estimated "
                f"{_gib(need)} of memory, {_gib(batch)} of it for chunk-sized buffers, but "
                f"{_gib(have)} is available ({HEADROOM:.0%} usable); use a smaller "
                "run.chunk_size (the default is 2,048)"
            )
        per_path = max(PATH_FACTOR * t["per_path_bytes"] / max(paths, 1), 1.0)
        fit = max(1, int((budget - BASE_BYTES) // per_path))
        raise MemoryGuardError(
            f"--paths {paths:,}: the run needs an estimated {_gib(need)} of memory but "
            f"{_gib(have)} is available ({HEADROOM:.0%} usable); use fewer --paths "
            f"(about {fit:,} fit) or a machine with more memory"
        )
    return need


def estimate_disk_bytes(cfg: Config, paths: int) -> int:
    """Bytes a run directory of ``paths`` paths takes on disk (measured on the shipped config).

    paths.parquet and idata.nc take about 200 bytes a path for 6 calendar years (85 + 112 at
    100,000 paths), growing with the years; monthly.csv (runs of at most 1,000 paths) about
    10 bytes a monthly value; plots, tables and the report about 2 MB.
    """
    from runway import layout as K
    from runway.calendar import Calendar
    from runway.engine import MAX_TRACE_PATHS

    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    per_path = 200 * max(1.0, len(cal.years) / 6)
    # tools: quarters.parquet, float32 uncompressed: a bound (measured 358 bytes a path of 864)
    per_path += 4 * K.N_QUARTER * (cal.end // 3 - cal.start // 3 + 1)
    trace = paths * cal.n_months * K.N_LINES * 11 if paths <= MAX_TRACE_PATHS else 0
    return int(2_000_000 + per_path * paths + trace)


def check_disk(out: str | Path, cfg: Config, paths: int) -> int:
    """Refuse (one line) a run whose directory would not fit on the disk of ``out``."""
    from runway.io import check_free_space

    need = estimate_disk_bytes(cfg, paths)
    check_free_space(out, need)
    return need


def check_sweep_memory(
    cfg: Config, paths: int, concurrent: int, available: int | None = None
) -> int:
    """Refuse a sweep whose ``concurrent`` scenarios (one per worker) would not fit.

    Each worker holds its own interpreter (:data:`WORKER_BASE_BYTES`) and one scenario's
    simulation (the run estimate without the output writing base); the parent holds one
    more interpreter. Returns the estimate in bytes.
    """
    one = estimate_peak_bytes(cfg, paths) - BASE_BYTES + WORKER_BASE_BYTES
    need = BASE_BYTES + concurrent * one
    have = available_memory_bytes() if available is None else available
    if have is not None and need > HEADROOM * have:
        fit = max(1, int((HEADROOM * have - BASE_BYTES) // one))
        raise MemoryGuardError(
            f"--paths {paths:,} x {concurrent} worker(s): the sweep needs an estimated "
            f"{_gib(need)} of memory but {_gib(have)} is available ({HEADROOM:.0%} usable); "
            f"use fewer --paths or --workers (about {fit} worker(s) fit)"
        )
    return need


def check_scenario_count(n: int, cap: int, source: str) -> None:
    """Refuse a sweep of more than ``cap`` scenarios before any is built (one line)."""
    if n > cap:
        raise RunwayError(
            f"{source}: the design has {n:,} scenarios, more than --max-scenarios {cap:,}; "
            "use fewer axis values, or raise --max-scenarios if the machine can take it "
            "(each scenario is a config in memory and a simulation)"
        )


# --- measuring ----------------------------------------------------------------------------------
_CHILD = r"""
import atexit, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("RUNWAY_VMHWM_KB " + line.split()[1] + "\n")
atexit.register(peak)
from runway.cli import main
sys.argv = ["runway"] + sys.argv[1:]
main()
"""


@dataclass(frozen=True)
class Point:
    """One measured configuration: horizon end month, chunk size and paths."""

    end: str
    chunk_size: int
    paths: int


CALIBRATION = (
    Point("2030-12", 2048, 1000),  # base + trace
    Point("2030-12", 2048, 2000),  # base
    Point("2030-12", 2048, 300_000),  # writing phase, per path
    Point("2036-12", 2048, 150_000),  # writing phase, longer horizon
    Point("2030-12", 100_000, 100_000),  # simulating phase: chunk-sized batch buffers
    Point("2030-12", 200_000, 200_000),  # simulating phase, buffers twice as large
)
"""Measured by :func:`calibrate`; the last two must be dominated by their batch buffers."""


def config_text(end: str, chunk_size: int, base: Path | None = None) -> str:
    """The shipped base config with its horizon end and chunk size replaced."""
    import runway

    text = (base or runway.default_config_path()).read_text(encoding="utf-8")
    text, n1 = re.subn(r'(?m)^end = "\d{4}-\d{2}"', f'end = "{end}"', text, count=1)
    text, n2 = re.subn(r"(?m)^chunk_size = \d+", f"chunk_size = {chunk_size}", text, count=1)
    if not (n1 and n2):  # pragma: no cover - the base config changed shape
        raise RuntimeError("base config: no calendar end or run.chunk_size line to replace")
    return text


def measure_peak(point: Point, threads: int | None = None) -> tuple[int, int]:
    """Run ``runway run`` for ``point`` in a child process: (VmHWM bytes, estimate bytes)."""
    from runway.config import load_config

    with tempfile.TemporaryDirectory(prefix="runway-guard-") as tmp:
        cfg_path = Path(tmp) / "c.toml"
        cfg_path.write_text(config_text(point.end, point.chunk_size))
        cmd = [
            sys.executable,
            "-c",
            _CHILD,
            "run",
            str(cfg_path),
            "--paths",
            str(point.paths),
            "--out",
            str(Path(tmp) / "out"),
            "-q",
        ]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"measurement run failed: {r.stderr[-2000:]}")
        m = re.search(r"RUNWAY_VMHWM_KB (\d+)", r.stderr)
        if m is None:  # pragma: no cover - no /proc
            raise RuntimeError("no VmHWM reported (needs Linux /proc)")
        est = estimate_peak_bytes(load_config(cfg_path), point.paths)
    return int(m.group(1)) * 1024, est


def calibrate(points: tuple[Point, ...] = CALIBRATION) -> dict[str, float]:
    """Measure ``points`` and fit the constants (see the module docstring)."""
    import tomllib

    import numpy as np

    from runway.config import config_from_dict

    terms, peaks = [], []
    for pt in points:
        peak, _ = measure_peak(pt)
        cfg = config_from_dict(tomllib.loads(config_text(pt.end, pt.chunk_size)))
        terms.append(footprint_terms(cfg, pt.paths))
        peaks.append(float(peak) - terms[-1]["quarter_bytes"])  # tools: a known term
        print(f"{pt}: VmHWM {peak / 2**20:.0f} MiB; terms {terms[-1]}", flush=True)
    from scipy.optimize import nnls

    # Non-negative least squares: every term is memory, so no factor may come out negative
    # (plain least squares gave the trace a factor of -0.82 once: noise between two small runs).
    a = np.array([[1.0, t["per_path_bytes"], t["trace_bytes"]] for t in terms[:-2]])
    (base, path_f, trace_f), _ = nnls(a, np.array(peaks[:-2]))
    b = np.array([[1.0, t["batch_bytes"]] for t in terms[-2:]])
    y = np.array([p - t["per_path_bytes"] for p, t in zip(peaks[-2:], terms[-2:], strict=True)])
    (sim_base, batch_f), _ = nnls(b, y)
    fitted = {
        "BASE_BYTES": base,
        "SIM_BASE_BYTES": sim_base,
        "PATH_FACTOR": path_f,
        "TRACE_FACTOR": trace_f,
        "BATCH_FACTOR": batch_f,
    }
    for t, pk in zip(terms, peaks, strict=True):
        est = max(
            sim_base + t["per_path_bytes"] + batch_f * t["batch_bytes"],
            base + path_f * t["per_path_bytes"] + trace_f * t["trace_bytes"],
        )
        print(
            f"  measured {pk / 2**20:.0f} MiB, fitted {est / 2**20:.0f} MiB ({est / pk - 1:+.1%})"
        )
    return fitted


def main(argv: list[str] | None = None) -> None:
    """``python -m runway.guard --measure``: print freshly measured constants."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m runway.guard")
    ap.add_argument("--measure", action="store_true", help="measure and fit the constants")
    a = ap.parse_args(argv)
    if not a.measure:
        ap.print_help()
        return
    for k, v in calibrate().items():
        print(f"{k} = {int(v):_}" if k.endswith("BYTES") else f"{k} = {v:.4g}")


if __name__ == "__main__":
    main()
