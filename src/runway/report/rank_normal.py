"""Rank normalisation, bulk ESS and rank R-hat: moved to :mod:`runway.stats.convergence`.

This name stays so that existing imports keep working; the functions are the same objects.
"""

from __future__ import annotations

from runway.stats.convergence import (
    BLOM_OFFSET,
    ess_rhat,
    normal_score_table,
    rank_normal_scores,
)

__all__ = ["BLOM_OFFSET", "ess_rhat", "normal_score_table", "rank_normal_scores"]
