"""The kernel's packed inputs and per-path work arrays.

numba copies a large tuple whenever it passes one to a function (about 1 us for the ~100
fields of :class:`runway.model.Inputs`), so the compiled code reads the same numbers packed
into a few arrays, indexed by the enums of :mod:`runway.layout` (``k.fs[F.SENT_RHO]``,
``k.mon[M.W_CONV, m]``). :func:`pack` fills every array from the enum member names, so there is
no second list of names to keep in step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from runway._jit import njit
from runway.kernel.numeric import capacity_fraction
from runway.layout import (
    CF,
    CI,
    N_CONST,
    N_PARAMS,
    N_STATE,
    ROW_FIELDS,
    SF,
    SI,
    F,
    H,
    I,
    M,
    R,
    T,
    draw_id,
    draw_row_names,
)


class KernelInputs(NamedTuple):
    """:class:`runway.model.Inputs` packed into a few arrays for the compiled functions."""

    fs: np.ndarray  # (len(F),) float scalars
    iv: np.ndarray  # (len(I),) int scalars
    mon: np.ndarray  # (len(M), n_months) monthly rows
    year_idx: np.ndarray  # (n_months,) index of each month's year
    con: np.ndarray  # (len(CF), n_contracts)
    coni: np.ndarray  # (len(CI), n_contracts)
    stf: np.ndarray  # (len(SF), n_strategic)
    sti: np.ndarray  # (len(SI), n_strategic)
    s_mask: np.ndarray  # (n_strategic, n_contracts)
    reg: np.ndarray  # (len(R), 3)
    reg_thr: np.ndarray  # (3, 3) regime move thresholds
    load: np.ndarray  # (2, len(LD)) sentiment loadings and the weights of the own shocks
    dkind: np.ndarray  # (N_PARAMS + 2 n_contracts,) kinds: parameters, shares online, slips
    dpar: np.ndarray  # (N_PARAMS + 2 n_contracts, 6) 4 distribution numbers, lower, upper bound
    dtab: np.ndarray  # (N_PARAMS + 2 n_contracts, PERT_TABLE + 1) PERT inverse CDFs (else 0)
    did: np.ndarray  # (N_PARAMS + 2 n_contracts,) uint64 draw id of each row (layout.draw_id)
    cap: np.ndarray  # (n_contracts, longest term) capacity online j months into the term
    cap_tail: np.ndarray  # (n_contracts, longest term + 1) sum of cap[c, j:]


def _rows(inp, enum, dtype, n: int) -> np.ndarray:
    prefix = ROW_FIELDS[enum.__name__]
    rows = [np.asarray(getattr(inp, prefix + e.name.lower()), dtype=dtype) for e in enum]
    return np.ascontiguousarray(np.array(rows, dtype=dtype).reshape(len(enum), n))


def pack(inp) -> KernelInputs:
    """Pack :class:`runway.model.Inputs` for the compiled functions."""
    nc = inp.c_value.size
    ns = inp.s_amount.size
    dpar = np.zeros((N_PARAMS + 2 * nc, 6))
    dpar[:N_PARAMS, :4] = inp.p_par
    dpar[:N_PARAMS, 4] = inp.p_lo
    dpar[:N_PARAMS, 5] = inp.p_hi
    dpar[N_PARAMS : N_PARAMS + nc, :4] = inp.share_par
    dpar[N_PARAMS : N_PARAMS + nc, 4:] = inp.share_bounds
    dpar[N_PARAMS + nc :, :4] = inp.slip_par
    dpar[N_PARAMS + nc :, 4:] = inp.slip_bounds
    longest = int(max(inp.c_len.max(initial=0), 1))
    cap = np.zeros((nc, longest))
    for c in range(nc):
        for j in range(int(inp.c_len[c])):
            cap[c, j] = capacity_fraction(
                int(inp.c_profile[c]), j, int(inp.c_len[c]), int(inp.c_ramp[c])
            )
    cap_tail = np.zeros((nc, longest + 1))
    for j in range(longest - 1, -1, -1):
        cap_tail[:, j] = cap_tail[:, j + 1] + cap[:, j]
    ids = [draw_id(n) for n in draw_row_names(nc)]
    if len(set(ids)) != len(ids):  # pragma: no cover - a CRC-32 collision of two config paths
        raise ValueError("two drawn config values share a draw id; rename one")
    return KernelInputs(
        fs=np.array([float(getattr(inp, f.name.lower())) for f in F]),
        iv=np.array([int(getattr(inp, i.name.lower())) for i in I], dtype=np.int64),
        mon=_rows(inp, M, np.float64, inp.n_months),
        year_idx=np.ascontiguousarray(inp.year_idx, dtype=np.int64),
        con=_rows(inp, CF, np.float64, nc),
        coni=_rows(inp, CI, np.int64, nc),
        stf=_rows(inp, SF, np.float64, ns),
        sti=_rows(inp, SI, np.int64, ns),
        s_mask=np.ascontiguousarray(inp.s_mask, dtype=np.float64).reshape(ns, nc),
        reg=_rows(inp, R, np.float64, 3),
        reg_thr=np.ascontiguousarray(inp.reg_thr, dtype=np.float64),
        load=np.ascontiguousarray(np.stack([inp.load, inp.load_c]), dtype=np.float64),
        dkind=np.concatenate([inp.p_kind, inp.share_kind, inp.slip_kind]).astype(np.int64),
        dpar=dpar,
        dtab=np.ascontiguousarray(inp.draw_table, dtype=np.float64),
        did=np.array(ids, dtype=np.uint64),
        cap=cap,
        cap_tail=cap_tail,
    )


class PathBuffers(NamedTuple):
    """One path's work arrays (see :func:`runway.kernel.path.init_path`)."""

    theta: np.ndarray  # (N_PARAMS,) drawn parameters, P
    cshare: np.ndarray  # (n_contracts,) share online
    cslip: np.ndarray  # (n_contracts,) slip, whole months
    pc: np.ndarray  # (N_CONST,) per-path constants, C
    cpay: np.ndarray  # (n_contracts,) payment per month at full capacity, $bn
    cgw: np.ndarray  # (n_contracts,) GW at full capacity
    coff: np.ndarray  # (n_contracts,) first month after slip
    traj: np.ndarray  # (T.STRAT0 + n_strategic, n_months) contract schedule, T
    st: np.ndarray  # (N_STATE,) path state, S
    hist: np.ndarray  # (H.PAY + pay_lag + 1,) rings, H
    # (3, n_strategic) strategic money paid, GW online under its counterparties, and the money
    # the no-new-money path received (fin: financing)
    sbuf: np.ndarray


@njit
def path_buffers(k: KernelInputs) -> PathBuffers:
    """Fresh per-path work arrays for packed inputs ``k``."""
    nc = k.con.shape[1]
    ns = k.stf.shape[1]
    n_months = k.iv[I.N_MONTHS]
    return PathBuffers(
        theta=np.zeros(N_PARAMS),
        cshare=np.zeros(nc),
        cslip=np.zeros(nc),
        pc=np.zeros(N_CONST),
        cpay=np.zeros(nc),
        cgw=np.zeros(nc),
        coff=np.zeros(nc, dtype=np.int64),
        traj=np.zeros((T.STRAT0 + ns, n_months)),
        st=np.zeros(N_STATE),
        hist=np.zeros(H.PAY + k.iv[I.PAY_LAG] + 1),
        sbuf=np.zeros((3, ns)),
    )
