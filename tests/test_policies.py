"""pol: policies -- management reactions on the funded path (issue 17, docs/model.md §11).

Runs are paired: the same config, seed and paths with and without ``[[policies]]`` share
every draw and shock, so per-path differences are the policies' effect.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import runway
from runway.config import config_from_dict
from runway.engine import run
from runway.errors import ConfigError, RunwayError
from runway.layout import LINE_NAMES, L
from runway.model import build_inputs
from runway.policies import compare, run_paired, without_policies
from runway.result import Result

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "configs" / "hsbc_2025_11_policies.toml"
DEFER = "defer_compute_runway_6m"
# Rounds and bridges close less often, so paths run out of cash often enough to measure a
# change in P(insolvent by 2028); the legacy renegotiation is off so that nothing but the
# policy differs between the paired runs (it would otherwise fire on one run and not the other).
STRESS = {
    "financing.regime.close_probability": [0.5, 0.3, 0.1],
    "financing.regime.bridge_probability": [0.5, 0.3, 0.1],
    "compute.renegotiation.enabled": False,
}


def _shipped():
    return runway.load_config(SHIPPED)


def _with_policies(cfg, policies):
    d = cfg.model_dump(mode="json")
    d["policies"] = policies
    return config_from_dict(d, "test")


def _policy(name, metric, cmp, threshold, unit, action, **trigger):
    tr = {"metric": metric, "comparison": cmp, "threshold": threshold, **trigger}
    if unit is not None:
        tr["unit"] = unit
    return {"name": name, "trigger": tr, "action": action}


def test_shipped_config_is_hsbc_plus_one_policy() -> None:
    hsbc = runway.load_config(ROOT / "configs" / "hsbc_2025_11.toml")
    pol = _shipped()
    assert [p.name for p in pol.policies] == [DEFER]
    a = without_policies(pol).model_dump()
    b = hsbc.model_dump()
    a.pop("scenario"), b.pop("scenario")
    assert a == b


def test_never_firing_policy_changes_nothing() -> None:
    """A trigger that never holds leaves every output identical to no policy (same seed)."""
    base = without_policies(_shipped())
    never = [
        _policy(
            "never_cash",
            "cash_bn",
            "<",
            -100000.0,
            "$bn",
            {"kind": "slow_people_growth", "factor": 0.0},
        ),
        _policy(
            "never_date",
            "date",
            "==",
            "2024-01",
            None,
            {"kind": "defer_compute", "share": 0.5, "months": 6, "penalty": 0.1},
        ),
    ]
    cfg = _with_policies(base, never)
    a = run(cfg, paths=400, seed=11, baseline=False)
    b = run(base, paths=400, seed=11, baseline=False, policy_outcomes=True)
    assert a.monthly is not None and b.monthly is not None
    assert np.array_equal(a.monthly, b.monthly)
    assert np.array_equal(a.annual_paths, b.annual_paths)
    assert np.array_equal(a.exposure, b.exposure)
    for name, v in b.outcomes.items():
        assert np.array_equal(a.outcomes[name], v), name
    for p in ("never_cash", "never_date"):
        assert (a.outcomes[f"policy_{p}_fires"] == 0).all()
        assert (a.outcomes[f"policy_{p}_month"] == -1).all()
    ra, rb = Result(a), Result(b)
    pd.testing.assert_frame_equal(ra.annual, rb.annual)
    pd.testing.assert_frame_equal(ra.fan, rb.fan)


def test_no_policies_keep_the_old_outputs() -> None:
    """Without policies a run has no policy columns (paths.csv is the model's before policies)."""
    raw = run(without_policies(_shipped()), deterministic=True, baseline=False)
    assert not any(n.startswith("policy") or n.endswith("_total") for n in raw.outcomes)


def test_defer_lowers_insolvency_cost_and_revenue_where_it_fires() -> None:
    cfg = _shipped().with_overrides(STRESS)
    on, off, sec = run_paired(cfg, paths=4000, seed=3)
    h = sec["p_insolvent_by"]["2028"]
    assert h["with"] < h["without"]
    assert h["change_ci95"][1] < 0.0, h  # the paired interval excludes no change
    fired = on.outcomes[f"policy_{DEFER}_fires"] > 0
    assert 0.1 < fired.mean() < 0.99
    dc = on.outcomes["compute_total"] - off.outcomes["compute_total"]
    dr = on.outcomes["revenue_total"] - off.outcomes["revenue_total"]
    # where it fires: less compute expensed and less revenue (the revenue-compute link)
    assert (dc[fired] <= 0.0).all() and dc[fired].mean() < 0.0
    assert (dr[fired] <= 0.0).all() and dr[fired].mean() < 0.0
    # where it does not fire: nothing changes
    assert (dc[~fired] == 0.0).all() and (dr[~fired] == 0.0).all()
    ins_on, ins_off = on.outcomes["insolvent_month"], off.outcomes["insolvent_month"]
    assert np.array_equal(ins_on[~fired], ins_off[~fired])
    assert sec["funding_gap_unchanged"]


def test_defer_fires_exactly_where_runway_reaches_6_months() -> None:
    """It fires on a path iff the path (run without it) has a month of runway below 6.

    The runway is recomputed from the monthly lines of the run without policies: cash plus
    the undrawn facilities plus committed money still to come (``committed_to_come``) less
    the buffer, over the last 3 months' average burn, in each month from the cash anchor
    while the path has not defaulted. The two runs are the same up to the first firing, so
    the path fires iff that runway is ever below 6 months. The runway's burn is the trailing
    one (``financing.runway_basis``), which the lines give.
    """
    cfg = _shipped().with_overrides({"financing.runway_basis": "trailing"})
    n = 600
    on = run(cfg, paths=n, seed=5, baseline=False)
    off = run(without_policies(cfg), paths=n, seed=5, baseline=False)
    assert off.monthly is not None
    inp = build_inputs(cfg, stochastic=True)
    rows = off.monthly
    cs = inp.cash_start
    undrawn = inp.funded_facilities - np.cumsum(rows[:, :, L.FACILITY], axis=1)
    fcf = rows[:, :, L.FCF]
    burn = -(fcf[:, 2:] + fcf[:, 1:-1] + fcf[:, :-2]) / 3.0  # month m >= 2
    m = np.arange(2, rows.shape[1])
    liquid = rows[:, 2:, L.CASH] + undrawn[:, 2:] + rows[:, 2:, L.TO_COME] - inp.buffer
    alive = np.ones_like(liquid, dtype=bool)
    alive[:, 1:] = rows[:, 2:-1, L.DEFAULTED] == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        runway_m = np.where(burn > 0.0, liquid / burn, np.inf)
    below = ((runway_m < 6.0) & alive & (m >= cs)[None, :]).any(axis=1)
    fired = on.outcomes[f"policy_{DEFER}_fires"] > 0
    assert 0 < fired.sum() < n
    assert np.array_equal(fired, below)
    first = on.outcomes[f"policy_{DEFER}_month"]
    hit = np.where((runway_m < 6.0) & alive & (m >= cs)[None, :], m[None, :], 10**9).min(axis=1)
    assert np.array_equal(first[fired], hit[fired])


def test_funding_gap_never_sees_policies() -> None:
    """The no-new-money path (HSBC's funding gap) is the same with every action (to rounding)."""
    base = without_policies(_shipped()).with_overrides(STRESS)
    runway6 = {"metric": "months_of_runway", "comparison": "<", "threshold": 6.0, "unit": "months"}
    actions = [
        {"kind": "cancel_compute", "share": 0.2, "counterparty": "Oracle", "penalty": 0.1},
        {"kind": "slow_people_growth", "factor": 0.5},
        {"kind": "raise_price", "pct": 0.1, "conversion_elasticity": 0.5},
        {"kind": "bring_ads_forward", "months": 12},
        {"kind": "sell_strategic_stake", "amount_bn": 10.0, "probability": 0.5},
        {"kind": "renegotiate", "share": 0.3, "cost": 0.25, "success_probability": 0.7},
    ]
    pols = [{"name": f"a{i}", "trigger": runway6, "action": a} for i, a in enumerate(actions[:4])]
    cfg = _with_policies(base, pols)
    off = run(base, paths=300, seed=9, baseline=False, policy_outcomes=True)
    on = run(cfg, paths=300, seed=9, baseline=False)
    sec = compare(on, off)
    assert sec["funding_gap_unchanged"], sec["funding_gap_max_abs_change_bn"]
    assert all(r["p_fired"] > 0 for r in sec["policies"])
    assert not np.array_equal(on.annual_path("cash"), off.annual_path("cash"))
    shadow = LINE_NAMES.index("cash_no_new_money")
    assert on.monthly is not None and off.monthly is not None
    np.testing.assert_allclose(
        on.monthly[:, :, shadow], off.monthly[:, :, shadow], rtol=1e-12, atol=1e-9
    )
    pols = [{"name": f"b{i}", "trigger": runway6, "action": a} for i, a in enumerate(actions[4:])]
    on2 = run(_with_policies(base, pols), paths=300, seed=9, baseline=False)
    sec2 = compare(on2, off)
    assert sec2["funding_gap_unchanged"]
    assert sec2["mean_stake_sold_bn"] > 0.0


def test_renegotiation_as_a_policy_is_the_legacy_renegotiation() -> None:
    """The hard-wired renegotiation (always succeeds) is the renegotiate policy with p = 1."""
    legacy = (
        without_policies(_shipped())
        .with_overrides(STRESS)
        .with_overrides({"compute.renegotiation.enabled": True})
    )
    c = legacy.compute.renegotiation
    pol = _with_policies(
        legacy.with_overrides({"compute.renegotiation.enabled": False}),
        [
            _policy(
                "reneg",
                "months_of_runway",
                "<",
                c.trigger_runway_months,
                "months",
                {
                    "kind": "renegotiate",
                    "share": c.share,
                    "cost": c.cost,
                    "success_probability": 1.0,
                },
                max_fires=c.max_count,
            )
        ],
    )
    a = run(pol, paths=500, seed=2, baseline=False)
    b = run(legacy, paths=500, seed=2, baseline=False)
    assert (b.outcomes["renegotiations"] > 0).any()
    assert np.array_equal(a.outcomes["policy_reneg_fires"], b.outcomes["renegotiations"])
    assert np.array_equal(a.outcomes["insolvent_month"], b.outcomes["insolvent_month"])
    np.testing.assert_allclose(a.annual_path("cash"), b.annual_path("cash"), rtol=1e-12, atol=1e-9)


def test_hold_and_max_fires() -> None:
    """A trigger must hold hold_months in a row; a policy fires at most max_fires times."""
    base = without_policies(_shipped())
    after = {"metric": "date", "comparison": ">=", "threshold": "2026-01"}
    pols = [
        {
            "name": "twice",
            "trigger": {**after, "max_fires": 2, "cooldown_months": 6},
            "action": {"kind": "slow_people_growth", "factor": 0.9},
        },
        {
            "name": "held",
            "trigger": {**after, "hold_months": 4},
            "action": {"kind": "slow_people_growth", "factor": 0.9},
        },
    ]
    raw = run(_with_policies(base, pols), deterministic=True, baseline=False)
    cal = raw.calendar
    jan26 = cal.index("2026-01")
    assert raw.outcomes["policy_twice_fires"][0] == 2
    assert raw.outcomes["policy_twice_month"][0] == jan26
    assert raw.outcomes["policy_held_month"][0] == jan26 + 3


@pytest.mark.parametrize(
    ("trigger", "action", "key"),
    [
        ({"metric": "burn", "comparison": "<", "threshold": 1.0, "unit": "months"}, None, "metric"),
        (
            {"metric": "cash_bn", "comparison": "<", "threshold": 1.0, "unit": "months"},
            None,
            "unit",
        ),
        ({"metric": "cash_bn", "comparison": "<", "threshold": 1.0}, None, "unit"),
        (
            {"metric": "cash_bn", "comparison": "==", "threshold": 1.0, "unit": "$bn"},
            None,
            "comparison",
        ),
        ({"metric": "date", "comparison": ">=", "threshold": 2026.0}, None, "threshold"),
        ({"metric": "regime", "comparison": "<", "threshold": "winter"}, None, "comparison"),
        (
            None,
            {"kind": "defer_compute", "share": 0.3, "counterparty": "Meta", "months": 6},
            "counterparty",
        ),
        (None, {"kind": "defer_compute", "share": 1.3, "months": 6}, "share"),
    ],
)
def test_bad_policies_name_the_key(trigger, action, key) -> None:
    tr = trigger or {"metric": "cash_bn", "comparison": "<", "threshold": 1.0, "unit": "$bn"}
    act = action or {"kind": "slow_people_growth", "factor": 0.5}
    with pytest.raises(ConfigError, match=rf"policies\.0\.(trigger|action)\.[a-z_.]*{key}"):
        _with_policies(without_policies(_shipped()), [{"name": "p", "trigger": tr, "action": act}])


def test_reference_refuses_policies() -> None:
    from benchmarks import reference as R

    inp = build_inputs(_shipped(), stochastic=True)
    with pytest.raises(NotImplementedError, match="policies"):
        R.init_state(inp, np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)))


