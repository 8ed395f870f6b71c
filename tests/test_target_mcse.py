"""``--target-mcse``: the run grows until the MCSE target is met, and stays reproducible.

A run that grows to N paths must equal, bit for bit, a plain run of N paths with the same seed:
chunk i always gets ``SeedSequence(seed).spawn(...)[i]`` and the streaming histograms are
folded in the same batches. ``BATCH_PATHS`` is lowered so that small runs cross several batch
boundaries, and the first step (3 chunks) ends inside a batch on purpose.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tests.test_report import assert_report_numbers_in_summary
from typer.testing import CliRunner

import runway
from runway import engine
from runway.cli import app
from runway.engine import TargetCheck, check_target, next_target_paths

CS = 256


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(engine, "BATCH_PATHS", 4 * CS)


def _strip(summary: dict) -> dict:
    s = dict(summary)
    s.pop("provenance")
    s.pop("target_mcse")
    return s


def _assert_same_run(a, b):
    assert a.raw.n_paths == b.raw.n_paths
    assert a.paths.equals(b.paths)
    assert a.fan.equals(b.fan)
    assert a.annual.equals(b.annual)
    for k in ("counts", "lo", "hi", "sums", "nans"):
        assert np.array_equal(getattr(a.raw.fan, k), getattr(b.raw.fan, k)), k
        assert np.array_equal(getattr(a.raw.annual, k), getattr(b.raw.annual, k)), k
    assert _strip(a.summary()) == _strip(b.summary())


def test_grown_run_equals_plain_run_of_the_same_size(hsbc_cfg, small_batches):
    checks: list[TargetCheck] = []
    grown = runway.simulate(
        hsbc_cfg, paths=3 * CS, seed=5, chunk_size=CS, target_mcse=0.015, on_check=checks.append
    )
    t = grown.raw.target
    assert t is not None and t.reached and t.checks == checks
    assert len(checks) >= 2, "the first step should not meet the target (else nothing grew)"
    assert [c.met for c in checks] == [False] * (len(checks) - 1) + [True]
    assert [c.paths for c in checks] == sorted({c.paths for c in checks})  # strictly growing
    assert checks[0].paths == 3 * CS and grown.raw.n_paths == checks[-1].paths
    assert grown.raw.n_paths % CS == 0  # whole chunks: every chunk is a complete seed stream
    plain = runway.simulate(hsbc_cfg, paths=grown.raw.n_paths, seed=5, chunk_size=CS)
    _assert_same_run(grown, plain)
    assert plain.summary()["target_mcse"] is None


def test_stopping_numbers_are_the_reported_mcse(hsbc_cfg, small_batches):
    res = runway.simulate(hsbc_cfg, paths=2 * CS, seed=8, chunk_size=CS, target_mcse=0.04)
    s = res.summary()
    tm = s["target_mcse"]
    year = tm["year"]
    assert year == str(res.calendar.full_years[-1])
    assert tm["paths"] == s["paths"] == res.raw.n_paths
    assert tm["mcse_p_insolvent"] == pytest.approx(s["mcse"][f"p_insolvent_by_{year}"], rel=1e-12)
    med = s["funding_gap"][year]["p50"]
    assert tm["rel_mcse_funding_gap_p50"] == pytest.approx(
        s["mcse"][f"funding_gap_{year}_p50"] / med, rel=1e-12
    )
    assert tm["mcse_p_insolvent"] <= 0.04 and tm["rel_mcse_funding_gap_p50"] <= 0.04
    json.dumps(s, allow_nan=False)  # the summary stays valid JSON


def test_cap_on_a_partial_chunk_equals_plain_run(hsbc_cfg, small_batches):
    grown = runway.simulate(
        hsbc_cfg, paths=CS, seed=2, chunk_size=CS, target_mcse=1e-4, max_paths=1000
    )
    t = grown.raw.target
    assert not t.reached and grown.raw.n_paths == 1000 and t.checks[-1].paths == 1000
    plain = runway.simulate(hsbc_cfg, paths=1000, seed=2, chunk_size=CS)
    _assert_same_run(grown, plain)
    # at most 1,000 paths: the monthly trace is kept, and equal too
    assert grown.monthly is not None and grown.monthly.equals(plain.monthly)


def test_next_step_rule():
    def chk(n, se_p, rel):
        return TargetCheck(
            paths=n,
            p_insolvent=0.3,
            mcse_p_insolvent=se_p,
            gap_p50=100.0,
            mcse_gap_p50=rel * 100.0,
            rel_mcse_gap_p50=rel,
            met=False,
        )

    # MCSE ~ 1/sqrt(n): twice the target needs about 4x the paths, capped at 4x per step
    assert next_target_paths(chk(1000, 0.002, 0.0015), 0.001, 100, 10**6) == 4000
    # 1.2x the target: 1.44 * 1.05 = 1.512 -> 1512 -> whole chunks of 100
    assert next_target_paths(chk(1000, 0.0012, 0.0), 0.001, 100, 10**6) == 1600
    # barely above the target: at least one chunk more
    assert next_target_paths(chk(1000, 0.0010001, 0.0), 0.001, 100, 10**6) == 1100
    # the relative gap criterion drives it too; undefined (inf) grows at the maximum rate
    assert next_target_paths(chk(1000, 0.0, 0.0015), 0.001, 100, 10**6) == 2400
    assert next_target_paths(chk(1000, 0.0, math.inf), 0.001, 100, 10**6) == 4000
    # never past the cap, which may end on a partial chunk
    assert next_target_paths(chk(1000, 0.01, 0.0), 0.001, 100, 2550) == 2550


def test_check_target_criteria():
    rng = np.random.default_rng(42)
    n = 4000
    ins = np.where(rng.random(n) < 0.25, 10.0, -1.0)
    ins[:5] = 30  # insolvent after the target year: not counted
    gap = rng.lognormal(4.0, 0.5, n)
    c = check_target(ins, gap, last_month=20, target=0.01)
    p = np.mean(ins == 10)
    assert c.p_insolvent == p and c.mcse_p_insolvent == pytest.approx(np.sqrt(p * (1 - p) / n))
    assert c.gap_p50 == np.median(gap)
    assert c.rel_mcse_gap_p50 == pytest.approx(c.mcse_gap_p50 / c.gap_p50)
    assert c.met == (c.mcse_p_insolvent <= 0.01 and c.rel_mcse_gap_p50 <= 0.01)
    # median 0 (just over half the paths) with spread above: relative error undefined, not met
    z = np.concatenate([np.zeros(n // 2 + 10), rng.lognormal(size=n // 2 - 10)])
    assert np.median(z) == 0.0
    assert check_target(ins, z, 20, 0.5).rel_mcse_gap_p50 == math.inf
    assert check_target(ins, np.zeros(n), 20, 0.5).rel_mcse_gap_p50 == 0.0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target-mcse", "0"], "--target-mcse must be"),
        (["--target-mcse", "nan"], "--target-mcse must be"),
        (["--target-mcse", "0.01", "--deterministic"], "drop --deterministic"),
        (["--max-paths", "5000"], "only applies with --target-mcse"),
        (["--target-mcse", "0.01", "--max-paths", "0"], "--max-paths must be"),
        (
            ["--target-mcse", "0.01", "--paths", "5000", "--max-paths", "4000"],
            "exceeds --max-paths",
        ),
    ],
)
def test_bad_target_options_are_one_line_exit_2(tmp_path, monkeypatch, capsys, args, needle):
    from runway import cli

    monkeypatch.setattr("sys.argv", ["runway", "run", *args, "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_cli_target_run_writes_and_reports_it(tmp_path, small_batches):
    out = tmp_path / "r"
    r = CliRunner().invoke(
        app,
        [
            "run",
            "--target-mcse",
            "0.0001",
            "--paths",
            "300",
            "--max-paths",
            "1500",
            "--seed",
            "4",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "NOT reached" in r.output and "1,500" in r.output  # the cap is said out loud
    s = json.loads((out / "summary.json").read_text())
    tm = s["target_mcse"]
    # the first step is rounded up to whole chunks of the config's chunk size
    cs = s["chunk_size"]
    assert tm["initial_paths"] == min(math.ceil(300 / cs) * cs, 1500)
    assert tm["reached"] is False and tm["paths"] == s["paths"] == 1500 and tm["target"] == 0.0001
    md = (out / "report.md").read_text()
    assert "`--target-mcse` 0.0001" in md and "Target not reached" in md and "1,500 paths" in md
    assert "target_mcse = 0.0001" in (out / "config.resolved.toml").read_text()
    assert_report_numbers_in_summary(out)
