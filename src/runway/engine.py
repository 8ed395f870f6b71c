"""Orchestration: seeding, chunking, threads and streaming aggregation.

Paths are cut into chunks of ``chunk_size`` (set by the config, never by the CPU count);
chunk ``i`` gets its own generator from ``SeedSequence(seed).spawn(n_chunks)[i]``, and the
numba kernel runs chunks in parallel, each writing only its own rows. Chunks are grouped
into batches whose monthly and annual values are folded into streaming histograms and then
dropped, so memory grows with paths only through the compact per-path outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numba.typed import List as TypedList

from runway import kernel as K
from runway.calendar import Calendar
from runway.config import Config
from runway.errors import RunwayError
from runway.model import Inputs, build_inputs
from runway.quantiles import StreamingQuantiles

FAN_LINES = ("cash", "revenue", "burn")
ANNUAL_KEEP = ("revenue", "fcf", "funding_gap", "cash")
"""Annual lines kept per path (paths.parquet); every line's quantiles are kept in aggregate."""
_KEEP_IDX = [K.LINE_NAMES.index(n) for n in ANNUAL_KEEP]
BATCH_PATHS = 32_768
"""Paths folded into the histograms at a time (rounded to whole chunks)."""
MAX_TRACE_PATHS = 1_000
"""Runs with at most this many paths keep every monthly line of every path (``Result.monthly``)."""


def _line_scale(name: str) -> float:
    if name in ("users_bn",):
        return 1e-4
    if name == "conversion":
        return 1e-5
    if name in ("gw_online", "regime"):
        return 1e-3
    return 1e-2  # money: $10m resolution near zero


@dataclass
class RawRun:
    """What the engine returns; :class:`runway.result.Result` wraps it in tables."""

    cfg: Config
    calendar: Calendar
    inputs: Inputs
    seed: int | None
    deterministic: bool
    n_paths: int
    chunk_size: int
    out: np.ndarray  # (n, N_OUT)
    exposure: np.ndarray  # (n, n_counterparties)
    annual_paths: np.ndarray  # (n, n_years, len(ANNUAL_KEEP))
    fan: StreamingQuantiles  # rows: line-major (3 x n_months)
    annual: StreamingQuantiles  # rows: year-major (n_years x N_LINES)
    monthly: np.ndarray | None  # (n, n_months, N_LINES) for small runs
    chain: np.ndarray  # (n,) index of the seed stream (chunk) of each path
    counterparties: list[str]


def estimate_memory_bytes(cfg: Config, paths: int) -> int:
    """Peak memory a run of ``paths`` paths needs, in bytes (outputs plus working buffers)."""
    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    n_cp = len({c.counterparty for c in cfg.compute.contracts})
    per_path = 8 * (K.N_OUT + n_cp + len(cal.years) * len(ANNUAL_KEEP) + 1)
    batch = min(paths, BATCH_PATHS) * 8 * (3 * cal.n_months + len(cal.years) * K.N_LINES)
    hist = StreamingQuantiles.memory_bytes(3 * cal.n_months) + StreamingQuantiles.memory_bytes(
        len(cal.years) * K.N_LINES, scale=min(_line_scale(x) for x in K.LINE_NAMES)
    )
    trace = paths * cal.n_months * K.N_LINES * 8 if paths <= MAX_TRACE_PATHS else 0
    return paths * per_path + 2 * batch + hist + trace


def run(
    cfg: Config,
    *,
    paths: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    threads: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RawRun:
    """Simulate a config.

    Parameters
    ----------
    cfg : Config
        Validated config.
    paths, seed, chunk_size : int, optional
        Override the config's ``[run]`` values. A deterministic run is one path.
    deterministic : bool
        Central parameter values and median shocks: one path, no randomness.
    threads : int, optional
        Numba threads; results are identical for any value.
    progress : callable, optional
        Called as ``progress(done_paths, total_paths)`` after each batch.
    """
    n = 1 if deterministic else int(paths if paths is not None else cfg.run.paths)
    s = None if deterministic else int(seed if seed is not None else cfg.run.seed)
    cs = int(chunk_size if chunk_size is not None else cfg.run.chunk_size)
    if n < 1:
        raise RunwayError(f"--paths must be at least 1, got {n}")
    if s is not None and s < 0:
        raise RunwayError(f"--seed must be a non-negative integer, got {s}")
    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    inp = build_inputs(cfg, stochastic=not deterministic)
    n_chunks = math.ceil(n / cs)
    offsets = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * cs, n)
    children = np.random.SeedSequence(s if s is not None else 0).spawn(n_chunks)
    n_years = inp.n_years
    n_cp = inp.n_counterparties
    out = np.empty((n, K.N_OUT))
    exposure = np.empty((n, n_cp))
    annual_paths = np.empty((n, n_years, len(ANNUAL_KEEP)))
    keep_monthly = n <= MAX_TRACE_PATHS
    monthly = np.empty((n, inp.n_months, K.N_LINES)) if keep_monthly else None
    fan_scale = np.array([1e-2] * (3 * inp.n_months))
    ann_scale = np.tile([_line_scale(x) for x in K.LINE_NAMES], n_years)
    fan_q = StreamingQuantiles(fan_scale)
    ann_q = StreamingQuantiles(ann_scale)

    chunks_per_batch = max(1, BATCH_PATHS // cs)
    # Batch buffers are allocated once: fresh ones per batch would be zeroed page by page.
    batch_max = min(n, chunks_per_batch * cs)
    fan_buf = np.empty((batch_max, 3, inp.n_months))
    ann_buf = np.empty((batch_max, n_years, K.N_LINES))
    kin = K.pack(inp)
    old_threads = numba.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise RunwayError(f"--threads must be at least 1, got {threads}")
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        for c0 in range(0, n_chunks, chunks_per_batch):
            c1 = min(c0 + chunks_per_batch, n_chunks)
            a, b = int(offsets[c0]), int(offsets[c1])
            m = b - a
            rngs = TypedList([np.random.default_rng(children[i]) for i in range(c0, c1)])
            local = offsets[c0 : c1 + 1] - a
            fan = fan_buf[:m]
            ann = ann_buf[:m]
            mon = monthly[a:b] if monthly is not None else np.empty((0, inp.n_months, K.N_LINES))
            K.run_chunks(kin, rngs, local, fan, ann, out[a:b], exposure[a:b], mon)
            annual_paths[a:b] = ann[:, :, _KEEP_IDX]
            fan_q.update(fan.reshape(m, -1))
            ann_q.update(ann.reshape(m, -1))
            if progress is not None:
                progress(b, n)
    finally:
        numba.set_num_threads(old_threads)
    chain = np.repeat(np.arange(n_chunks), np.diff(offsets))
    return RawRun(
        cfg=cfg,
        calendar=cal,
        inputs=inp,
        seed=s,
        deterministic=deterministic,
        n_paths=n,
        chunk_size=cs,
        out=out,
        exposure=exposure,
        annual_paths=annual_paths,
        fan=fan_q,
        annual=ann_q,
        monthly=monthly,
        chain=chain,
        counterparties=sorted({c.counterparty for c in cfg.compute.contracts}),
    )
