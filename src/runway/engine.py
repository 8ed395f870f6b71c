"""Orchestration: seeding, chunking, threads and streaming aggregation.

Paths are cut into chunks of ``chunk_size`` (set by the config, never by the CPU count) that
the numba kernel runs in parallel, each writing only its own rows. Path ``p``'s random
numbers are a function of ``(seed, p, month, draw)`` only (Philox4x32-10,
:mod:`runway.kernel.rng`), so the results do not depend on the chunk size, the thread count or
the horizon. Chunks are grouped
into batches of ``BATCH_PATHS`` paths whose monthly and annual values are folded into
streaming histograms and then dropped, so memory grows with paths only through the compact
per-path outcomes.

A run with a target Monte Carlo standard error (``target_mcse``) keeps adding whole chunks
until the target is met (:func:`run`). Because a path's numbers depend only on its
index and the histograms are folded batch by batch from chunk 0 whatever the stopping
point, a run that grows to ``N`` paths is bit-identical to a plain run of ``N`` paths with
the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from runway import kernel as K
from runway.calendar import Calendar
from runway.config import Config
from runway.errors import RunwayError
from runway.layout import (
    FAN_LINES,
    LINE_NAMES,
    N_FAN,
    N_LINES,
    N_OUT,
    N_PARAMS,
    N_QUARTER,
    OUT_NAMES,
    POLICY_OUTCOMES,
    QUARTER_LINES,
    Kind,
    O,
    draw_row_names,
)
from runway.model import Inputs, build_inputs
from runway.quantiles import StreamingQuantiles

ANNUAL_KEEP = ("revenue", "fcf", "funding_gap", "cash")
"""Annual lines kept per path (paths.parquet); every line's quantiles are kept in aggregate."""
_KEEP_IDX = [LINE_NAMES.index(n) for n in ANNUAL_KEEP]
BATCH_PATHS = 32_768
"""Paths folded into the histograms at a time (rounded to whole chunks); also the first
step of a ``target_mcse`` run when no ``paths`` is given."""
MAX_TRACE_PATHS = 1_000
"""Runs with at most this many paths keep every monthly line of every path (``Result.monthly``)."""
MAX_QUARTER_PATHS = 1_000_000
"""Runs with at most this many paths keep every path's quarterly lines by default (about 1 GB
of float32 at a six-year horizon; ten million paths would need 10 GB): ``quarters.parquet``."""
DEFAULT_MAX_PATHS = 1_000_000
"""Cap on the paths a ``target_mcse`` run may grow to (about a minute per million paths here)."""
TARGET_MARGIN = 1.05
"""A ``target_mcse`` step aims this much past the path count its MCSE estimate predicts."""
TARGET_MAX_GROWTH = 4.0
"""A ``target_mcse`` step at most multiplies the path count by this (early estimates are noisy)."""


