"""Financing, default and the funding gap (issue 13; docs/model.md §5-6).

- The funding gap is measured on the no-new-money path: paired runs (same seed) that change
  a financing or market parameter leave every path's gap unchanged, and $5bn more starting
  cash lowers every positive gap by $5bn.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import make_config

from runway import engine
from runway.engine import ANNUAL_KEEP

N = 300
SEED = 11
GAP = ANNUAL_KEEP.index("funding_gap")


def _run(mutate=None):
    cfg = make_config(mutate)
    return engine.run(cfg, paths=N, seed=SEED, chunk_size=64, threads=1, fold=False, baseline=False)


@pytest.fixture(scope="module")
def base():
    return _run()


def _gaps(raw):
    return raw.annual_paths[:, :, GAP]


def _close(d):
    d["financing"]["regime"]["close_probability"] = [0.85, 0.7, 0.3]


def _winter(d):
    d["financing"]["regime"]["transition"] = [
        [0.97, 0.03, 0.0],
        [0.02, 0.96, 0.02],
        [0.0, 0.04, 0.96],
    ]


def _lag(d):
    d["financing"]["round_lag_months"] = 6


def _sizes(d):
    d["financing"]["round_months_of_burn"] = 30.0
    d["financing"]["regime"]["size_multiplier"] = [1.5, 1.2, 0.3]


def _ipo(d):
    d["financing"]["ipo_min_arr_bn"] = 20.0
    d["financing"]["ipo_size_bn"] = 100.0
    d["financing"]["regime"]["ipo_probability_month"] = [0.3, 0.2, 0.05]


# Paths whose funded runs renegotiate differently compute the same no-new-money cash flow
# by different floating-point routes (fcf + paid - paid_full): they agree to rounding.
ROUNDING_BN = 1e-9


def _tranches(d):  # fin2
    d["financing"]["round_first_tranche_share"] = 0.5
    d["financing"]["round_tranche_months"] = 3


def _committed(d):  # fin2
    d["financing"]["committed"] = [{"name": "x", "month": "2026-03", "amount_bn": 40.0}]


def _appetite(d):  # fin2
    d["shocks"]["round_persistence"] = 0.5
    d["financing"]["runway_basis"] = "trailing"


def _facilities(d):  # fin2
    d["liquidity"]["funded_undrawn_facilities_bn"] = 24.0


@pytest.mark.parametrize(
    "mutate", [_close, _winter, _lag, _sizes, _ipo, _tranches, _committed, _appetite, _facilities]
)
def test_gap_ignores_financing(base, mutate):
    alt = _run(mutate)
    # the change does move the funded path ...
    assert not np.array_equal(
        base.annual_paths[:, :, ANNUAL_KEEP.index("cash")],
        alt.annual_paths[:, :, ANNUAL_KEEP.index("cash")],
    )
    g0, g1 = _gaps(base), _gaps(alt)
    assert g0.max() > 50.0
    # ... and leaves every gap where it was: bit for bit where neither run renegotiated
    plain = (base.outcomes["renegotiations"] == 0) & (alt.outcomes["renegotiations"] == 0)
    assert plain.any()
    assert np.array_equal(g0[plain], g1[plain])
    np.testing.assert_allclose(g1, g0, rtol=0.0, atol=ROUNDING_BN)


def test_gap_moves_one_for_one_with_cash(base):
    def more_cash(d):
        d["liquidity"]["cash_bn"] += 5.0

    alt = _run(more_cash)
    g0, g1 = _gaps(base), _gaps(alt)
    assert (g0 > 5.0).mean() > 0.5
    np.testing.assert_allclose(g1, np.maximum(g0 - 5.0, 0.0), rtol=0.0, atol=ROUNDING_BN)


RAISE_LINES = ("equity_raised", "debt_raised", "ipo_raised", "strategic_raised",
               "facility_drawn", "bridge_raised", "equity_committed", "round_signed")  # fmt: skip


def _check_absorbing(ins, monthly_lines, names):
    """No money raised after the default month; the flag set from it on."""
    n_def = 0
    for p in range(ins.size):
        d = int(ins[p])
        if d < 0:
            assert monthly_lines[p, :, names.index("defaulted")].max() == 0.0
            continue
        n_def += 1
        after = monthly_lines[p, d + 1 :]
        for name in RAISE_LINES:
            assert np.all(after[:, names.index(name)] == 0.0), (p, name)
        # cash runs on with free cash flow and interest only
        fin = after[:, names.index("financing")] - after[:, names.index("net_interest")]
        assert np.all(fin == 0.0), p
        flag = monthly_lines[p, :, names.index("defaulted")]
        assert np.all(flag[d:] == 1.0) and np.all(flag[:d] == 0.0), p
    return n_def


def _stressed(d):
    """Little cash, no facilities, rounds that close less often: defaults to look at."""
    d["liquidity"]["cash_bn"] = 5.0
    d["liquidity"]["undrawn_facilities_bn"] = 0.0
    d["liquidity"]["funded_undrawn_facilities_bn"] = 0.0
    d["financing"]["committed"] = []
    d["financing"]["regime"]["close_probability"] = [0.6, 0.4, 0.1]


STRESSED_SET = [
    "--set", "liquidity.cash_bn=5.0",
    "--set", "liquidity.undrawn_facilities_bn=0.0",
    "--set", "liquidity.funded_undrawn_facilities_bn=0.0",
    "--set", "financing.committed=[]",
    "--set", "financing.regime.close_probability=[0.6, 0.4, 0.1]",
]  # fmt: skip


def test_default_is_absorbing_in_kernel_outputs():
    raw = engine.run(make_config(_stressed), paths=400, seed=SEED, chunk_size=64, threads=1,
                     fold=False, baseline=False)  # fmt: skip
    names = list(raw.line_names)
    n_def = _check_absorbing(raw.outcomes["insolvent_month"], raw.monthly, names)
    assert n_def >= 10  # the check has defaults to look at
    # a default needs cash plus undrawn facilities below the buffer after the distress window
    o = raw.outcomes
    dead = o["insolvent_month"] >= 0
    assert np.all(o["distress_month"][dead] >= 0)
    assert np.all(o["distress_month"][dead] <= o["insolvent_month"][dead])


def test_default_is_absorbing_in_monthly_csv(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from runway.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(
        app,
        ["run", "-n", "1000", "-s", "5", "--monthly", "-q", "-o", str(out), "-t", "1"]
        + STRESSED_SET,
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / "monthly.csv")
    paths = pd.read_parquet(out / "paths.parquet")
    labels = list(df["month"].iloc[: df["month"].nunique()])
    ins = np.array(
        [labels.index(x) if isinstance(x, str) else -1 for x in paths["insolvent_month"]]
    )
    names = [c for c in df.columns if c not in ("path", "month")]
    lines = df[names].to_numpy().reshape(1000, len(labels), len(names))
    assert _check_absorbing(ins, lines, names) >= 20


# --- fin2: committed tranches, rounds paid in tranches, funded facilities, appetite ----------


@pytest.fixture(scope="module")
def det():
    import runway

    return runway.simulate(make_config(None), deterministic=True).monthly


def test_committed_tranches_reach_the_funded_path_only(det):
    """The 2025 round's last tranches arrive on their dates; HSBC's gap path never sees them."""
    m = det.set_index(det["month"].astype(str))
    paid = m["equity_committed"]
    assert paid["2025-08"] == 8.3 and paid["2025-12"] == 22.5
    assert paid.sum() == pytest.approx(30.8, abs=1e-12)
    nnm = m["cash_no_new_money"]
    jump = (nnm.diff() - m["fcf"]).loc["2025-07":"2026-06"]
    assert np.all(
        np.abs(jump.to_numpy()) < 1e-9
    )  # no money but its own cash flow (no strategic yet)


def test_a_round_pays_its_first_tranche_then_equal_monthly_tranches(det):
    """Share 0.25 round_lag_months after signing, the rest in 9 equal tranches after it."""
    signed = det["round_signed"].to_numpy()
    eq = det["equity_raised"].to_numpy()
    a = int(np.flatnonzero(signed > 0)[0])
    size, lag = signed[a], 3
    assert eq[a + lag] == pytest.approx(0.25 * size, rel=1e-12)
    np.testing.assert_allclose(eq[a + lag + 1 : a + lag + 10], 0.75 * size / 9, rtol=1e-12)
    assert eq[a + 1 : a + lag].sum() == 0.0 and eq[a + lag + 10] == 0.0


def test_funded_path_draws_only_its_own_facilities():
    raw = engine.run(make_config(_stressed_keep_facilities), paths=200, seed=SEED, chunk_size=64,
                     threads=1, fold=False, baseline=False)  # fmt: skip
    drawn = raw.outcomes["drawn_facilities"]
    assert drawn.max() == pytest.approx(4.0) and np.all(drawn <= 4.0 + 1e-12)


def _stressed_keep_facilities(d):
    d["liquidity"]["cash_bn"] = 2.0
    d["financing"]["committed"] = []


def test_committed_validation():
    from runway.errors import ConfigError

    def early(d):
        d["financing"]["committed"] = [{"name": "x", "month": "2025-06", "amount_bn": 1.0}]

    with pytest.raises(ConfigError, match=r"financing\.committed\.0\.month"):
        make_config(early)

    def no_months(d):
        d["financing"]["round_first_tranche_share"] = 0.5
        d["financing"]["round_tranche_months"] = 0

    with pytest.raises(ConfigError, match="round_tranche_months"):
        make_config(no_months)


def test_committed_past_the_horizon_is_ignored():
    import runway

    def late(d):
        d["financing"]["committed"] = [{"name": "x", "month": "2031-03", "amount_bn": 50.0}]

    m = runway.simulate(make_config(late), deterministic=True).monthly
    assert m["equity_committed"].sum() == 0.0


def test_round_appetite_is_a_unit_ar1():
    """The round shock's own part: stationary sd 1, lag-1 autocorrelation round_persistence."""
    raw = engine.run(make_config(None), paths=1000, seed=SEED, chunk_size=256, threads=1,
                     fold=False, baseline=False)  # fmt: skip
    x = raw.monthly[:, 12:, list(raw.line_names).index("round_appetite")]
    n = x.size
    se_sd = 1.0 / np.sqrt(2 * n / 20)  # AR(1) with rho 0.9: ~20 months per independent draw
    assert x.std() == pytest.approx(1.0, abs=4 * se_sd)
    r1 = np.mean(x[:, 1:] * x[:, :-1]) / np.mean(x * x)
    assert r1 == pytest.approx(0.9, abs=0.02)


