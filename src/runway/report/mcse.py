"""Monte Carlo standard errors: moved to :mod:`runway.stats.mcse` (this name stays for imports).

:func:`mcse_quantile` is :func:`runway.stats.mcse.quantile_mcse` with ``None`` for an
undefined error, the spelling ``summary.json`` uses.
"""

from __future__ import annotations

import math

import numpy as np

from runway.stats.mcse import Z95, mcse_mean, mcse_proportion, quantile_ci, quantile_mcse

__all__ = ["Z95", "mcse_mean", "mcse_proportion", "mcse_quantile", "quantile_ci", "quantile_mcse"]


def mcse_quantile(x: np.ndarray, q: float, *, presorted: bool = False) -> float | None:
    """:func:`runway.stats.mcse.quantile_mcse`, ``None`` where it is undefined (``nan``)."""
    se = quantile_mcse(x, q, presorted=presorted)
    return None if math.isnan(se) else se