def test_cli_policies_section_and_report(tmp_path) -> None:
    from typer.testing import CliRunner

    from runway.cli import app

    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(SHIPPED), "-n", "300", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    pol = s["policies"]
    assert pol["headline_year"] == "2028" and pol["paths"] == 300
    row = pol["policies"][0]
    assert row["name"] == DEFER and 0.0 < row["p_fired"] < 1.0
    assert row["median_first_month"] is not None
    report = (out / "report.md").read_text()
    assert "## Management policies" in report and "defer\\_compute\\_runway\\_6m" in report
    off = tmp_path / "off"
    r = CliRunner().invoke(
        app, ["run", str(SHIPPED), "-n", "300", "-q", "--out", str(off), "--policies", "off"]
    )
    assert r.exit_code == 0, r.output
    s_off = json.loads((off / "summary.json").read_text())
    assert "policies" not in s_off
    assert s_off["p_insolvent_by"] == {y: v["without"] for y, v in pol["p_insolvent_by"].items()}
    r = CliRunner().invoke(app, ["run", str(SHIPPED), "-n", "3", "--policies", "maybe"])
    assert isinstance(r.exception, RunwayError) and "--policies" in str(r.exception)


def _dated(action, month="2026-06"):
    """A policy that fires in ``month`` on every path (none has defaulted by then)."""
    return [
        {
            "name": "act",
            "trigger": {"metric": "date", "comparison": "==", "threshold": month},
            "action": action,
        }
    ]


