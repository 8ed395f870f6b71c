"""Config-driven sweeps with common random numbers, on local processes or a dask cluster.

A sweep file (TOML) names a base config and one or more axes; each scenario is the base
config with the axes' values applied. Every scenario runs with the same seed and number of
paths, so path ``i`` of every scenario sees the same random stream (common random numbers)
and differences to the base are *paired*: their Monte Carlo error is that of the per-path
differences, usually far smaller than that of either scenario.

Sweep file::

    name = "conversion_x_winter"
    base = "../hsbc_2025_11.toml"     # relative to the sweep file
    paths = 20000                     # per scenario (--paths overrides)
    seed = 20251124                   # default: the base config's run.seed
    years = [2027, 2028, 2029, 2030]  # default: every calendar year

    [design]
    kind = "grid"                     # grid | lhs | sobol
    # n = 16, seed = 0                # lhs / sobol: number of points and the design's seed

    [[axes]]
    name = "conversion_2030"
    path = "consumer.conversion_target"
    values = [0.05, 0.07, 0.10]       # or range = { start = 0.05, stop = 0.2, num = 4 }

    [[axes]]
    name = "p_winter_month"
    kind = "winter_probability"       # a derived axis (below)
    bounds = [0.0, 0.05]              # lhs / sobol axes give bounds instead of values

Axis kinds
----------
``param`` (default)
    ``path`` is a dotted path into the config: ``consumer.conversion_target``,
    ``compute.contracts.azure.share_online`` (a list of named tables is indexed by name or
    position), ``financing.regime.transition.1.2`` (tuple elements by position). If the base
    value is a number the axis value replaces it. If it is a distribution the axis value
    becomes its *central value* and the whole distribution shifts with it, keeping its
    spread: normal ``mean``; lognormal ``median`` (sigma kept); uniform, triangular, PERT and
    percentile forms move every point by the same amount, then uniform / triangular / PERT
    points are clipped to the parameter's admissible interval. A distribution stays a
    distribution, so it consumes the same random numbers and the paths stay aligned (a
    number would consume none and shift every later draw of the path). PERT shapes are kept
    unless the clipping changes them.
``winter_probability``
    The monthly probability of moving from the normal to the winter market regime
    (``financing.regime.transition[1][2]``); normal -> normal absorbs the change so the row
    still sums to 1.
``contract_scale``
    A multiplier on every compute contract's ``value_bn`` (the compute commitment scale).
    Contracted GW, and hence per-GW strategic money, are unchanged.

Scenario 0 is always the base config itself; its axis values are the base's (central
values for distributions, 1 for a scale). See :func:`scenario_row` for the table's columns
and their Monte Carlo standard errors.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import socket
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runway.config import Config, config_from_dict, format_validation_error, load_config
from runway.errors import ConfigError, RunwayError

if TYPE_CHECKING:
    import pandas as pd

Z95 = 1.959963984540054
"""Two-sided 95% standard normal quantile."""
QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}
BASE_ID = 0
_DIST_KEYS = {"normal", "lognormal", "uniform", "triangular", "pert", "percentiles"}
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


# --- the sweep file ---------------------------------------------------------------------------
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RangeSpec(_Spec):
    """``num`` evenly spaced values from ``start`` to ``stop``, both included."""

    start: float
    stop: float
    num: Annotated[int, Field(ge=1, le=10_000)]


class Axis(_Spec):
    """One sweep axis: what it changes and the values it takes."""

    name: Annotated[str | None, Field(pattern=_NAME, max_length=60)] = None
    kind: Literal["param", "winter_probability", "contract_scale"] = "param"
    path: Annotated[str | None, Field(min_length=1)] = None
    values: Annotated[list[float] | None, Field(min_length=1)] = None
    range: RangeSpec | None = None
    bounds: tuple[float, float] | None = None

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
        """The values of a grid axis."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        return [float(v) for v in np.linspace(self.range.start, self.range.stop, self.range.num)]


class Design(_Spec):
    """How axis values combine: a full grid, or ``n`` points of a Latin hypercube / Sobol set."""

    kind: Literal["grid", "lhs", "sobol"] = "grid"
    n: Annotated[int | None, Field(ge=1, le=100_000)] = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0


