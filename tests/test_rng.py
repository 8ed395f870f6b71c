"""The kernel's counter-based generator (runway.kernel.rng).

Philox4x32-10 against the known-answer vectors published with Random123 (D. E. Shaw
Research; the ``kat_vectors`` file, as reproduced in DEShawResearch/fs123
``core123/ut/ut_philox.cpp``): counter (4 words), key (2 words) -> 4 output words.
The arithmetic log and sine/cosine against libm and an 80-bit reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from runway._jit import njit
from runway.kernel import rng as G

KAT_PHILOX4X32_10 = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@njit
def _philox(c0, c1, c2, c3, k0, k1):
    u = np.uint64
    return G.philox4x32(u(c0), u(c1), u(c2), u(c3), u(k0), u(k1))


@njit
def _logs(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = G.log_pos(x[i])
    return out


@njit
def _sincos(u):
    s = np.empty_like(u)
    c = np.empty_like(u)
    for i in range(u.size):
        s[i], c[i] = G.sincos_turn(u[i])
    return s, c


@njit
def _normals(n, seed):
    k0, k1 = G.seed_key(seed)
    out = np.empty(2 * n)
    for i in range(n):
        a, b = G.normal_pair(np.uint64(i), np.uint64(1), np.uint64(3), np.uint64(0), k0, k1)
        out[2 * i] = a
        out[2 * i + 1] = b
    return out


@pytest.mark.parametrize(("ctr", "key", "want"), KAT_PHILOX4X32_10)
def test_philox4x32_10_known_answers(ctr, key, want):
    assert tuple(int(x) for x in _philox(*ctr, *key)) == want
    # the Python body (NUMBA_DISABLE_JIT) is the same function
    u = np.uint64
    py = G.philox4x32.py_func(*(u(c) for c in ctr), *(u(k) for k in key))
    assert tuple(int(x) for x in py) == want


def test_uniforms_are_strictly_inside_the_unit_interval():
    lo = G.uniforms.py_func(*(np.uint64(0),) * 4)
    hi = G.uniforms.py_func(*(np.uint64(0xFFFFFFFF),) * 4)
    assert lo == (2.0**-53, 2.0**-53)
    assert hi == (1.0 - 2.0**-53, 1.0 - 2.0**-53)


def test_log_within_one_ulp_of_libm():
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [
            rng.random(200_000),
            np.exp(rng.uniform(-37.5, 0.0, 200_000)),
            1.0 - np.geomspace(2.0**-53, 0.5, 2_000),
            [2.0**-53, 0.5, 1.0, math.sqrt(0.5)],
        ]
    )
    got = _logs(x)
    want = np.array([math.log(v) for v in x])
    ulp = np.abs(got - want) / np.spacing(np.maximum(np.abs(want), 1e-300))
    assert ulp[want != 0].max() <= 1.0
    assert got[x == 1.0][0] == 0.0


def test_sincos_of_a_turn_is_accurate():
    u = np.concatenate([np.random.default_rng(5).random(100_000), [0.0, 0.125, 0.25, 0.5, 0.75]])
    s, c = _sincos(u)
    pi = np.longdouble("3.14159265358979323846264338327950288")
    ts = np.sin(2 * pi * u.astype(np.longdouble))
    tc = np.cos(2 * pi * u.astype(np.longdouble))
    assert float(np.max(np.abs(s - ts))) < 3e-16
    assert float(np.max(np.abs(c - tc))) < 3e-16
    # whole quarter turns are exact
    assert (s[-5], c[-5]) == (0.0, 1.0)
    assert (s[-3], c[-3]) == (1.0, 0.0)
    assert (s[-2], c[-2]) == (0.0, -1.0)
    assert (s[-1], c[-1]) == (-1.0, 0.0)


def test_box_muller_normals_have_the_normal_law():
    z = _normals(500_000, 2025)
    n = z.size
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.var() - 1.0) < 4 * math.sqrt(2.0 / n)
    assert abs(np.mean(z**4) - 3.0) < 4 * math.sqrt(96.0 / n)
    # tail mass beyond 3 sd: 0.27%
    p = np.mean(np.abs(z) > 3.0)
    assert abs(p - 0.0026998) < 4 * math.sqrt(0.0027 / n)
    # the pair is uncorrelated
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 4 / math.sqrt(n / 2)
