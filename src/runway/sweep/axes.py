"""Applying axis values to a config: dotted paths, distribution shifts, derived axes."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from runway.config import Config, config_from_dict
from runway.errors import ConfigError
from runway.sweep.spec import Axis

_DIST_KEYS = {"normal", "lognormal", "uniform", "triangular", "pert", "percentiles"}
_CENTRE_KEY = {
    "normal": "mean",
    "lognormal": "median",
    "triangular": "mode",
    "pert": "mode",
    "percentiles": "p50",
}


def _walk(cfg: Config, data: dict[str, Any], path: str, source: str) -> tuple[Any, Any, Any, str]:
    """Follow a dotted path; return (parent container, key, parent model or None, field name)."""
    parts = path.split(".")
    node: Any = data
    model: Any = cfg
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
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
        if depth == len(parts) - 1:
            return node, key, parent_model, part
        node, model = node[key], child_model
    raise AssertionError("unreachable")


def _bounds(parent_model: Any, name: str) -> tuple[float, float]:
    """A drawable parameter's admissible interval (from its field's ``lo``/``hi``)."""
    if parent_model is None:
        return -math.inf, math.inf
    info = type(parent_model).model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    if isinstance(extra, dict) and "lo" in extra:
        return float(extra["lo"]), float(extra["hi"])  # type: ignore[arg-type]
    return -math.inf, math.inf


def _is_table(leaf: Any) -> bool:
    return isinstance(leaf, list) or (isinstance(leaf, dict) and leaf.get("dist") not in _DIST_KEYS)


def shift_param(value: Any, target: float, lo: float = -math.inf, hi: float = math.inf) -> Any:
    """Give a parameter (a number or a distribution as a dict) the central value ``target``.

    Parameters
    ----------
    value : float or dict
        The parameter as in a parsed config (a distribution is ``{"dist": ..., ...}``).
    target : float
        The new central value.
    lo, hi : float
        The parameter's admissible interval.

    Returns
    -------
    float or dict
        A number becomes ``target``. A distribution keeps its kind and spread and moves so
        its central value is ``target``: normal ``mean``, lognormal ``median`` (``sigma``
        kept); uniform, triangular, PERT and percentile points all move by the same amount,
        then uniform / triangular / PERT points are clipped to ``[lo, hi]``.
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
        kind = str(v.get("dist"))
        return 0.5 * (v["low"] + v["high"]) if kind == "uniform" else float(v[_CENTRE_KEY[kind]])
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
    if _is_table(leaf):
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
    ConfigError
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
            if _is_table(leaf):
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
