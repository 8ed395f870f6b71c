"""Bit casts between float64 and int64 inside numba code (LLVM ``bitcast``: no call, no copy).

numba's scalar ``.view()`` allocates; these intrinsics compile to a register move.
"""

from __future__ import annotations

import numba
from numba import types
from numba.extending import intrinsic


@intrinsic
def float_bits(typingctx, x):
    """The IEEE-754 bits of a float64 ``x`` as an int64."""
    if not (isinstance(x, types.Float) and x.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def bits_float(typingctx, u):
    """The float64 whose IEEE-754 bits are the int64 ``u``."""
    if not (isinstance(u, types.Integer) and u.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(u), codegen


# NUMBA_DISABLE_JIT=1 (the Python-body tests): plain numpy views instead of the intrinsics
if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]  # numba sets it from the environment
    import numpy as _np

    def float_bits(x):  # type: ignore[no-redef,misc]  # the pure-Python twin of the intrinsic
        """The IEEE-754 bits of a float64 ``x`` as an int64 (pure Python)."""
        return int(_np.float64(x).view(_np.int64))

    def bits_float(u):  # type: ignore[no-redef,misc]  # the pure-Python twin of the intrinsic
        """The float64 whose IEEE-754 bits are the int64 ``u`` (pure Python)."""
        return float(_np.int64(u).view(_np.float64))