def test_survivors_fan_leaves_out_defaulted_paths():
    """``cash_survivors``: the share left out is the share defaulted; survivors hold cash >= 0."""
    import runway

    res = runway.simulate(make_config(_stressed), paths=2000, seed=SEED, chunk_size=256,
                          baseline=False)  # fmt: skip
    fan = res.fan
    sv = fan[fan["metric"] == "cash_survivors"].reset_index(drop=True)
    ins = res.raw.outcomes["insolvent_month"]
    months = np.arange(len(sv))
    gone = (ins[None, :] >= 0) & (ins[None, :] <= months[:, None])
    np.testing.assert_array_equal(sv["share_excluded"].to_numpy(), gone.mean(axis=1))
    assert sv["share_excluded"].iloc[-1] > 0.05  # defaults to leave out (8.3% by 2030, seed 11)
    # alive means cash + undrawn >= buffer (0 here, no facilities): survivors never hold < 0
    alive_rows = sv["share_excluded"] < 1.0
    assert np.all(sv.loc[alive_rows, "p05"] >= 0.0)
    allp = fan[fan["metric"] == "cash"].reset_index(drop=True)
    assert (allp["p05"] < 0.0).any()  # while the all-paths fan carries the dead companies' holes
    assert np.all(fan[fan["metric"] == "cash"]["share_excluded"] == 0.0)
