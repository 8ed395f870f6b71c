"""Running a sweep: scenario tasks, executors (local processes, dask), atomic files, resume.

Each finished scenario becomes ``scenarios/<id>.json`` (its row; JSON keeps every float
exactly and, unlike a one-row parquet file, costs a few kB) through a temporary file and
:func:`os.replace`, so a killed sweep leaves only complete rows; ``--resume`` keeps the
rows of the same sweep (same :func:`fingerprint`) and runs the rest. Paired differences need
the base scenario's per-path outcomes, so those are kept too (``scenarios/base_paths.npz``).
Results do not depend on the executor, the number of workers or numba threads: every
scenario is one :func:`runway.simulate` call with the sweep's seed and paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import numpy as np

from runway.config import Config
from runway.errors import RunwayError
from runway.sweep.spec import BASE_ID, Sweep, load_sweep
from runway.sweep.stats import Outcome, outcome_from_result, scenario_row

if TYPE_CHECKING:
    import pandas as pd

Executor = Literal["local", "dask"]
TIMINGS_HEADER = "scenario,seconds,worker,threads,executor,finished_at\n"
_RUN_LOCK = threading.Lock()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


# --- one scenario, in a worker ------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """What a worker needs to run one scenario.

    ``threads`` is the number of numba threads; ``None`` lets the worker choose (on a dask
    worker: its host's CPUs divided by the worker processes the scheduler lists on that host,
    ``procs_by_host``).
    """

    id: int
    config: Config
    paths: int
    seed: int
    years: tuple[int, ...]
    threads: int | None
    procs_by_host: tuple[tuple[str, int], ...] = ()


def _threads_on_dask_worker(task: Task) -> int:
    try:
        from distributed import get_worker

        host = urlparse(get_worker().address).hostname or ""
    except (ImportError, ValueError):
        host = ""
    procs = dict(task.procs_by_host).get(host, 1)
    return max(1, available_cpus() // procs)


def run_scenario(task: Task) -> Outcome:
    """Simulate one scenario (in a worker process, local or dask) and keep its per-path outcomes.

    Scenarios run one at a time per process: numba's parallel kernels then get the process's
    cores to themselves, and a dask worker with several threads never calls them concurrently.
    """
    import runway

    with _RUN_LOCK:
        threads = task.threads if task.threads is not None else _threads_on_dask_worker(task)
        t0 = time.perf_counter()
        res = runway.simulate(
            task.config,
            paths=task.paths,
            seed=task.seed,
            threads=threads,
            fold=False,  # a sweep reads per-path outcomes only, never the fan's histograms
            baseline=False,
        )
        o = outcome_from_result(task.id, res, task.years)
        o.seconds = time.perf_counter() - t0
        o.worker, o.threads = f"{socket.gethostname()}:{os.getpid()}", threads
    return o


# --- executors ----------------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when the sweep's process ends, even by SIGKILL.

    On Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the kernel kill the worker when its
    parent dies; a parent that died before the call is caught by comparing ``getppid()``.
    Elsewhere a worker notices a dead parent only when its pipe closes (the pool's default).
    """
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _local_outcomes(tasks: list[Task], workers: int) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: numba's threading layers are not all fork-safe. Workers die with the
    # sweep (die_with_parent): a SIGKILLed sweep leaves no process running.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = [pool.submit(run_scenario, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def local_cluster_kwargs(workers: int, *, processes: bool = True) -> dict[str, Any]:
    """Arguments of the ``LocalCluster`` that ``--executor dask`` starts: no fixed port anywhere.

    ``dashboard_address=None`` does not free port 8787: the scheduler's HTTP server (health
    and metrics routes) still binds its default port 8787 and, when another process holds it,
    warns and moves (a failure under ``filterwarnings = error``). Port 0 lets the OS choose a
    free port for that server; the scheduler and the workers listen on loopback, on ports the
    OS chooses too (``scheduler_port=0``, the default ``worker_dashboard_address=None``).
    ``processes=False`` (tests) runs the workers as threads that talk ``inproc://``.
    """
    kwargs: dict[str, Any] = {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": processes,
        "scheduler_port": 0,
        "dashboard_address": ":0",
    }
    if processes:  # in one process the scheduler talks inproc://, which takes no host
        kwargs["host"] = "127.0.0.1"
    return kwargs


