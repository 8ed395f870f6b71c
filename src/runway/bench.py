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

from runway import kernel as K
from runway._jit import borrow, njit
from runway.engine import MAX_QUARTER_PATHS
from runway.kernel.inputs import borrow_buffers, borrow_inputs
from runway.kernel.path import draw_path_params, draw_shocks
from runway.kernel.rng import seed_key
from runway.layout import N_EPS, N_FAN, N_LINES, N_OUT, I, L

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


def _buffers(inp, n_paths: int):
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
    return _BUFFERS[key]


class _Timing(tuple):
    """Wall and CPU seconds (``time.process_time``: every thread of this process) of one run."""

    __slots__ = ()

    def __new__(cls, wall: float, cpu: float):
        return super().__new__(cls, (wall, cpu))

    @property
    def wall(self) -> float:
        return self[0]

    @property
    def cpu(self) -> float:
        return self[1]


def _kernel_once(
    kin, inp, n_paths: int, seed: int, chunk: int = 2048
) -> tuple[_Timing, np.ndarray]:
    """Run :func:`runway.kernel.run_chunks` on ``n_paths``; its timing and annual lines.

    The output buffers are allocated and touched once per size, outside the timing, as the
    engine reuses its batch buffers: the time is the kernel's, not the first-touch page
    faults of a few hundred MB of fresh memory.
    """
    n_chunks = math.ceil(n_paths / chunk)
    offsets = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * chunk, n_paths)
    fan, ann, out, exposure = _buffers(inp, n_paths)
    monthly = np.empty((0, inp.n_months, N_LINES))
    c0, t0 = time.process_time(), time.perf_counter()
    K.run_chunks(kin, seed, 0, offsets, fan, ann, out, exposure, monthly)
    return _Timing(time.perf_counter() - t0, time.process_time() - c0), ann.copy()


@njit  # the kernel's own options (numpy error model): same code as inside the kernel
def _draws_only(k, seed, n_paths):  # pragma: no cover - jitted
    """Every random number the kernel draws for ``n_paths`` paths (same functions, no model).

    As in the kernel (:func:`runway.kernel.driver.run_chunk`), the work arrays are allocated
    here and the path loop reads borrowed views of them (:func:`_draws_loop`), so the timing
    carries no reference counting that the kernel does not pay.
    """
    key0, key1 = seed_key(np.uint64(seed))
    b = K.path_buffers(k)
    eps = np.zeros((N_EPS, k.iv[I.N_MONTHS]))
    return _draws_loop(k, b, eps, key0, key1, n_paths)


@njit
def _draws_loop(k, b, eps, key0, key1, n_paths):  # pragma: no cover - jitted
    k = borrow_inputs(k)
    b = borrow_buffers(b)
    eps = borrow(eps)
    acc = 0.0
    for p in range(n_paths):
        draw_path_params(k, key0, key1, p, b.theta, b.cshare, b.cslip)
        draw_shocks(k, key0, key1, p, eps)
        acc += eps[0, 0] + b.theta[0]
    return acc


def _draws_once(kin, n_paths: int, seed: int) -> tuple[_Timing, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    acc = _draws_only(kin, seed, n_paths)
    return _Timing(time.perf_counter() - t0, time.process_time() - c0), acc


def _gap_stats(ann: np.ndarray) -> dict[str, float]:
    g = ann[:, -1, L.FUNDING_GAP]
    return {"mean": float(g.mean()), "mcse": float(g.std(ddof=1) / math.sqrt(g.size))}


_SCALE_CODE = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from runway.bench import _config, vm_hwm_mb
from runway import engine
cfg = _config({months})
engine.run(cfg, paths=64, seed=1, threads={threads}, fold={fold})
import tracemalloc
base = vm_hwm_mb()
tracemalloc.start()
t0 = time.perf_counter()
raw = engine.run(cfg, paths={paths}, seed=1, threads={threads}, fold={fold})
dt = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
gi = list(engine.ANNUAL_KEEP).index('funding_gap')
print(json.dumps(dict(seconds=dt, peak_rss_mb=vm_hwm_mb(), base_rss_mb=base,
                      run_alloc_peak_mb=traced, gap_mean=float(raw.annual_paths[:, -1, gi].mean()),
                      n_months=raw.calendar.n_months)))
"""


def vm_hwm_mb() -> float:
    """Peak resident memory of this process (``VmHWM`` in ``/proc/self/status``), MiB.

    Unlike ``ru_maxrss`` it is not inherited from the parent of a forked child.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return math.nan  # pragma: no cover - not Linux


def _scale_point(paths: int, months: int, threads: int, fold: bool = True) -> dict[str, Any]:
    code = _SCALE_CODE.format(
        root=str(ROOT / "src"), months=months, paths=paths, threads=threads, fold=fold
    )
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
            f"  paths={p:.0e} months={m}: {d.get('seconds', float('nan')):.2f} s, "
            f"peak {d.get('peak_rss_mb', float('nan')):.0f} MB"
        )
        return d

    return {
        "by_paths": [point(p, base_months) for p in paths_list],
        "by_months": [point(base_paths, m) for m in months_list],
    }


