"""Plausibility envelopes of the shipped HSBC config (issue 12), exact over per-path arrays.

Revenue (issue 12's acceptance): 2030 P95 at most twice the most bullish published plan for that
year (OpenAI's Feb-2026 vintage, >$280bn: openai-revenue-2030-vintages), so <= $560bn; 2030 P99
below Bain's $2tn for the whole industry (bain-revenue-needed); mean / median <= 1.5 every year.

Cash and FCF (ours; the same discipline, adapted because their medians are near or below 0, where
a mean/median ratio means nothing): in every year the FCF mean lies between the P25 and the P75 (a
tail cannot drag the mean out of the middle half, as the former +$46bn mean 2028 FCF against a
median of -$56.5bn did) and the cash mean between the P5 and the P95. Cash is lumpy where FCF is
not: with rounds paid in tranches (fin2), year-end 2025 cash has a middle half only $1.2bn wide
($41.9-43.1bn: the year is mostly history and committed tranches) while 2.5% of paths have
signed a round by September and hold its ~$28bn first tranche; that moves the mean by $0.7bn,
above the P75, with no implausible path (20,000 paths, seed 20251124). Cash's far tail is bounded
by the P99 below. Every year's FCF P99 is at most the most bullish 2030 revenue plan
($280bn: no path earns more cash in a year than that plan's whole revenue) and its P1 at least
-2 x HSBC's 2030 rent ($206.8bn, hsbc-rent-2030; the drawn cost per GW is at most twice the
$50bn the contracts were struck at, so a year's burn beyond twice that rent is not plausible);
year-end cash P99 at most $600bn, four times the largest cash basis any source gives ($150bn,
TS Imagine, FIGURES.md section 3a).

Quantiles are numpy's linear rule over the per-path annual values (``Result.paths``), as in
``tests/data/record_baseline.py``. The fast version runs 20,000 paths, the slow one 200,000;
every bound is far from the measured value compared with its MCSE (numbers in the report).
"""

from __future__ import annotations

import numpy as np
import pytest

import runway

SEED = 20251124
REV_P95_2030 = 560.0
REV_P99_2030 = 2000.0
MEAN_MEDIAN_MAX = 1.5
FCF_P99_MAX = 280.0
FCF_P1_MIN = -2 * 206.8
CASH_P99_MAX = 600.0


def _check(res):
    years = res.calendar.years
    p = res.paths
    rev30 = p["revenue_2030"].to_numpy()
    assert np.quantile(rev30, 0.95) <= REV_P95_2030
    assert np.quantile(rev30, 0.99) < REV_P99_2030
    for y in years:
        rev = p[f"revenue_{y}"].to_numpy()
        assert rev.mean() / np.median(rev) <= MEAN_MEDIAN_MAX, y
        x = p[f"fcf_{y}"].to_numpy()
        q25, q75 = np.quantile(x, [0.25, 0.75])
        assert q25 <= x.mean() <= q75, ("fcf", y, q25, x.mean(), q75)
        x = p[f"cash_{y}"].to_numpy()
        q05, q95 = np.quantile(x, [0.05, 0.95])
        assert q05 <= x.mean() <= q95, ("cash", y, q05, x.mean(), q95)
        fcf = p[f"fcf_{y}"].to_numpy()
        assert np.quantile(fcf, 0.99) <= FCF_P99_MAX, y
        assert np.quantile(fcf, 0.01) >= FCF_P1_MIN, y
        assert np.quantile(p[f"cash_{y}"].to_numpy(), 0.99) <= CASH_P99_MAX, y


def test_envelopes_20k(hsbc_cfg):
    _check(runway.simulate(hsbc_cfg, paths=20_000, seed=SEED, baseline=False))


@pytest.mark.slow
def test_envelopes_200k(hsbc_cfg):
    _check(runway.simulate(hsbc_cfg, paths=200_000, seed=SEED, baseline=False))