def _dask_client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise RunwayError("--executor dask needs dask[distributed] installed") from None
    if scheduler is None:
        cluster = LocalCluster(**local_cluster_kwargs(workers))
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="20s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise RunwayError(f"--scheduler {scheduler}: cannot connect ({msg})") from None


def _procs_by_host(client: Any) -> tuple[tuple[str, int], ...]:
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:  # pragma: no cover - distributed before n_workers
        info = client.scheduler_info()
    hosts = Counter(urlparse(a).hostname or "" for a in info.get("workers", {}))
    return tuple(sorted(hosts.items()))


def _dask_outcomes(
    tasks: list[Task], workers: int, scheduler: str | None, label: str
) -> Iterator[Outcome]:
    from distributed import as_completed

    client, cluster = _dask_client(scheduler, workers)
    try:
        if scheduler is not None:
            hosts = _procs_by_host(client)
            tasks = [Task(t.id, t.config, t.paths, t.seed, t.years, None, hosts) for t in tasks]
        run = uuid.uuid4().hex[:8]
        futures = [
            client.submit(run_scenario, t, key=f"runway-{label}-{run}-{t.id}", pure=False)
            for t in tasks
        ]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- files --------------------------------------------------------------------------------------
def scenario_file(out: Path, sid: int) -> Path:
    """The file of scenario ``sid``'s row."""
    return out / "scenarios" / f"{sid:05d}.json"


def _read_row(path: Path) -> dict[str, Any]:
    """A scenario file as written (NaN allowed: paired differences can be undefined)."""
    from runway.io import read_text

    row: Any = json.loads(
        read_text(path, what="scenario row", max_bytes=1 << 20, follow_symlinks=False)
    )
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    return row


def valid_row(path: Path, scenario: Any, sha: str, years: list[int]) -> dict[str, Any] | None:
    """The row of ``scenario`` kept in ``path`` if it is whole and belongs to this sweep.

    Checked: a regular file (no link) of strict-enough JSON, an object whose ``_sweep`` is
    this sweep's fingerprint, whose ``scenario`` and ``is_base`` match, whose axis values
    are the scenario's exactly and whose results (``p_insolvent_<year>`` for each year,
    ``tti_p50_months``, ...) are numbers. Anything else (truncated, edited, another sweep's
    row, a row of an older runway without a fingerprint) is None: recomputed.
    """
    try:
        row = _read_row(path)
    except (RunwayError, ValueError, RecursionError):
        return None
    if row.get("_sweep") != sha or row.get("scenario") != scenario.id:
        return None
    if row.get("is_base") is not (scenario.id == BASE_ID):
        return None
    for k, v in scenario.values.items():
        if row.get(k) != v:
            return None
    need = [f"p_insolvent_{y}" for y in years] + ["tti_p50_months"]
    if any(k not in row for k in need):
        return None
    for k, v in row.items():
        if k.startswith("_") or k == "is_base":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
    return row


def table_row(row: dict[str, Any]) -> dict[str, Any]:
    """A scenario file's row without its bookkeeping (``_sweep``, ``_timing``)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` via ``write(tmp)`` on a sibling temporary file, fsync, rename into place."""
    from runway.io import atomic_write_file

    atomic_write_file(path, write)


def _write_base_npz(path: Path, o: Outcome, sha: str = "") -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                insolvent_by=o.insolvent_by,
                funding_gap_bn=o.funding_gap_bn,
                months_to_insolvency=o.months_to_insolvency,
                sweep_sha256=np.array(sha),
            )

    atomic_write(path, write)


