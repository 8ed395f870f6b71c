"""Block: free cash flow before financing (``docs/model.md`` §4).

Equations (month ``m``; money $bn per month):

- compute is paid ``pay_lag`` months after it is expensed, less the vendor-financed share:
  ``paid_m = (1 - vendor) * compute_{m - pay_lag}``; before month 0 the expense is taken to
  equal month 0's (steady payables at the start);
- working capital ``= compute_m - paid_m``;
- free cash flow ``= operating income + stock pay (non-cash) + working capital``;
- rings kept for the financing block: the last 3 cash flows (burn) and 12 revenues
  (momentum).

Sources: payment terms and the vendor-financed share are config parameters
(``compute.payment_lag_months``, ``compute.vendor_financed_share``) with their sources in
``configs/hsbc_2025_11.toml``.
"""

from __future__ import annotations

from runway._jit import njit_inline
from runway.layout import N_FCF_RING, N_REV_RING, C, H, L, S


@njit_inline
def month(m, nl, pc, st, hist, op_income, stock_pay, compute, revenue, rows):
    """Month ``m``'s working capital and free cash flow; returns ``(fcf, revenue_year_ago)``.

    ``revenue_year_ago`` is the revenue 12 months earlier (0 in the first year).
    """
    # ring slot of month m is m % nl, kept in the state (no integer division per month)
    if m == 0:
        slot = 0
        for i in range(nl):
            hist[H.PAY + i] = compute
    else:
        slot = int(st[S.LAG_SLOT]) + 1
        if slot == nl:
            slot = 0
        hist[H.PAY + slot] = compute
    st[S.LAG_SLOT] = slot
    paid = hist[H.PAY + (slot + 1 if slot + 1 < nl else 0)] * pc[C.VENDOR_KEEP]
    wc = compute - paid
    fcf = op_income + stock_pay + wc
    st[S.CUM_FCF] += fcf
    hist[H.FCF + m % N_FCF_RING] = fcf
    j12 = m % N_REV_RING
    rev_year_ago = hist[H.REV + j12]
    hist[H.REV + j12] = revenue

    rows[m, L.WORKING_CAPITAL] = wc
    rows[m, L.FCF] = fcf
    rows[m, L.CUM_FCF] = st[S.CUM_FCF]
    return fcf, rev_year_ago
