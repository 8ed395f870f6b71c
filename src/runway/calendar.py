"""The monthly grid: months are ``"YYYY-MM"`` strings in configs and integer indices in kernels."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

MAX_MONTHS = 600
"""Longest horizon the model supports (50 years): beyond it no input figure means anything."""


def parse_month(text: str) -> int:
    """Absolute month number (``year * 12 + month - 1``) of a ``"YYYY-MM"`` string.

    Raises
    ------
    ValueError
        If ``text`` is not of the form ``YYYY-MM`` with a month from 01 to 12.
    """
    m = _MONTH.match(text) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-01")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_month(absolute: int) -> str:
    """Inverse of :func:`parse_month`."""
    return f"{absolute // 12:04d}-{absolute % 12 + 1:02d}"


@dataclass(frozen=True)
class Calendar:
    """Months ``start`` .. ``end`` inclusive; index 0 is ``start``.

    Attributes
    ----------
    start, end : int
        Absolute month numbers (see :func:`parse_month`).
    """

    start: int
    end: int

    @classmethod
    def from_strings(cls, start: str, end: str) -> Calendar:
        """Grid from ``start`` to ``end`` inclusive, both ``"YYYY-MM"`` strings."""
        return cls(parse_month(start), parse_month(end))

    @property
    def n_months(self) -> int:
        """Number of months on the grid, both ends included."""
        return self.end - self.start + 1

    def index(self, month: str | int) -> int:
        """Index of a month on this grid (may be negative or past the end)."""
        absolute = parse_month(month) if isinstance(month, str) else month
        return absolute - self.start

    @property
    def years(self) -> list[int]:
        """Calendar years touched by the grid, in order."""
        return list(range(self.start // 12, self.end // 12 + 1))

    @property
    def full_years(self) -> list[int]:
        """Years whose twelve months all lie on the grid."""
        return [y for y in self.years if y * 12 >= self.start and y * 12 + 11 <= self.end]

    def year_of_month(self) -> np.ndarray:
        """Index into :attr:`years` of each month: int64 array of shape (n_months,)."""
        return (np.arange(self.start, self.end + 1) // 12 - self.start // 12).astype(np.int64)

    def labels(self) -> list[str]:
        """``"YYYY-MM"`` label of each month on the grid, in order."""
        return [format_month(m) for m in range(self.start, self.end + 1)]

    def years_from_start(self) -> np.ndarray:
        """Time of each month's middle in years since ``start``: array of shape (n_months,)."""
        return (np.arange(self.n_months) + 0.5) / 12.0
