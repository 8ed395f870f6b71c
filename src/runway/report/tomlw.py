"""TOML text for ``config.resolved.toml``, written with tomli-w.

TOML has no null: a dictionary key whose value is ``None`` is left out (every such key of a
config is optional with ``None`` as its default, so reading the file back gives the same
config); a ``None`` inside a list has no meaning and is an error. Round trip (tested):
``tomllib.loads(dumps(d))`` equals ``d`` with the ``None`` keys removed and tuples turned
into lists.
"""

from __future__ import annotations

from typing import Any

import tomli_w


def _drop_none(x: Any, where: str = "") -> Any:
    if isinstance(x, dict):
        return {
            k: _drop_none(v, f"{where}.{k}" if where else str(k))
            for k, v in x.items()
            if v is not None
        }
    if isinstance(x, list | tuple):
        if any(v is None for v in x):
            raise TypeError(f"{where or 'value'}: a list holds None, which TOML cannot write")
        return [_drop_none(v, f"{where}[{i}]") for i, v in enumerate(x)]
    return x


def dumps(d: dict[str, Any], header: str = "") -> str:
    """TOML text of ``d``; ``header`` lines are written first as comments."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()]
    body = tomli_w.dumps(_drop_none(d))
    return ("\n".join(lines) + "\n\n" if lines else "") + body
