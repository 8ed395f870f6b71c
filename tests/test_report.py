"""Run directory, report and convergence numbers (small, fast runs)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import runway
from runway.cli import app
from runway.outputs import write_outputs
from runway.report.mcse import mcse_proportion, mcse_quantile
from runway.report.plots import PLOTS

EXPECTED = (
    "summary.json",
    "annual.csv",
    "paths.parquet",
    "fan.parquet",
    "idata.nc",
    "config.resolved.toml",
    "deterministic.csv",
    "report.md",
    "report.html",
    *PLOTS,
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    # chunk_size 256 gives 7 complete seed streams (chains) and a ragged last one
    res = runway.simulate(runway.default_config_path(), paths=2000, seed=7, chunk_size=256)
    return write_outputs(res, tmp_path_factory.mktemp("run") / "r", idata=True)


def _az():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def test_every_file_written_and_readable(run_dir):
    for name in EXPECTED:
        assert (run_dir / name).is_file(), name
    assert len(pd.read_parquet(run_dir / "paths.parquet")) == 2000
    fan = pd.read_parquet(run_dir / "fan.parquet")
    assert set(fan["metric"]) == {"cash", "revenue", "burn", "cash_survivors"}
    idata = _az().from_netcdf(str(run_dir / "idata.nc"))
    assert idata.groups() == ["posterior_predictive"]  # outcomes are predictions, not a posterior
    pp = idata.posterior_predictive
    assert pp.sizes["chain"] == 1 and pp.sizes["draw"] == 2000  # every path, none dropped
    for v in (
        "months_to_insolvency",
        "funding_gap",
        "revenue",
        "min_cash",
        "raised_total",
        "insolvent_by",
    ):
        assert v in pp
    assert pp.attrs["paths_dropped"] == 0
    # the seed stream of each path is a coordinate; the ragged last stream is there too
    assert np.bincount(pp["seed_stream"].values).tolist() == [256] * 7 + [2000 - 7 * 256]
    # plain xarray reads it too (the arviz groups are netCDF groups)
    import xarray as xr

    with xr.open_dataset(
        run_dir / "idata.nc", group="posterior_predictive", engine="h5netcdf"
    ) as ds:
        assert ds.sizes["chain"] == 1 and ds.sizes["draw"] == 2000
        assert list(ds["year"].values) == [
            int(y) for y in json.loads((run_dir / "summary.json").read_text())["funding_gap"]
        ]
    ann = pd.read_csv(run_dir / "annual.csv")
    assert len(ann) == len(pp["year"]) and {"revenue", "funding_gap", "cash_p05"} <= set(
        ann.columns
    )


def test_idata_matches_paths(run_dir):
    paths = pd.read_parquet(run_dir / "paths.parquet")
    pp = _az().from_netcdf(str(run_dir / "idata.nc")).posterior_predictive
    g = pp["funding_gap"].sel(year=2030).values.ravel()
    np.testing.assert_array_equal(g, paths["funding_gap_2030"].to_numpy())
    np.testing.assert_array_equal(pp["seed_stream"].values, paths["chain"].to_numpy())


def test_summary_mcse_and_diagnostics(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    last = list(s["p_insolvent_by"])[-1]
    p = s["p_insolvent_by"][last]
    assert s["mcse"][f"p_insolvent_by_{last}"] == pytest.approx(np.sqrt(p * (1 - p) / 2000))
    assert s["mcse"][f"funding_gap_{last}_p50"] is not None
    d = s["diagnostics"]
    assert d["chains"] == 7
    assert d["ess"]["months_to_insolvency"] > 100
    assert 0.9 < d["rhat"][f"funding_gap_{last}"] < 1.1


def test_deterministic_run_has_null_diagnostics(tmp_path):
    res = runway.simulate(runway.default_config_path(), deterministic=True)
    s = res.summary()
    assert s["diagnostics"]["ess"] is None and s["diagnostics"]["rhat"] is None
    assert all(v in (0.0, None) for v in s["mcse"].values())


def test_mcse_quantile_matches_theory():
    # N(0,1): sd of the sample median is sqrt(pi/2)/sqrt(n)
    rng = np.random.default_rng(42)
    x = rng.standard_normal(40_000)
    assert mcse_quantile(x, 0.5) == pytest.approx(np.sqrt(np.pi / 2 / x.size), rel=0.1)
    assert mcse_proportion(0.5, 100) == pytest.approx(0.05)


def test_config_resolved_round_trips(run_dir):
    data = tomllib.loads((run_dir / "config.resolved.toml").read_text())
    r = data.pop("resolved")
    assert r["paths"] == 2000 and r["seed"] == 7 and r["chunk_size"] == 256
    assert (
        r["config_sha256"] == hashlib.sha256(runway.default_config_path().read_bytes()).hexdigest()
    )
    assert (
        r["numpy"] == np.__version__
        and r["pandas"] == pd.__version__
        and r["numba"]
        and r["python"]
    )
    assert r["target_mcse"] == "none" and r["overrides"] == []
    cfg = runway.config.Config.model_validate(data)
    ran = runway.load_config(runway.default_config_path()).with_overrides(
        {"run.paths": 2000, "run.seed": 7, "run.chunk_size": 256, "run.deterministic": False}
    )
    assert cfg == ran  # every value, with [run] holding what ran
    # and the file itself is a config: it loads as written ([resolved] is kept, not used)
    again = runway.load_config(run_dir / "config.resolved.toml")
    assert again.model_copy(update={"resolved": None}) == ran


def _leaves(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list):
        for v in x:
            yield from _leaves(v)
    elif isinstance(x, bool) or x is None or isinstance(x, str):
        return
    elif isinstance(x, int | float):
        yield x


def _strip_quoted_text(body: str, s: dict) -> str:
    """Published figures' names and sources are text from the config ("24 Nov 2025")."""
    for r in s.get("references") or []:
        body = body.replace(r["source"], "").replace(r["name"], "")
    return body


NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w.])")


def assert_report_numbers_in_summary(run_dir):
    """Every number in report.md (before Provenance) is a summary.json value, as formatted."""
    s = json.loads((run_dir / "summary.json").read_text())
    md = (run_dir / "report.md").read_text()
    body = md.split("## Provenance")[0]
    body = re.sub(r"`[^`]*`", "", body)  # summary keys and dates
    body = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", body)  # figure captions
    body = _strip_quoted_text(body, s)
    years = {str(y) for y in range(2020, 2041)}
    formatted = set()
    leaves = [v for k, v in s.items() if k != "provenance" for v in _leaves({k: v})]
    for v in leaves:
        formatted.add(f"{v:g}")  # settings the user typed (--target-mcse)
        for d in range(5):
            formatted.add(f"{v:,.{d}f}")
        if abs(v) <= 1:  # a probability, share or relative miss, shown in per cent
            for d in range(3):
                formatted.add(f"{100 * v:,.{d}f}")
    tokens = NUMBER.findall(body)
    assert len(tokens) > 100
    bad = [t for t in tokens if t not in formatted and t not in years]
    assert not bad, bad[:20]
    # and the headline numbers are there, in words
    last = list(s["p_insolvent_by"])[-1]
    p = 100 * s["p_insolvent_by"][last]
    assert f"**{p:.0f}%" in md or f"**{p:.1f}%" in md
    assert f"**${s['funding_gap'][last]['p50']:,.0f}bn" in md
    assert f"{s['funding_gap'][last]['p50']:,.1f}" in md  # and in the table
    return s, md


def test_every_number_in_report_md_is_in_summary(run_dir):
    s, md = assert_report_numbers_in_summary(run_dir)
    assert s["target_mcse"] is None and "--target-mcse" not in md


def test_report_command_rerenders_without_simulating(run_dir, monkeypatch):
    import runway.engine

    def boom(*a, **k):
        raise AssertionError("report must not simulate")

    monkeypatch.setattr(runway.engine, "run", boom)
    (run_dir / "report.html").unlink()
    r = CliRunner().invoke(app, ["report", str(run_dir)])
    assert r.exit_code == 0, r.output
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(PLOTS)
    assert "http://" not in html and "https://" not in html


def test_report_command_on_missing_dir_is_a_clean_error(tmp_path):
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-m", "runway", "report", str(tmp_path)], capture_output=True, text=True
    )
    assert p.returncode == 2 and "not a run directory" in p.stderr


