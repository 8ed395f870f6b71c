"""Sweeps: spec parsing, axis overrides, paired statistics, executors and resume.

The end-to-end tests share one small sweep (a 2 x 3 grid plus the base, 1,000 paths each)
whose uninterrupted local run is the reference for the dask runs and the killed-and-resumed
run: all must give identical ``sweep.parquet`` tables.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import runway
from runway.dists import central
from runway.errors import RunwayError
from runway.sweep import (
    Axis,
    Outcome,
    apply_axes,
    load_sweep,
    paired_quantile_diff,
    quantile_mcse,
    run_sweep,
    scenario_row,
    shift_param,
)
from runway.sweep.execute import local_cluster_kwargs
from runway.sweep.report import plots

BASE = runway.default_config_path()
RUNWAY = str(Path(sys.executable).with_name("runway"))
SHIPPED = sorted((Path(__file__).resolve().parents[1] / "configs" / "sweeps").glob("*.toml"))

TINY = f"""
name = "tiny"
base = "{BASE.as_posix()}"
paths = 1000
seed = 7
years = [2028, 2030]

[[axes]]
name = "conversion_2030"
path = "consumer.conversion_target"
values = [0.07, 0.10]

[[axes]]
kind = "winter_probability"
values = [0.0, 0.01, 0.03]
"""


def _write(tmp: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def _sampled(kind: str, n: int) -> str:
    return (
        TINY.replace("values = [0.07, 0.10]", "bounds = [0.06, 0.2]").replace(
            "values = [0.0, 0.01, 0.03]", "bounds = [0.0, 0.04]"
        )
        + f'\n[design]\nkind = "{kind}"\nn = {n}\nseed = 3\n'
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The shared sweep file and its uninterrupted local run."""
    d = tmp_path_factory.mktemp("sweep")
    spec = _write(d, TINY)
    table = run_sweep(spec, out=d / "local", workers=1)
    return spec, table


# --- spec and overrides -----------------------------------------------------------------------
def test_grid_scenarios_base_first(tmp_path: Path) -> None:
    sw = load_sweep(_write(tmp_path, TINY))
    assert len(sw.scenarios) == 7
    assert sw.scenarios[0].config == sw.base
    assert sw.scenarios[0].values == {"conversion_2030": 0.10, "p_winter_month": 0.01}
    s = sw.scenarios[1]
    assert s.values == {"conversion_2030": 0.07, "p_winter_month": 0.0}
    assert central(s.config.consumer.conversion_target) == pytest.approx(0.07)
    row = s.config.financing.regime.transition[1]
    assert row[2] == 0.0 and math.isclose(sum(row), 1.0, abs_tol=1e-12)


def test_range_axis(tmp_path: Path) -> None:
    text = TINY.replace("values = [0.07, 0.10]", "range = { start = 0.05, stop = 0.2, num = 4 }")
    sw = load_sweep(_write(tmp_path, text))
    assert sorted({s.values["conversion_2030"] for s in sw.scenarios[1:]}) == pytest.approx(
        [0.05, 0.10, 0.15, 0.20]
    )
    assert len(sw.scenarios) == 1 + 4 * 3


@pytest.mark.parametrize("name", [p.name for p in SHIPPED])
def test_shipped_sweeps_load(name: str) -> None:
    sw = load_sweep(SHIPPED[[p.name for p in SHIPPED].index(name)])
    assert len(sw.spec.axes) == 2 and sw.spec.design.kind == "grid"
    assert len(sw.scenarios) == 1 + 25


def test_contract_scale_and_named_path() -> None:
    cfg = runway.load_config(BASE)
    axes = [
        Axis(kind="contract_scale", values=[1.0]),
        Axis(path="compute.contracts.azure.share_online", values=[1.0]),
    ]
    new = apply_axes(cfg, axes, (1.5, 0.5))
    for a, b in zip(cfg.compute.contracts, new.compute.contracts, strict=True):
        assert b.value_bn == pytest.approx(1.5 * a.value_bn)
        assert b.gw == a.gw
    assert new.compute.contracts[0].name == "azure" and new.compute.contracts[0].share_online == 0.5


def test_shift_keeps_distribution_spread() -> None:
    pert = {"dist": "pert", "low": 0.05, "mode": 0.10, "high": 0.20}
    assert shift_param(pert, 0.12) == pytest.approx(
        {"dist": "pert", "low": 0.07, "mode": 0.12, "high": 0.22}
    )
    clipped = shift_param(pert, 0.95, lo=0.0, hi=0.99)
    assert clipped["mode"] == 0.95 and clipped["high"] == 0.99
    assert shift_param({"dist": "lognormal", "median": 50.0, "sigma": 0.2}, 60.0) == {
        "dist": "lognormal",
        "median": 60.0,
        "sigma": 0.2,
    }
    assert shift_param(0.1, 0.3) == 0.3


