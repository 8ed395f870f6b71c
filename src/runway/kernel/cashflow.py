"""Block: free cash flow before financing (``docs/model.md`` §4).

Equations (month ``m``; money $bn per month):

- compute is paid ``pay_lag`` months after it is expensed, less the vendor-financed share:
  ``paid_m = (1 - vendor) * compute_{m - pay_lag}``; before month 0 the expense is taken to
  equal month 0's (steady payables at the start);
- working capital ``= compute_m - paid_m``;
- free cash flow ``= operating income + stock pay (non-cash) + working capital``;
- rings kept for the financing block: the last 3 cash flows (burn) and 12 revenues
  (momentum);
- the no-new-money cash flow (HSBC's funding-gap basis, ``docs/model.md`` §6) pays compute
  at full contract terms: ``fcf_nnm = fcf + paid - (1 - vendor) * full_{m - pay_lag}``, with
  ``full`` the schedule before renegotiation, so no management reaction of the funded path
  reaches the gap (``fcf_nnm = fcf`` exactly while nothing was renegotiated);
- ``vendor_credit``: the vendor-financed share of the bills due so far, ``sum (bill - paid)``
  from the calendar start, a liability that is never repaid and bears no interest.

Sources: payment terms and the vendor-financed share are config parameters
(``compute.payment_lag_months``, ``compute.vendor_financed_share``) with their sources in
``configs/hsbc_2025_11.toml``.
"""

from __future__ import annotations

from runway._jit import njit_inline
from runway.layout import N_FCF_RING, N_REV_RING, C, H, L, S, T


@njit_inline
def month(m, nl, pc, st, hist, traj, op_income, stock_pay, compute, revenue, rows):
    """Month ``m``'s working capital and free cash flow.

    Returns ``(fcf, fcf_no_new_money, pre_compute, revenue_year_ago)``: ``fcf_no_new_money``
    pays compute at full contract terms (``traj[T.PAY]``, before renegotiation);
    ``pre_compute = operating income + stock pay + compute`` is the cash flow before compute
    bills (the base of a projected burn); ``revenue_year_ago`` is the revenue 12 months
    earlier (0 in the first year).
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
    bill = hist[H.PAY + (slot + 1 if slot + 1 < nl else 0)]
    paid = bill * pc[C.VENDOR_KEEP]
    wc = compute - paid
    fcf = op_income + stock_pay + wc
    # fin: financing -- the no-new-money path pays the schedule at full terms
    m_paid = m - (nl - 1)
    paid_full = traj[T.PAY, m_paid if m_paid > 0 else 0] * pc[C.VENDOR_KEEP]
    fcf_nnm = fcf if paid == paid_full else fcf + (paid - paid_full)
    st[S.VENDOR_CREDIT] += bill - paid  # the vendor-financed share: a liability, never repaid
    st[S.CUM_FCF] += fcf
    hist[H.FCF + m % N_FCF_RING] = fcf
    j12 = m % N_REV_RING
    rev_year_ago = hist[H.REV + j12]
    hist[H.REV + j12] = revenue

    rows[m, L.WORKING_CAPITAL] = wc
    rows[m, L.FCF] = fcf
    rows[m, L.CUM_FCF] = st[S.CUM_FCF]
    rows[m, L.VENDOR_CREDIT] = st[S.VENDOR_CREDIT]
    pre = op_income + stock_pay + compute
    return fcf, fcf_nnm, pre, rev_year_ago