def test_report_command_without_per_path_files_keeps_the_plots(run_dir, tmp_path):
    """The committed reports/<scenario>/ has no paths.parquet: report.md/html are rebuilt alone."""
    import shutil

    d = tmp_path / "kept"
    shutil.copytree(run_dir, d)
    (d / "paths.parquet").unlink()
    (d / "report.html").unlink()
    (d / "report.md").unlink()
    pngs = {f: (d / f).read_bytes() for f in PLOTS}
    r = CliRunner().invoke(app, ["report", str(d)])
    assert r.exit_code == 0, r.output
    assert "plots kept" in r.output
    assert (d / "report.md").read_text() == (run_dir / "report.md").read_text()
    assert all((d / f).read_bytes() == b for f, b in pngs.items())
    assert (d / "report.html").read_text().count("data:image/png;base64,") == len(PLOTS)
    (d / "cash_fan.png").unlink()  # neither the inputs nor the plots: not a run directory
    r = CliRunner().invoke(app, ["report", str(d)])
    assert r.exit_code != 0 and "not a run directory" in str(r.exception)


def test_short_seed_streams_warn_nothing_and_give_no_diagnostics(caplog):
    # 6 streams of 1 path: arviz's chain/draw heuristic and its shape validation must stay silent
    # (filterwarnings = error turns a UserWarning into a failure)
    res = runway.simulate(runway.default_config_path(), paths=6, seed=1, chunk_size=1)
    d = res.summary()["diagnostics"]
    assert d["chains"] == 6 and d["draws_per_chain"] == 1
    assert all(v is None for v in d["ess"].values()) and all(v is None for v in d["rhat"].values())
    assert not [r for r in caplog.records if r.name.startswith("arviz")]


def test_regenerate_writes_small_complete_report_dirs(tmp_path):
    from runway.io import MARKER
    from runway.report import regenerate

    regenerate.main(["--paths", "300", "--out", str(tmp_path)])
    d = tmp_path / runway.load_config(runway.default_config_path()).scenario.name
    for f in (*regenerate.KEEP, *PLOTS, MARKER):
        assert (d / f).is_file(), f
    assert not (d / "paths.parquet").exists() and not (d / "idata.nc").exists()
    assert json.loads((d / "summary.json").read_text())["paths"] == 300
    (d / "report.html").unlink()
    r = CliRunner().invoke(app, ["report", str(d)])  # the kept files are enough to re-render
    assert r.exit_code == 0, r.output
    assert (d / "report.html").is_file()


