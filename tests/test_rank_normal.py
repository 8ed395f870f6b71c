"""ESS and R-hat from one sort per outcome equal arviz's own bulk ESS and rank R-hat exactly."""

from __future__ import annotations

import json
import logging
import math
import warnings

import numpy as np
import pytest

import runway
from runway.report.idata import PER_YEAR, SCALARS, arviz, diagnostics, seed_stream_draws
from runway.report.rank_normal import ess_rhat, rank_normal_scores


def _arviz_ess_rhat(x):
    az = arviz()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(az.ess(x, method="bulk")), float(az.rhat(x, method="rank"))


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _draws(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "ties":  # many ties, some across the median
        return np.round(rng.standard_normal(shape) * 3)
    if kind == "binary":  # an insolvent-by indicator
        return (rng.random(shape) < 0.3).astype(float)
    if kind == "mass_at_zero":  # a funding gap: most paths need nothing
        return np.maximum(rng.lognormal(size=shape) - 1.5, 0.0)
    x = rng.standard_normal(shape)  # "infinite": goes to arviz as it is
    x[0, 0] = np.inf
    return x


@pytest.mark.parametrize("shape", [(4, 10), (4, 11), (3, 5), (1, 100), (2, 4), (7, 64), (50, 9)])
@pytest.mark.parametrize("kind", ["normal", "ties", "binary", "mass_at_zero", "infinite"])
def test_ess_rhat_is_arviz_bulk_ess_and_rank_rhat_to_the_bit(shape, kind, caplog):
    caplog.set_level(logging.CRITICAL, logger="arviz")  # its shape warning for 1 chain
    x = _draws(kind, shape, np.random.default_rng(42))
    ess, rhat = ess_rhat(x)
    ess0, rhat0 = _arviz_ess_rhat(x)
    assert _same(ess, ess0), (ess, ess0)
    assert _same(rhat, rhat0), (rhat, rhat0)


def test_rank_normal_scores_are_arviz_z_scale():
    from arviz.stats.diagnostics import _z_scale  # the private function it replaces

    rng = np.random.default_rng(42)
    x = np.round(rng.standard_normal((5, 40)), 1)
    z, z_folded = rank_normal_scores(x, folded=True)
    np.testing.assert_array_equal(z, _z_scale(x))
    np.testing.assert_array_equal(z_folded, _z_scale(np.abs(x - np.median(x))))


def test_run_diagnostics_equal_arviz_on_the_posterior(tmp_path):
    """Every key is there (constant outcomes None) and the numbers are arviz's."""
    res = runway.simulate(runway.default_config_path(), paths=3000, seed=3, chunk_size=500)
    d = res.summary()["diagnostics"]
    d = json.loads(json.dumps(d))  # as summary.json has them
    idata = res.to_idata()
    years = [int(y) for y in idata.posterior_predictive["year"].values]
    keys = list(SCALARS) + [f"{n}_{y}" for n in PER_YEAR for y in years]
    assert list(d["ess"]) == keys and list(d["rhat"]) == keys
    assert d["chains"] == 6 and d["draws_per_chain"] == 500
    for key in keys:
        name, sel = (
            (key, {}) if key in SCALARS else (key.rsplit("_", 1)[0], {"year": int(key[-4:])})
        )
        x = seed_stream_draws(idata, name, sel.get("year"))
        if x.min() == x.max():
            assert d["ess"][key] is None and d["rhat"][key] is None, key
            continue
        ess0, rhat0 = _arviz_ess_rhat(x)
        assert d["ess"][key] == ess0 and d["rhat"][key] == rhat0, key
    # the threads do not change a number
    assert diagnostics(res.to_idata(), threads=1) == diagnostics(res.to_idata(), threads=3)