def _read_base_npz(path: Path, sha: str | None = None) -> Outcome | None:
    """The base scenario's per-path outcomes, or None (unreadable, a link, another sweep's)."""
    import zipfile

    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            if sha is not None and ("sweep_sha256" not in z or str(z["sweep_sha256"]) != sha):
                return None
            o = Outcome(BASE_ID, z["insolvent_by"], z["funding_gap_bn"], z["months_to_insolvency"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # unreadable: the base is run again
    n = o.insolvent_by.shape[0] if o.insolvent_by.ndim == 2 else -1
    if o.funding_gap_bn.shape != o.insolvent_by.shape or o.months_to_insolvency.shape != (n,):
        return None
    return o


_PRESENTATION = ("cli.py", "__main__.py", "bench.py", "sweep/report.py", "sweep/command.py")
"""Modules that only parse, print or draw: editing them does not invalidate a resume."""


def _code_sha256() -> str:
    """Digest of runway's source that computes numbers: a resumed sweep must run the same code.

    Every module counts (new ones too) except :data:`_PRESENTATION` and the run report's
    plots and pages (``report/``, except ``report/mcse.py``, which the sweep table uses).
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        if rel in _PRESENTATION or (rel.startswith("report/") and rel != "report/mcse.py"):
            continue
        h.update(rel.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def fingerprint(sweep: Sweep, paths: int) -> dict[str, Any]:
    """``sweep.json``: what was run; two runs with the same ``sha256`` give the same rows.

    The digest covers the resolved spec, every scenario's config, paths, seed, years and
    runway's source code.
    """
    from runway import __version__

    code = _code_sha256()
    h = hashlib.sha256()
    h.update(sweep.spec.model_dump_json().encode())
    for s in sweep.scenarios:
        h.update(s.config.model_dump_json().encode())
    h.update(json.dumps([paths, sweep.seed, sweep.years, __version__, code]).encode())
    return {
        "name": sweep.spec.name,
        "source": str(sweep.source),
        "paths": paths,
        "seed": sweep.seed,
        "years": sweep.years,
        "design": sweep.spec.design.kind,
        "axes": sweep.axis_labels,
        "scenarios": len(sweep.scenarios),
        "runway_version": __version__,
        "code_sha256": code,
        "sha256": h.hexdigest(),
    }


def default_out_dir(sweep: Sweep) -> Path:
    """``runs/sweeps/<name>``."""
    return Path("runs") / "sweeps" / sweep.spec.name


MAX_WORKERS = 1024
"""Largest --workers accepted (each worker is a ~300 MB process; the memory guard counts them)."""


def check_scheduler_address(address: str, *, in_process: bool = True) -> str:
    """Refuse (one line naming ``--scheduler``) an address runway cannot connect to.

    Accepted: ``tcp://HOST:PORT`` or ``HOST:PORT`` with a port in 1..65535, and, with
    ``in_process`` (a scheduler in this very process, as :func:`run_sweep` callers may
    have), ``inproc://...``. ``tls://`` needs certificates runway does not pass; from the
    command line ``inproc://`` names a scheduler in another process's memory, which cannot be
    reached: both are refused with what to use instead.
    """
    a = address.strip()
    scheme, sep, rest = a.partition("://")
    if not sep:
        scheme, rest = "tcp", a
    scheme = scheme.lower()
    if scheme == "tls":
        raise RunwayError(
            f"--scheduler {address}: tls:// needs certificates, which runway does not pass to "
            "dask; use tcp://HOST:PORT (or a tunnel to the scheduler)"
        )
    if scheme == "inproc" and in_process:
        return a
    if scheme == "inproc":
        raise RunwayError(
            f"--scheduler {address}: inproc:// is a scheduler inside another process, which "
            "cannot be reached; use tcp://HOST:PORT, or drop --scheduler for a local cluster"
        )
    if scheme != "tcp":
        raise RunwayError(
            f"--scheduler {address}: unsupported protocol {scheme}://; use tcp://HOST:PORT"
        )
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port or "/" in rest:
        raise RunwayError(
            f"--scheduler {address}: expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        )
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise RunwayError(f"--scheduler {address}: port {port} is not in 1..65535")
    return f"tcp://{host}:{int(port)}"


def _check_memory(sweep: Sweep, paths: int, concurrent: int) -> None:
    from runway.guard import check_sweep_memory

    check_sweep_memory(sweep.base, paths, concurrent)


# --- the sweep ----------------------------------------------------------------------------------
def run_sweep(
    sweep: str | Path | Sweep,
    *,
    out: str | Path | None = None,
    executor: Executor = "local",
    scheduler: str | None = None,
    resume: bool = False,
    paths: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run a sweep and write its output directory.

    Parameters
    ----------
    sweep : str, Path or Sweep
        The sweep file, or one already loaded with :func:`load_sweep`.
    out : str or Path, optional
        Output directory (default ``runs/sweeps/<name>``). It receives
        ``scenarios/<id>.json`` (one row each, written atomically as each finishes),
        ``sweep.parquet`` (a row per scenario, in scenario order), ``sweep.json`` (what was
        run), ``timings.csv``, ``sweep.md``, ``sweep.html`` and the plots as PNG.
    executor : {"local", "dask"}
        Local processes, or dask.distributed: a LocalCluster, or ``scheduler``'s cluster.
    scheduler : str, optional
        Address of a running dask scheduler (``executor="dask"`` only).
    resume : bool
        Keep the finished scenario files of the same sweep and run only the rest.
    paths : int, optional
        Paths per scenario (default: the sweep file's).
    workers : int, optional
        Worker processes of the local pool or LocalCluster (default: one per CPU, at most
        one per scenario to run); each runs numba with ``CPUs // workers`` threads.
    progress : callable, optional
        ``progress(done, total)`` as scenarios finish.

    Returns
    -------
    pandas.DataFrame
        The sweep table (``sweep.parquet``).
    """
    from runway.io import check_output_dir, release_output

    sw = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    n_paths = paths if paths is not None else sw.spec.paths
    if not 1 <= n_paths <= 100_000_000:
        raise RunwayError(f"--paths must be between 1 and 100,000,000, got {n_paths}")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise RunwayError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if executor not in ("local", "dask"):
        raise RunwayError(f"--executor must be 'local' or 'dask', got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise RunwayError("--scheduler needs --executor dask")
    if scheduler is not None and workers is not None:
        raise RunwayError("--workers sizes a local pool or LocalCluster, not a --scheduler's")
    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
    out_dir = check_output_dir(out if out is not None else default_out_dir(sw), kind="sweep")
    try:
        return _run_locked(sw, out_dir, executor, scheduler, resume, n_paths, workers, progress)
    finally:
        release_output(out_dir)


def _run_locked(
    sw: Sweep,
    out_dir: Path,
    executor: Executor,
    scheduler: str | None,
    resume: bool,
    n_paths: int,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> pd.DataFrame:
    """:func:`run_sweep` once ``out_dir`` is checked and locked.

    Order of writes: the ``.complete`` marker goes first (the directory is being changed),
    then ``sweep.json``; each finished scenario's row replaces its file atomically; at the
    end ``sweep.parquet``, ``timings.csv`` and the report replace theirs atomically, rows of
    scenarios no longer in the sweep go, and ``.complete`` comes back. A previous sweep's
    finished outputs are never deleted before the new ones exist.
    """
    import pandas as pd

    from runway.io import MARKER, atomic_write_file, os_error_line, stale_tmp_files
    from runway.sweep.report import write_sweep_report

    started = time.time()
    scen_dir = out_dir / "scenarios"
    meta = fingerprint(sw, n_paths)
    sha = meta["sha256"]
    meta_path = out_dir / "sweep.json"
    base_npz = scen_dir / "base_paths.npz"
    timings = out_dir / "timings.csv"
    try:
        scen_dir.mkdir(parents=True, exist_ok=True)
        if resume and meta_path.is_file():
            try:
                old_sha = _read_row(meta_path).get("sha256")
            except (RunwayError, ValueError, RecursionError):
                old_sha = None
            if old_sha != sha:
                raise RunwayError(
                    f"--resume: {out_dir} holds a different sweep (spec, configs, paths, seed "
                    "or runway's code changed); use another --out or drop --resume"
                )
        (out_dir / MARKER).unlink(missing_ok=True)
        for d in (out_dir, scen_dir):
            for stale in stale_tmp_files(d):
                stale.unlink(missing_ok=True)
            for stale in d.glob(".*.tmp-*"):  # an older runway's temporary names
                pid = stale.name.rsplit("-", 1)[-1]
                if pid.isdigit() and not _pid_alive(int(pid)):
                    stale.unlink(missing_ok=True)
    except OSError as exc:
        raise RunwayError(os_error_line(exc, out_dir)) from None
    atomic_write(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))

    rows: dict[int, dict[str, Any]] = {}
    if resume:
        for s in sw.scenarios:
            row = valid_row(scenario_file(out_dir, s.id), s, sha, sw.years)
            if row is not None:
                rows[s.id] = row
    base = _read_base_npz(base_npz, sha) if BASE_ID in rows else None
    if base is None or base.insolvent_by.shape[0] != n_paths:
        base = None
        rows.pop(BASE_ID, None)
    todo = [s for s in sw.scenarios if s.id not in rows]
    n_workers = workers if workers is not None else max(1, min(available_cpus(), len(todo)))
    threads = max(1, available_cpus() // n_workers)
    if scheduler is None and todo:
        _check_memory(sw, n_paths, min(n_workers, len(todo)))
    tasks = [Task(s.id, s.config, n_paths, sw.seed, tuple(sw.years), threads) for s in todo]
    by_id = {s.id: s for s in sw.scenarios}
    n_total, n_done = len(sw.scenarios), len(rows)
    if progress is not None:
        progress(n_done, n_total)

    def finish(o: Outcome) -> None:
        assert base is not None
        row = {
            "scenario": o.id,
            "is_base": o.id == BASE_ID,
            **by_id[o.id].values,
            **scenario_row(o, base, sw.years),
            "_sweep": sha,
            "_timing": {
                "seconds": round(o.seconds, 3),
                "worker": o.worker,
                "threads": o.threads,
                "executor": executor,
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        }
        text = json.dumps(row) + "\n"  # floats as repr: read back bit for bit
        atomic_write(scenario_file(out_dir, o.id), lambda p: p.write_text(text))
        rows[o.id] = row

    pending: list[Outcome] = []
    if tasks:
        stream = (
            _local_outcomes(tasks, n_workers)
            if executor == "local"
            else _dask_outcomes(tasks, n_workers, scheduler, sw.spec.name)
        )
        for o in stream:
            if o.id == BASE_ID:
                base = o
                _write_base_npz(base_npz, o, sha)
                pending.insert(0, o)
            else:
                pending.append(o)
            if base is None:
                continue  # rows are paired against the base, which was submitted first
            for p in pending:
                finish(p)
                n_done += 1
                if progress is not None:
                    progress(n_done, n_total)
            pending.clear()
    table = pd.DataFrame([table_row(rows[s.id]) for s in sw.scenarios])
    atomic_write(out_dir / "sweep.parquet", lambda p: table.to_parquet(p, index=False))
    lines = [TIMINGS_HEADER]
    for s in sw.scenarios:
        tm = rows[s.id].get("_timing")
        if isinstance(tm, dict):
            lines.append(
                f"{s.id},{tm.get('seconds')},{tm.get('worker')},{tm.get('threads')},"
                f"{tm.get('executor')},{tm.get('finished_at')}\n"
            )
    atomic_write(timings, lambda p: p.write_text("".join(lines)))
    write_sweep_report(table, sw, meta, out_dir)
    keep = {scenario_file(out_dir, s.id).name for s in sw.scenarios}
    try:
        for f in scen_dir.glob("*.json"):
            if f.name not in keep and f.stem.isdigit():
                f.unlink()  # a row of a scenario the sweep no longer has
        if base_npz.exists() and BASE_ID not in {s.id for s in sw.scenarios}:  # pragma: no cover
            base_npz.unlink()
        for png in out_dir.glob("sweep_*.png"):
            if png.stat().st_mtime < started - 1:
                png.unlink()  # a plot of a previous sweep's shape, not drawn this time
    except OSError as exc:
        raise RunwayError(os_error_line(exc, out_dir)) from None
    atomic_write_file(out_dir / MARKER, lambda p: p.write_text("ok\n"))
    return table


def _pid_alive(pid: int) -> bool:
    from runway.io import _alive

    return _alive(pid)