def test_report_leads_with_the_four_answers_in_words(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    md = (run_dir / "report.md").read_text()
    answers = md.split("## The four answers")[1].split("\n## ")[0]
    for q in (
        "How big is the funding gap?",
        "When does cash run out?",
        "With what probability?",
        "What drives it?",
    ):
        assert q in answers
    d = s["insolvency_dates"]
    from runway.report.render import date

    assert date(d["first"]) in answers
    if d["p05"] is not None:
        assert date(d["p05"]) in answers
    else:  # fewer than 5% of paths run out by the horizon: the answer says so
        assert "fewer than one path in twenty runs out" in answers
    assert date(d["riskiest_months"][0]["month"]) in answers
    # answer 4 names the run's top drivers (summary.json "sensitivity", issue 14)
    top = s["sensitivity"]["targets"]["funding_gap_2030_worst_decile"]["top"]
    assert "Not computed in this run" not in answers and "](#what-drives-it)" in answers
    assert all(r["label"] in answers for r in top[:3])
    assert "## What drives it" in md
    # human headers: no code identifier in a table header, diagnostics after the answers
    for line in md.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert "_" not in line.split("|")[1] or line.startswith("| Year"), line
    assert md.index("## Appendix") > md.index("## Figures") > md.index("## The four answers")
    assert "cumulative_fcf" not in md and "MCSE 1." not in md
    # references come from the config; the HSBC config quotes HSBC's $207bn
    assert "$207bn" in answers


def test_insolvency_dates_match_the_paths(run_dir):
    s = json.loads((run_dir / "summary.json").read_text())
    paths = pd.read_parquet(run_dir / "paths.parquet")
    months = paths["insolvent_month"].dropna()
    d = s["insolvency_dates"]
    assert d["first"] == months.min()
    counts = months.value_counts()
    assert d["riskiest_months"][0]["share"] == pytest.approx(counts.iloc[0] / len(paths))
    assert d["riskiest_months"][0]["month"] in set(counts[counts == counts.iloc[0]].index)
    # 5% of paths insolvent by p05's month (none when fewer than 5% ever run out)
    if d["p05"] is not None:
        assert (months <= d["p05"]).sum() / len(paths) >= 0.05
    else:
        assert len(months) / len(paths) < 0.05
    hz = s["insolvency_hazard_by_year"]
    pb = s["p_insolvent_by"]
    years = list(pb)
    for a, b in zip(years, years[1:], strict=False):  # survival multiplies the hazards
        assert 1 - pb[b] == pytest.approx((1 - pb[a]) * (1 - hz[b]))


def _own_config(tmp_path, mutate=None):
    """The HSBC numbers as a user's own config: another name, no description, no references."""
    from tests.conftest import hsbc_dict

    from runway.config import config_from_dict

    d = hsbc_dict()
    d.pop("references")
    d.pop("credit", None)  # credit: its revolver, backlogs and Bain are published figures too
    d["scenario"] = {"name": "my_scenario", "description": "my own assumptions"}
    if mutate is not None:
        mutate(d)
    return config_from_dict(d, "test")


def test_a_config_without_references_quotes_no_published_figure(tmp_path):
    cfg = _own_config(tmp_path)
    res = runway.simulate(cfg, paths=600, seed=3)
    d = write_outputs(res, tmp_path / "own")
    md = (d / "report.md").read_text()
    assert "HSBC" not in md and "Bain" not in md
    # HSBC's $207bn as a quoted figure (a table may hold -207.0 as a simulated number)
    assert not re.search(r"\$207(\.\d+)?\s*bn|\b207bn|\$2tn|2,000bn", md)
    assert "HSBC" not in (d / "report.html").read_text()
    summary = json.loads((d / "summary.json").read_text())
    assert summary["references"] == [] and summary["market_references"] == []
    assert "beside published and market probabilities" not in md


def test_market_references_beside_the_model(run_dir):
    """Each published probability of a dated event sits beside the model's share of paths."""
    s = json.loads((run_dir / "summary.json").read_text())
    refs = s["market_references"]
    assert {r["event"] for r in refs} == {"default", "ipo"}
    paths = pd.read_parquet(run_dir / "paths.parquet")
    for r in refs:
        col = "insolvent_month" if r["event"] == "default" else "ipo_month"
        months = paths[col].dropna().astype(str)
        assert r["model"] == pytest.approx((months <= r["by_month"]).sum() / len(paths))
        p = r["model"]
        assert r["model_mcse"] == pytest.approx(math.sqrt(p * (1 - p) / len(paths)))
    md = (run_dir / "report.md").read_text()
    section = md.split("### The model beside published and market probabilities")[1]
    section = section.split("\n## ")[0]
    from runway.report.render import date, pct

    for r in refs:
        assert f"by {date(r['by_month'])}" in section and pct(r["probability"]) in section
    assert "Why they differ" in section


def test_revenue_axis_follows_the_horizon(tmp_path):
    """A published 2029/2030 point does not stretch the axis of a run that ends in 2027."""
    from tests.conftest import hsbc_dict

    from runway.config import config_from_dict
    from runway.report import plots

    d = hsbc_dict()
    d["calendar"]["end"] = "2027-12"
    d["consumer"]["conversion_target_month"] = "2027-12"
    cfg = config_from_dict(d, "test")
    res = runway.simulate(cfg, paths=300, seed=1)
    figs = plots.from_result(res)
    assert set(figs) == set(PLOTS)
    ax = figs["revenue_fan.png"].axes[0]
    assert ax.get_xlim()[1] < 2028
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any("Revenue 2029" in x or "Revenue 2030" in x for x in labels), labels
    assert any("Revenue 2025" in x for x in labels)  # a point inside the horizon is drawn
    assert any("Bain" in x for x in labels)  # a horizontal line has no year to leave out


def test_plot_functions_return_figures_and_write_nothing(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from runway.report import plots

    monkeypatch.chdir(tmp_path)
    res = runway.simulate(runway.default_config_path(), paths=300, seed=2)
    figs = plots.from_result(res)
    assert all(isinstance(f, Figure) for f in figs.values())
    assert list(tmp_path.iterdir()) == []


def test_deterministic_report_is_model_versus_published(tmp_path):
    res = runway.simulate(runway.default_config_path(), deterministic=True)
    d = write_outputs(res, tmp_path / "det")
    s = json.loads((d / "summary.json").read_text())
    md = (d / "report.md").read_text()
    table = md.split("## Model versus published figures")[1].split("\n## ")[0]
    targets = [r for r in s["references"] if r["tolerance"] is not None]
    assert len(targets) == 13
    for r in targets:
        assert f"| {r['name']} | {r['published_bn']:,.1f} | {r['model_bn']:,.1f} |" in table
        assert r["within"] is (abs(r["model_bn"] / r["published_bn"] - 1) <= r["tolerance"])
    # the one-path Monte Carlo template is gone: no survival curve, no P5/P95 ranges
    assert not (d / "survival.png").exists()
    assert "5th percentile" not in md and "Monte Carlo standard error" not in md
    assert_numbers = md.split("## Provenance")[0]
    assert "Not meaningful for one path" in assert_numbers


def test_deterministic_report_numbers_in_summary(tmp_path):
    res = runway.simulate(runway.default_config_path(), deterministic=True)
    d = write_outputs(res, tmp_path / "det")
    s = json.loads((d / "summary.json").read_text())
    md = (d / "report.md").read_text().split("## Provenance")[0]
    md = re.sub(r"`[^`]*`", "", md)
    md = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)
    md = _strip_quoted_text(md, s)
    formatted = set()
    for v in (x for k, val in s.items() if k != "provenance" for x in _leaves({k: val})):
        for dd in range(5):
            formatted.add(f"{v:,.{dd}f}")
        if abs(v) <= 1:
            for dd in range(3):
                formatted.add(f"{100 * v:,.{dd}f}")
    years = {str(y) for y in range(2020, 2041)}
    bad = [t for t in NUMBER.findall(md) if t not in formatted and t not in years]
    assert not bad, bad[:20]


def test_result_repr_and_html_headline():
    res = runway.simulate(runway.default_config_path(), paths=300, seed=4)
    text = repr(res)
    assert text.startswith("<runway.Result hsbc_2025_11: 300 paths") and "funding gap" in text
    h = res._repr_html_()
    assert "How big is the funding gap?" in h and "What drives it?" in h
    assert "<img" not in h and "## " not in h


def test_every_source_cited_by_a_config_is_a_row_of_docs_sources():
    """Traceability: config comments and references name rows of docs/sources.md."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "sources.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| ([a-z0-9-]+) \|.*$", text, re.M)}
    rows.pop("id", None)
    assert len(rows) > 40
    for row in rows.values():
        assert "http" in row and re.search(r"\b(19|20)\d\d\b", row), row  # a URL and a date
    cited: set[str] = set()
    pattern = r"\b((?:hsbc|bain|openai|compute|financing|stress)-[a-z0-9-]+[a-z0-9])"
    for f in (root / "configs").rglob("*.toml"):
        t = f.read_text()
        assert "FIGURES.md" not in t, f  # the record the repository does not hold
        cited |= set(re.findall(pattern, t))
        for ref in tomllib.loads(t).get("references", {}).get("figures", []):
            assert ref["sources_row"] in rows, ref["sources_row"]
    assert cited and cited <= set(rows), sorted(cited - set(rows))


def test_report_command_rerenders_a_deterministic_dir_without_per_path_files(tmp_path):
    res = runway.simulate(runway.default_config_path(), deterministic=True)
    d = write_outputs(res, tmp_path / "det")
    before = (d / "report.md").read_text()
    (d / "paths.parquet").unlink()
    (d / "report.md").unlink()
    r = CliRunner().invoke(app, ["report", str(d)])
    assert r.exit_code == 0, r.output
    assert (d / "report.md").read_text() == before
