"""The kernel's packed inputs and per-path work arrays.

numba copies a large tuple whenever it passes one to a function (about 1 us for the ~100
fields of :class:`runway.model.Inputs`), so the compiled code reads the same numbers packed
into a few arrays, indexed by the enums of :mod:`runway.layout` (``k.fs[F.SENT_RHO]``,
``k.mon[M.W_CONV, m]``). :func:`pack` fills every array from the enum member names, so there is
no second list of names to keep in step.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from runway._jit import borrow, njit, njit_inline
from runway.kernel.numeric import capacity_fraction
from runway.layout import (
    CF,
    CI,
    N_CONST,
    N_FAN,
    N_LINES,
    N_OUT,
    N_PARAMS,
    N_QUARTER,
    N_STATE,
    PF,
    PI,
    ROW_FIELDS,
    SF,
    SI,
    F,
    H,
    I,
    L,
    M,
    P,
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
    # cal2: vintage/contracts
    hrows: np.ndarray  # (hist_end + 1, N_LINES) history lines (history_table)
    hcen: np.ndarray  # (3,) central consumer, enterprise, ads at the as-of month, before actuals
    # pol: policies
    pf: np.ndarray  # (len(PF), n_policies) float rows per policy
    pi: np.ndarray  # (len(PI), n_policies) integer rows per policy
    pmask: np.ndarray  # (n_policies, n_contracts) 1.0: the policy acts on the contract


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
    k = KernelInputs(
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
        hrows=np.zeros((0, N_LINES)),
        hcen=np.zeros(3),
        pf=_rows(inp, PF, np.float64, inp.pol_n),  # pol: policies
        pi=_rows(inp, PI, np.int64, inp.pol_n),
        pmask=np.ascontiguousarray(inp.pol_mask, dtype=np.float64).reshape(inp.pol_n, nc),
    )
    if inp.hist_end < 0:
        return k
    hrows, hcen = history_table(inp, k)
    return k._replace(hrows=hrows, hcen=hcen)


# cal2: vintage/contracts
def history_table(inp, k: KernelInputs | None = None) -> tuple[np.ndarray, np.ndarray]:
    """History lines (months ``0 .. hist_end``) and the central revenue split at the as-of month.

    The central path (central parameters, no shocks; the kernel's own deterministic run) with
    the reported actuals (``Inputs.act_*``) put in:

    - revenue over a period sums to the reported value, spread geometrically: month ``i`` of
      ``n`` gets ``X g^(i - n)`` with ``X`` the central model's revenue in the month after the
      period, ``g`` solving ``X sum_{j=1..n} g^-j = value`` (so the series joins the model);
      every revenue component is scaled by the same factor, and the lines that are shares of
      revenue (other cost of sales, variable SG&A, the revenue share) follow;
    - free cash flow over a period: the difference to the model is spread evenly over its
      months as working capital (a reconciling item).

    Returns ``hrows`` (hist_end + 1, N_LINES) and ``hcen`` (3,): the central model's consumer,
    enterprise and advertising revenue in the as-of month, before actuals (the seam pin).
    """
    from runway.kernel.driver import run_chunk  # the driver imports this module
    from runway.kernel.numeric import central_value

    if k is None:
        k = pack(inp)
    h = int(inp.hist_end)
    iv = k.iv.copy()
    iv[I.STOCHASTIC] = 0
    iv[I.HIST_END] = -1
    k0 = k._replace(iv=iv, hrows=np.zeros((0, N_LINES)), hcen=np.zeros(3))
    n = int(inp.n_months)
    mon = np.zeros((1, n, N_LINES))
    run_chunk(
        k0,
        np.uint64(0),
        np.uint64(0),
        0,
        1,
        np.zeros((1, N_FAN, n)),
        np.zeros((1, int(inp.n_years), N_LINES)),
        np.zeros((1, N_OUT)),
        np.zeros((1, max(int(inp.n_counterparties), 1))),
        mon,
        np.zeros((1, 0)),
        np.empty(0, dtype=np.int64),
        np.zeros((0, 0)),  # nothing held
        np.zeros((0, 0, N_QUARTER), dtype=np.float32),  # tools: no quarterly lines
        np.zeros(0, dtype=np.int64),
    )
    rows = mon[0]
    hcen = np.array([rows[h, L.CONSUMER], rows[h, L.ENTERPRISE], rows[h, L.ADS]])
    out = rows[: h + 1].copy()
    cogs = central_value(int(k.dkind[P.COGS_PCT]), k.dpar[P.COGS_PCT, 0], k.dpar[P.COGS_PCT, 1])
    sga = central_value(int(k.dkind[P.SGA_PCT]), k.dpar[P.SGA_PCT, 0], k.dpar[P.SGA_PCT, 1])
    infer = central_value(int(k.dkind[P.INFER]), k.dpar[P.INFER, 0], k.dpar[P.INFER, 1])
    for a in np.flatnonzero(inp.act_line == 0):  # revenue first: cash flow follows from it
        m0, m1, value = int(inp.act_m0[a]), int(inp.act_m1[a]), float(inp.act_value[a])
        x = rows[m1 + 1, L.REVENUE]
        ln = m1 - m0 + 1
        lg = _log_geometric_growth(math.log(value / x), ln) if x > 0.0 else 0.0
        for i in range(ln):
            r = out[m0 + i]
            new = value / ln if x <= 0.0 else math.exp(math.log(x) + (i - ln) * lg)
            old = r[L.REVENUE]
            s = new / old if old > 0.0 else 0.0
            for line in (L.CONSUMER, L.ENTERPRISE, L.ADS):
                r[line] *= s
            if old <= 0.0:  # no model revenue to split: all of it is consumer
                r[L.CONSUMER] = new
            r[L.REVENUE] = new
            r[L.REVENUE_SHARE] *= s  # a share of revenue; 0 with no model revenue
            r[L.COST_OF_SALES] = infer * r[L.COMPUTE] + cogs * new
            r[L.SGA] += sga * (new - old)
            # the identities hold by construction: OI and FCF from their lines
            r[L.OPERATING_INCOME] = (
                new - r[L.COST_OF_SALES] - r[L.RND] - r[L.SGA] - r[L.REVENUE_SHARE]
            )
            r[L.FCF] = r[L.OPERATING_INCOME] + r[L.STOCK_PAY] + r[L.WORKING_CAPITAL]
    for a in np.flatnonzero(inp.act_line == 1):
        m0, m1, value = int(inp.act_m0[a]), int(inp.act_m1[a]), float(inp.act_value[a])
        adj = (value - out[m0 : m1 + 1, L.FCF].sum()) / (m1 - m0 + 1)
        out[m0 : m1 + 1, L.WORKING_CAPITAL] += adj
        out[m0 : m1 + 1, L.FCF] += adj
    out[:, L.CUM_FCF] = np.cumsum(out[:, L.FCF])
    return np.ascontiguousarray(out), hcen


def _log_geometric_growth(log_ratio: float, n: int) -> float:
    """``log g`` with ``sum_{j=1..n} g^-j = exp(log_ratio)``, stable for ratios far from 1.

    Bisection in logs: the sum falls as ``g`` rises.
    """

    def log_sum(lg: float) -> float:
        terms = [-j * lg for j in range(1, n + 1)]
        top = max(terms)
        return top + math.log(sum(math.exp(t - top) for t in terms))

    span = abs(log_ratio) + math.log(n) + 1.0
    lo, hi = -span, span
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if log_sum(mid) > log_ratio:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class PathBuffers(NamedTuple):
    """One path's work arrays (see :func:`runway.kernel.path.init_path`)."""

    theta: np.ndarray  # (N_PARAMS,) drawn parameters, P
    cshare: np.ndarray  # (n_contracts,) share online
    cslip: np.ndarray  # (n_contracts,) slip, whole months
    pc: np.ndarray  # (N_CONST,) per-path constants, C
    cpay: np.ndarray  # (n_contracts,) payment per month at full capacity, $bn
    cgw: np.ndarray  # (n_contracts,) GW at full capacity
    coff: np.ndarray  # (n_contracts,) first month after slip
    # (T.STRAT0 + n_strategic, n_months + pad) contract schedule, T; ``pad`` =
    # round(round_months_of_burn) months past the horizon, so the projected burn a round or the
    # runway trigger reads does not depend on where the calendar ends (fin2)
    # pol: policies -- and 2 rows per policy after the tranches (layout.n_traj_rows)
    traj: np.ndarray
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
        # pol: policies -- 2 rows per policy after the tranches (layout.n_traj_rows)
        traj=np.zeros(
            (T.STRAT0 + ns + 2 * k.pf.shape[1], n_months + int(k.fs[F.FIN_MONTHS_BURN] + 0.5))
        ),
        st=np.zeros(N_STATE),
        hist=np.zeros(H.PAY + k.iv[I.PAY_LAG] + 1),
        sbuf=np.zeros((3, ns)),
    )