class SweepSpec(_Spec):
    """A sweep file."""

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
        labels = [a.label for a in self.axes]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"duplicate axis name {dupes[0]!r}: give each axis a distinct name")
        for a in self.axes:
            if a.label in ("scenario", "is_base") or a.label.startswith(
                ("p_insolvent_", "funding_gap_", "tti_")
            ):
                raise ValueError(f"axis name {a.label!r} clashes with a result column")
        if self.design.kind == "grid":
            if any(a.bounds is not None for a in self.axes):
                raise ValueError("a grid design takes values or range on each axis, not bounds")
        else:
            if self.design.n is None:
                raise ValueError(
                    f"design.n (number of points) is required for design.kind = {self.design.kind!r}"
                )
            if any(a.bounds is None for a in self.axes):
                raise ValueError(
                    f"each axis of a {self.design.kind} design needs bounds = [low, high]"
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


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, build and validate every scenario's config.

    Raises
    ------
    RunwayError
        One line naming the offending key (of the sweep file, or of a scenario's config).
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such sweep file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(p))) from None
    base_path = (p.parent / spec.base).resolve()
    if not base_path.is_file():
        raise ConfigError(f"{p}: base: no config file at {base_path}")
    base = load_config(base_path)
    from runway.calendar import Calendar

    cal_years = Calendar.from_strings(base.calendar.start, base.calendar.end).years
    years = list(spec.years) if spec.years is not None else list(cal_years)
    bad = [y for y in years if y not in cal_years]
    if bad:
        raise ConfigError(
            f"{p}: years: {bad[0]} is outside the base config's calendar {cal_years[0]}..{cal_years[-1]}"
        )
    if years != sorted(set(years)):
        raise ConfigError(f"{p}: years: must be strictly increasing")
    points = design_points(spec)
    scenarios = [Scenario(BASE_ID, {a.label: base_value(base, a, p) for a in spec.axes}, base)]
    for i, point in enumerate(points, start=1):
        values = dict(zip([a.label for a in spec.axes], point, strict=True))
        scenarios.append(
            Scenario(i, values, apply_axes(base, spec.axes, point, source=f"{p} scenario {i}"))
        )
    seed = spec.seed if spec.seed is not None else base.run.seed
    return Sweep(spec=spec, source=p, base=base, scenarios=scenarios, years=years, seed=seed)


def design_points(spec: SweepSpec) -> list[tuple[float, ...]]:
    """Axis values of every non-base scenario, in scenario order.

    A grid varies the last axis fastest. Latin hypercube and scrambled Sobol points come
    from :mod:`scipy.stats.qmc` seeded with ``design.seed`` and are scaled to each axis's
    bounds. Sobol points keep their balance properties only for ``n`` a power of two.
    """
    d = spec.design
    if d.kind == "grid":
        return [tuple(v) for v in itertools.product(*(a.grid_values() for a in spec.axes))]
    from scipy.stats import qmc

    dim = len(spec.axes)
    assert d.n is not None
    if d.kind == "lhs":
        unit = qmc.LatinHypercube(dim, rng=np.random.default_rng(d.seed)).random(d.n)
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            unit = qmc.Sobol(dim, scramble=True, rng=np.random.default_rng(d.seed)).random(d.n)
    lo = [a.bounds[0] for a in spec.axes if a.bounds is not None]
    hi = [a.bounds[1] for a in spec.axes if a.bounds is not None]
    return [tuple(float(x) for x in row) for row in qmc.scale(unit, lo, hi)]


# --- applying axes to a config --------------------------------------------------------------
def _walk(cfg: Config, data: dict[str, Any], path: str, source: str) -> tuple[Any, Any, Any, Any]:
    """Follow a dotted path; return (parent container, key, parent model or None, field name)."""
    parts = path.split(".")
    node: Any = data
    model: Any = cfg
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                keys = ", ".join(sorted(node))
                raise ConfigError(f"{source}: path {path!r}: no key {here!r} (keys here: {keys})")
            key: Any = part
            parent_model = model if isinstance(model, BaseModel) else None
            child_model = getattr(model, part, None) if isinstance(model, BaseModel) else None
        elif isinstance(node, list):
            if re.fullmatch(r"\d+", part):
                key = int(part)
                if key >= len(node):
                    raise ConfigError(
                        f"{source}: path {path!r}: index {key} out of range at {here!r}"
                    )
            else:
                names = [x.get("name") if isinstance(x, dict) else None for x in node]
                if part not in names:
                    raise ConfigError(
                        f"{source}: path {path!r}: no entry named {part!r} at {here!r}"
                    )
                key = names.index(part)
            parent_model = None
            child_model = model[key] if isinstance(model, list | tuple) else None
        else:
            raise ConfigError(
                f"{source}: path {path!r}: {'.'.join(parts[:depth])!r} is a number, not a table"
            )
        if last:
            return node, key, parent_model, part
        node, model = node[key], child_model
    raise AssertionError("unreachable")


