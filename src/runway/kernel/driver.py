"""The path loop over a chunk, and the parallel loop over chunks."""

from __future__ import annotations

import numpy as np
from numba import prange as numba_prange

from runway._jit import borrow, njit, njit_parallel
from runway.kernel.inputs import KernelInputs, borrow_buffers, borrow_inputs, pack, path_buffers
from runway.kernel.path import simulate_path, summarise_path
from runway.kernel.rng import seed_key
from runway.layout import (
    FAN_FROM_LINE,
    FAN_SIGN,
    FAN_SURVIVORS,
    N_EPS,
    N_FAN,
    N_LINES,
    N_PARAMS,
    N_QUARTER,
    QUARTER_FROM_LINE,
    QUARTER_IS_FLOW,
    QUARTER_SIGN,
    I,
    L,
)


@njit
def run_chunk(
    k,
    key0,
    key1,
    path0,
    n_paths,
    fan,
    annual,
    out,
    exposure,
    monthly,
    drawn,
    draw_cols,
    hold,
    quarterly,
    q_of_m,
):
    """Simulate paths ``path0 .. path0 + n_paths - 1``, writing each path's outputs.

    ``(key0, key1)``: the seed's Philox key (:func:`runway.kernel.rng.seed_key`); a path's
    random numbers depend only on the key and its id (:mod:`runway.kernel.rng`).

    ``fan`` (n, N_FAN, n_months): the :data:`runway.layout.FAN` lines per month; ``annual``
    (n, n_years, N_LINES); ``out`` (n, N_OUT); ``exposure`` (n, n_counterparties);
    ``monthly`` (n, n_months, N_LINES) or an empty array when full traces are not kept;
    ``drawn`` (n, draw_cols.size): the path's drawn inputs, column ``j`` the draw row
    ``draw_cols[j]`` (parameters ``P``, then shares online, then slips). ``hold`` (n, n_rows)
    or (0, 0): values that replace the draws (NaN: drawn; see
    :func:`~runway.kernel.path.hold_path_params`). ``quarterly`` (n, n_quarters, N_QUARTER)
    float32, or an empty array: the :data:`runway.layout.QUARTER` lines per calendar quarter
    (``q_of_m``: the quarter index of each month; flows summed, stocks at the quarter's last
    month).
    """
    n_months = k.iv[I.N_MONTHS]
    qacc = np.zeros((quarterly.shape[1], N_QUARTER))
    b = path_buffers(k)
    eps = np.zeros((N_EPS, n_months))
    rows = np.zeros((n_months, N_LINES))
    _run_paths(
        k, b, eps, rows, qacc, key0, key1, path0, n_paths, fan, annual, out, exposure, monthly,
        drawn, draw_cols, hold, quarterly, q_of_m,
    )  # fmt: skip


@njit
def _run_paths(
    k, b, eps, rows, qacc, key0, key1, path0, n_paths, fan, annual, out, exposure, monthly, drawn,
    draw_cols, hold, quarterly, q_of_m,
):  # fmt: skip
    """The path loop of :func:`run_chunk`, on its work arrays (``b``, ``eps``, ``rows``, ``qacc``).

    Every array is an argument, so it outlives the loop: the loop reads borrowed views of them
    all (:func:`runway._jit.borrow`; no atomic reference counting per path and month).
    """
    k = borrow_inputs(k)
    b = borrow_buffers(b)
    eps, rows, qacc = borrow(eps), borrow(rows), borrow(qacc)
    fan, annual, out, exposure = borrow(fan), borrow(annual), borrow(out), borrow(exposure)
    monthly, drawn, draw_cols, hold = (
        borrow(monthly),
        borrow(drawn),
        borrow(draw_cols),
        borrow(hold),
    )
    quarterly, q_of_m = borrow(quarterly), borrow(q_of_m)
    n_months = k.iv[I.N_MONTHS]
    keep_q = quarterly.shape[0] > 0  # tools: quarterly lines
    keep = monthly.shape[0] > 0
    held = hold.shape[0] > 0
    no_hold = np.empty(0)
    for p in range(n_paths):
        simulate_path(k, b, key0, key1, path0 + p, eps, rows, hold[p] if held else no_hold)
        for f in range(N_FAN):
            li = FAN_FROM_LINE[f]
            sg = FAN_SIGN[f]
            if FAN_SURVIVORS[f]:  # a defaulted path-month is left out of this fan
                for m in range(n_months):
                    v = sg * rows[m, li]
                    fan[p, f, m] = np.nan if rows[m, L.DEFAULTED] > 0.0 else v
            else:
                for m in range(n_months):
                    fan[p, f, m] = sg * rows[m, li]
        summarise_path(k, b.cpay, b.coff, b.st, rows, annual[p], out[p], exposure[p])
        if keep:
            monthly[p, :, :] = rows
        if keep_q:  # tools: quarterly lines, summed in float64 and stored as float32
            qacc[:, :] = 0.0
            for m in range(n_months):
                j = q_of_m[m]
                for f in range(N_QUARTER):
                    v = QUARTER_SIGN[f] * rows[m, QUARTER_FROM_LINE[f]]
                    if QUARTER_IS_FLOW[f]:
                        qacc[j, f] += v
                    else:
                        qacc[j, f] = v
            for j in range(qacc.shape[0]):
                for f in range(N_QUARTER):
                    quarterly[p, j, f] = np.float32(qacc[j, f])
        nc = b.cshare.size
        for j in range(draw_cols.size):
            i = draw_cols[j]
            if i < N_PARAMS:
                drawn[p, j] = b.theta[i]
            elif i < N_PARAMS + nc:
                drawn[p, j] = b.cshare[i - N_PARAMS]
            else:
                drawn[p, j] = b.cslip[i - N_PARAMS - nc]


