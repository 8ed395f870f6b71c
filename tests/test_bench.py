"""``runway bench --quick`` runs and writes finite, positive figures (never asserts timings)."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from runway.cli import app

HEADLINE = (
    "ratio_vs_numpy",
    "speedup_2_threads",
    "draw_share",
    "e2e_over_kernel_1m",
    "peak_rss_gb_10m",
    "sweep_100x1m_estimate_s",
)
THROUGHPUT = (
    "kernel_1_thread_path_months_per_s",
    "kernel_2_threads_path_months_per_s",
    "kernel_1_thread_ns_per_path_month",
    "draws_1_thread_ns_per_path_month",
    "numpy_reference_path_months_per_s",
)


def _pos(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


def test_bench_quick_writes_json_and_markdown(tmp_path):
    out = tmp_path / "x.json"
    res = CliRunner().invoke(app, ["bench", "--quick", "--out", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    assert (tmp_path / "x.md").read_text().startswith("# runway bench")
    for k in HEADLINE:
        assert _pos(d[k]), k
    for k in THROUGHPUT:
        assert _pos(d["throughput"][k]), k
    for key in ("by_paths", "by_months"):
        rows = d["scaling"][key]
        assert rows
        for r in rows:
            assert _pos(r["seconds"]) and _pos(r["peak_rss_mb"]) and _pos(r["path_months_per_s"]), r
    assert _pos(d["start"]["warm_s"])
    assert 0 < d["draw_share"] < 1
    # true peaks per point (VmHWM of each child), not the parent's inherited maximum: they grow
    rss = [r["peak_rss_mb"] for r in d["scaling"]["by_paths"]]
    assert rss[-1] > rss[0]
    assert d["correctness"]["threads_bitwise_equal"] is True
    assert math.isfinite(d["correctness"]["funding_gap_z"])
    for k in ("cpu_count", "platform", "python", "numpy", "numba"):
        assert d["machine"][k]
    # e2e: CPU time of the whole warm `runway run` child against that child's kernel calls
    st, basis = d["start"], d["basis"]
    assert 0 < st["warm_kernel_cpu_s"] < st["warm_cpu_s"]
    assert d["e2e_over_kernel_1m"] == pytest.approx(st["warm_cpu_s"] / st["warm_kernel_cpu_s"])
    for k in ("ratio_vs_numpy", "speedup_2_threads", "draw_share", "e2e_over_kernel_1m"):
        assert isinstance(basis[k], str) and basis[k], k
    assert "CPU" in basis["e2e_over_kernel_1m"] and "throughput" in basis["speedup_2_threads"]
    loads = basis["threads_load_average_1_5_15"]
    assert len(loads) == 2 and all(len(x) == 3 and min(x) >= 0 for x in loads)
    assert _pos(basis["threads_cores_used"]) and _pos(basis["threads_cpu_efficiency"])
