"""Write the corpus's config files from cases.toml (run after editing it or the base config).

Usage: python tests/bad_configs/generate.py
"""

from __future__ import annotations

import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "valid_base.toml"


def render(case: dict, base: str) -> str | None:
    """The text of the case's config file, or None when the case has no file of its own."""
    if "text" in case:
        return case["text"]
    if "append" in case:
        return base + case["append"]
    if "edit" in case:
        text = base
        for old, new in case["edit"]:
            n = text.count(old)
            if n != 1:
                raise SystemExit(f"{case['name']}: {old!r} occurs {n} times in the base config")
            text = text.replace(old, new)
        return text
    return None


def main() -> None:
    base = BASE.read_text(encoding="utf-8")
    cases = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
    for case in cases:
        text = render(case, base)
        if text is not None:
            (HERE / f"{case['name']}.toml").write_bytes(text.encode(case.get("encoding", "utf-8")))
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
