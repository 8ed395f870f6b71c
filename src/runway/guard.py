"""Memory guard: refuse a run that would not fit in the machine's memory, before it starts.

The estimate is :func:`runway.engine.estimate_memory_bytes` (per-path outcomes, one batch of
working buffers, the streaming histograms and, for small runs, the monthly trace). The
available memory is Linux's ``MemAvailable`` from ``/proc/meminfo`` (what can be allocated
without swapping), or free physical pages from :func:`os.sysconf` elsewhere.
"""

from __future__ import annotations

import os

from runway.config import Config
from runway.errors import RunwayError

HEADROOM = 0.8
"""Share of the available memory a run may plan to use (the interpreter and libraries need the rest)."""


class MemoryGuardError(RunwayError):
    """A run whose estimated memory exceeds what the machine has."""


def available_memory_bytes() -> int | None:
    """Memory that can be allocated now, in bytes, or None when it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(cfg: Config, paths: int, available: int | None = None) -> int:
    """Raise :class:`MemoryGuardError` when a run of ``paths`` paths would not fit.

    Parameters
    ----------
    cfg : Config
        The validated config (its horizon and contract table set the per-path size).
    paths : int
        Number of paths of the run.
    available : int, optional
        Available memory in bytes (default: :func:`available_memory_bytes`).

    Returns
    -------
    int
        The estimate in bytes.
    """
    from runway.engine import estimate_memory_bytes

    need = int(estimate_memory_bytes(cfg, paths))
    have = available_memory_bytes() if available is None else available
    if have is None:
        return need
    budget = int(have * HEADROOM)
    if need > budget:
        per_path = max(1, estimate_memory_bytes(cfg, 2 * paths) - need) / paths
        fit = max(1, int((budget - (need - per_path * paths)) // per_path)) if per_path > 0 else 1
        raise MemoryGuardError(
            f"--paths {paths:,}: the run needs an estimated {_gib(need)} of memory but "
            f"{_gib(have)} is available ({HEADROOM:.0%} usable); use fewer --paths "
            f"(about {fit:,} fit) or a machine with more memory"
        )
    return need
