"""The compiled kernel: one path's monthly model, the path loop and the chunk loop.

Layout (every index and name): :mod:`runway.layout`. Modules:

- :mod:`.inputs`: :class:`KernelInputs` (packed inputs), :func:`pack`, :class:`PathBuffers`;
- :mod:`.numeric`: normal CDF and inverse, parameter draws, momentum, capacity profiles;
- the model blocks, one module each, equations in their docstrings: :mod:`.shocks`,
  :mod:`.revenue`, :mod:`.costs`, :mod:`.cashflow`, :mod:`.financing`;
- :mod:`.path`: draws, initial state, :func:`step` (the blocks in order), summaries;
- :mod:`.driver`: :func:`run_chunk` and the parallel :func:`run_chunks`.

Money is $bn per month inside the kernel; rates in configs are per year.
"""

from runway.kernel.driver import run_chunk, run_chunks
from runway.kernel.inputs import KernelInputs, PathBuffers, pack, path_buffers
from runway.kernel.numeric import norm_ppf
from runway.kernel.path import (
    backfill_history,
    draw_path_params,
    init_path,
    simulate_path,
    step,
    summarise_path,
)
from runway.layout import LINE_NAMES, N_LINES, N_OUT, OUT_NAMES

__all__ = [
    "LINE_NAMES",
    "N_LINES",
    "N_OUT",
    "OUT_NAMES",
    "KernelInputs",
    "PathBuffers",
    "backfill_history",
    "draw_path_params",
    "init_path",
    "norm_ppf",
    "pack",
    "path_buffers",
    "run_chunk",
    "run_chunks",
    "simulate_path",
    "step",
    "summarise_path",
]