@njit_inline
def borrow_inputs(k: KernelInputs) -> KernelInputs:
    """``k`` with every array a borrowed view (:func:`runway._jit.borrow`): no reference counts.

    Valid while ``k`` is: take it where ``k`` is an argument of the running function.
    """
    return KernelInputs(
        fs=borrow(k.fs),
        iv=borrow(k.iv),
        mon=borrow(k.mon),
        year_idx=borrow(k.year_idx),
        con=borrow(k.con),
        coni=borrow(k.coni),
        stf=borrow(k.stf),
        sti=borrow(k.sti),
        s_mask=borrow(k.s_mask),
        reg=borrow(k.reg),
        reg_thr=borrow(k.reg_thr),
        load=borrow(k.load),
        dkind=borrow(k.dkind),
        dpar=borrow(k.dpar),
        dtab=borrow(k.dtab),
        did=borrow(k.did),
        cap=borrow(k.cap),
        cap_tail=borrow(k.cap_tail),
        hrows=borrow(k.hrows),
        hcen=borrow(k.hcen),
        pf=borrow(k.pf),
        pi=borrow(k.pi),
        pmask=borrow(k.pmask),
    )


@njit_inline
def borrow_buffers(b: PathBuffers) -> PathBuffers:
    """``b`` with every array a borrowed view (:func:`runway._jit.borrow`), valid while ``b`` is."""
    return PathBuffers(
        theta=borrow(b.theta),
        cshare=borrow(b.cshare),
        cslip=borrow(b.cslip),
        pc=borrow(b.pc),
        cpay=borrow(b.cpay),
        cgw=borrow(b.cgw),
        coff=borrow(b.coff),
        traj=borrow(b.traj),
        st=borrow(b.st),
        hist=borrow(b.hist),
        sbuf=borrow(b.sbuf),
    )