def _bounds(parent_model: Any, name: str) -> tuple[float, float]:
    if parent_model is None:
        return -math.inf, math.inf
    info = type(parent_model).model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict) and "lo" in extra:
        return float(extra["lo"]), float(extra["hi"])  # type: ignore[arg-type]
    return -math.inf, math.inf


def shift_param(value: Any, target: float, lo: float = -math.inf, hi: float = math.inf) -> Any:
    """Give a parameter (a number or a distribution as a dict) the central value ``target``.

    A number becomes ``target``; a distribution keeps its kind and spread and moves so its
    central value is ``target`` (see the module docstring), clipped to ``[lo, hi]``.
    """
    if not lo <= target <= hi:
        raise ValueError(f"{target:g} is outside the allowed range [{lo:g}, {hi:g}]")
    if not isinstance(value, dict):
        return float(target)
    d = dict(value)
    kind = d.get("dist")

    def clip(x: float) -> float:
        return min(max(x, lo), hi)

    if kind == "normal":
        d["mean"] = target
    elif kind == "lognormal":
        if target <= 0:
            raise ValueError(f"a lognormal parameter needs a positive value, got {target:g}")
        d["median"] = target
    elif kind == "uniform":
        delta = target - 0.5 * (d["low"] + d["high"])
        d["low"], d["high"] = clip(d["low"] + delta), clip(d["high"] + delta)
    elif kind in ("triangular", "pert"):
        delta = target - d["mode"]
        for k in ("low", "mode", "high"):
            d[k] = clip(d[k] + delta)
    elif kind == "percentiles":
        delta = target - d["p50"]
        for k in ("p10", "p50", "p90"):
            d[k] = d[k] + delta
    else:
        raise ValueError(f"not a parameter: {value!r}")
    return d


def _central(v: Any) -> float:
    if isinstance(v, dict):
        key = {
            "normal": "mean",
            "lognormal": "median",
            "triangular": "mode",
            "pert": "mode",
            "percentiles": "p50",
        }
        k = v.get("dist")
        return 0.5 * (v["low"] + v["high"]) if k == "uniform" else float(v[key[str(k)]])
    return float(v)


def base_value(cfg: Config, axis: Axis, source: Path | str = "sweep") -> float:
    """The base config's value on an axis (a distribution's central value; 1 for a scale)."""
    if axis.kind == "contract_scale":
        return 1.0
    if axis.kind == "winter_probability":
        return float(cfg.financing.regime.transition[1][2])
    assert axis.path is not None
    data = cfg.model_dump(mode="json")
    node, key, _, _ = _walk(cfg, data, axis.path, f"{source}: axes.{axis.label}")
    leaf = node[key]
    if isinstance(leaf, list) or (isinstance(leaf, dict) and leaf.get("dist") not in _DIST_KEYS):
        raise ConfigError(
            f"{source}: axes.{axis.label}: path {axis.path!r} names a table, not a number"
        )
    if isinstance(leaf, bool) or not isinstance(leaf, int | float | dict):
        raise ConfigError(f"{source}: axes.{axis.label}: path {axis.path!r} is not numeric")
    return _central(leaf)


def apply_axes(
    cfg: Config, axes: list[Axis], point: tuple[float, ...], source: str = "sweep"
) -> Config:
    """The config ``cfg`` with each axis set to its value in ``point``.

    Raises
    ------
    RunwayError
        If a path does not exist or the resulting config is invalid (one line naming the key).
    """
    data = cfg.model_dump(mode="json")
    for axis, v in zip(axes, point, strict=True):
        where = f"{source}: axes.{axis.label} = {v:g}"
        if axis.kind == "winter_probability":
            row = data["financing"]["regime"]["transition"][1]
            stay = 1.0 - row[0] - v
            if not 0.0 <= v <= 1.0 or stay < 0.0:
                raise ConfigError(
                    f"{where}: the normal->winter probability must lie in [0, {1 - row[0]:g}]"
                )
            row[1], row[2] = stay, float(v)
        elif axis.kind == "contract_scale":
            if v < 0:
                raise ConfigError(f"{where}: a contract scale must be non-negative")
            for c in data["compute"]["contracts"]:
                c["value_bn"] = c["value_bn"] * v
        else:
            assert axis.path is not None
            node, key, parent_model, name = _walk(cfg, data, axis.path, where)
            leaf = node[key]
            if isinstance(leaf, list) or (
                isinstance(leaf, dict) and leaf.get("dist") not in _DIST_KEYS
            ):
                raise ConfigError(f"{where}: path {axis.path!r} names a table, not a number")
            lo, hi = _bounds(parent_model, name)
            try:
                new = shift_param(leaf, float(v), lo, hi)
            except ValueError as exc:
                raise ConfigError(f"{where}: {axis.path}: {exc}") from None
            if isinstance(leaf, int) and not isinstance(leaf, bool) and float(v).is_integer():
                new = int(v)
            node[key] = new
    values = ", ".join(f"{a.label}={v:g}" for a, v in zip(axes, point, strict=True))
    return config_from_dict(data, source=f"{source} ({values})")


