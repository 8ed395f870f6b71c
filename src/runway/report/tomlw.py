"""A small TOML writer for ``config.resolved.toml`` (plain data: dicts, lists, scalars).

``None`` has no TOML form: such keys are written as comments (``# key = none``) so the
file still lists every setting. Round trip (tested): ``tomllib.loads(dumps(d))`` equals
``d`` with the ``None`` values removed and tuples turned into lists.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")  # TOML bans raw DEL
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + "}"
        )
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_aot(v: Any) -> bool:
    return isinstance(v, list | tuple) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def _table(
    d: dict[str, Any], path: list[str], lines: list[str], inline_nested: bool = False
) -> None:
    subs = []
    for k, v in d.items():
        if v is None:
            lines.append(f"# {_key(k)} = none")
        elif isinstance(v, dict) and not inline_nested:
            subs.append((k, v))
        elif _is_aot(v) and not inline_nested:
            subs.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in subs:
        p = path + [_key(k)]
        if isinstance(v, dict):
            lines.append("")
            lines.append(f"[{'.'.join(p)}]")
            _table(v, p, lines)
        else:
            for item in v:
                lines.append("")
                lines.append(f"[[{'.'.join(p)}]]")
                _table(item, p, lines, inline_nested=True)


def dumps(d: dict[str, Any], header: str = "") -> str:
    """TOML text of ``d``; ``header`` lines are written first as comments."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()]
    _table(d, [], lines)
    return "\n".join(lines).strip("\n") + "\n"