@njit_parallel
def _run_chunks(
    k, seed, path0, offsets, fan, annual, out, exposure, monthly, drawn, draw_cols, hold, quarterly,
    q_of_m,
):  # fmt: skip
    key0, key1 = seed_key(seed)
    n_chunks = offsets.size - 1
    keep = monthly.shape[0] > 0
    keep_q = quarterly.shape[0] > 0
    held = hold.shape[0] > 0
    for ii in numba_prange(n_chunks):
        i = np.int64(ii)
        a = offsets[i]
        b = offsets[i + 1]
        mon = monthly[a:b] if keep else monthly[0:0]
        run_chunk(
            k,
            key0,
            key1,
            path0 + a,
            b - a,
            fan[a:b],
            annual[a:b],
            out[a:b],
            exposure[a:b],
            mon,
            drawn[a:b],
            draw_cols,
            hold[a:b] if held else hold[0:0],
            quarterly[a:b] if keep_q else quarterly[0:0],
            q_of_m,
        )


def run_chunks(
    inp,
    seed,
    path0,
    offsets,
    fan,
    annual,
    out,
    exposure,
    monthly,
    drawn=None,
    draw_cols=None,
    hold=None,
    quarterly=None,
    q_of_m=None,
) -> None:
    """Run chunk ``i`` on rows ``offsets[i]:offsets[i+1]`` in parallel.

    Global path ids start at ``path0``; the chunks only split the work: results do not depend
    on them.

    ``inp`` is :class:`runway.model.Inputs` or an already packed :class:`KernelInputs`. Each
    chunk writes only its own slice, so results do not depend on the thread count.

    ``hold`` (n, N_PARAMS + 2 n_contracts), optional: per-path values that replace the draws
    of the rows where they are not NaN (the sensitivity analysis); ``None`` holds nothing.

    ``quarterly`` (n, n_quarters, N_QUARTER) float32 and ``q_of_m`` (n_months,) int64,
    optional: the per-path quarterly lines (:data:`runway.layout.QUARTER`); ``None`` keeps none.
    """
    k = inp if isinstance(inp, KernelInputs) else pack(inp)
    if draw_cols is None:
        draw_cols = np.empty(0, dtype=np.int64)
    if drawn is None:
        drawn = np.empty((out.shape[0], draw_cols.size))
    if hold is None:
        hold = np.empty((0, 0))
    if quarterly is None or q_of_m is None:  # tools: quarterly lines
        quarterly = np.empty((0, 0, N_QUARTER), dtype=np.float32)
        q_of_m = np.zeros(0, dtype=np.int64)
    _run_chunks(
        k,
        np.uint64(seed),
        np.int64(path0),
        offsets,
        fan,
        annual,
        out,
        exposure,
        monthly,
        drawn,
        draw_cols,
        np.ascontiguousarray(hold, dtype=np.float64),
        quarterly,
        np.ascontiguousarray(q_of_m, dtype=np.int64),
    )