def test_distribution_axis_stays_a_distribution(tmp_path: Path) -> None:
    line = re.compile(r"^conversion_target = .*$", re.M)
    pert = 'conversion_target = { dist = "pert", low = 0.06, mode = 0.10, high = 0.20 }'
    _write(tmp_path, line.sub(pert, BASE.read_text()), "base.toml")
    sw = load_sweep(_write(tmp_path, TINY.replace(BASE.as_posix(), "base.toml")))
    assert sw.scenarios[0].values["conversion_2030"] == 0.10
    ct = sw.scenarios[1].config.consumer.conversion_target
    assert (ct.low, ct.mode, ct.high) == pytest.approx((0.03, 0.07, 0.17))
    _write(tmp_path, line.sub("conversion_target = 0.10", BASE.read_text()), "base.toml")
    sw = load_sweep(_write(tmp_path, TINY.replace(BASE.as_posix(), "base.toml")))
    assert sw.scenarios[1].config.consumer.conversion_target == 0.07


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.replace("seed = 7", "seed = 7\nsed = 1"), "sed"),
        (lambda t: t.replace("paths = 1000", "paths = 0"), "paths"),
        (lambda t: t.replace("paths = 1000", 'paths = "many"'), "paths"),
        (lambda t: t.replace('name = "tiny"', 'name = "a b"'), "name"),
        (
            lambda t: t.replace("consumer.conversion_target", "consumer.conversion_targte"),
            "conversion_targte",
        ),
        (lambda t: t.replace("values = [0.07, 0.10]", "values = [0.07, 1.5]"), "conversion_target"),
        (lambda t: t.replace("values = [0.07, 0.10]", "values = []"), "axes.0.values"),
        (lambda t: t.replace("values = [0.0, 0.01, 0.03]", "values = [0.99]"), "p_winter_month"),
        (lambda t: t.replace("years = [2028, 2030]", "years = [2040]"), "years"),
        (lambda t: t.replace("years = [2028, 2030]", "years = [2030, 2028]"), "years"),
        (lambda t: t + '\n[design]\nkind = "lhs"\n', "design.n"),
        (lambda t: t + '\n[design]\nkind = "halton"\n', "design.kind"),
        (lambda t: _sampled("sobol", 12), "design.n"),
        (lambda t: t.replace("values = [0.07, 0.10]", "bounds = [0.2, 0.06]"), "bounds"),
        (lambda t: t.replace('name = "conversion_2030"', 'name = "p_winter_month"'), "duplicate"),
        (lambda t: t.replace('name = "conversion_2030"', 'name = "p_insolvent_x"'), "clashes"),
        (lambda t: t.replace('path = "consumer.conversion_target"', 'path = "consumer"'), "table"),
        (lambda t: t.replace(BASE.as_posix(), "nowhere.toml"), "base"),
        (lambda t: t.replace("[[axes]]", "[[axes", 1), "TOML"),
    ],
)
def test_bad_spec_names_the_key(tmp_path: Path, edit, needle: str) -> None:
    with pytest.raises(RunwayError) as e:
        load_sweep(_write(tmp_path, edit(TINY)))
    msg = str(e.value)
    assert needle in msg and "\n" not in msg


@pytest.mark.parametrize(("kind", "n"), [("lhs", 10), ("sobol", 8)])
def test_sampled_designs(tmp_path: Path, kind: str, n: int) -> None:
    text = _sampled(kind, n)
    a, b = load_sweep(_write(tmp_path, text)), load_sweep(_write(tmp_path, text, "t.toml"))
    pts = np.array([list(s.values.values()) for s in a.scenarios[1:]])
    assert pts.shape == (n, 2)
    assert [s.values for s in a.scenarios] == [s.values for s in b.scenarios]
    # Each design's defining property on the unit cube, read back through the scaling.
    unit = (pts - [0.06, 0.0]) / [0.14, 0.04]
    assert ((unit >= 0) & (unit < 1)).all()
    strata = np.floor(unit * n).astype(int)
    # LHS: each of the n strata of each axis holds one point; Sobol (n = 8, base 2): so do
    # the 8 elementary intervals of each axis.
    for j in range(2):
        assert sorted(strata[:, j]) == list(range(n))
    other = load_sweep(_write(tmp_path, text.replace("seed = 3", "seed = 4"), "u.toml"))
    assert [s.values for s in other.scenarios] != [s.values for s in a.scenarios]