# --- running one scenario (in a worker) -------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """What a worker needs to run one scenario."""

    id: int
    config: Config
    paths: int
    seed: int
    years: tuple[int, ...]
    threads: int | None


@dataclass
class Outcome:
    """Per-path outcomes of one scenario, the inputs of its table row.

    ``insolvent_by`` is a bool ndarray of shape (n_paths, n_years); ``funding_gap_bn`` a
    float ndarray of the same shape; ``months_to_insolvency`` of shape (n_paths,), ``inf``
    for paths that survive the horizon.
    """

    id: int
    insolvent_by: np.ndarray
    funding_gap_bn: np.ndarray
    months_to_insolvency: np.ndarray
    seconds: float = 0.0
    worker: str = ""


def run_scenario(task: Task) -> Outcome:
    """Simulate one scenario; runs in a worker process (local pool or dask)."""
    import runway

    t0 = time.perf_counter()
    res = runway.simulate(task.config, paths=task.paths, seed=task.seed, threads=task.threads)
    df = res.paths
    ins_year = np.array(
        [int(m[:4]) if isinstance(m, str) else 10**6 for m in df["insolvent_month"]]
    )
    years = np.asarray(task.years)
    return Outcome(
        id=task.id,
        insolvent_by=ins_year[:, None] <= years[None, :],
        funding_gap_bn=np.column_stack(
            [df[f"funding_gap_{y}"].to_numpy(float) for y in task.years]
        ),
        months_to_insolvency=np.asarray(res.months_to_insolvency, dtype=float),
        seconds=time.perf_counter() - t0,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )


