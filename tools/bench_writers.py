"""Writing a run directory: background threads against serial, and each writer on its own.

One simulation, then ``write_outputs`` alternately with ``background=True`` and ``False``
(``--repeat`` times each, a fresh :class:`runway.result.Result` on the same raw run every
time so nothing cached carries over; arviz imported beforehand so neither pays for it), then
each writer's work timed serially. Wall and CPU seconds; the machine may be shared, so the
wall ratio is the comparison (same process, interleaved). Usage:
``python tools/bench_writers.py [--paths 1000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import runway
from runway.outputs import deterministic_path, write_outputs, write_paths_parquet
from runway.result import Result


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    """Run the comparison and print it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    raw = runway.simulate(runway.default_config_path(), paths=a.paths, seed=1).raw
    from runway.report.idata import arviz

    arviz()
    tmp = Path(tempfile.mkdtemp(prefix="bench_writers"))
    write_outputs(Result(raw), tmp / "warm")  # loads numba caches, matplotlib fonts
    from runway.stats import convergence

    variants = {  # (background, threads for ESS/R-hat)
        "background, ESS 2 threads": (True, 2),
        "background, ESS 1 thread": (True, 1),
        "serial": (False, 1),
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    default_threads = convergence.MAX_THREADS
    for _ in range(a.repeat):
        for name, (bg, th) in variants.items():
            convergence.MAX_THREADS = th or default_threads
            times[name].append(
                _timed(lambda bg=bg: write_outputs(Result(raw), tmp / "r", background=bg))
            )
    convergence.MAX_THREADS = default_threads
    load = os.getloadavg()[0]
    head = f"write_outputs, {a.paths:,} paths, median of {a.repeat}, load {load:.1f}"
    print(f"{head} (wall s, cpu s):")
    for name in variants:
        w = statistics.median(t[0] for t in times[name])
        c = statistics.median(t[1] for t in times[name])
        each = " ".join(f"{t[0]:.2f}" for t in times[name])
        print(f"  {name:26s} {w:6.2f} {c:6.2f}   (wall of each: {each})")
    for name in list(variants)[:2]:
        ratio = statistics.median(
            s[0] / b[0] for s, b in zip(times["serial"], times[name], strict=True)
        )
        print(f"  serial / {name}, wall: {ratio:.2f}x")

    res = Result(raw)
    d = tmp / "parts"
    d.mkdir()
    det = deterministic_path(res)
    parts = {
        "paths table": lambda: res.paths,
        "paths.parquet": lambda: write_paths_parquet(res.paths, d / "paths.parquet"),
        "fan.parquet": lambda: res.fan.to_parquet(d / "fan.parquet", index=False),
        "annual.csv": lambda: res.annual_wide().to_csv(d / "annual.csv", float_format="%.10g"),
        "deterministic.csv": lambda: det.to_csv(d / "deterministic.csv", index=False),
        "summary numbers": lambda: res.summary(diagnostics=False),
        "ESS/R-hat": lambda: res.diagnostics,
        "idata (build)": lambda: res.to_idata(),
    }
    from runway.report.idata import write_idata
    from runway.report.render import draw_plots

    parts["idata.nc"] = lambda: write_idata(res.to_idata(), d / "idata.nc")
    parts["plots"] = lambda: draw_plots(d, res.summary(diagnostics=False), res.paths)
    print("each part serially (wall s, cpu s):")
    for name, fn in parts.items():
        w, c = _timed(fn)
        print(f"  {name:20s} {w:6.2f} {c:6.2f}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