_RUN_CODE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from runway import kernel as K
spent = [0.0]
run_chunks = K.run_chunks
def timed(*a, **k):
    t = time.process_time()
    try:
        return run_chunks(*a, **k)
    finally:
        spent[0] += time.process_time() - t
K.run_chunks = timed
from runway import cli
sys.argv = ["runway", "run", "--paths", "{paths}", "--quiet", "--threads", "{threads}",
            "--out", {out!r}]
code = 0
try:
    cli.main()
except SystemExit as exc:
    code = exc.code or 0
ru = resource.getrusage(resource.RUSAGE_SELF)
from runway.bench import vm_hwm_mb
print(json.dumps(dict(code=code, cpu_s=ru.ru_utime + ru.ru_stime, kernel_cpu_s=spent[0],
                      peak_rss_mb=vm_hwm_mb())))
"""
"""``runway run`` in a child, as the command line runs it (``runway.cli.main``), with the CPU
time of every call of the kernel (:func:`runway.kernel.run_chunks`) summed: the whole
command's CPU time (``getrusage``: interpreter start, imports, simulation, every output) and
the kernel's share of it, on the same paths in the same process."""


def _run_child(paths: int, threads: int, out: Path, env: dict | None) -> dict[str, Any]:
    """One ``runway run --paths paths --quiet`` in a child (:data:`_RUN_CODE`)."""
    code = _RUN_CODE.format(root=str(ROOT / "src"), paths=paths, threads=threads, out=str(out))
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if res.returncode != 0 or not res.stdout.strip():
        return {"wall_s": wall, "error": (res.stderr.strip().splitlines() or ["no output"])[-1:]}
    d = json.loads(res.stdout.strip().splitlines()[-1])
    if d.pop("code"):
        return {"wall_s": wall, "error": res.stderr.strip().splitlines()[-1:]}
    summary = json.loads((out / "summary.json").read_text())
    last = max(summary["funding_gap"], key=int)
    d.update(wall_s=wall, gap_mean=summary["funding_gap"][last]["mean"])
    return d


def _cli_start(paths: int, threads: int, cold: bool = True) -> dict[str, Any]:
    """Warm (and, with ``cold``, cold: an empty numba cache) ``runway run`` in children.

    ``warm_cpu_s`` is the warm command's CPU time and ``warm_kernel_cpu_s`` its kernel's
    (:data:`_RUN_CODE`); ``*_s`` without ``cpu`` are wall seconds of the child seen from here.
    """
    out: dict[str, Any] = {"paths": paths, "threads": threads}
    with tempfile.TemporaryDirectory() as tmp:
        # Cold: an empty cache dir; the warm run then reuses it. Warm only: the default cache,
        # already filled by this process's own warm-up.
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba_cache")) if cold else None
        for label in ("cold", "warm") if cold else ("warm",):
            d = _run_child(paths, threads, Path(tmp) / label, env)
            out[f"{label}_s"] = d["wall_s"]
            if "error" in d:
                out[f"{label}_error"] = d["error"]
                continue
            out[f"{label}_gap_mean"] = d["gap_mean"]
            out[f"{label}_cpu_s"] = d["cpu_s"]
            out[f"{label}_kernel_cpu_s"] = d["kernel_cpu_s"]
            out[f"{label}_peak_rss_mb"] = d["peak_rss_mb"]
    if cold:
        out["compile_s"] = out["cold_s"] - out["warm_s"]
    else:
        out["cold_s"] = None
    return out


