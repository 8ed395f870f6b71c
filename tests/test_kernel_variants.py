"""The same seed gives the same numbers however the run is executed.

- the kernel's Python body (``NUMBA_DISABLE_JIT=1``, every line run as Python) equals the
  compiled kernel exactly, draws included;
- serial (1 thread) equals parallel (2 threads), and two chunk sizes give the same paths;
- a path's random numbers depend only on (seed, path id, month, draw): extending the horizon
  from 2030 to 2035 leaves every drawn input and every revenue line of the months both have
  unchanged (revenue does not depend on the horizon; stock pay's ramp does, by design).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import HSBC, make_config

from runway import engine

ROOT = Path(__file__).resolve().parents[1]
ARRAYS = ("out", "exposure", "annual_paths", "drawn", "monthly")

_PY_BODY = r"""
import sys
import numpy as np
import runway
from runway import engine
cfg = runway.load_config(sys.argv[1])
raw = engine.run(cfg, paths=5, seed=7, chunk_size=2, threads=1, baseline=False)
np.savez(sys.argv[2], **{k: getattr(raw, k) for k in ARRAYS})
""".replace("ARRAYS", repr(ARRAYS))


def _arrays(raw):
    return {k: getattr(raw, k) for k in ARRAYS}


def _equal(a, b):
    for k in ARRAYS:
        assert np.array_equal(a[k], b[k], equal_nan=True), k


def test_python_body_equals_compiled(tmp_path):
    f = tmp_path / "py.npz"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    res = subprocess.run(
        [sys.executable, "-c", _PY_BODY, str(HSBC), str(f)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    py = dict(np.load(f))
    cfg = make_config()
    compiled = engine.run(cfg, paths=5, seed=7, chunk_size=2, threads=1, baseline=False)
    _equal(py, _arrays(compiled))
    assert np.ptp(py["drawn"], axis=0).max() > 0  # the draws were exercised


def test_threads_and_chunk_sizes_give_identical_paths():
    cfg = make_config()
    a = engine.run(cfg, paths=600, seed=11, chunk_size=64, threads=1, baseline=False)
    b = engine.run(cfg, paths=600, seed=11, chunk_size=64, threads=2, baseline=False)
    c = engine.run(cfg, paths=600, seed=11, chunk_size=250, threads=2, baseline=False)
    _equal(_arrays(a), _arrays(b))
    _equal(_arrays(a), _arrays(c))
    # and a prefix of a larger run is the smaller run (path ids, not chunks, carry the numbers)
    d = engine.run(cfg, paths=900, seed=11, chunk_size=100, threads=2, baseline=False)
    for k in ("out", "exposure", "annual_paths", "drawn"):
        assert np.array_equal(getattr(d, k)[:600], getattr(a, k)), k


def test_horizon_extension_keeps_each_paths_numbers():
    short = make_config()

    def longer(d):
        d["calendar"]["end"] = "2035-12"

    long = make_config(longer)
    a = engine.run(short, paths=300, seed=5, chunk_size=128, baseline=False)
    b = engine.run(long, paths=300, seed=5, chunk_size=128, baseline=False)
    assert np.array_equal(a.drawn, b.drawn)
    n = a.monthly.shape[1]
    assert b.monthly.shape[1] > n
    names = list(a.line_names)
    for line in ("revenue", "consumer", "enterprise", "advertising", "users_bn", "regime"):
        i = names.index(line)
        assert np.array_equal(a.monthly[:, :, i], b.monthly[:, :n, i]), line


@pytest.mark.parametrize("seed", [0, 2**40 + 3])
def test_seed_changes_every_draw(seed):
    cfg = make_config()
    a = engine.run(cfg, paths=50, seed=seed, baseline=False)
    b = engine.run(cfg, paths=50, seed=seed + 1, baseline=False)
    # every drawn column changes (slips are whole months and draws can sit on a bound, so a
    # few values may coincide)
    assert np.all(np.mean(a.drawn != b.drawn, axis=0) > 0.5)
    json.dumps(a.drawn_names)  # plain strings


def test_fixing_one_parameter_leaves_every_other_draw_unchanged():
    """Each drawn value has its own draw id (the CRC-32 of its config path): collapsing one
    distribution to its central value changes that column only (issue 14's tornado)."""

    def fix(d):
        d["consumer"]["conversion_target"] = 0.1

    a = engine.run(make_config(), paths=200, seed=3, baseline=False)
    b = engine.run(make_config(fix), paths=200, seed=3, baseline=False)
    assert "consumer.conversion_target" in a.drawn_names
    assert "consumer.conversion_target" not in b.drawn_names
    for j, name in enumerate(b.drawn_names):
        assert np.array_equal(b.drawn[:, j], a.drawn[:, a.drawn_names.index(name)]), name


_DIGEST = r"""
import hashlib, sys
import numpy as np
import runway
from runway import engine
raw = engine.run(runway.load_config(sys.argv[1]), paths=300, seed=9, chunk_size=64, baseline=False)
h = hashlib.sha256()
for a in (raw.out, raw.annual_paths, raw.exposure, raw.drawn, raw.monthly):
    h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


@pytest.mark.slow
def test_avx2_build_equals_the_host_build(tmp_path):
    """No FMA contraction and no fast-math: an AVX2-only build (``NUMBA_CPU_NAME=haswell``,
    compiled into its own cache) gives the same bits as the host build (AVX-512 here)."""
    out = {}
    for label, extra in (("host", {}), ("avx2", {"NUMBA_CPU_NAME": "haswell"})):
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / label), **extra}
        res = subprocess.run(
            [sys.executable, "-c", _DIGEST, str(HSBC)],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
        )
        assert res.returncode == 0, res.stderr[-3000:]
        out[label] = res.stdout.strip().splitlines()[-1]
    assert out["host"] == out["avx2"]