# --- paired statistics ---------------------------------------------------------------------------
def _outcome(rng: np.random.Generator, n: int, shift: float = 0.0) -> Outcome:
    gap = rng.gamma(2.0, 50.0, size=(n, 2)) + shift
    tti = np.where(rng.random(n) < 0.6, rng.integers(1, 60, n).astype(float), np.inf)
    return Outcome(0, gap > 150.0, gap, tti)


def test_paired_difference_against_itself_is_zero() -> None:
    o = _outcome(np.random.default_rng(42), 5000)
    row = scenario_row(o, o, [2029, 2030])
    diffs = {k: v for k, v in row.items() if "_diff" in k}
    assert diffs and all(v == 0.0 for v in diffs.values())


def test_paired_difference_of_a_shift() -> None:
    rng = np.random.default_rng(42)
    base = _outcome(rng, 5000)
    moved = Outcome(1, base.insolvent_by, base.funding_gap_bn + 10.0, base.months_to_insolvency)
    row = scenario_row(moved, base, [2029, 2030])
    assert row["funding_gap_2030_mean_diff"] == pytest.approx(10.0)
    assert row["funding_gap_2030_p50_diff"] == pytest.approx(10.0)
    assert row["funding_gap_2030_p50_diff_hi"] - row[
        "funding_gap_2030_p50_diff_lo"
    ] == pytest.approx(0.0, abs=1e-9)
    p = row["p_insolvent_2030"]
    assert row["p_insolvent_2030_mcse"] == pytest.approx(math.sqrt(p * (1 - p) / 5000))


def test_paired_probability_difference_counts_paths() -> None:
    """Exactly k paths switch from solvent to insolvent: the difference is k/n, its sd exact."""
    n, k = 4000, 200
    o = _outcome(np.random.default_rng(42), n)
    never = np.zeros((n, 2), dtype=bool)
    some = never.copy()
    some[:k] = True
    base = Outcome(0, never, o.funding_gap_bn, o.months_to_insolvency)
    moved = Outcome(1, some, o.funding_gap_bn, o.months_to_insolvency)
    row = scenario_row(moved, base, [2029, 2030])
    d = k / n
    se = math.sqrt(d * (1 - d) * n / (n - 1)) / math.sqrt(n)  # sd of the 0/1 differences
    assert row["p_insolvent_2030_diff"] == pytest.approx(d)
    assert row["p_insolvent_2030_diff_hi"] - d == pytest.approx(1.959963984540054 * se)
    assert row["p_insolvent_2030_mcse"] == pytest.approx(math.sqrt(d * (1 - d) / n))


def test_quantile_mcse_matches_theory() -> None:
    """Median of n standard normals: asymptotic sd sqrt(pi/2 / n); noise ~ few %."""
    n = 20_000
    x = np.random.default_rng(42).standard_normal(n)
    assert quantile_mcse(x, 0.5) == pytest.approx(math.sqrt(math.pi / 2 / n), rel=0.1)
    assert math.isnan(quantile_mcse(np.full(100, np.inf), 0.5))


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_paired_quantile_interval_covers(q: float) -> None:
    """Coverage of the batched 95% interval for Q_q(y) - Q_q(x) with x, y positively correlated.

    x = exp(Z), y = exp(0.2 + Z + 0.3 E): the true difference is
    exp(0.2 + sqrt(1.09) z_q) - exp(z_q). Over R = 300 replications the coverage of a 95%
    interval has sd sqrt(0.95 x 0.05 / 300) = 0.0126; accept within 4 sd.
    """
    rng = np.random.default_rng(42)
    z_q = norm.ppf(q)
    truth = math.exp(0.2 + math.sqrt(1.09) * z_q) - math.exp(z_q)
    reps, n, hits, narrower = 300, 2000, 0, 0
    for _ in range(reps):
        z, e = rng.standard_normal(n), rng.standard_normal(n)
        x, y = np.exp(z), np.exp(0.2 + z + 0.3 * e)
        d, lo, hi = paired_quantile_diff(y, x, q)
        hits += lo <= truth <= hi
        narrower += (hi - lo) / 2 < 1.96 * math.hypot(quantile_mcse(x, q), quantile_mcse(y, q))
    assert abs(hits / reps - 0.95) < 4 * math.sqrt(0.95 * 0.05 / reps)
    assert narrower == reps  # pairing pays: tighter than the unpaired interval every time