# tools: quarterly lines per path (quarters.parquet) ----------------------------------------------
def quarter_of_month(cal: Calendar) -> np.ndarray:
    """Index of each grid month's calendar quarter (0: the quarter of the first month)."""
    return (np.arange(cal.start, cal.end + 1) // 3 - cal.start // 3).astype(np.int64)


def quarter_labels(cal: Calendar) -> tuple[str, ...]:
    """``"YYYYQn"`` of every calendar quarter the grid touches, in order."""
    return tuple(f"{q // 4}Q{q % 4 + 1}" for q in range(cal.start // 3, cal.end // 3 + 1))


def _line_scale(name: str) -> float:
    if name in ("users_bn",):
        return 1e-4
    if name == "conversion":
        return 1e-5
    if name in ("gw_online", "regime"):
        return 1e-3
    return 1e-2  # money: $10m resolution near zero


@dataclass(frozen=True)
class TargetCheck:
    """The convergence numbers of a ``target_mcse`` run after ``paths`` paths.

    ``rel_mcse_gap_p50`` is the MCSE of the median funding gap divided by the median;
    ``inf`` when the median is 0 but its MCSE is not (the relative error is then undefined
    and the target is not met), 0 when both are 0.
    """

    paths: int
    p_insolvent: float
    mcse_p_insolvent: float
    gap_p50: float
    mcse_gap_p50: float
    rel_mcse_gap_p50: float
    met: bool


@dataclass
class TargetOutcome:
    """How a ``target_mcse`` run chose its path count."""

    target_mcse: float
    year: int  # the last full calendar year: the year of both criteria
    initial_paths: int
    max_paths: int
    reached: bool = False
    checks: list[TargetCheck] = field(default_factory=list)


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
    out: np.ndarray  # (n, N_OUT), columns OUT_NAMES (read them by name: ``outcomes``)
    exposure: np.ndarray  # (n, n_counterparties)
    annual_paths: np.ndarray  # (n, n_years, len(ANNUAL_KEEP))
    fan: StreamingQuantiles | None  # rows: line-major (N_FAN x n_months); None: fold=False
    annual: StreamingQuantiles | None  # rows: year-major (n_years x N_LINES); None: fold=False
    monthly: np.ndarray | None  # (n, n_months, N_LINES) for small runs
    chain: np.ndarray  # (n,) index of the chunk of each path (the "chain" of the diagnostics)
    counterparties: list[str]
    drawn: np.ndarray | None = None  # (n, len(drawn_names)) per-path drawn inputs
    drawn_names: tuple[str, ...] = ()  # config dotted path of each column of ``drawn``
    target: TargetOutcome | None = None
    baseline: RawRun | None = None  # the deterministic run of the same config
    line_names: tuple[str, ...] = LINE_NAMES  # monthly/annual lines, in ``annual``'s order
    fan_lines: tuple[str, ...] = FAN_LINES  # lines of ``fan``, in its order
    annual_keep: tuple[str, ...] = ANNUAL_KEEP  # lines of ``annual_paths``, in its order
    outcome_names: tuple[str, ...] = OUT_NAMES  # columns of ``out``
    # tools: (n, n_quarters, len(QUARTER_LINES)) float32, or None (engine.run(quarters=False))
    quarterly: np.ndarray | None = None
    quarter_labels: tuple[str, ...] = ()  # "YYYYQn" of each quarter of ``quarterly``
    quarter_lines: tuple[str, ...] = QUARTER_LINES  # lines of ``quarterly``, in its order

    @property
    def outcomes(self) -> dict[str, np.ndarray]:
        """Per-path outcomes by name (views of ``out``).

        ``insolvent_month`` (grid month index, -1 when solvent to the horizon), ``min_cash``
        ($bn), money raised by source ($bn), counts, ``ipo_month`` (-1: none),
        ``max_gw_online``.
        """
        return {n: self.out[:, i] for i, n in enumerate(self.outcome_names)}

    def annual_path(self, line: str) -> np.ndarray:
        """Per-path values of a kept annual line (``ANNUAL_KEEP``): shape (n, n_years)."""
        return self.annual_paths[:, :, self.annual_keep.index(line)]


class _Simulator:
    """Simulates chunks ``0, 1, 2, ...`` in order, growing the per-path arrays as it goes.

    The histograms get exactly the batches a plain run gets (chunks ``[b * k, (b + 1) * k)``
    for ``k`` chunks per batch; the partial last batch in :meth:`finish`), whatever sizes of
    steps :meth:`advance` is called with, so the result depends only on the final path count.
    """

    def __init__(
        self,
        inp: Inputs,
        seed: int,
        chunk_size: int,
        capacity: int,
        progress: Callable[[int, int], None] | None,
        fold: bool = True,
        hold: dict[int, float | np.ndarray] | None = None,
        q_of_m: np.ndarray | None = None,
        *,
        out_cols: np.ndarray,
    ):
        self.inp = inp
        # the outcome columns kept per path (:func:`_policy_outcomes`); the kernel writes all
        # N_OUT of them into a batch buffer
        self.out_cols = out_cols
        # tools: quarterly lines, kept when the quarter of each month is given
        self.q_of_m = q_of_m if q_of_m is not None else np.zeros(0, dtype=np.int64)
        n_q = int(self.q_of_m.max()) + 1 if self.q_of_m.size else 0
        self.quarterly = np.empty((0, n_q, N_QUARTER), dtype=np.float32)
        self.hold = hold or {}  # draw row -> held value(s) (resolve_hold)
        self.n_rows = N_PARAMS + 2 * inp.c_value.size
        self.kin = K.pack(inp)  # the kernel's packed view of the inputs, built once
        self.fold = fold
        # the drawn inputs kept per path: every row that is not fixed (none when deterministic)
        self.draw_cols = (
            np.flatnonzero(self.kin.dkind != Kind.FIXED).astype(np.int64)
            if inp.stochastic
            else np.empty(0, dtype=np.int64)
        )
        self.drawn_names = tuple(draw_row_names(inp.c_value.size)[i] for i in self.draw_cols)
        self.cs = chunk_size
        self.seed = (
            seed  # the Philox key (runway.kernel.rng): a path's numbers depend on it and its id
        )
        self.progress = progress
        self.n = 0  # paths simulated
        self.final = False
        self.cap = 0
        n_years, n_cp = inp.n_years, inp.n_counterparties
        self.out = np.empty((0, self.out_cols.size))
        self.exposure = np.empty((0, n_cp))
        self.annual_paths = np.empty((0, n_years, len(ANNUAL_KEEP)))
        self.drawn = np.empty((0, self.draw_cols.size))
        self.monthly: np.ndarray | None = np.empty((0, inp.n_months, N_LINES))
        self.reserve(capacity)
        self.fan_q = StreamingQuantiles(np.array([1e-2] * (N_FAN * inp.n_months)))
        self.ann_q = StreamingQuantiles(np.tile([_line_scale(x) for x in LINE_NAMES], n_years))
        self.batch_chunks = max(1, BATCH_PATHS // chunk_size)
        self.batch_paths = self.batch_chunks * chunk_size
        rows = min(self.batch_paths, capacity)
        self.fan_buf = np.empty((rows, N_FAN, inp.n_months))
        self.ann_buf = np.empty((rows, n_years, N_LINES))
        self.out_buf = np.empty((rows, N_OUT))
        self.pending = 0  # rows of the current batch simulated but not yet folded

    def reserve(self, n: int, limit: int | None = None) -> None:
        """Make room for ``n`` paths (growing by at least a quarter, never past ``limit``)."""
        if n <= self.cap:
            return
        cap = n if self.cap == 0 else min(max(n, int(self.cap * 1.25)), limit or n)
        cap = max(cap, n)

        def grow(a: np.ndarray) -> np.ndarray:
            b = np.empty((cap,) + a.shape[1:], dtype=a.dtype)
            b[: self.n] = a[: self.n]
            return b

        self.out, self.exposure, self.annual_paths, self.drawn = (
            grow(self.out),
            grow(self.exposure),
            grow(self.annual_paths),
            grow(self.drawn),
        )
        if self.q_of_m.size:  # tools: quarterly lines
            self.quarterly = grow(self.quarterly)
        if self.monthly is not None:
            self.monthly = grow(self.monthly) if n <= MAX_TRACE_PATHS else None
        self.cap = cap

    def advance(self, n_target: int, total: int) -> None:
        """Simulate paths ``self.n .. n_target`` (``total`` is only shown by ``progress``).

        ``n_target`` is a whole number of chunks unless it is the run's last step.
        """
        if self.final:  # pragma: no cover - internal misuse
            raise RuntimeError("a ragged last chunk ends the run")
        if n_target % self.cs:
            self.final = True
        self.reserve(n_target)
        if self.monthly is not None and n_target > MAX_TRACE_PATHS:
            self.monthly = None
        inp = self.inp
        while self.n < n_target:
            c0 = self.n // self.cs
            batch_end = (c0 // self.batch_chunks + 1) * self.batch_chunks * self.cs
            a, b = self.n, min(n_target, batch_end)
            c1 = math.ceil(b / self.cs)
            offsets = np.minimum(np.arange(c0, c1 + 1, dtype=np.int64) * self.cs, b)
            r0, r1 = self.pending, self.pending + (b - a)
            if r1 > self.fan_buf.shape[0]:
                rows = min(self.batch_paths, max(r1, 2 * self.fan_buf.shape[0]))
                self.fan_buf = np.concatenate(
                    [self.fan_buf[:r0], np.empty((rows - r0,) + self.fan_buf.shape[1:])]
                )
                self.ann_buf = np.concatenate(
                    [self.ann_buf[:r0], np.empty((rows - r0,) + self.ann_buf.shape[1:])]
                )
                self.out_buf = np.empty((rows, N_OUT))  # copied out after each step
            mon = (
                self.monthly[a:b]
                if self.monthly is not None
                else np.empty((0, inp.n_months, N_LINES))
            )
            K.run_chunks(
                self.kin,
                self.seed,
                a,
                offsets - a,
                self.fan_buf[r0:r1],
                self.ann_buf[r0:r1],
                self.out_buf[r0:r1],
                self.exposure[a:b],
                mon,
                self.drawn[a:b],
                self.draw_cols,
                self._hold_block(a, b),
                self.quarterly[a:b] if self.q_of_m.size else None,  # tools: quarterly lines
                self.q_of_m if self.q_of_m.size else None,
            )
            # np.take into place: the same values as fancy indexing, without its temporary
            # and at half its time (0.1 CPU-s against 0.2-0.3 at 1,000,000 paths)
            np.take(self.ann_buf[r0:r1], _KEEP_IDX, axis=2, out=self.annual_paths[a:b], mode="clip")
            np.take(self.out_buf[r0:r1], self.out_cols, axis=1, out=self.out[a:b], mode="clip")
            self.n, self.pending = b, r1
            if b == batch_end:
                self._fold()
            if self.progress is not None:
                self.progress(self.n, total)

    def _hold_block(self, a: int, b: int) -> np.ndarray | None:
        """Held values of paths ``a .. b - 1``: (b - a, n_rows), NaN where drawn; or None."""
        if not self.hold:
            return None
        block = np.full((b - a, self.n_rows), np.nan)
        for i, v in self.hold.items():
            if np.ndim(v) == 0:
                block[:, i] = float(v)
            else:
                arr = np.asarray(v, dtype=np.float64)
                if arr.size < b:
                    raise RunwayError(
                        f"hold of {self.drawn_row_name(i)} has {arr.size:,} values; the run "
                        f"needs one per path ({b:,})"
                    )
                block[:, i] = arr[a:b]
        return block

    def drawn_row_name(self, i: int) -> str:
        """Config dotted path of draw row ``i``."""
        return draw_row_names(self.inp.c_value.size)[i]

    def _fold(self) -> None:
        m = self.pending
        if m and self.fold:
            self.fan_q.update(self.fan_buf[:m].reshape(m, -1))
            self.ann_q.update(self.ann_buf[:m].reshape(m, -1))
        self.pending = 0

    def finish(self) -> None:
        self._fold()
        self.fan_buf = self.ann_buf = self.out_buf = np.empty((0,))


def check_target(
    insolvent_month: np.ndarray, gap: np.ndarray, last_month: int, target: float
) -> TargetCheck:
    """The two ``target_mcse`` criteria on ``n`` paths.

    Parameters
    ----------
    insolvent_month : ndarray of shape (n,)
        Per-path month index of insolvency (-1: solvent to the horizon).
    gap : ndarray of shape (n,)
        Funding gap of each path in the target year, $bn.
    last_month : int
        Grid index of the target year's last month (insolvent by then counts).
    target : float
        Largest accepted MCSE: absolute for the probability, relative for the median gap.
    """
    from runway.report.mcse import mcse_proportion, mcse_quantile

    n = gap.size
    ins = insolvent_month
    p = float(np.mean((ins >= 0) & (ins <= last_month)))
    se_p = mcse_proportion(p, n)
    med = float(np.quantile(gap, 0.5))
    se_g = mcse_quantile(gap, 0.5)
    se_g = math.inf if se_g is None else float(se_g)
    if med != 0.0:
        rel = se_g / abs(med)
    else:
        rel = 0.0 if se_g == 0.0 else math.inf
    return TargetCheck(
        paths=n,
        p_insolvent=p,
        mcse_p_insolvent=se_p,
        gap_p50=med,
        mcse_gap_p50=se_g,
        rel_mcse_gap_p50=rel,
        met=bool(se_p <= target and rel <= target),
    )


def next_target_paths(check: TargetCheck, target: float, chunk_size: int, max_paths: int) -> int:
    """Path count of the next step of a ``target_mcse`` run.

    Both MCSEs fall as ``1 / sqrt(n)``, so about ``n * (mcse / target)**2`` paths meet the
    target; the step aims :data:`TARGET_MARGIN` beyond that, grows by at most
    :data:`TARGET_MAX_GROWTH` and by at least one chunk, is rounded up to whole chunks and
    never passes ``max_paths`` (which may end on a partial chunk).
    """
    n = check.paths
    ratio = max(check.mcse_p_insolvent, check.rel_mcse_gap_p50) / target
    growth = (
        min(ratio * ratio * TARGET_MARGIN, TARGET_MAX_GROWTH)
        if math.isfinite(ratio)
        else TARGET_MAX_GROWTH
    )
    want = max(math.ceil(n * growth), n + chunk_size)
    want = math.ceil(want / chunk_size) * chunk_size
    return min(want, max_paths)


def resolve_hold(cfg: Config, hold: Mapping[str, Any] | None) -> dict[int, float | np.ndarray]:
    """``hold`` keyed by draw row index, checked: names are config dotted paths of draw rows.

    Values are scalars (every path) or 1-D arrays with one value per path (NaN: drawn as usual).
    """
    if not hold:
        return {}
    names = draw_row_names(len(cfg.compute.contracts))
    out: dict[int, float | np.ndarray] = {}
    for name, v in hold.items():
        if name not in names:
            raise RunwayError(
                f"hold: {name!r} is not a per-path input; use one of {', '.join(names[:3])}, "
                "... (runway.layout.draw_row_names)"
            )
        arr = np.asarray(v, dtype=np.float64)
        if arr.ndim > 1:
            raise RunwayError(f"hold: {name} needs a number or a 1-D array, got {arr.ndim}-D")
        out[names.index(name)] = float(arr) if arr.ndim == 0 else arr
    return out


def run(
    cfg: Config,
    *,
    paths: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    threads: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    target_mcse: float | None = None,
    max_paths: int | None = None,
    on_check: Callable[[TargetCheck], None] | None = None,
    fold: bool = True,
    baseline: bool = True,
    hold: Mapping[str, Any] | None = None,
    quarters: bool | None = None,
    policy_outcomes: bool = False,
) -> RawRun:
    """Simulate a config.

    Parameters
    ----------
    cfg : Config
        Validated config.
    paths, seed, chunk_size : int, optional
        Override the config's ``[run]`` values. A deterministic run is one path. With
        ``target_mcse``, ``paths`` is the first step (default :data:`BATCH_PATHS`, rounded
        up to whole chunks).
    deterministic : bool
        Central parameter values and median shocks: one path, no randomness.
    threads : int, optional
        Numba threads; results are identical for any value.
    progress : callable, optional
        Called as ``progress(done_paths, total_paths)`` after each batch; with
        ``target_mcse`` the total is the path count of the current step.
    target_mcse : float, optional
        Keep adding paths until the MCSE of P(insolvent by the last full year) is at most
        ``target_mcse`` and the MCSE of that year's median funding gap is at most
        ``target_mcse`` times the median (see :func:`check_target`, :func:`next_target_paths`),
        or until ``max_paths``. The outputs equal those of a plain run of the final path
        count with the same seed.
    max_paths : int, optional
        Cap of a ``target_mcse`` run (default :data:`DEFAULT_MAX_PATHS`).
    on_check : callable, optional
        Called with each :class:`TargetCheck` of a ``target_mcse`` run.
    fold : bool
        Fold the monthly fan and every annual line into streaming quantiles (``RawRun.fan``,
        ``RawRun.annual``). Sweeps, which read only per-path outcomes, pass ``False``: the
        histograms are then ``None`` and the per-path arrays are unchanged.
    baseline : bool
        Also run the deterministic path of the same config (one path, milliseconds) and
        return it as ``RawRun.baseline``, so writers need not simulate again.
    hold : dict, optional
        Per-path inputs held at given values instead of drawn, keyed by config dotted path
        (:func:`runway.layout.draw_row_names`, e.g. ``"enterprise.share_anchor"``,
        ``"compute.contracts[1].slip_months"``): a number for every path, or a 1-D array with
        one value per path (NaN: drawn as usual). Every other input and shock is drawn as in
        the run without ``hold`` (each draw row has its own Philox counter), so runs with and
        without a hold are paired by common random numbers (:mod:`runway.sensitivity`).
        ``RawRun.drawn`` records the held values.
    quarters : bool
        Keep every path's quarterly lines (:data:`runway.layout.QUARTER`: revenue, burn,
        quarter-end cash, money raised by source) as ``RawRun.quarterly`` (float32), which
        ``quarters.parquet``, ``runway backtest`` and ``runway condition`` read. Default:
        ``fold`` and at most :data:`MAX_QUARTER_PATHS` paths (the most a ``target_mcse`` run
        may reach, for one): runs that write a run directory keep them; sweeps and the
        sensitivity analysis, which pass ``fold=False``, read neither and do not pay for them;
        larger runs keep none unless asked (their backtest reads the per-path years).
    policy_outcomes : bool
        pol: policies -- keep ``layout.POLICY_OUTCOMES`` (compute expensed, revenue, policy
        costs) even when the config has no policies (the paired run of
        :func:`runway.policies.run_paired`); a config with policies always keeps them.
    """
    cs = int(chunk_size if chunk_size is not None else cfg.run.chunk_size)
    if cs < 1:
        raise RunwayError(f"--chunk-size must be at least 1, got {cs}")
    if target_mcse is not None:
        if deterministic:
            raise RunwayError("--target-mcse needs a Monte Carlo run: drop --deterministic")
        if not (math.isfinite(target_mcse) and 0.0 < target_mcse < 1.0):
            raise RunwayError(f"--target-mcse must be a number in (0, 1), got {target_mcse}")
        cap = int(max_paths if max_paths is not None else DEFAULT_MAX_PATHS)
        if cap < 1:
            raise RunwayError(f"--max-paths must be at least 1, got {cap}")
        first = int(paths) if paths is not None else BATCH_PATHS
        if first < 1:
            raise RunwayError(f"--paths must be at least 1, got {first}")
        if first > cap:
            raise RunwayError(
                f"--paths {first:,} (the first step of --target-mcse) exceeds --max-paths {cap:,}"
            )
        n = min(math.ceil(first / cs) * cs, cap)
    elif max_paths is not None:
        raise RunwayError("--max-paths only applies with --target-mcse")
    else:
        n = 1 if deterministic else int(paths if paths is not None else cfg.run.paths)
    s = None if deterministic else int(seed if seed is not None else cfg.run.seed)
    if n < 1:
        raise RunwayError(f"--paths must be at least 1, got {n}")
    if s is not None and s < 0:
        raise RunwayError(f"--seed must be a non-negative integer, got {s}")
    if threads is not None and threads < 1:
        raise RunwayError(f"--threads must be at least 1, got {threads}")
    cal = Calendar.from_strings(cfg.calendar.start, cfg.calendar.end)
    inp = build_inputs(cfg, stochastic=not deterministic)
    held = resolve_hold(cfg, hold)
    if quarters is None:  # tools: quarterly lines, by default up to MAX_QUARTER_PATHS paths
        most = cap if target_mcse is not None else n
        quarters = fold and most <= MAX_QUARTER_PATHS
    q_of_m = quarter_of_month(cal) if quarters else None
    out_cols, outcome_names = _policy_outcomes(cfg, policy_outcomes)  # pol: policies
    sim = _Simulator(
        inp,
        s if s is not None else 0,
        cs,
        n,
        progress,
        fold=fold,
        hold=held,
        q_of_m=q_of_m,
        out_cols=out_cols,
    )
    insolvent_col = int(np.flatnonzero(out_cols == O.INSOLVENT)[0])

    target = None
    old_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        if target_mcse is None:
            sim.advance(n, n)
        else:
            year = cal.full_years[-1] if cal.full_years else cal.years[-1]
            target = TargetOutcome(
                target_mcse=float(target_mcse), year=year, initial_paths=n, max_paths=cap
            )
            last_month = min(year * 12 + 11, cal.end) - cal.start
            gi = ANNUAL_KEEP.index("funding_gap")
            yi = cal.years.index(year)
            while True:
                sim.advance(n, n)
                chk = check_target(
                    sim.out[:n, insolvent_col],
                    sim.annual_paths[:n, yi, gi],
                    last_month,
                    target.target_mcse,
                )
                target.checks.append(chk)
                if on_check is not None:
                    on_check(chk)
                if chk.met or n >= cap or sim.final:
                    target.reached = chk.met
                    break
                n = next_target_paths(chk, target.target_mcse, cs, cap)
                sim.reserve(n, limit=cap)
        sim.finish()
    finally:
        numba.set_num_threads(old_threads)
    n = sim.n
    out = sim.out[:n]
    n_chunks = math.ceil(n / cs)
    offsets = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * cs, n)
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
        exposure=sim.exposure[:n],
        annual_paths=sim.annual_paths[:n],
        fan=sim.fan_q if fold else None,
        annual=sim.ann_q if fold else None,
        monthly=sim.monthly[:n] if sim.monthly is not None else None,
        chain=chain,
        counterparties=sorted({c.counterparty for c in cfg.compute.contracts}),
        drawn=sim.drawn[:n],
        drawn_names=sim.drawn_names,
        target=target,
        baseline=(
            run(cfg, deterministic=True, threads=threads, fold=fold, baseline=False)
            if baseline and not deterministic
            else None
        ),
        quarterly=sim.quarterly[:n] if quarters else None,  # tools: quarterly lines
        quarter_labels=quarter_labels(cal) if quarters else (),
        outcome_names=outcome_names,
    )


# pol: policies
def _policy_outcomes(cfg: Config, keep: bool = False) -> tuple[np.ndarray, tuple[str, ...]]:
    """The outcome columns a run keeps (indices into ``OUT_NAMES``), and their names.

    Without policies the policy outcomes (the last columns of ``OUT_NAMES``) are left out, so
    such a run's outputs are those of the model before policies; with policies every policy's
    columns ``policy<q>_month`` / ``policy<q>_fires`` are named ``policy_<name>_month`` /
    ``policy_<name>_fires`` and the unused slots are left out.
    """
    n_base = OUT_NAMES.index(POLICY_OUTCOMES[0])
    if not cfg.policies:
        n_keep = n_base + len(POLICY_OUTCOMES) if keep else n_base
        return np.arange(n_keep, dtype=np.int64), OUT_NAMES[:n_keep]
    cols = list(range(n_base + len(POLICY_OUTCOMES)))
    names = list(OUT_NAMES[: n_base + len(POLICY_OUTCOMES)])
    for what in ("month", "fires"):
        for q, p in enumerate(cfg.policies):
            cols.append(OUT_NAMES.index(f"policy{q}_{what}"))
            names.append(f"policy_{p.name}_{what}")
    return np.asarray(cols, dtype=np.int64), tuple(names)
