"""'Insolvent by the end of year Y' from each path's insolvency month, in one place.

A path is insolvent by the end of calendar year ``Y`` when its insolvency month index ``m``
(months from the grid's first month, ``calendar.start``; negative when the path stays
solvent over the horizon) satisfies ``0 <= m <= last(Y)``, ``last(Y)`` being the index of
the last month of ``Y`` on the grid, or of the grid's last month when the horizon ends
inside ``Y`` (:func:`last_month_index`). ``P(insolvent by Y)`` in ``summary.json``, the
``insolvent_by`` outcome of ESS/R-hat and of ``idata.nc``, the sweep table's
``p_insolvent_Y`` and the ``--target-mcse`` criterion are all this event.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from runway.calendar import Calendar


def last_month_index(calendar: Calendar, year: int) -> int:
    """Grid index of the last month of ``year`` (the grid's last month if it ends sooner)."""
    return min(year * 12 + 11, calendar.end) - calendar.start


def insolvent_by_year(
    insolvent_month: np.ndarray, calendar: Calendar, years: Sequence[int] | None = None
) -> np.ndarray:
    """Whether each path is insolvent by the end of each year.

    Parameters
    ----------
    insolvent_month : ndarray of shape (n_paths,)
        Grid month index of each path's insolvency; negative for a path that stays solvent.
    calendar : Calendar
        The run's month grid.
    years : sequence of int, optional
        Calendar years (default: every year the grid touches, ``calendar.years``).

    Returns
    -------
    ndarray of bool, shape (n_paths, n_years)
    """
    ys = calendar.years if years is None else list(years)
    m = np.asarray(insolvent_month)
    last = np.array([last_month_index(calendar, y) for y in ys], dtype=np.float64)
    return (m[:, None] >= 0) & (m[:, None] <= last[None, :])


def p_insolvent_by_year(
    insolvent_month: np.ndarray, calendar: Calendar, years: Sequence[int] | None = None
) -> dict[str, float]:
    """``P(insolvent by the end of Y)`` for each year ``Y`` (keys ``"2026"``, ...).

    The share of paths of :func:`insolvent_by_year`: what ``summary.json`` reports as
    ``p_insolvent_by``.
    """
    ys = calendar.years if years is None else list(years)
    by = insolvent_by_year(insolvent_month, calendar, ys)
    return {str(y): float(np.mean(by[:, j])) for j, y in enumerate(ys)}
