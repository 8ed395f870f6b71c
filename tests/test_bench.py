"""``runway bench --quick`` runs and writes finite, positive figures (never asserts timings)."""

from __future__ import annotations

import json
import math

from typer.testing import CliRunner

from runway.cli import app

HEADLINE = ("ratio_vs_numpy", "speedup_2_threads", "fraction_of_rng_bound")
THROUGHPUT = (
    "kernel_1_thread_path_months_per_s",
    "kernel_2_threads_path_months_per_s",
    "numpy_reference_path_months_per_s",
    "rng_raw_normals_per_s",
    "rng_bound_path_months_per_s",
    "draws_per_path_month",
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
    assert d["correctness"]["threads_bitwise_equal"] is True
    assert math.isfinite(d["correctness"]["funding_gap_z"])
    for k in ("cpu_count", "platform", "python", "numpy", "numba"):
        assert d["machine"][k]