def _machine() -> dict[str, Any]:
    import pandas

    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        # numba.config fills its attributes from the environment at import: invisible to mypy.
        "numba_threads_max": numba.config.NUMBA_NUM_THREADS,  # type: ignore[attr-defined]
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
    """Run the benchmark suite and return its results as a JSON-ready dict.

    Headline keys (``--quick`` writes the same keys from smaller runs, and says which in
    ``basis``, with the time basis of each): ``ratio_vs_numpy`` (kernel against the numpy
    reference, 1 thread, CPU seconds, this process), ``speedup_2_threads`` (throughput on 2
    threads against 1, wall seconds, interleaved; the load average and the cores the run got
    beside it), ``draw_share`` (share of the 1-thread kernel CPU time spent drawing its random
    numbers: every parameter and monthly shock, the kernel's own draw functions on the same
    paths, this process), ``e2e_over_kernel_1m`` (CPU seconds of a warm ``runway run`` of 1M
    paths in a child against the CPU seconds of its own kernel calls), ``peak_rss_gb_10m``
    (``VmHWM`` of a child running 10M paths) and ``sweep_100x1m_estimate_s`` (100 scenarios
    of 1M paths without the quantile fold).
    """
    from runway.model import build_inputs

    R = _reference()
    t_start = time.perf_counter()
    cfg = _config()
    inp = build_inputs(cfg, stochastic=True)
    kin = K.pack(inp)
    n_months = inp.n_months
    n = 4_096 if quick else 65_536
    repeat = 2 if quick else 3
    old_threads = numba.get_num_threads()
    max_threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at import
    threads = min(2, max_threads)

    # Warm the JIT (compiles or loads the cache) before any timing.
    numba.set_num_threads(1)
    _kernel_once(kin, inp, 2048, seed=0)
    _draws_once(kin, 64, seed=0)
    R.simulate(inp, 256, np.random.default_rng(0))

    # Interleaved, best of `repeat` each: 1 thread (kernel, its draws alone, the numpy
    # reference), then 2 threads, so that every measure sees the same load on the shared cores.
    log(
        f"kernel on 1 and {threads} threads, its draws alone, numpy reference: "
        f"{n} paths x {n_months} months, best of {repeat}, interleaved"
    )
    load_before = list(os.getloadavg())
    best: dict[str, _Timing] = {}

    def keep(name: str, t: _Timing, by: str) -> None:
        if name not in best or getattr(t, by) < getattr(best[name], by):
            best[name] = t

    ann1 = ann2 = ann_np = np.empty(0)
    for _ in range(repeat):
        numba.set_num_threads(1)
        t, ann1 = _kernel_once(kin, inp, n, seed=1)
        keep("kernel_1", t, "cpu")
        keep("kernel_1_wall", t, "wall")
        t, _ = _draws_once(kin, n, seed=1)
        keep("draws_1", t, "cpu")
        c0, w0 = time.process_time(), time.perf_counter()
        ann_np = R.simulate(inp, n, np.random.default_rng(2))
        keep("numpy", _Timing(time.perf_counter() - w0, time.process_time() - c0), "cpu")
        numba.set_num_threads(threads)
        t, ann2 = _kernel_once(kin, inp, n, seed=1)
        keep("kernel_2", t, "wall")
    numba.set_num_threads(old_threads)
    load_after = list(os.getloadavg())
    n_np = n
    # one thread: CPU seconds (what this process got, whatever else runs); threads: wall time
    # (a speed-up is work per wall second), the 1-thread run's best wall time against it
    k1 = n * n_months / best["kernel_1"].cpu
    knp = n_np * n_months / best["numpy"].cpu
    k1_wall = n * n_months / best["kernel_1_wall"].wall
    k2 = n * n_months / best["kernel_2"].wall
    dtd = best["draws_1"].cpu
    g_nb, g_np = _gap_stats(ann1), _gap_stats(ann_np)
    z = (g_nb["mean"] - g_np["mean"]) / max(math.hypot(g_nb["mcse"], g_np["mcse"]), 1e-300)

    log("scaling (subprocesses; peak memory is each child's VmHWM)")
    if quick:
        scaling = _scaling([1_000, 10_000, 100_000], [12, 240], 1_000, n_months, k2, threads, log)
        e2e_paths = 20_000
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
        e2e_paths = 1_000_000
    log(f"runway run, {e2e_paths:,} paths, {threads} threads (children; CPU time)")
    start = _cli_start(e2e_paths, threads, cold=not quick)
    e2e = (
        start["warm_cpu_s"] / start["warm_kernel_cpu_s"]
        if start.get("warm_kernel_cpu_s")
        else math.nan
    )

    # peak memory at 10M paths: measured when the scaling reached it, else the straight line
    # through the two largest measured points (memory is linear in paths)
    pts = [d for d in scaling["by_paths"] if "peak_rss_mb" in d]
    at10m = [d for d in pts if d["paths"] == 10_000_000]
    if at10m:
        rss10m = at10m[0]["peak_rss_mb"] / 1024
        rss_basis = "measured at 10,000,000 paths"
    elif len(pts) >= 2:
        p0, p1 = pts[-2], pts[-1]
        slope = (p1["peak_rss_mb"] - p0["peak_rss_mb"]) / (p1["paths"] - p0["paths"])
        base = p1["peak_rss_mb"]
        rss_basis = f"extrapolated from {p0['paths']:,} and {p1['paths']:,} paths"
        if p1["paths"] <= MAX_QUARTER_PATHS < 10_000_000:
            # the measured points keep each path's quarterly record; a 10M run keeps none
            from runway.guard import footprint_terms

            q_mb = footprint_terms(cfg, 1)["quarter_bytes"] / 2**20
            base -= q_mb * p1["paths"]
            slope -= q_mb
            rss_basis += ", less the quarterly record a 10,000,000-path run does not keep"
        rss10m = (base + slope * (10_000_000 - p1["paths"])) / 1024
    else:  # pragma: no cover - every point failed
        rss10m, rss_basis = math.nan, "no point measured"

    sweep_paths = 20_000 if quick else 200_000
    log(f"one sweep scenario without the fold, {sweep_paths:,} paths (subprocess)")
    sp = _scale_point(sweep_paths, n_months, threads, fold=False)
    sweep_s = 100 * sp["seconds"] * (1_000_000 / sweep_paths) if "seconds" in sp else math.nan

    res = {
        "quick": quick,
        "scenario": cfg.scenario.name,
        "n_months": n_months,
        "ratio_vs_numpy": k1 / knp,
        "speedup_2_threads": k2 / k1_wall,
        "draw_share": dtd / best["kernel_1"].cpu,
        "e2e_over_kernel_1m": e2e,
        "peak_rss_gb_10m": rss10m,
        "sweep_100x1m_estimate_s": sweep_s,
        "basis": {
            "kernel_paths": n,
            "ratio_vs_numpy": "CPU seconds (process_time), 1 thread, best of "
            f"{repeat} each, this process, interleaved with the other kernel measures",
            "speedup_2_threads": f"throughput (path-months per wall second) on {threads} "
            f"threads against 1 thread, best wall time of {repeat} each, interleaved; the "
            "load average before and after is in threads_load_average_1_5_15, the CPU "
            f"seconds per wall second of the {threads}-thread run in threads_cores_used",
            "draw_share": "CPU seconds of the kernel's own draw functions (every parameter "
            "draw and monthly shock, same Philox generator, same paths) against the kernel's, "
            f"1 thread, best of {repeat} each, this process",
            "e2e_over_kernel_1m": f"CPU seconds (getrusage) of a whole `runway run --paths "
            f"{e2e_paths:,} --quiet --threads {threads}` in a child with a warm numba cache "
            "(interpreter start, imports, simulation, every default output) against the CPU "
            "seconds of its kernel calls (runway.kernel.run_chunks) in the same child",
            "threads_load_average_1_5_15": [load_before, load_after],
            "threads_cores_used": best["kernel_2"].cpu / best["kernel_2"].wall,
            # work per CPU second on `threads` threads against 1 thread: what the threads cost
            # (memory bandwidth, waiting) whatever the load; threads x this is the speed-up
            # idle cores would give
            "threads_cpu_efficiency": (n * n_months / best["kernel_2"].cpu) / k1,
            "e2e_paths": e2e_paths,
            "peak_rss_10m": rss_basis,
            "sweep_scenario_paths": sweep_paths,
            "sweep_scenario": sp,
        },
        "throughput": {
            "kernel_1_thread_path_months_per_s": k1,
            "kernel_2_threads_path_months_per_s": k2,
            "kernel_1_thread_wall_path_months_per_s": k1_wall,
            "kernel_1_thread_ns_per_path_month": 1e9 / k1,
            "draws_1_thread_ns_per_path_month": 1e9 * dtd / (n * n_months),
            "numpy_reference_path_months_per_s": knp,
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
            "ratio_vs_numpy": 6.0,
            "speedup_2_threads": 1.8,
            "draw_share": 0.4,
            "e2e_over_kernel_1m": 1.5,
            "peak_rss_gb_10m": 6.0,
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
    bs = res["basis"]
    lines = [
        f"# runway bench ({'quick' if res['quick'] else 'full'}), {res['scenario']}, "
        f"{res['n_months']} months",
        "",
        f"{m['platform']}; {m['cpu_count']} CPUs; python {m['python']}, numpy {m['numpy']}, "
        f"numba {m['numba']}; load average at the end {m['load_average_1_5_15'][0]:.2f} "
        "(other processes share these cores: read ratios, not absolute rates)",
        "",
        "| measure | value | target |",
        "|---|---:|---:|",
        f"| numba kernel, 1 thread (ns per path-month) | "
        f"{t['kernel_1_thread_ns_per_path_month']:.1f} | |",
        f"| its random numbers only (ns per path-month) | "
        f"{t['draws_1_thread_ns_per_path_month']:.1f} | |",
        f"| numba kernel, 2 threads (path-months/s) | "
        f"{t['kernel_2_threads_path_months_per_s']:.3g} | |",
        f"| numpy reference (path-months/s) | {t['numpy_reference_path_months_per_s']:.3g} | |",
        f"| **ratio_vs_numpy** | **{res['ratio_vs_numpy']:.2f}x** | >= 6x |",
        f"| **speedup_2_threads** | **{res['speedup_2_threads']:.2f}x** | >= 1.8x |",
        f"| **draw_share** | **{res['draw_share']:.1%}** | >= 40% |",
        f"| **e2e_over_kernel_1m** ({bs['e2e_paths']:,} paths) | "
        f"**{_fmt(res['e2e_over_kernel_1m'])}** | <= 1.5 |",
        f"| **peak_rss_gb_10m** ({bs['peak_rss_10m']}) | "
        f"**{_fmt(res['peak_rss_gb_10m'])}** | < 6 |",
        f"| sweep 100 x 1M paths, estimate (s; from {bs['sweep_scenario_paths']:,} paths) | "
        f"{_fmt(res['sweep_100x1m_estimate_s'])} | |",
        f"| `runway run` cold / warm ({res['start']['paths']:,} paths, wall s) | "
        f"{_fmt(res['start'].get('cold_s'))} / {_fmt(res['start'].get('warm_s'))} | |",
        f"| warm `runway run`: whole command / its kernel calls (CPU s) | "
        f"{_fmt(res['start'].get('warm_cpu_s'))} / "
        f"{_fmt(res['start'].get('warm_kernel_cpu_s'))} | |",
        "",
    ]
    if "threads_cpu_efficiency" in bs:  # results written before these keys have no such line
        lines += [
            f"Load average (1 min) before / after the thread measures: "
            f"{bs['threads_load_average_1_5_15'][0][0]:.2f} / "
            f"{bs['threads_load_average_1_5_15'][1][0]:.2f}; the {m['numba_threads_max']}-thread "
            f"kernel got {bs['threads_cores_used']:.2f} cores (CPU s per wall s) and did "
            f"{bs['threads_cpu_efficiency']:.2f}x the 1-thread work per CPU second.",
            "",
        ]
    lines += [
        f"Correctness: mean funding gap (last year) numba "
        f"{c['funding_gap_last_year_kernel']['mean']:.2f} "
        f"± {c['funding_gap_last_year_kernel']['mcse']:.2f}, numpy "
        f"{c['funding_gap_last_year_numpy']['mean']:.2f} "
        f"± {c['funding_gap_last_year_numpy']['mcse']:.2f} (z = {c['funding_gap_z']:.2f}); "
        f"1 and 2 threads bitwise equal: {c['threads_bitwise_equal']}.",
        "",
    ]
    for key, title in (("by_paths", "Scaling with paths"), ("by_months", "Scaling with months")):
        lines += [
            f"## {title} (engine.run, subprocess each)",
            "",
            "| paths | months | seconds | path-months/s | peak RSS MB | run peak alloc MB "
            "| mean gap |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for d in res["scaling"][key]:
            if "seconds" not in d:
                lines.append(
                    f"| {d['paths']:,} | {d['months']} | "
                    f"{d.get('skipped', d.get('error'))} | | | | |"
                )
                continue
            lines.append(
                f"| {d['paths']:,} | {d['months']} | {d['seconds']:.3g} | "
                f"{d['path_months_per_s']:.3g} | "
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
    from runway.io import bench_outputs, write_text_atomic  # --out checked before running

    j, md = bench_outputs(out if out is not None else DEFAULT_OUT)
    res = run_bench(quick=quick, log=lambda s: typer.echo(s, err=True))
    write_text_atomic(j, json.dumps(res, indent=2, sort_keys=False) + "\n")
    write_text_atomic(md, to_markdown(res) + "\n")
    typer.echo(
        f"ratio vs numpy {res['ratio_vs_numpy']:.2f}x, speed-up 2 threads "
        f"{res['speedup_2_threads']:.2f}x, draw share {res['draw_share']:.1%}, "
        f"e2e/kernel {_fmt(res['e2e_over_kernel_1m'])}, peak RSS 10M "
        f"{_fmt(res['peak_rss_gb_10m'])} GB; wrote {j} and {md.name}"
    )
