"""HSBC's November 2025 table, reproduced by the deterministic HSBC config.

Every expected number is HSBC's published figure (../shared/FIGURES.md, "HSBC reproduction
targets"), never a number the model produced earlier.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_config

import runway


def annual(res, metric, year):
    return res.annual.loc[(year, metric), "p50"]


def monthly_sum(res, line, first, last):
    m = res.monthly
    sel = (m["month"] >= first) & (m["month"] <= last)
    return float(m.loc[sel, line].sum())


TARGETS = [
    # (name, function of the deterministic result, HSBC figure, relative tolerance)
    ("revenue 2025", lambda r: annual(r, "revenue", 2025), 12.5, 0.10),
    ("revenue 2029", lambda r: annual(r, "revenue", 2029), 153.79, 0.03),
    ("revenue 2030", lambda r: annual(r, "revenue", 2030), 213.6, 0.03),
    ("cost of sales 2029", lambda r: annual(r, "cost_of_sales", 2029), 75.36, 0.05),
    ("R&D 2029", lambda r: annual(r, "rnd", 2029), 140.71, 0.05),
    ("SG&A 2029", lambda r: annual(r, "sga", 2029), 15.38, 0.05),
    ("Microsoft revenue share 2029", lambda r: annual(r, "revenue_share", 2029), 30.76, 0.05),
    ("operating loss 2029", lambda r: -annual(r, "operating_income", 2029), 108.42, 0.05),
    ("cloud rent 2030", lambda r: annual(r, "compute_rent", 2030), 206.8, 0.05),
    (
        "cumulative cloud rent H2-2025..2030",
        lambda r: monthly_sum(r, "compute_rent", "2025-07", "2030-12"),
        792.0,
        0.03,
    ),
    (
        "cumulative FCF through 2030",
        lambda r: monthly_sum(r, "fcf", "2025-01", "2030-12"),
        -282.0,
        0.05,
    ),
    ("funding gap end-2030", lambda r: r.summary()["funding_gap"]["2030"]["p50"], 207.0, 0.05),
    (
        "cumulative operating losses 2025..2030",
        lambda r: -monthly_sum(r, "operating_income", "2025-01", "2030-12"),
        500.0,
        0.15,
    ),
]


@pytest.mark.parametrize("name,measure,hsbc,tol", TARGETS, ids=[t[0] for t in TARGETS])
def test_hsbc_target(hsbc_det, name, measure, hsbc, tol):
    value = measure(hsbc_det)
    assert abs(value / hsbc - 1.0) <= tol, f"{name}: model {value:.2f} vs HSBC {hsbc} (+-{tol:.0%})"


def test_hsbc_gap_with_buffer():
    """HSBC: $217bn with a $10bn safety buffer."""

    def buffer(d):
        d["liquidity"]["min_cash_buffer_bn"] = 10.0

    res = runway.simulate(make_config(buffer), deterministic=True)
    gap = res.summary()["funding_gap"]["2030"]["p50"]
    assert abs(gap / 217.0 - 1.0) <= 0.05


def test_deterministic_quantiles_equal_value(hsbc_det):
    s = hsbc_det.summary()
    assert s["paths"] == 1 and s["deterministic"]
    for year, metrics in s["annual"].items():
        for metric, q in metrics.items():
            assert q["p05"] == q["p50"] == q["p95"] == q["mean"], (year, metric)
    for q in s["funding_gap"].values():
        assert q["p05"] == q["p50"] == q["p95"] == q["mean"]


def test_annual_is_sum_of_months(hsbc_det):
    m = hsbc_det.monthly
    year = m["month"].str[:4].astype(int)
    for line in ("revenue", "fcf", "compute_rent", "operating_income"):
        by_year = m.groupby(year)[line].sum()
        for y, v in by_year.items():
            assert np.isclose(hsbc_det.annual.loc[(y, line), "p50"], v, rtol=0, atol=1e-9)
