"""Statistics of a run's per-path outcomes, below :mod:`runway.result` (no report, no arviz).

- :mod:`runway.stats.mcse`: Monte Carlo standard errors (proportion, mean, quantile), the one
  quantile convention ``summary.json`` and the sweep table share;
- :mod:`runway.stats.insolvency`: "insolvent by the end of year Y" from insolvency month indices;
- :mod:`runway.stats.convergence`: bulk ESS and rank-normalised R-hat on at most 64 chains of
  seed streams, rank normalisation with one sort (or none) per outcome.

Nothing here imports :mod:`runway.result`, :mod:`runway.engine`, :mod:`runway.report` or arviz
at import time, so every layer above can use it without an import cycle.
"""
