"""Counter-based random numbers: Philox4x32-10 keyed by the seed, Box-Muller normals.

A path's random numbers are a pure function of ``(seed, path id, month, draw index)``:

- key ``(k0, k1)``: the seed's low and high 32 bits;
- counter ``(draw, word1, path_lo, path_hi)``: ``word1`` is 0 for the per-path parameter
  draws (``draw`` = the drawn value's fixed id, :func:`runway.layout.draw_id`: CRC-32 of its
  config path) and ``m + 1`` for month ``m``'s shocks (``draw`` = the pair of shocks,
  ``E // 2``).

So results do not depend on the thread count, the chunk size or the horizon, scenarios share
shocks by construction, and fixing one parameter leaves every other draw unchanged.

Philox4x32-10 is the generator of Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
easy as 1, 2, 3" (SC'11), as in the Random123 library; ``tests/test_rng.py`` checks it against
Random123's published known-answer vectors. Each block of four 32-bit words gives two uniforms
of 52 bits in (0, 1) (never 0 or 1) and, by Box-Muller, two standard normals. The logarithm,
sine and cosine are written as arithmetic (fdlibm's polynomials) with the float's bits read by an
``@intrinsic`` bit cast, so the month loop has no library calls and vectorises; the results
are within 1 ulp of libm (tested) and identical on every CPU (no fast-math, no FMA contraction:
numba does not contract without ``fastmath``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from runway._jit import njit_inline

# --- bit casts between float64 and uint64 (no allocation, unlike ndarray.view in numba) ----
if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]  # pragma: no cover - the Python body (tests run it in a subprocess)

    def f64_bits(x):
        """The IEEE-754 bits of a float64, as uint64."""
        return np.float64(x).view(np.uint64)

    def bits_f64(b):
        """The float64 with IEEE-754 bits ``b``."""
        return np.uint64(b).view(np.float64)

else:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _f64_bits(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(64))

        return types.uint64(types.float64), codegen

    @intrinsic
    def _bits_f64(typingctx, b):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())

        return types.float64(types.uint64), codegen

    @njit_inline
    def f64_bits(x):
        """The IEEE-754 bits of a float64, as uint64."""
        return _f64_bits(x)

    @njit_inline
    def bits_f64(b):
        """The float64 with IEEE-754 bits ``b``."""
        return _bits_f64(b)


# --- Philox4x32-10 ---------------------------------------------------------------------------
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@njit_inline
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds: counter ``(c0..c3)``, key ``(k0, k1)``, 32-bit words as uint64.

    Every product is of two 32-bit words, so it fits in 64 bits: no wraparound is needed.
    """
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n1 = p1 & _MASK
        n2 = (p0 >> _S32) ^ c3 ^ k1
        n3 = p0 & _MASK
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


_S20U = np.uint64(20)
_S12 = np.uint64(12)
_M52 = np.uint64(0xFFFFFFFFFFFFF)
_TWO_M52 = 2.0**-52


@njit_inline
def uniforms(x0, x1, x2, x3):
    """Two uniforms in (0, 1) from a Philox block.

    Each is ``(j + 1/2) 2^-52`` with ``j`` 52 random bits, so every value is exact, the smallest
    is ``2^-53`` and the largest ``1 - 2^-53``.
    """
    a = np.int64(((x0 << _S20U) ^ (x1 >> _S12)) & _M52)
    b = np.int64(((x2 << _S20U) ^ (x3 >> _S12)) & _M52)
    return (float(a) + 0.5) * _TWO_M52, (float(b) + 0.5) * _TWO_M52


# --- log, sin, cos as arithmetic (fdlibm e_log.c, k_sin.c, k_cos.c) ---------------------------
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_HI_SHIFT = np.uint64(32)
_OFF = np.uint64(0x3FF00000 - 0x3FE6A09E)
_HMANT = np.uint64(0x000FFFFF)
_HBASE = np.uint64(0x3FE6A09E)
_S20 = np.uint64(20)


@njit_inline
def log_pos(x: float) -> float:
    """Natural log of a positive, normal, finite float64 (fdlibm's algorithm, < 1 ulp).

    The caller guarantees the domain (uniforms in (0, 1) here); no branch, no library call.
    """
    bits = f64_bits(x)
    hx = (bits >> _HI_SHIFT) + _OFF
    k = np.int64(hx >> _S20) - 0x3FF
    hx = (hx & _HMANT) + _HBASE
    y = bits_f64((hx << _HI_SHIFT) | (bits & _MASK))
    f = y - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    dk = float(k)
    return s * (hfsq + r) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_PI_2 = math.pi / 2.0


@njit_inline
def sincos_turn(u: float):
    """``(sin 2 pi u, cos 2 pi u)`` for ``u`` in [0, 1].

    Exact reduction to a quarter turn (``4 u - n``), then fdlibm's kernels on [-pi/4, pi/4];
    no branch, no library call.
    """
    x = 4.0 * u
    n = math.floor(x + 0.5)
    r = (x - n) * _PI_2
    z = r * r
    v = z * r
    s = r + v * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    rc = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + z * rc)
    q = np.int64(n)
    odd = (q & 1) != 0  # an odd quarter turn swaps sine and cosine
    sign = 1.0 - float(q & 2)  # the second half turn negates both
    sin = (c if odd else s) * sign
    cos = (-s if odd else c) * sign
    return sin, cos


@njit_inline
def box_muller(u1: float, u2: float):
    """Two independent standard normals from two uniforms in (0, 1)."""
    rad = math.sqrt(-2.0 * log_pos(u1))
    s, c = sincos_turn(u2)
    return rad * c, rad * s


@njit_inline
def normal_pair(c0, c1, c2, c3, k0, k1):
    """Two standard normals for counter ``(c0..c3)`` and key ``(k0, k1)``."""
    x0, x1, x2, x3 = philox4x32(c0, c1, c2, c3, k0, k1)
    u1, u2 = uniforms(x0, x1, x2, x3)
    return box_muller(u1, u2)


@njit_inline
def seed_key(seed: int):
    """The Philox key of a seed: its low and high 32 bits."""
    s = np.uint64(seed)
    return s & _MASK, (s >> _S32) & _MASK


@njit_inline
def path_words(path: int):
    """Counter words 2 and 3 of a path id: its low and high 32 bits."""
    p = np.uint64(path)
    return p & _MASK, (p >> _S32) & _MASK
