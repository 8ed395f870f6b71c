"""Writing a run directory atomically.

Files are written into a fresh sibling directory which replaces the target only once every
file is complete; an interrupted run therefore leaves either the previous complete
directory or a ``.partial`` one that no reader mistakes for a result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway.errors import OutputError


def check_output_dir(path: str | Path) -> Path:
    """Fail early, with one line, when ``path`` cannot become a run directory.

    Writability is probed by creating (and removing) a scratch directory in the nearest
    existing ancestor: permission bits alone say nothing for root or on special file systems
    such as ``/proc``.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"--out {p}: exists and is a file; give a directory path")
    probe = p.absolute().parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"--out {p}: {probe} is a file, so no directory can be created under it")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".runway-probe.", dir=probe))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"--out {p}: cannot create a directory under {probe} ({reason})") from None
    return p


def write_run_dir(path: str | Path, writers: dict[str, Callable[[Path], None]]) -> Path:
    """Write every file via ``writers[name](file_path)`` and swap the directory in atomically.

    The files go into ``.NAME.*.partial`` next to the target; only once all of them and the
    ``.complete`` marker are written does it replace the target (``os.replace``), so a reader
    finds either the previous complete directory, the new one, or a ``.partial`` leftover.
    """
    target = check_output_dir(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"--out {target}: cannot create the directory ({exc.strerror or exc})") from None
    try:
        for name, write in writers.items():
            write(tmp / name)
        (tmp / ".complete").write_text("ok\n")
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def dump_json(obj: Any) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")

    return write
