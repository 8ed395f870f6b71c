"""Writing the run directory: what is drawn or computed in memory equals what the files give."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import xarray as xr

import runway
from runway.outputs import write_outputs
from runway.report.plots import PLOTS
from runway.report.render import render_report


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    # 5 complete seed streams of 300 paths and a ragged one
    res = runway.simulate(runway.default_config_path(), paths=1600, seed=11, chunk_size=300)
    return res, write_outputs(res, tmp_path_factory.mktemp("out") / "r", idata=True)


def test_paths_parquet_is_the_paths_table(written):
    res, d = written
    back = pd.read_parquet(d / "paths.parquet")
    pd.testing.assert_frame_equal(back, res.paths)
    assert back["insolvent_month"].dropna().str.match(r"^\d{4}-\d{2}$").all()


def test_plots_drawn_in_memory_equal_plots_drawn_from_the_files(written, tmp_path):
    """write_outputs draws from the run's table; `runway report` from paths.parquet."""
    _, d = written
    again = tmp_path / "again"
    shutil.copytree(d, again)
    for f in (*PLOTS, "report.md", "report.html"):
        (again / f).unlink()
    render_report(again)
    for f in (*PLOTS, "report.md", "report.html"):
        assert (again / f).read_bytes() == (d / f).read_bytes(), f


def test_same_seed_gives_the_same_files(written, tmp_path):
    res, d = written
    other = runway.simulate(runway.default_config_path(), paths=1600, seed=11, chunk_size=300)
    d2 = write_outputs(other, tmp_path / "r", idata=True)
    stamped = {"summary.json", "config.resolved.toml", "report.md", "report.html", "idata.nc"}
    for f in sorted(p.name for p in d.iterdir()):
        if f not in stamped:
            assert (d2 / f).read_bytes() == (d / f).read_bytes(), f
    s1, s2 = (json.loads((x / "summary.json").read_text()) for x in (d, d2))
    s1["provenance"].pop("created"), s2["provenance"].pop("created")
    assert s1 == s2
    with (
        xr.open_dataset(d / "idata.nc", group="posterior_predictive", engine="h5netcdf") as a,
        xr.open_dataset(d2 / "idata.nc", group="posterior_predictive", engine="h5netcdf") as b,
    ):
        xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


def test_a_failing_writer_leaves_no_directory_behind(tmp_path, monkeypatch):
    """Background writers are waited for before the partial directory is removed."""
    import runway.report.render as render

    def boom(*a, **k):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(render, "draw_plots", boom)
    res = runway.simulate(runway.default_config_path(), paths=200, seed=1)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_outputs(res, tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_background_and_serial_writing_give_the_same_files(written, tmp_path):
    res, d = written
    other = runway.simulate(runway.default_config_path(), paths=1600, seed=11, chunk_size=300)
    d2 = write_outputs(other, tmp_path / "r", background=True, idata=True)
    d3 = write_outputs(
        runway.simulate(runway.default_config_path(), paths=1600, seed=11, chunk_size=300),
        tmp_path / "s",
        background=False,
        idata=True,
    )
    stamped = {"summary.json", "config.resolved.toml", "report.md", "report.html", "idata.nc"}
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(p.name for p in d2.iterdir()) == sorted(p.name for p in d3.iterdir())
    for f in names:
        if f not in stamped:
            assert (d2 / f).read_bytes() == (d3 / f).read_bytes() == (d / f).read_bytes(), f
    s2, s3 = (json.loads((x / "summary.json").read_text()) for x in (d2, d3))
    s2["provenance"].pop("created"), s3["provenance"].pop("created")
    assert s2 == s3


@pytest.mark.parametrize("background", [True, False])
def test_a_failing_background_job_leaves_no_directory_behind(tmp_path, monkeypatch, background):
    import runway.outputs as outputs

    def boom(*a, **k):
        raise RuntimeError("parquet failed")

    monkeypatch.setattr(outputs, "write_paths_parquet", boom)
    res = runway.simulate(runway.default_config_path(), paths=200, seed=1)
    with pytest.raises(RuntimeError, match="parquet failed"):
        write_outputs(res, tmp_path / "r", background=background)
    assert list(tmp_path.iterdir()) == []


def test_idata_nc_only_on_request(written, tmp_path):
    """idata.nc is written with ``idata=True`` (``runway run --idata``) and only then; the
    other files, the summary included, are the same with or without it."""
    res, d = written
    assert (d / "idata.nc").is_file()
    plain = write_outputs(
        runway.simulate(runway.default_config_path(), paths=1600, seed=11, chunk_size=300),
        tmp_path / "plain",
    )
    assert not (plain / "idata.nc").exists()
    assert "idata.nc" not in (plain / ".complete").read_text().split()
    assert "idata.nc" in (d / ".complete").read_text().split()
    assert sorted(p.name for p in d.iterdir()) == sorted(
        [p.name for p in plain.iterdir()] + ["idata.nc"]
    )
    stamped = {"summary.json", "config.resolved.toml", "report.md", "report.html", ".complete"}
    for f in sorted(p.name for p in plain.iterdir()):
        if f not in stamped:
            assert (plain / f).read_bytes() == (d / f).read_bytes(), f
    s1, s2 = (json.loads((x / "summary.json").read_text()) for x in (d, plain))
    s1["provenance"].pop("created"), s2["provenance"].pop("created")
    assert s1 == s2 and s2["diagnostics"]["ess"]  # ESS/R-hat do not need idata.nc
    assert "runway run --idata" in (plain / "report.md").read_text()