@pytest.mark.parametrize(
    "action",
    [
        {"kind": "slow_people_growth", "factor": 0.5},
        {"kind": "raise_price", "pct": 0.1, "conversion_elasticity": 0.5},
        {"kind": "bring_ads_forward", "months": 12},
        {"kind": "cancel_compute", "share": 0.5, "counterparty": "Oracle", "penalty": 0.1},
        {"kind": "sell_strategic_stake", "amount_bn": 10.0, "probability": 0.5},
    ],
    ids=lambda a: a["kind"],
)
def test_each_action_moves_its_own_lines(action) -> None:
    # the legacy renegotiation is off: it would fire on one run and not the other
    base = without_policies(_shipped()).with_overrides({"compute.renegotiation.enabled": False})
    n = 200
    off = run(base, paths=n, seed=4, baseline=False)
    on = run(_with_policies(base, _dated(action)), paths=n, seed=4, baseline=False)
    assert on.monthly is not None and off.monthly is not None
    m0 = on.calendar.index("2026-06")
    assert (on.outcomes["policy_act_month"] == m0).all()
    a, b = on.monthly, off.monthly
    # nothing changes before the firing month
    assert np.array_equal(a[:, :m0], b[:, :m0])
    after = slice(m0 + 2, None)
    kind = action["kind"]
    if kind == "slow_people_growth":  # people costs grow at half their rate from m0 + 1
        for line in (L.RND, L.SGA):
            assert (a[:, after, line] < b[:, after, line]).all()
        assert np.array_equal(a[:, :, L.COMPUTE], b[:, :, L.COMPUTE])
    elif kind == "raise_price":
        np.testing.assert_allclose(
            a[:, m0 + 1 :, L.PRICE], 1.1 * b[:, m0 + 1 :, L.PRICE], rtol=1e-12
        )
        np.testing.assert_allclose(
            a[:, m0 + 1 :, L.CONVERSION], 1.1**-0.5 * b[:, m0 + 1 :, L.CONVERSION], rtol=1e-12
        )
        np.testing.assert_allclose(
            a[:, m0 + 1 :, L.CONSUMER], 1.1**0.5 * b[:, m0 + 1 :, L.CONSUMER], rtol=1e-12
        )
    elif kind == "bring_ads_forward":
        assert (a[:, m0 + 1 :, L.ADS] >= b[:, m0 + 1 :, L.ADS]).all()
        assert (a[:, m0 + 1 :, L.ADS] > b[:, m0 + 1 :, L.ADS]).any()
    elif kind == "cancel_compute":
        assert (a[:, after, L.COMPUTE] <= b[:, after, L.COMPUTE]).all()
        assert (a[:, after, L.GW] < b[:, after, L.GW]).any()
        assert (a[:, after, L.REVENUE] <= b[:, after, L.REVENUE] + 1e-12).all()
        assert (on.outcomes["policy_cost"] > 0).all()
    else:  # a stake sale: $10bn of strategic money in the firing month, on about half the paths
        sold = on.outcomes["policy_stake_sold"]
        assert set(np.unique(sold)) <= {0.0, 10.0}
        k = int((sold > 0).sum())
        assert abs(k - n / 2) < 4 * np.sqrt(n / 4)
        d = a[:, m0, L.STRATEGIC] - b[:, m0, L.STRATEGIC]
        np.testing.assert_allclose(d, sold, atol=1e-9)
    # the funding gap's no-new-money balance never moves
    np.testing.assert_allclose(a[:, :, L.SHADOW], b[:, :, L.SHADOW], rtol=1e-12, atol=1e-9)