# --- end to end -----------------------------------------------------------------------------
def test_sweep_outputs_and_crn(tiny: tuple[Path, pd.DataFrame]) -> None:
    spec, table = tiny
    out = spec.parent / "local"
    for name in (
        "sweep.parquet",
        "sweep.md",
        "sweep.html",
        "sweep.json",
        "timings.csv",
        "sweep_p_insolvent_2030.png",
        "sweep_funding_gap_2030_p50.png",
    ):
        assert (out / name).is_file(), name
    assert list(table["scenario"]) == list(range(7))
    assert not {"seconds", "worker", "finished_at"} & set(table.columns)
    assert len(pd.read_csv(out / "timings.csv")) == 7
    html = (out / "sweep.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and 'src="sweep_' not in html
    axes_cols = ("scenario", "is_base", "conversion_2030", "p_winter_month")
    results = [c for c in table.columns if c not in axes_cols]
    base = table.iloc[0]
    same = table[
        (table.conversion_2030 == 0.10) & (table.p_winter_month == 0.01) & ~table.is_base
    ].iloc[0]
    # Same seed and paths: the scenario equal to the base reproduces it exactly, differences 0.
    for c in results:
        if c.endswith(("_diff", "_diff_lo", "_diff_hi")):
            assert same[c] == 0.0 or (c.startswith("tti") and math.isnan(same[c])), c
        else:
            assert same[c] == base[c] or (math.isnan(same[c]) and math.isnan(base[c])), c
    # The base row agrees with a plain simulate() of the base config.
    s = runway.simulate(runway.load_config(BASE), paths=1000, seed=7).summary()
    assert base["p_insolvent_2030"] == s["p_insolvent_by"]["2030"]
    assert base["funding_gap_2030_p50"] == pytest.approx(s["funding_gap"]["2030"]["p50"], rel=1e-12)
    # Common random numbers pay: for each scenario the paired interval of the mean funding gap
    # is far narrower than an unpaired one from the two MCSEs would be.
    for _, r in table[~table.is_base].iterrows():
        paired = (r["funding_gap_2030_mean_diff_hi"] - r["funding_gap_2030_mean_diff_lo"]) / 2
        unpaired = 1.96 * math.hypot(
            r["funding_gap_2030_mean_mcse"], base["funding_gap_2030_mean_mcse"]
        )
        assert paired < 0.5 * unpaired, r["scenario"]
    # More winters, more insolvency, and the paired interval says so.
    w = table[(table.conversion_2030 == 0.10) & ~table.is_base].set_index("p_winter_month")
    assert w.loc[0.03, "p_insolvent_2030_diff_lo"] > 0


@pytest.fixture
def port_8787_taken() -> Iterator[None]:
    """Port 8787 (dask's default dashboard port) held for the test, as another program would.

    When something else already holds it (``python -m http.server 8787``), that is the same.
    """
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            s.bind(("0.0.0.0", 8787))
            s.listen(1)
        except OSError:
            pass  # already taken by another process: the condition under test holds anyway
        yield
    finally:
        s.close()


def _listening_ports() -> set[int]:
    import psutil

    return {
        c.laddr.port
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


def test_dask_local_cluster_matches_local(
    tiny: tuple[Path, pd.DataFrame], tmp_path: Path, port_8787_taken: None
) -> None:
    """``--executor dask`` without a scheduler: run_sweep starts (and stops) a LocalCluster.

    With port 8787 taken it starts all the same and warns nothing (``filterwarnings =
    error``), and it leaves no listening socket behind.
    """
    spec, table = tiny
    before = _listening_ports()
    got = run_sweep(spec, out=tmp_path / "dask", executor="dask", workers=2)
    pd.testing.assert_frame_equal(got, table)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "sweep.parquet"), table)
    assert set(pd.read_csv(tmp_path / "dask" / "timings.csv")["executor"]) == {"dask"}
    assert _listening_ports() <= before, "the LocalCluster left a listening socket open"


def test_local_cluster_binds_no_fixed_port() -> None:
    kw = local_cluster_kwargs(2)
    assert kw["dashboard_address"].endswith(":0") and kw["scheduler_port"] == 0
    assert kw.get("worker_dashboard_address") is None  # workers serve no dashboard


