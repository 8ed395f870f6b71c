"""The sweep file: a pydantic schema, the design of scenario points, and :func:`load_sweep`."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from runway.config import Config, format_validation_error, load_config
from runway.errors import ConfigError

BASE_ID = 0
"""Scenario id of the base config."""
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
RESERVED_PREFIXES = ("p_insolvent_", "funding_gap_", "tti_")
"""Result columns of the sweep table start with these; an axis may not."""


class _Spec(BaseModel):
    # strict: a quoted "0.1" in values is a mistake, not a number (as in configs)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A finite number (an integer is accepted; a string, boolean, nan or inf is not)."""


class RangeSpec(_Spec):
    """``num`` evenly spaced values from ``start`` to ``stop``, both included."""

    start: Finite
    stop: Finite
    num: Annotated[int, Field(ge=1, le=10_000)]


class Axis(_Spec):
    """One sweep axis: what it changes (``kind``, ``path``) and the values it takes."""

    name: Annotated[str | None, Field(pattern=_NAME, max_length=60)] = None
    kind: Literal["param", "winter_probability", "contract_scale"] = "param"
    path: Annotated[str | None, Field(min_length=1)] = None
    values: Annotated[list[Finite] | None, Field(min_length=1, max_length=100_000)] = None
    range: RangeSpec | None = None
    bounds: Annotated[tuple[Finite, Finite], Strict(False)] | None = None

    @model_validator(mode="after")
    def _check(self) -> Axis:
        if self.kind == "param" and self.path is None:
            raise ValueError("a param axis needs a path (e.g. 'consumer.conversion_target')")
        if self.kind != "param" and self.path is not None:
            raise ValueError(f"a {self.kind} axis takes no path")
        given = [k for k in ("values", "range", "bounds") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values, range or bounds")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds must be increasing, got {list(self.bounds)}")
        return self

    @property
    def label(self) -> str:
        """Column name of the axis in the sweep table."""
        if self.name is not None:
            return self.name
        if self.kind == "winter_probability":
            return "p_winter_month"
        if self.kind == "contract_scale":
            return "commitment_scale"
        assert self.path is not None
        return re.sub(r"\W", "_", self.path.split(".")[-1])

    def grid_values(self) -> list[float]:
        """The values of a grid axis (``values``, or ``range`` expanded)."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        return [float(v) for v in np.linspace(self.range.start, self.range.stop, self.range.num)]


class Design(_Spec):
    """How axis values combine: a full grid, or ``n`` points of a Latin hypercube / Sobol set."""

    kind: Literal["grid", "lhs", "sobol"] = "grid"
    n: Annotated[int | None, Field(ge=1, le=100_000)] = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0

    @model_validator(mode="after")
    def _check(self) -> Design:
        if self.kind == "grid" and self.n is not None:
            raise ValueError("n: applies to lhs and sobol designs, not a grid")
        if self.kind != "grid" and self.n is None:
            raise ValueError(f"n: the number of points is required for kind = {self.kind!r}")
        if self.kind == "sobol" and self.n is not None and self.n & (self.n - 1):
            lo = 1 << (self.n.bit_length() - 1)
            raise ValueError(
                f"n: must be a power of two for a Sobol design (its balance needs it), "
                f"got {self.n}; use {lo} or {2 * lo}"
            )
        return self


class SweepSpec(_Spec):
    """A sweep file (see :mod:`runway.sweep` for the format)."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    base: Annotated[str, Field(min_length=1)]
    paths: Annotated[int, Field(ge=1, le=100_000_000)] = 10_000
    seed: Annotated[int | None, Field(ge=0, lt=2**63)] = None
    years: Annotated[list[int] | None, Field(min_length=1)] = None
    design: Design = Design()
    axes: Annotated[list[Axis], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        if self.name in (".", ".."):
            raise ValueError(
                f"name: {self.name!r} is not a usable name (it is the output directory)"
            )
        labels = [a.label for a in self.axes]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"axes: duplicate axis name {dupes[0]!r}; give each a distinct name")
        for a in self.axes:
            if a.label in ("scenario", "is_base") or a.label.startswith(RESERVED_PREFIXES):
                raise ValueError(f"axes: axis name {a.label!r} clashes with a result column")
        if self.design.kind == "grid":
            if any(a.bounds is not None for a in self.axes):
                raise ValueError("axes: a grid takes values or range on each axis, not bounds")
        elif any(a.bounds is None for a in self.axes):
            raise ValueError(
                f"axes: each axis of a {self.design.kind} design needs bounds = [low, high]"
            )
        return self


