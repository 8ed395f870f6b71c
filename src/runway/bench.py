"""``runway bench``: the numba kernel against a numpy reference, scaling, memory and start-up.

Everything is measured in one process (after warming the JIT), except what needs a fresh
interpreter: peak memory of each scaling point and the cold/warm start of ``runway run``,
which run in subprocesses. No number here is ever a test assertion; each timing carries a
correctness number beside it (the mean funding gap of the last year from both
implementations, the bitwise equality of 1- and 2-thread runs).

The numpy reference lives in ``benchmarks/reference.py`` (repository checkouts only).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import numba
import numpy as np
import typer
from numba.typed import List as TypedList

from runway import kernel as K
from runway.layout import N_EPS, N_FAN, N_LINES, N_OUT, L

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "latest.json"
MAX_POINT_S = 150.0
"""Scaling points whose estimated run time exceeds this are skipped (and say so)."""


def _reference():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks import reference

    return reference


def _config(months: int | None = None):
    import runway
    from runway.config import config_from_dict

    cfg = runway.load_config(runway.default_config_path())
    if months is None:
        return cfg
    d = cfg.model_dump(mode="python")
    y0, m0 = (int(x) for x in cfg.calendar.start.split("-"))
    last = y0 * 12 + (m0 - 1) + months - 1
    d["calendar"]["end"] = f"{last // 12:04d}-{last % 12 + 1:02d}"
    return config_from_dict(d, f"bench({months} months)")


_BUFFERS: dict[tuple, tuple] = {}


def _kernel_once(inp, n_paths: int, seed: int, chunk: int = 2048) -> tuple[float, np.ndarray]:
    """Run :func:`runway.kernel.run_chunks` on ``n_paths``; seconds and annual lines.

    The output buffers are allocated and touched once per size, outside the timing, as the
    engine reuses its batch buffers: the time is the kernel's, not the first-touch page
    faults of a few hundred MB of fresh memory.
    """
    n_chunks = math.ceil(n_paths / chunk)
    offsets = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * chunk, n_paths)
    rngs = TypedList(
        [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chunks)]
    )
    key = (n_paths, inp.n_months, inp.n_years, inp.n_counterparties)
    if key not in _BUFFERS:
        _BUFFERS.clear()
        _BUFFERS[key] = (
            np.zeros((n_paths, N_FAN, inp.n_months)),
            np.zeros((n_paths, inp.n_years, N_LINES)),
            np.zeros((n_paths, N_OUT)),
            np.zeros((n_paths, inp.n_counterparties)),
        )
        for b in _BUFFERS[key]:
            b.fill(1.0)  # touch every page now
    fan, ann, out, exposure = _BUFFERS[key]
    monthly = np.empty((0, inp.n_months, N_LINES))
    kin = K.pack(inp)
    t0 = time.perf_counter()
    K.run_chunks(kin, rngs, offsets, fan, ann, out, exposure, monthly)
    return time.perf_counter() - t0, ann.copy()


def _best(fn, repeat: int) -> tuple[float, Any]:
    best, val = math.inf, None
    for _ in range(repeat):
        dt, val = fn()
        best = min(best, dt)
    return best, val


@numba.njit(cache=True, nogil=True)
def _raw_normals(rng, n):  # pragma: no cover - jitted
    s = 0.0
    for _ in range(n):
        s += rng.standard_normal()
    return s


def _gap_stats(ann: np.ndarray) -> dict[str, float]:
    g = ann[:, -1, L.FUNDING_GAP]
    return {"mean": float(g.mean()), "mcse": float(g.std(ddof=1) / math.sqrt(g.size))}


_SCALE_CODE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from runway.bench import _config
from runway import engine
cfg = _config({months})
engine.run(cfg, paths=64, seed=1, threads={threads})
import tracemalloc
base = int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
tracemalloc.start()
t0 = time.perf_counter()
raw = engine.run(cfg, paths={paths}, seed=1, threads={threads})
dt = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gi = list(engine.ANNUAL_KEEP).index('funding_gap')
print(json.dumps(dict(seconds=dt, peak_rss_mb=peak, base_rss_mb=base, run_alloc_peak_mb=traced,
                      gap_mean=float(raw.annual_paths[:, -1, gi].mean()), n_months=raw.inputs.n_months)))
"""