# --- statistics --------------------------------------------------------------------------------
def _n_batches(n: int) -> int:
    return int(min(20, n // 100))


def _quantile(x: np.ndarray, q: float, method: str) -> float:
    return float(np.quantile(x, q, method=method))  # type: ignore[call-overload]


def quantile_mcse(x: np.ndarray, q: float) -> float:
    """MCSE of the sample ``q``-quantile from the order-statistic (binomial) 95% interval.

    Notes
    -----
    The ranks ``n q -/+ 1.96 sqrt(n q (1-q))`` bracket the quantile with about 95%
    probability whatever the distribution; half the width of the interval they span,
    divided by 1.96, is the standard error. ``nan`` when the interval reaches an
    infinite (censored) value.
    """
    n = x.size
    s = np.sort(x)
    half = Z95 * math.sqrt(n * q * (1 - q))
    i_lo = int(min(max(math.floor(n * q - half), 0), n - 1))
    i_hi = int(min(max(math.ceil(n * q + half), 0), n - 1))
    if not (math.isfinite(s[i_hi]) and math.isfinite(s[i_lo])):
        return math.nan
    return float(s[i_hi] - s[i_lo]) / (2 * Z95)


def _paired_quantile_diff(
    x: np.ndarray, y: np.ndarray, q: float, method: str
) -> tuple[float, float, float]:
    """Q_q(x) - Q_q(y) over paired paths, with a 95% interval from batch means."""
    from scipy.stats import t as student_t

    diff = _quantile(x, q, method) - _quantile(y, q, method)
    if not math.isfinite(diff):
        return math.nan, math.nan, math.nan
    b = _n_batches(x.size)
    if b < 2:
        return diff, math.nan, math.nan
    parts = [
        _quantile(xb, q, method) - _quantile(yb, q, method)
        for xb, yb in zip(np.array_split(x, b), np.array_split(y, b), strict=True)
    ]
    if not all(math.isfinite(p) for p in parts):
        return diff, math.nan, math.nan
    se = float(np.std(parts, ddof=1)) / math.sqrt(b)
    h = float(student_t.ppf(0.975, b - 1)) * se
    return diff, diff - h, diff + h


def _paired_mean_diff(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    d = x.astype(float) - y.astype(float)
    m = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.nan
    return m, m - Z95 * se, m + Z95 * se


def _finite(v: float) -> float:
    return v if math.isfinite(v) else math.nan


def scenario_row(out: Outcome, base: Outcome, years: list[int]) -> dict[str, float]:
    """The result columns of one scenario, paired against the base.

    Columns, for each year ``Y``: ``p_insolvent_Y`` (P(insolvent by the end of Y)),
    ``funding_gap_Y_{mean,p05,p50,p95}`` ($bn), and ``tti_p50_months`` (median months from
    the cash anchor to insolvency; ``nan`` when beyond the horizon). Each has ``_mcse`` and
    the paired difference to the base ``_diff`` with its 95% interval ``_diff_lo``,
    ``_diff_hi``.

    Notes
    -----
    Probabilities: MCSE ``sqrt(p (1-p) / n)``; the difference is the mean of the per-path
    differences ``I_s - I_base`` with standard error ``sd(d) / sqrt(n)`` (paths with the
    same index share their random numbers). Means: the same with the funding gap.
    Quantiles: MCSE from the order-statistic interval (:func:`quantile_mcse`); the
    difference of quantiles gets a t interval from 20 contiguous batches of paired paths
    (batch means; paths are independent). Against itself every difference is exactly 0.
    """
    n = out.insolvent_by.shape[0]
    if base.insolvent_by.shape[0] != n:
        raise RunwayError(
            f"scenario {out.id} has {n} paths but the base has {base.insolvent_by.shape[0]}"
        )
    row: dict[str, float] = {}

    def put(name: str, value: float, mcse: float, diff: tuple[float, float, float]) -> None:
        row[name] = _finite(value)
        row[f"{name}_mcse"] = mcse
        row[f"{name}_diff"], row[f"{name}_diff_lo"], row[f"{name}_diff_hi"] = diff

    for j, y in enumerate(years):
        ins, ins0 = out.insolvent_by[:, j], base.insolvent_by[:, j]
        p = float(ins.mean())
        put(f"p_insolvent_{y}", p, math.sqrt(p * (1 - p) / n), _paired_mean_diff(ins, ins0))
        g, g0 = out.funding_gap_bn[:, j], base.funding_gap_bn[:, j]
        mcse = float(g.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        put(f"funding_gap_{y}_mean", float(g.mean()), mcse, _paired_mean_diff(g, g0))
        for k, q in QUANTILES.items():
            put(
                f"funding_gap_{y}_{k}",
                _quantile(g, q, "linear"),
                quantile_mcse(g, q),
                _paired_quantile_diff(g, g0, q, "linear"),
            )
    t, t0 = out.months_to_insolvency, base.months_to_insolvency
    put(
        "tti_p50_months",
        _quantile(t, 0.5, "inverted_cdf"),
        quantile_mcse(t, 0.5),
        _paired_quantile_diff(t, t0, 0.5, "inverted_cdf"),
    )
    return row


# --- executors -------------------------------------------------------------------------------
def _local_outcomes(tasks: list[Task], workers: int) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: numba's threading layer is not fork-safe.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(run_scenario, t) for t in tasks]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _dask_outcomes(tasks: list[Task], workers: int, scheduler: str | None) -> Iterator[Outcome]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise RunwayError("--executor dask needs dask[distributed] installed") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise RunwayError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    try:
        futures = [
            client.submit(run_scenario, t, key=f"runway-scenario-{t.id}-{os.getpid()}", pure=False)
            for t in tasks
        ]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- outputs ---------------------------------------------------------------------------------
def _scenario_file(out: Path, sid: int) -> Path:
    return out / "scenarios" / f"{sid:05d}.parquet"


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_base_npz(path: Path, o: Outcome) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                insolvent_by=o.insolvent_by,
                funding_gap_bn=o.funding_gap_bn,
                months_to_insolvency=o.months_to_insolvency,
            )

    _atomic(path, write)


def _read_base_npz(path: Path) -> Outcome:
    with np.load(path) as z:
        return Outcome(BASE_ID, z["insolvent_by"], z["funding_gap_bn"], z["months_to_insolvency"])


def fingerprint(sweep: Sweep, paths: int) -> dict[str, Any]:
    """What makes two sweeps the same: the resolved spec, every scenario's config, paths, seed."""
    from runway import __version__

    h = hashlib.sha256()
    h.update(sweep.spec.model_dump_json().encode())
    for s in sweep.scenarios:
        h.update(s.config.model_dump_json().encode())
    h.update(json.dumps([paths, sweep.seed, sweep.years, __version__]).encode())
    return {
        "name": sweep.spec.name,
        "source": str(sweep.source),
        "paths": paths,
        "seed": sweep.seed,
        "years": sweep.years,
        "design": sweep.spec.design.kind,
        "axes": [a.label for a in sweep.spec.axes],
        "scenarios": len(sweep.scenarios),
        "runway_version": __version__,
        "sha256": h.hexdigest(),
    }


def _default_workers(n_tasks: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_tasks))


def run_sweep(
    path: str | Path,
    *,
    out: str | Path | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    resume: bool = False,
    paths: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run a sweep and write its output directory.

    Parameters
    ----------
    path : str or Path
        The sweep file.
    out : str or Path, optional
        Output directory (default ``runs/sweeps/<name>``). It receives
        ``scenarios/<id>.parquet`` (one row each, written atomically as each finishes),
        ``sweep.parquet`` (a row per scenario, in scenario order), ``sweep.json`` (what was
        run), ``timings.csv``, ``sweep.md``, ``sweep.html`` and the plots as PNG.
    executor : {"local", "dask"}
        Local processes, or dask.distributed (a LocalCluster, or ``scheduler``'s cluster).
    resume : bool
        Keep finished scenario files of the same sweep and run only the rest.
    paths, workers : int, optional
        Paths per scenario (default: the sweep file's); worker processes (default: one per
        CPU, each running numba with ``cpu_count // workers`` threads).
    progress : callable, optional
        ``progress(done, total)`` after each scenario.

    Returns
    -------
    pandas.DataFrame
        The sweep table (``sweep.parquet``).
    """
    import pandas as pd

    from runway.io import check_output_dir

    sweep = load_sweep(path)
    n_paths = paths if paths is not None else sweep.spec.paths
    if n_paths < 1:
        raise RunwayError(f"--paths must be at least 1, got {n_paths}")
    if workers is not None and workers < 1:
        raise RunwayError(f"--workers must be at least 1, got {workers}")
    if executor not in ("local", "dask"):
        raise RunwayError(f"--executor must be 'local' or 'dask', got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise RunwayError("--scheduler needs --executor dask")
    out_dir = check_output_dir(
        out if out is not None else Path("runs") / "sweeps" / sweep.spec.name
    )
    scen_dir = out_dir / "scenarios"
    scen_dir.mkdir(parents=True, exist_ok=True)
    meta = fingerprint(sweep, n_paths)
    meta_path = out_dir / "sweep.json"
    base_npz = scen_dir / "base_paths.npz"
    if resume and meta_path.is_file():
        old = json.loads(meta_path.read_text())
        if old.get("sha256") != meta["sha256"]:
            raise RunwayError(
                f"--resume: {out_dir} holds a different sweep (spec, configs, paths or seed changed); use another --out"
            )
    for stale in scen_dir.glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)
    if not resume:
        for old_file in [*scen_dir.glob("*.parquet"), base_npz]:
            old_file.unlink(missing_ok=True)
    _atomic(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))

    done = {s.id for s in sweep.scenarios if _scenario_file(out_dir, s.id).is_file()}
    base: Outcome | None = (
        _read_base_npz(base_npz) if base_npz.is_file() and BASE_ID in done else None
    )
    if base is None:
        done.discard(BASE_ID)
    todo = [s for s in sweep.scenarios if s.id not in done]
    n_workers = workers if workers is not None else _default_workers(len(todo))
    threads = max(1, (os.cpu_count() or 1) // n_workers) if executor == "local" else 1
    tasks = [Task(s.id, s.config, n_paths, sweep.seed, tuple(sweep.years), threads) for s in todo]
    by_id = {s.id: s for s in sweep.scenarios}
    timings = out_dir / "timings.csv"
    if not timings.is_file():
        timings.write_text("scenario,seconds,worker,executor,finished_at\n")
    n_total, n_done = len(sweep.scenarios), len(done)
    if progress is not None:
        progress(n_done, n_total)
    pending: list[Outcome] = []

    def finish(o: Outcome) -> None:
        assert base is not None
        row = {
            "scenario": o.id,
            "is_base": o.id == BASE_ID,
            **by_id[o.id].values,
            **scenario_row(o, base, sweep.years),
        }
        _atomic(
            _scenario_file(out_dir, o.id), lambda p: pd.DataFrame([row]).to_parquet(p, index=False)
        )
        with open(timings, "a") as f:
            f.write(
                f"{o.id},{o.seconds:.3f},{o.worker},{executor},{time.strftime('%Y-%m-%dT%H:%M:%S')}\n"
            )

    if tasks:
        stream = (
            _local_outcomes(tasks, n_workers)
            if executor == "local"
            else _dask_outcomes(tasks, n_workers, scheduler)
        )
        for o in stream:
            if o.id == BASE_ID:
                base = o
                _write_base_npz(base_npz, o)
                pending.insert(0, o)
            else:
                pending.append(o)
            if base is None:
                continue  # paired differences need the base; it was submitted first
            for p in pending:
                finish(p)
                n_done += 1
                if progress is not None:
                    progress(n_done, n_total)
            pending.clear()
    table = pd.concat(
        [pd.read_parquet(_scenario_file(out_dir, s.id)) for s in sweep.scenarios], ignore_index=True
    )
    _atomic(out_dir / "sweep.parquet", lambda p: table.to_parquet(p, index=False))
    write_sweep_report(table, sweep, meta, out_dir)
    return table


# --- report ----------------------------------------------------------------------------------
def _fmt(v: float, spec: str) -> str:
    return "n/a" if v is None or not math.isfinite(v) else format(v, spec)


def _display_table(table: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    import pandas as pd

    y = sweep.years[-1]
    rows = []
    for _, r in table.iterrows():
        row: dict[str, str] = {
            "scenario": f"{int(r['scenario'])}{' (base)' if r['is_base'] else ''}"
        }
        for a in sweep.spec.axes:
            row[a.label] = f"{r[a.label]:.4g}"
        for col, label, spec in (
            (f"p_insolvent_{y}", f"P(insolvent by {y})", ".3f"),
            (f"funding_gap_{y}_p50", f"funding gap {y} median $bn", ".1f"),
            ("tti_p50_months", "median months to insolvency", ".0f"),
        ):
            v, m = r[col], r[f"{col}_mcse"]
            row[label] = (
                f"{_fmt(v, spec)} ± {_fmt(m, spec)}"
                if math.isfinite(v)
                else "beyond horizon"
                if col.startswith("tti")
                else "n/a"
            )
            row[f"{label}: diff to base [95% CI]"] = (
                f"{_fmt(r[f'{col}_diff'], '+' + spec)} [{_fmt(r[f'{col}_diff_lo'], spec)}, {_fmt(r[f'{col}_diff_hi'], spec)}]"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown_table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _plots(table: pd.DataFrame, sweep: Sweep) -> dict[str, Any]:
    """Figures by file name: lines for one axis, a heatmap for a two-axis grid, else a scatter."""
    from matplotlib.figure import Figure

    y = sweep.years[-1]
    metrics = [
        (f"p_insolvent_{y}", f"P(insolvent by {y})"),
        (f"funding_gap_{y}_p50", f"median funding gap {y}, $bn"),
    ]
    axes = [a.label for a in sweep.spec.axes]
    pts = table[~table["is_base"]]
    base = table[table["is_base"]].iloc[0]
    figs: dict[str, Any] = {}
    for col, title in metrics:
        fig = Figure(figsize=(6.4, 4.8), layout="constrained")
        ax = fig.add_subplot()
        if len(axes) == 1:
            xs = pts.sort_values(axes[0])
            ax.errorbar(
                xs[axes[0]],
                xs[col],
                yerr=Z95 * xs[f"{col}_mcse"],
                marker="o",
                capsize=3,
                label="scenario (95% MC interval)",
            )
            ax.plot(
                [base[axes[0]]],
                [base[col]],
                marker="*",
                markersize=14,
                linestyle="none",
                color="C3",
                label="base config",
            )
            ax.set_xlabel(axes[0])
            ax.set_ylabel(title)
            ax.legend()
        elif len(axes) == 2 and sweep.spec.design.kind == "grid":
            grid = pts.pivot_table(index=axes[0], columns=axes[1], values=col, aggfunc="first")
            im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(grid.shape[1]), [f"{v:.4g}" for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [f"{v:.4g}" for v in grid.index])
            ax.set_xlabel(axes[1])
            ax.set_ylabel(axes[0])
            spec = ".2f" if col.startswith("p_") else ".0f"
            for i in range(grid.shape[0]):
                for j in range(grid.shape[1]):
                    ax.text(
                        j,
                        i,
                        _fmt(float(grid.iat[i, j]), spec),
                        ha="center",
                        va="center",
                        color="w",
                        fontsize=8,
                    )
            fig.colorbar(im, ax=ax, label=title)
        else:
            sc = ax.scatter(pts[axes[0]], pts[axes[1]], c=pts[col], cmap="viridis")
            ax.set_xlabel(axes[0])
            ax.set_ylabel(axes[1])
            fig.colorbar(sc, ax=ax, label=title)
        ax.set_title(f"{sweep.spec.name}: {title}")
        figs[f"{col}.png"] = fig
    return figs


def _savefig(fig: Any, path: Path) -> None:
    fig.savefig(path, format="png", dpi=110)


def write_sweep_report(
    table: pd.DataFrame, sweep: Sweep, meta: dict[str, Any], out_dir: Path
) -> list[Path]:
    """Write ``sweep.md`` and a self-contained ``sweep.html`` with the plots (also as PNG)."""
    import base64
    import html

    figs = _plots(table, sweep)
    written = []
    for name, fig in figs.items():
        _atomic(out_dir / name, partial(_savefig, fig))
        written.append(out_dir / name)
    disp = _display_table(table, sweep)
    axes_md = "\n".join(
        f"- `{a.label}`: {a.kind}{f' `{a.path}`' if a.path else ''}, "
        + (f"values {a.grid_values()}" if a.bounds is None else f"bounds {list(a.bounds)}")
        for a in sweep.spec.axes
    )
    head = (
        f"{sweep.spec.description}\n\n"
        f"Base config: `{sweep.spec.base}` (scenario 0). Design: {sweep.spec.design.kind}, "
        f"{len(table)} scenarios x {meta['paths']:,} paths, seed {meta['seed']}; every scenario uses the "
        f"same random streams (common random numbers), so differences to the base are paired.\n\n"
        f"Axes:\n{axes_md}\n\n"
        f"Values are `estimate ± MCSE`; differences to the base are paired, with 95% intervals. "
        f"Every column, with each year, is in `sweep.parquet`.\n"
    )
    md = f"# Sweep {sweep.spec.name}\n\n{head}\n{_markdown_table(disp)}\n\n" + "".join(
        f"![{n}]({n})\n\n" for n in figs
    )
    _atomic(out_dir / "sweep.md", lambda p: p.write_text(md))
    imgs = "".join(
        f'<img alt="{html.escape(n)}" src="data:image/png;base64,{base64.b64encode((out_dir / n).read_bytes()).decode()}">\n'
        for n in figs
    )
    body = "".join(f"<p>{html.escape(par)}</p>\n" for par in head.split("\n\n") if par.strip())
    doc = (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>Sweep {html.escape(sweep.spec.name)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:90%}"
        "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:48%}</style></head><body>\n"
        f"<h1>Sweep {html.escape(sweep.spec.name)}</h1>\n{body}{disp.to_html(index=False)}\n{imgs}</body></html>\n"
    )
    _atomic(out_dir / "sweep.html", lambda p: p.write_text(doc))
    return [*written, out_dir / "sweep.md", out_dir / "sweep.html"]


# --- command line ----------------------------------------------------------------------------
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep TOML (see configs/sweeps/).")],
    executor: Annotated[
        str, typer.Option("--executor", "-e", help="local (processes) or dask.")
    ] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of a running dask scheduler.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip scenarios already written in --out.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: runs/sweeps/<name>)."),
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option("--paths", "-n", help="Paths per scenario (default: the sweep file's)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Worker processes (default: one per CPU).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
) -> None:
    """Run a sweep of scenarios with common random numbers and write the sweep table and report."""
    if executor not in ("local", "dask"):
        raise RunwayError(f"--executor must be 'local' or 'dask', got {executor!r}")
    t0 = time.perf_counter()
    bar = None if quiet else _ScenarioBar()
    try:
        table = run_sweep(
            sweep_file,
            out=out,
            executor=executor,  # type: ignore[arg-type]
            scheduler=scheduler,
            resume=resume,
            paths=paths,
            workers=workers,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        name = load_sweep(sweep_file).spec.name
        target = out if out is not None else Path("runs") / "sweeps" / name
        typer.echo(
            f"{name}: {len(table)} scenario(s) in {time.perf_counter() - t0:.1f} s; wrote {target}"
        )


class _ScenarioBar:
    """A rich progress bar over scenarios."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("scenarios"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("scenarios", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


__all__ = [
    "Axis",
    "Design",
    "Outcome",
    "Scenario",
    "Sweep",
    "SweepSpec",
    "Task",
    "apply_axes",
    "load_sweep",
    "run_scenario",
    "run_sweep",
    "scenario_row",
    "shift_param",
    "sweep_command",
]