def test_dask_scheduler_address_matches_local(
    tiny: tuple[Path, pd.DataFrame], tmp_path: Path, port_8787_taken: None
) -> None:
    """``--scheduler ADDRESS``: a running in-process cluster on loopback."""
    from distributed import LocalCluster

    spec, table = tiny
    kwargs = {**local_cluster_kwargs(1, processes=False), "threads_per_worker": 2}
    with LocalCluster(**kwargs) as cluster:
        got = run_sweep(
            spec, out=tmp_path / "sched", executor="dask", scheduler=cluster.scheduler_address
        )
    pd.testing.assert_frame_equal(got, table)


def test_sigkill_then_resume(tiny: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    spec, table = tiny
    out = tmp_path / "killed"
    cmd = [RUNWAY, "sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet"]
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as f:
        proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=f)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "scenarios").glob("*.json")):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "no scenario finished in 120 s"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "sweep.parquet").exists()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "scenarios").glob("*.json")}
    assert 1 <= len(finished) < 7
    r = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for name, mtime in finished.items():
        assert (out / "scenarios" / name).stat().st_mtime_ns == mtime, f"{name} was recomputed"
    assert len(list((out / "scenarios").glob("*.json"))) == 7
    timed = pd.read_csv(out / "timings.csv")["scenario"]
    assert timed.is_unique and set(timed) == set(range(7))  # none computed twice
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), table)
    # Resuming a finished sweep runs nothing and rewrites the same table.
    calls: list[tuple[int, int]] = []
    again = run_sweep(spec, out=out, resume=True, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(7, 7)]
    pd.testing.assert_frame_equal(again, table)


def test_resume_refuses_a_different_sweep(tiny: tuple[Path, pd.DataFrame]) -> None:
    spec, _ = tiny
    other = _write(spec.parent, TINY.replace("seed = 7", "seed = 8"), "other.toml")
    with pytest.raises(RunwayError, match="different sweep"):
        run_sweep(other, out=spec.parent / "local", resume=True)
    with pytest.raises(RunwayError, match="different sweep"):
        run_sweep(spec, out=spec.parent / "local", resume=True, paths=999)


def test_one_axis_sweep_report(tmp_path: Path) -> None:
    text = TINY.replace("paths = 1000", "paths = 300").split("[[axes]]")
    spec = _write(tmp_path, "[[axes]]".join(text[:2]))
    calls: list[tuple[int, int]] = []
    table = run_sweep(
        spec, out=tmp_path / "o", workers=1, progress=lambda d, t: calls.append((d, t))
    )
    assert list(table.columns[:3]) == ["scenario", "is_base", "conversion_2030"]
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    md = (tmp_path / "o" / "sweep.md").read_text()
    assert "![P(insolvent by 2030)](sweep_p_insolvent_2030.png)" in md
    assert md.count("\n| ") == 1 + 3  # header and a row per scenario


@pytest.mark.parametrize("n_axes", [2, 3])
def test_plots_for_sampled_designs(tmp_path: Path, n_axes: int) -> None:
    text = _sampled("lhs", 6)
    if n_axes == 3:
        text = text.replace(
            "[design]", '[[axes]]\nkind = "contract_scale"\nbounds = [0.5, 1.5]\n\n[design]'
        )
    sw = load_sweep(_write(tmp_path, text))
    rng = np.random.default_rng(42)
    base = _outcome(rng, 500)
    rows = [
        {
            "scenario": s.id,
            "is_base": s.id == 0,
            **s.values,
            **scenario_row(_outcome(rng, 500), base, sw.years),
        }
        for s in sw.scenarios
    ]
    figs = plots(pd.DataFrame(rows), sw)
    assert sorted(figs) == ["sweep_funding_gap_2030_p50.png", "sweep_p_insolvent_2030.png"]
    assert len(figs["sweep_p_insolvent_2030.png"].axes) == (2 if n_axes == 2 else 3)


def test_cli_bad_sweep_exits_2(tmp_path: Path) -> None:
    bad = _write(tmp_path, TINY.replace("consumer.conversion_target", "consumer.nope"))
    r = subprocess.run(
        [RUNWAY, "sweep", str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "consumer.nope" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
        (["--paths", "0"], "--paths"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_cli_bad_options_are_one_line_errors(
    tiny: tuple[Path, pd.DataFrame], tmp_path: Path, args, needle
) -> None:
    from typer.testing import CliRunner

    from runway.cli import app

    spec, _ = tiny
    r = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "o"), *args])
    assert isinstance(r.exception, RunwayError) and needle in str(r.exception)
    assert "\n" not in str(r.exception)  # main() prints it as one line, exit code 2
    assert not (tmp_path / "o" / "scenarios").exists()
