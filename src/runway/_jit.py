"""Numba options in one place (STYLE.md): cached, numpy error model, never fastmath.

``fastmath`` is left off on purpose: cash crosses zero and runways can be infinite, and
fast-math's no-NaN/no-inf assumptions silently break both. Without it numba does not contract
multiply-adds into FMA either, so results are the same on AVX2 and AVX-512 builds.

The on-disk cache. numba keys a cached function on its own source file only, not on the
modules it inlines or the globals it freezes (the layout's enums, the blocks of
``runway.kernel``): after an edit of ``layout.py`` or a block, a function in an unchanged file
would load stale machine code. So the cache directory is named after a digest of
``layout.py``, ``_jit.py`` and every ``runway/kernel/*.py``: any edit there starts a fresh
cache. The base is ``NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/runway/numba``
(``~/.cache/runway/numba``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal, TypedDict

import numba

_HERE = Path(__file__).resolve().parent


def source_digest() -> str:
    """Digest of the sources the compiled kernel is made of (names the cache directory)."""
    h = hashlib.sha256()
    for p in sorted([_HERE / "layout.py", _HERE / "_jit.py", *(_HERE / "kernel").glob("*.py")]):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> str:
    base = os.environ.get("NUMBA_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "runway" / "numba"
    )
    return str(Path(base) / source_digest())


numba.config.CACHE_DIR = _cache_dir()  # type: ignore[attr-defined]


class JitOptions(TypedDict):
    """The options every kernel function is compiled with (typed so mypy checks ``njit(**JIT)``)."""

    cache: bool
    error_model: Literal["python", "numpy"]
    nogil: bool


JIT: JitOptions = {"cache": True, "error_model": "numpy", "nogil": True}

njit = numba.njit(**JIT)
njit_parallel = numba.njit(parallel=True, **JIT)
njit_inline = numba.njit(inline="always", **JIT)
"""For the per-path helpers: inlined into the path loop (measured about 6% faster than calls)."""


def _borrow_py(a):
    """The pure-Python twin of :func:`borrow` (``NUMBA_DISABLE_JIT=1``): the array itself."""
    return a


if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]  # pragma: no cover - Python body
    borrow = _borrow_py
else:
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def borrow(typingctx, a):
        """A view of array ``a`` that is not reference counted (its meminfo is NULL).

        numba increments and decrements (atomically) the reference count of an array each time
        it is bound to a name: every array argument of an inlined block, on every month. A
        borrowed view has no meminfo, so those calls find NULL and do nothing, and the pruning
        pass pairs most of them away (every borrowed view's meminfo is the same NULL). The view
        must not outlive ``a``: take it in a function that holds ``a`` for as long as it runs.
        """
        if not isinstance(a, types.Array):
            return None

        def codegen(context, builder, signature, args):
            ary = context.make_array(signature.args[0])(context, builder, value=args[0])
            ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
            return ary._getvalue()

        return a(a), codegen
