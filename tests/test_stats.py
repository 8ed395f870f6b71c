"""One quantile-MCSE convention and one 'insolvent by year Y' for every caller."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runway.calendar import Calendar
from runway.stats.insolvency import insolvent_by_year, last_month_index, p_insolvent_by_year
from runway.stats.mcse import Z95, quantile_ci, quantile_mcse


def test_quantile_ci_positions_follow_the_documented_convention():
    x = np.arange(1000.0)  # s[i] == i: the interval is the positions themselves
    q, n = 0.3, 1000
    h = Z95 * math.sqrt(n * q * (1 - q))
    assert quantile_ci(x[::-1], q) == (math.floor(n * q - h), math.ceil(n * q + h))
    assert quantile_mcse(x, q) == (math.ceil(n * q + h) - math.floor(n * q - h)) / (2 * Z95)
    assert quantile_ci(x, 0.0) == (0.0, 0.0) and quantile_ci(x, 1.0) == (999.0, 999.0)


def test_quantile_mcse_is_nan_where_the_interval_reaches_a_censored_value():
    x = np.concatenate([np.arange(90.0), np.full(10, np.inf)])
    assert math.isnan(quantile_mcse(x, 0.95))
    assert math.isfinite(quantile_mcse(x, 0.5))


def test_every_caller_uses_the_one_quantile_mcse():
    from runway.report import mcse as report_mcse
    from runway.stats import mcse
    from runway.sweep import stats as sweep_stats

    assert sweep_stats.quantile_mcse is mcse.quantile_mcse
    assert report_mcse.quantile_ci is mcse.quantile_ci
    rng = np.random.default_rng(2)
    x = np.where(rng.random(5000) < 0.3, 0.0, rng.lognormal(3.0, 1.0, 5000))
    for q in (0.05, 0.5, 0.95):
        assert report_mcse.mcse_quantile(np.sort(x), q, presorted=True) == mcse.quantile_mcse(x, q)
    inf = np.full(100, np.inf)
    assert report_mcse.mcse_quantile(inf, 0.5) is None and math.isnan(mcse.quantile_mcse(inf, 0.5))


CAL = Calendar.from_strings("2025-10", "2028-06")  # ends inside 2028


def test_last_month_index_clips_to_the_horizon():
    assert last_month_index(CAL, 2025) == 2  # 2025-12
    assert last_month_index(CAL, 2026) == 14
    assert last_month_index(CAL, 2028) == CAL.n_months - 1  # 2028-06, not 2028-12


def test_insolvent_by_year_counts_insolvency_through_each_year_end():
    # survivor, insolvent in the first month, at 2025-12, at 2026-01, in the last month
    m = np.array([-1, 0, 2, 3, CAL.n_months - 1], dtype=float)
    by = insolvent_by_year(m, CAL)
    assert by.tolist() == [
        [False, False, False, False],
        [True, True, True, True],
        [True, True, True, True],
        [False, True, True, True],
        [False, False, False, True],
    ]
    assert p_insolvent_by_year(m, CAL) == {"2025": 0.4, "2026": 0.6, "2027": 0.6, "2028": 0.8}
    assert insolvent_by_year(m, CAL, [2026]).tolist() == [[x] for x in by[:, 1].tolist()]


@pytest.fixture(scope="module")
def small_run():
    import runway

    return runway.simulate(runway.default_config_path(), paths=3000, seed=4)


def test_the_helper_is_what_summary_idata_and_the_sweep_compute(small_run):
    from runway.report.idata import outcomes_from_result
    from runway.sweep.stats import outcome_from_result

    res = small_run
    ins = res.raw.outcomes["insolvent_month"]
    years = list(res.calendar.years)
    by = insolvent_by_year(ins, res.calendar)
    assert p_insolvent_by_year(ins, res.calendar) == res.p_insolvent_by()
    assert np.array_equal(outcomes_from_result(res)["insolvent_by"], by.astype(float))
    assert np.array_equal(outcome_from_result(0, res, years).insolvent_by, by)
