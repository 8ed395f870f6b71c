"""Parameter values as data: a fixed number or a distribution to draw once per path.

Every numeric model parameter in a config may be written as a plain number or as an inline
table naming a distribution::

    conversion_target = 0.10
    conversion_target = { dist = "pert", low = 0.05, mode = 0.10, high = 0.20 }

The *central value* of each distribution (what ``--deterministic`` uses) is the value a
published point estimate corresponds to: the mean of a normal, the median of a lognormal,
the midpoint of a uniform, the mode of a triangular or PERT, and the p50 of the percentile
form. Draws are clipped to the parameter's admissible interval (``Notes`` in
:func:`encode`).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runway.layout import Kind

# Kind codes shared with the kernel's ``draw_value`` (runway.layout.Kind).
FIXED, NORMAL, LOGNORMAL, UNIFORM, TRIANGULAR, PERT, PERCENTILES = (int(k) for k in Kind)

_Z90 = 1.2815515655446004  # standard normal 90th percentile

Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def central(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def support(self) -> tuple[float, float]:  # pragma: no cover - overridden
        raise NotImplementedError


class Normal(_Dist):
    """Normal with ``mean`` and standard deviation ``sd``; central value: the mean."""

    dist: Literal["normal"]
    mean: Finite
    sd: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    def central(self) -> float:
        """Central value (what ``--deterministic`` uses): the mean."""
        return self.mean

    def support(self) -> tuple[float, float]:
        """Interval the draws can take: the real line, or the mean alone when ``sd`` is 0."""
        return (-math.inf, math.inf) if self.sd > 0 else (self.mean, self.mean)


class LogNormal(_Dist):
    """Lognormal with ``median`` and log-scale ``sigma``; central value: the median."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sigma: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    def central(self) -> float:
        """Central value (what ``--deterministic`` uses): the median."""
        return self.median

    def support(self) -> tuple[float, float]:
        """Interval the draws can take: (0, inf), or the median alone when ``sigma`` is 0."""
        return (0.0, math.inf) if self.sigma > 0 else (self.median, self.median)


class Uniform(_Dist):
    """Uniform on [``low``, ``high``]; central value: the midpoint."""

    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def central(self) -> float:
        """Central value (what ``--deterministic`` uses): the midpoint of the interval."""
        return 0.5 * (self.low + self.high)

    def support(self) -> tuple[float, float]:
        """Interval the draws can take: [``low``, ``high``]."""
        return (self.low, self.high)


class Triangular(_Dist):
    """Triangular on [``low``, ``high``] peaking at ``mode``; central value: the mode."""

    dist: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def central(self) -> float:
        """Central value (what ``--deterministic`` uses): the mode."""
        return self.mode

    def support(self) -> tuple[float, float]:
        """Interval the draws can take: [``low``, ``high``]."""
        return (self.low, self.high)


class Pert(Triangular):
    """PERT (scaled beta, shape 4) on [``low``, ``high``] with ``mode``; central value: the mode."""

    dist: Literal["pert"]  # type: ignore[assignment]


class Percentiles(_Dist):
    """Two-piece normal through ``p10``, ``p50``, ``p90``; central value: the p50.

    Below the median the standard deviation is ``(p50 - p10) / z90``, above it
    ``(p90 - p50) / z90``, so the three percentiles are reproduced exactly.
    """

    dist: Literal["percentiles"]
    p10: Finite
    p50: Finite
    p90: Finite

    @model_validator(mode="after")
    def _order(self) -> Percentiles:
        if self.p10 > self.p50:
            raise ValueError(f"p10 ({self.p10}) must not exceed p50 ({self.p50})")
        if self.p50 > self.p90:
            raise ValueError(f"p50 ({self.p50}) must not exceed p90 ({self.p90})")
        return self

    def central(self) -> float:
        """Central value (what ``--deterministic`` uses): the p50."""
        return self.p50

    def support(self) -> tuple[float, float]:
        """Interval the draws can take: unbounded on each side whose spread is non-zero."""
        lo = -math.inf if self.p10 < self.p50 else self.p50
        hi = math.inf if self.p90 > self.p50 else self.p50
        return (lo, hi)


Dist = Annotated[
    Normal | LogNormal | Uniform | Triangular | Pert | Percentiles, Field(discriminator="dist")
]
Param = Finite | Dist
"""A model parameter: a finite number, or a distribution drawn once per path."""


def central(value: float | _Dist) -> float:
    """Central value of a parameter (the number itself for a fixed parameter)."""
    return float(value) if isinstance(value, int | float) else value.central()


def is_random(value: float | _Dist) -> bool:
    """True when the parameter is a distribution with positive spread."""
    if isinstance(value, int | float):
        return False
    lo, hi = value.support()
    return lo < hi


def encode(value: float | _Dist) -> tuple[int, np.ndarray]:
    """Encode a parameter as ``(kind, params)`` for the kernel's ``draw_param``.

    Returns
    -------
    kind : int
        One of the kind codes of this module.
    params : ndarray of shape (4,)
        Kind-specific numbers (see ``kernel.draw_param``).

    Notes
    -----
    The kernel clips every draw to the parameter's admissible interval ``[lo, hi]``
    (for example [0, 1] for a probability), so a normal on a share cannot leave it.
    """
    p = np.zeros(4)
    if isinstance(value, int | float):
        p[0] = float(value)
        return FIXED, p
    if isinstance(value, Normal):
        p[:2] = value.mean, value.sd
        return NORMAL, p
    if isinstance(value, LogNormal):
        p[:2] = value.median, value.sigma
        return LOGNORMAL, p
    if isinstance(value, Uniform):
        p[:2] = value.low, value.high
        return UNIFORM, p
    if isinstance(value, Pert):
        p[:3] = value.low, value.mode, value.high
        return PERT, p
    if isinstance(value, Triangular):
        p[:3] = value.low, value.mode, value.high
        return TRIANGULAR, p
    if isinstance(value, Percentiles):
        p[:3] = value.p50, (value.p50 - value.p10) / _Z90, (value.p90 - value.p50) / _Z90
        return PERCENTILES, p
    raise TypeError(f"not a parameter: {value!r}")