@dataclass(frozen=True)
class Scenario:
    """One point of the sweep: its id, axis values and the config that results."""

    id: int
    values: dict[str, float]
    config: Config


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: the spec, its base config and every scenario (scenario 0 is the base)."""

    spec: SweepSpec
    source: Path
    base: Config
    scenarios: list[Scenario]
    years: list[int]
    seed: int

    @property
    def axis_labels(self) -> list[str]:
        """Axis columns of the sweep table, in the file's order."""
        return [a.label for a in self.spec.axes]


def n_scenarios(spec: SweepSpec) -> int:
    """Scenarios of the sweep, the base included, counted without building any."""
    if spec.design.kind == "grid":
        sizes = [len(a.values) if a.values is not None else a.range.num for a in spec.axes]  # type: ignore[union-attr]
        return 1 + math.prod(sizes)
    assert spec.design.n is not None
    return 1 + spec.design.n


def load_sweep(path: str | Path, *, max_scenarios: int | None = None) -> Sweep:
    """Read a sweep file and build and validate every scenario's config.

    Parameters
    ----------
    path : str or Path
        The sweep TOML; its ``base`` is resolved relative to the file's directory. Read with
        :func:`runway.io.read_toml` (a regular file of at most 4 MiB, nesting capped).
    max_scenarios : int, optional
        Refuse a design of more scenarios (default :data:`runway.guard.MAX_SCENARIOS`),
        counted before any is built.

    Returns
    -------
    Sweep

    Raises
    ------
    ConfigError
        One line naming the offending key (of the sweep file, or of a scenario's config).
    """
    from runway.calendar import Calendar
    from runway.guard import MAX_SCENARIOS, check_scenario_count
    from runway.io import read_toml
    from runway.sweep.axes import apply_axes, base_value

    p = Path(path)
    data = read_toml(p, what="sweep TOML file", error=ConfigError)
    if "scenario" in data and "axes" not in data:
        raise ConfigError(
            f"{p}: this is a config file (it has [scenario]), not a sweep file; "
            f"run it with `runway run {p}`"
        )
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(p))) from None
    cap = MAX_SCENARIOS if max_scenarios is None else max_scenarios
    check_scenario_count(n_scenarios(spec), cap, str(p))
    base_path = (p.parent / spec.base).resolve()
    if not base_path.is_file():
        raise ConfigError(f"{p}: base: no config file at {base_path}")
    base = load_config(base_path)
    cal_years = Calendar.from_strings(base.calendar.start, base.calendar.end).years
    years = list(spec.years) if spec.years is not None else list(cal_years)
    bad = [y for y in years if y not in cal_years]
    if bad:
        raise ConfigError(
            f"{p}: years: {bad[0]} is outside the base config's calendar "
            f"{cal_years[0]}..{cal_years[-1]}"
        )
    if years != sorted(set(years)):
        raise ConfigError(f"{p}: years: must be strictly increasing")
    labels = [a.label for a in spec.axes]
    scenarios = [Scenario(BASE_ID, {a.label: base_value(base, a, p) for a in spec.axes}, base)]
    for i, point in enumerate(design_points(spec), start=1):
        cfg = apply_axes(base, spec.axes, point, source=f"{p} scenario {i}")
        scenarios.append(Scenario(i, dict(zip(labels, point, strict=True)), cfg))
    seed = spec.seed if spec.seed is not None else base.run.seed
    return Sweep(spec=spec, source=p, base=base, scenarios=scenarios, years=years, seed=seed)


def design_points(spec: SweepSpec) -> list[tuple[float, ...]]:
    """Axis values of every non-base scenario, in scenario order.

    A grid is the full product of the axes' values, the last axis varying fastest. Latin
    hypercube and scrambled Sobol points come from :mod:`scipy.stats.qmc`, seeded with
    ``design.seed`` and scaled to each axis's bounds; Sobol needs ``n`` a power of two
    (checked by :class:`Design`), so its points keep their balance properties.
    """
    d = spec.design
    if d.kind == "grid":
        return [tuple(v) for v in itertools.product(*(a.grid_values() for a in spec.axes))]
    from scipy.stats import qmc

    dim = len(spec.axes)
    assert d.n is not None
    rng = np.random.default_rng(d.seed)
    engine = (
        qmc.LatinHypercube(dim, rng=rng)
        if d.kind == "lhs"
        else qmc.Sobol(dim, scramble=True, rng=rng)
    )
    unit = engine.random(d.n)
    lo = [a.bounds[0] for a in spec.axes if a.bounds is not None]
    hi = [a.bounds[1] for a in spec.axes if a.bounds is not None]
    return [tuple(float(x) for x in row) for row in qmc.scale(unit, lo, hi)]
