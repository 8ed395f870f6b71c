"""Config text in Markdown: escaped so that it reads as the text it is, never as markup.

A scenario description (or name) from a config, or from a hand-edited summary.json, may hold
``<script>``, ``**``, ``|`` (which would split a table row), a leading ``#`` or ``-``, or a
newline that starts a new block. :func:`escape_md` backslash-escapes every character that
Markdown (CommonMark, GitHub) could read as markup and folds whitespace runs into one space;
:func:`unescape_md` undoes exactly that, for the HTML page, which escapes the plain text
itself (:func:`html.escape`).
"""

from __future__ import annotations

import re

MD_SPECIAL = "\\`*_[]<>|#!~&"
"""Characters escaped with a backslash everywhere (CommonMark allows any ASCII punctuation
escaped); a leading ``-`` or ``+`` and the ``.`` / ``)`` of a leading number (list markers)
are escaped too."""
_ESC = re.compile("([" + re.escape(MD_SPECIAL) + "])")
_LEAD = re.compile(r"^([-+]|\d+(?=[.)](?:\s|$)))([.)]?)")
_UNESC = re.compile(r"\\([" + re.escape(MD_SPECIAL + "+-.)") + "])")


def escape_md(text: str) -> str:
    """``text`` as inline Markdown that renders as ``text`` (whitespace runs as one space).

    Control characters (C0, DEL, C1) are dropped: they have no place in a report.
    """
    clean = "".join(c for c in str(text) if c in "\t\n\r" or not _is_control(c))
    out = _ESC.sub(r"\\\1", " ".join(clean.split()))
    m = _LEAD.match(out)
    if m:
        lead = m.group(1)
        out = (f"\\{lead}" if lead in "-+" else f"{lead}\\{m.group(2)}") + out[m.end() :]
    return out


def unescape_md(text: str) -> str:
    """The plain text of :func:`escape_md`'s output (for a page that escapes it itself)."""
    return _UNESC.sub(r"\1", text)


def _is_control(c: str) -> bool:
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F