def _scale_point(paths: int, months: int, threads: int) -> dict[str, Any]:
    code = _SCALE_CODE.format(root=str(ROOT / "src"), months=months, paths=paths, threads=threads)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"paths": paths, "months": months, "error": res.stderr.strip().splitlines()[-1:]}
    d = json.loads(res.stdout.strip().splitlines()[-1])
    d.update(paths=paths, months=months, path_months_per_s=paths * months / d["seconds"])
    return d


def _scaling(
    paths_list, months_list, base_paths, base_months, rate, threads, log
) -> dict[str, list]:
    def point(p, m):
        est = p * m / rate
        if est > MAX_POINT_S:
            log(f"  skip paths={p:.0e} months={m}: estimated {est:.0f} s")
            return {
                "paths": p,
                "months": m,
                "skipped": f"estimated {est:.0f} s > {MAX_POINT_S:.0f} s",
            }
        d = _scale_point(p, m, threads)
        log(
            f"  paths={p:.0e} months={m}: {d.get('seconds', float('nan')):.2f} s, peak {d.get('peak_rss_mb', float('nan')):.0f} MB"
        )
        return d

    return {
        "by_paths": [point(p, base_months) for p in paths_list],
        "by_months": [point(base_paths, m) for m in months_list],
    }


def _cli_start(paths: int, threads: int, cold: bool = True) -> dict[str, Any]:
    """Cold (empty numba cache) and warm start of ``runway run`` as subprocesses."""
    exe = [
        sys.executable,
        "-m",
        "runway",
        "run",
        "--paths",
        str(paths),
        "--quiet",
        "--threads",
        str(threads),
    ]
    out: dict[str, Any] = {"paths": paths}
    with tempfile.TemporaryDirectory() as tmp:
        # Cold: an empty cache dir; the warm run then reuses it. Warm only: the default cache,
        # already filled by this process's own warm-up.
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba_cache")) if cold else None
        for label in ("cold", "warm") if cold else ("warm",):
            t0 = time.perf_counter()
            res = subprocess.run(
                exe + ["--out", str(Path(tmp) / label)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            out[f"{label}_s"] = time.perf_counter() - t0
            if res.returncode != 0:
                out[f"{label}_error"] = res.stderr.strip().splitlines()[-1:]
            else:
                summary = json.loads((Path(tmp) / label / "summary.json").read_text())
                last = max(summary["funding_gap"], key=int)
                out[f"{label}_gap_mean"] = summary["funding_gap"][last]["mean"]
    if cold:
        out["compile_s"] = out["cold_s"] - out["warm_s"]
    else:
        # The warm run must not pay for compiling: load (or build) the cache first.
        out["cold_s"] = None
    return out


def _machine() -> dict[str, Any]:
    import pandas

    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numba_threads_max": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": _threading_layer(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_1_5_15": list(os.getloadavg()),
        "numba": numba.__version__,
        "pandas": pandas.__version__,
    }


def _threading_layer() -> str | None:
    try:
        return numba.threading_layer()
    except ValueError:
        return None


def run_bench(quick: bool = False, log=print) -> dict[str, Any]:
    """Run the benchmark suite and return its results as a JSON-ready dict."""
    from runway.model import build_inputs

    R = _reference()
    t_start = time.perf_counter()
    cfg = _config()
    inp = build_inputs(cfg, stochastic=True)
    n_months = inp.n_months
    n = 4_096 if quick else 65_536
    repeat = 2
    old_threads = numba.get_num_threads()
    max_threads = numba.config.NUMBA_NUM_THREADS

    # Warm the JIT (compiles or loads the cache) before any timing.
    numba.set_num_threads(1)
    _kernel_once(inp, 2048, seed=0)
    _raw_normals(np.random.default_rng(0), 10)
    R.simulate(inp, 256, np.random.default_rng(0))

    log(f"kernel, 1 thread, {n} paths x {n_months} months")
    dt1, ann1 = _best(lambda: _kernel_once(inp, n, seed=1), repeat)
    numba.set_num_threads(min(2, max_threads))
    log(f"kernel, {numba.get_num_threads()} threads")
    dt2, ann2 = _best(lambda: _kernel_once(inp, n, seed=1), repeat)
    numba.set_num_threads(old_threads)
    k1 = n * n_months / dt1
    k2 = n * n_months / dt2

    log("numpy reference, 1 process")
    n_np = n

    def np_run():
        t0 = time.perf_counter()
        a = R.simulate(inp, n_np, np.random.default_rng(2))
        return time.perf_counter() - t0, a

    dtn, ann_np = _best(np_run, repeat)
    knp = n_np * n_months / dtn
    g_nb, g_np = _gap_stats(ann1), _gap_stats(ann_np)
    z = (g_nb["mean"] - g_np["mean"]) / max(math.hypot(g_nb["mcse"], g_np["mcse"]), 1e-300)

    log("RNG bound")
    n_raw = 10**7 if quick else 5 * 10**7
    rng = np.random.default_rng(3)

    def raw_run():
        t0 = time.perf_counter()
        s = _raw_normals(rng, n_raw)
        return time.perf_counter() - t0, s

    dtr, _ = _best(raw_run, repeat)
    raw_rate = n_raw / dtr
    draws_pm = N_EPS + R.draws_per_path(inp) / n_months
    bound = raw_rate / draws_pm

    log("scaling (subprocesses)")
    threads = min(2, max_threads)
    if quick:
        scaling = _scaling([1_000, 10_000], [12, 240], 1_000, n_months, k2, threads, log)
        log("warm start of runway run (cold start skipped in --quick: compiling takes ~40 s)")
        start = _cli_start(1_000, threads, cold=False)
    else:
        scaling = _scaling(
            [1_000, 10_000, 100_000, 1_000_000, 10_000_000],
            [12, 24, 60, 120, 240],
            20_000,
            n_months,
            k2,
            threads,
            log,
        )
        log("cold/warm start of runway run")
        start = _cli_start(1_000_000, threads)

    res = {
        "quick": quick,
        "scenario": cfg.scenario.name,
        "n_months": n_months,
        "ratio_vs_numpy": k1 / knp,
        "speedup_2_threads": k2 / k1,
        "fraction_of_rng_bound": k1 / bound,
        "throughput": {
            "kernel_1_thread_path_months_per_s": k1,
            "kernel_2_threads_path_months_per_s": k2,
            "numpy_reference_path_months_per_s": knp,
            "rng_raw_normals_per_s": raw_rate,
            "rng_bound_path_months_per_s": bound,
            "draws_per_path_month": draws_pm,
            "paths_kernel": n,
            "paths_numpy": n_np,
        },
        "correctness": {
            "funding_gap_last_year_kernel": g_nb,
            "funding_gap_last_year_numpy": g_np,
            "funding_gap_z": z,
            "threads_bitwise_equal": bool(np.array_equal(ann1, ann2)),
        },
        "targets": {
            "ratio_vs_numpy": 3.0,
            "speedup_2_threads": 1.8,
            "fraction_of_rng_bound": 0.5,
            "warm_run_1m_paths_s": 15.0,
        },
        "scaling": scaling,
        "start": start,
        "machine": _machine(),
        "bench_seconds": time.perf_counter() - t_start,
    }
    return res


def _fmt(x: Any, spec: str = ".3g") -> str:
    return format(x, spec) if isinstance(x, int | float) else str(x)


def to_markdown(res: dict[str, Any]) -> str:
    """The headline table and the scaling tables as markdown."""
    t, c, m = res["throughput"], res["correctness"], res["machine"]
    lines = [
        f"# runway bench ({'quick' if res['quick'] else 'full'}), {res['scenario']}, {res['n_months']} months",
        "",
        f"{m['platform']}; {m['cpu_count']} CPUs; python {m['python']}, numpy {m['numpy']}, "
        f"numba {m['numba']}; load average at the end {m['load_average_1_5_15'][0]:.2f} "
        "(other processes share these cores: read ratios, not absolute rates)",
        "",
        "| measure | value | target |",
        "|---|---:|---:|",
        f"| numba kernel, 1 thread (path-months/s) | {t['kernel_1_thread_path_months_per_s']:.3g} | |",
        f"| numba kernel, 2 threads (path-months/s) | {t['kernel_2_threads_path_months_per_s']:.3g} | |",
        f"| numpy reference (path-months/s) | {t['numpy_reference_path_months_per_s']:.3g} | |",
        f"| raw normals in numba (draws/s) | {t['rng_raw_normals_per_s']:.3g} | |",
        f"| RNG bound ({t['draws_per_path_month']:.3g} draws per path-month) | {t['rng_bound_path_months_per_s']:.3g} | |",
        f"| **ratio vs numpy** | **{res['ratio_vs_numpy']:.2f}x** | >= 3x |",
        f"| **speed-up 1 -> 2 threads** | **{res['speedup_2_threads']:.2f}x** | >= 1.8x |",
        f"| **fraction of RNG bound** | **{res['fraction_of_rng_bound']:.1%}** | >= 50% |",
        f"| `runway run` cold / warm ({res['start']['paths']:,} paths, s) | {_fmt(res['start'].get('cold_s'))} / {_fmt(res['start'].get('warm_s'))} | warm <= 15 s at 1M |",
        "",
        f"Correctness: mean funding gap (last year) numba {c['funding_gap_last_year_kernel']['mean']:.2f} "
        f"± {c['funding_gap_last_year_kernel']['mcse']:.2f}, numpy {c['funding_gap_last_year_numpy']['mean']:.2f} "
        f"± {c['funding_gap_last_year_numpy']['mcse']:.2f} (z = {c['funding_gap_z']:.2f}); "
        f"1 and 2 threads bitwise equal: {c['threads_bitwise_equal']}.",
        "",
    ]
    for key, title in (("by_paths", "Scaling with paths"), ("by_months", "Scaling with months")):
        lines += [
            f"## {title} (engine.run, subprocess each)",
            "",
            "| paths | months | seconds | path-months/s | peak RSS MB | run peak alloc MB | mean gap |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for d in res["scaling"][key]:
            if "seconds" not in d:
                lines.append(
                    f"| {d['paths']:,} | {d['months']} | {d.get('skipped', d.get('error'))} | | | | |"
                )
                continue
            lines.append(
                f"| {d['paths']:,} | {d['months']} | {d['seconds']:.3g} | {d['path_months_per_s']:.3g} | "
                f"{d['peak_rss_mb']:.0f} | {d['run_alloc_peak_mb']:.1f} | {d['gap_mean']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_results(res: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write the JSON and the markdown (same name, ``.md``) beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, sort_keys=False) + "\n")
    md = out.with_suffix(".md")
    md.write_text(to_markdown(res) + "\n")
    return out, md


def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes (CI): under a minute on 2 cores.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="JSON file to write (markdown beside it).")
    ] = None,
) -> None:
    """Benchmark the numba kernel against the numpy reference; scaling, memory, start-up."""
    res = run_bench(quick=quick, log=lambda s: typer.echo(s, err=True))
    j, md = write_results(res, out if out is not None else DEFAULT_OUT)
    typer.echo(
        f"ratio vs numpy {res['ratio_vs_numpy']:.2f}x, speed-up 2 threads {res['speedup_2_threads']:.2f}x, "
        f"{res['fraction_of_rng_bound']:.1%} of the RNG bound; wrote {j} and {md.name}"
    )
