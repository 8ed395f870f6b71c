"""The kernel-v2 engine agrees with the wave-1 engine (commit 40b4ae4) on the HSBC config.

How the old numbers were recorded: ``tests/data/record_baseline.py`` run on a checkout of
commit 40b4ae4 (its recipe is in ``tests/data/baseline_40b4ae4.json`` under ``"recipe"``):
``runway.simulate(configs/hsbc_2025_11.toml, paths=200_000, seed=20251124, threads=2)``,
P(insolvent by each year), funding-gap and revenue p05/p50/p95 per year (exact quantiles over
paths), each with its MCSE (binomial for probabilities, order statistics for quantiles), and
every line of the deterministic run.

The random stream changed (Philox4x32-10 keyed by the seed instead of per-chunk numpy
generators; PERT by an inverse-CDF table), so the stochastic numbers agree in distribution:
every headline number within 3 combined MCSE (``hypot`` of the two MCSEs; equal where both
are exactly 0, e.g. P(insolvent in 2025) = 0). The deterministic lines are unchanged to 1e-9.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import runway

ROOT = Path(__file__).resolve().parents[1]
DATA = json.loads((ROOT / "tests" / "data" / "baseline_40b4ae4.json").read_text())
sys.path.insert(0, str(ROOT / "tests" / "data"))
from record_baseline import CFG, SEED, headline  # noqa: E402


def _compare(n: int) -> list[str]:
    res = runway.simulate(CFG, paths=n, seed=SEED, threads=2)
    new, old = headline(res), DATA["stochastic"]
    bad = []
    for sec, years in new.items():
        for year, v in years.items():
            items = (
                [("", v, old[sec][year])]
                if "value" in v
                else [(q, v[q], old[sec][year][q]) for q in v]
            )
            for q, a, b in items:
                se = math.hypot(a["mcse"] or 0.0, b["mcse"] or 0.0)
                ok = a["value"] == b["value"] if se == 0 else abs(a["value"] - b["value"]) <= 3 * se
                if not ok:
                    bad.append(
                        f"{sec} {year} {q}: {a['value']:.6g} vs {b['value']:.6g} (se {se:.3g})"
                    )
    return bad


def test_deterministic_lines_unchanged(hsbc_det):
    m = hsbc_det.monthly
    want = DATA["deterministic"]["monthly"]
    assert m["month"].tolist() == DATA["deterministic"]["months"]
    for line, values in want.items():
        np.testing.assert_allclose(m[line].to_numpy(), np.array(values), rtol=1e-9, atol=1e-9)


def test_headline_numbers_agree_with_40b4ae4_fast():
    """20,000 new paths against the 200,000 recorded ones (the combined MCSE is wider)."""
    assert _compare(20_000) == []


@pytest.mark.slow
def test_headline_numbers_agree_with_40b4ae4_200k():
    assert _compare(200_000) == []
