"""Reading the drawn parameters from a config: the table itself is :data:`runway.layout.PARAMS`.

The kernel reads ``theta[P.X]``; :data:`runway.layout.PARAMS` maps each index to its config
key so encoding, reporting and sensitivity analysis share one table.
"""

from __future__ import annotations

from runway.config import Config
from runway.layout import PARAMS as LAYOUT_PARAMS

PARAMS = tuple((name.lower(), dotted) for name, dotted in LAYOUT_PARAMS)
"""(name, config dotted path) of each drawn parameter, in ``theta`` order (from the layout)."""
N_PARAMS = len(PARAMS)


def get_path(cfg: object, dotted: str) -> object:
    """Value at a dotted config path (``"consumer.conversion_target"``)."""
    obj = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def bounds(cfg: Config, dotted: str) -> tuple[float, float]:
    """Admissible interval of a drawable parameter, from its field metadata."""
    section, name = dotted.rsplit(".", 1)
    return field_bounds(type(get_path(cfg, section)), name)


def field_bounds(model: type, name: str) -> tuple[float, float]:
    """Admissible interval ``(lo, hi)`` of the drawable field ``name`` of a config model class."""
    extra = model.model_fields[name].json_schema_extra  # type: ignore[attr-defined]
    assert isinstance(extra, dict)
    return float(extra["lo"]), float(extra["hi"])  # type: ignore[arg-type]
