"""Golden run: fixed seed, fixed numbers.

Recipe (kernel v2: Philox4x32-10, draw ids from the config paths; recorded again after the
calibration and financing issues changed the model; again after issue 13's financing
mechanics: committed tranches, rounds in tranches, projected runway, round appetite; again
after the AWS contract's ramp to end-2026, compute-aws)::

    raw = runway.engine.run(load_config("configs/hsbc_2025_11.toml"), paths=4096,
                            seed=20251124, chunk_size=512, baseline=False)

then the sha256 of the bytes of ``raw.out``, ``raw.annual_paths``, ``raw.exposure`` and
``raw.drawn`` (in that order, C order), P(insolvent by each year) and the 2030 funding-gap
quantiles of :class:`runway.Result`. Any change to the model, the draws or their order changes
these numbers: a deliberate change re-records them with this recipe and says so in its commit.
The numbers do not depend on the thread count or the chunk size (test_kernel_variants.py).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from tests.conftest import HSBC

import runway
from runway import engine

SHA256 = "85133db238fad3ac0de42cf27a7a0483c866f87a3dc430385999ab41a5bd75cf"
P_INSOLVENT_BY = {
    "2025": 0.0,
    "2026": 0.0,
    "2027": 0.001708984375,
    "2028": 0.004638671875,
    "2029": 0.010986328125,
    "2030": 0.02392578125,
}
GAP_2030 = {
    "mean": 190.9236587616399,
    "p05": 50.24723223782813,
    "p50": 189.61546070590978,
    "p95": 340.2568427939171,
}


@pytest.fixture(scope="module")
def golden():
    cfg = runway.load_config(HSBC)
    return engine.run(cfg, paths=4096, seed=20251124, chunk_size=512, baseline=False)


def test_golden_digest(golden):
    h = hashlib.sha256()
    for a in (golden.out, golden.annual_paths, golden.exposure, golden.drawn):
        h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest() == SHA256


def test_golden_headline(golden):
    res = runway.Result(golden)
    assert res.p_insolvent_by() == P_INSOLVENT_BY
    assert res.funding_gap_quantiles()["2030"] == GAP_2030
