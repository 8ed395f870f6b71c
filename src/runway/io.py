"""Writing a run directory atomically, and refusing to read one that is not complete.

A run directory ``NAME`` is written as follows (``HOST`` and ``PID`` identify the writer):

1. every file goes into a fresh sibling ``.NAME.HOST.PID.XXXX.partial``, then the
   ``.complete`` marker, each flushed to disk;
2. the finished directory takes the target's place in one step: on Linux
   ``renameat2(RENAME_EXCHANGE)`` swaps it with an existing target atomically, so the
   target path never disappears; elsewhere (or on a file system without it) the target is
   first renamed to ``.NAME.HOST.PID.old`` and the new directory renamed in;
3. the previous directory loses its marker first and is then deleted.

A reader therefore finds at ``NAME`` either nothing (no run yet), the previous complete
directory or the new one, each with its ``.complete`` marker; a process killed at any
point leaves only ``.partial`` / ``.old`` siblings, which no reader opens. In the two-rename
fallback a kill between the renames leaves ``NAME`` missing for a moment; the next writer
or reader of ``NAME`` (:func:`recover_run_dir`) then renames the newest complete leftover of
a writer that no longer runs back into place, and the next writer deletes that writer's
other leftovers. Leftovers of a live process, or of another host, are never touched.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway.errors import OutputError

MARKER = ".complete"
"""Written last into a run directory: without it the directory is not a result."""


def check_output_dir(path: str | Path, *, replacing: bool = False) -> Path:
    """Fail early, with one line, when ``path`` cannot become a run directory.

    Writability is probed by creating (and removing) a scratch directory in the nearest
    existing ancestor: permission bits alone say nothing for root or on special file systems
    such as ``/proc``. With ``replacing`` (a run directory is about to replace ``path``
    whole) an existing non-empty directory must be a run directory, one with the
    ``.complete`` marker: ``--out ~/Documents`` must not delete someone's documents.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"--out {p}: exists and is a file; give a directory path")
    if replacing and p.is_dir() and not (p / MARKER).is_file() and any(p.iterdir()):
        raise OutputError(
            f"--out {p}: exists and is not a run directory (no {MARKER} marker), so it would be "
            "replaced whole; give a new or empty directory"
        )
    probe = p.absolute().parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"--out {p}: {probe} is a file, so no directory can be created under it")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".runway-probe.", dir=probe))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(
            f"--out {p}: cannot create a directory under {probe} ({reason})"
        ) from None
    return p


# --- leftovers of interrupted writers ----------------------------------------------------------
def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0]) or "host"


def _leftover_re(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^\.{re.escape(name)}\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)\.(?:[a-z0-9_]+\.partial|old)$"
    )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:  # cannot tell (e.g. no signals on this platform): keep its files
        return True
    return True


def stale_leftovers(target: str | Path) -> list[Path]:
    """Siblings ``.NAME.*.partial`` / ``.NAME.*.old`` left by dead writers on this host."""
    t = Path(target)
    pattern = _leftover_re(t.name)
    host = _host()
    out = []
    try:
        entries = list(t.parent.iterdir())
    except OSError:
        return []
    for e in entries:
        m = pattern.match(e.name)
        if m and m["host"] == host and not _alive(int(m["pid"])):
            out.append(e)
    return sorted(out)


def recover_run_dir(target: str | Path) -> Path | None:
    """Finish a swap that a killed writer left half done (two-rename fallback only).

    When ``target`` is missing and a writer that no longer runs left a complete directory
    (one with its ``.complete`` marker), the newest such directory is renamed to ``target``.

    Returns
    -------
    Path or None
        ``target`` when a directory was put back, else None.
    """
    t = Path(target)
    if os.path.lexists(t):
        return None
    complete = []
    for e in stale_leftovers(t):
        marker = e / MARKER
        if e.is_dir() and not e.is_symlink() and marker.is_file():
            complete.append((marker.stat().st_mtime_ns, e))
    if not complete:
        return None
    _, newest = max(complete)
    try:
        os.rename(newest, t)
    except OSError:  # another process recovered it first, or the target reappeared
        return None
    return t


def _discard(d: Path) -> None:
    """Delete a directory, its marker first, so that a half-deleted one never looks complete."""
    if d.is_symlink():
        d.unlink()
        return
    try:
        (d / MARKER).unlink()
    except FileNotFoundError:
        pass
    shutil.rmtree(d, ignore_errors=True)


def clean_stale_leftovers(target: str | Path) -> list[Path]:
    """Delete the leftovers of dead writers of ``target`` (see :func:`stale_leftovers`)."""
    removed = stale_leftovers(target)
    for e in removed:
        _discard(e)
    return removed


def require_complete(path: str | Path) -> Path:
    """Raise :class:`OutputError` (one line) unless ``path`` is a complete run directory.

    Readers (``runway report DIR``, resuming) call this before opening any file, so a
    directory an interrupted run left behind is never taken for a result.
    """
    p = Path(path)
    recover_run_dir(p)
    if not p.exists():
        raise OutputError(f"{p}: no such run directory")
    if not p.is_dir():
        raise OutputError(f"{p}: not a run directory (it is a file)")
    if not (p / MARKER).is_file():
        raise OutputError(
            f"{p}: not a run directory, or an incomplete one (no {MARKER} marker: was the run "
            f"writing it interrupted?); run `runway run --out {p}` again"
        )
    return p


# --- the atomic swap ------------------------------------------------------------------------------
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2``); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False  # this kernel or file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def _fsync(path: Path, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # e.g. directories on some platforms
        pass
    finally:
        os.close(fd)


def _swap_in(tmp: Path, target: Path) -> Path | None:
    """Put ``tmp`` at ``target``; return the path now holding the previous directory, if any."""
    if not os.path.lexists(target):
        os.rename(tmp, target)
        return None
    if _exchange(tmp, target):
        return tmp  # the previous directory now sits at tmp's name
    old = target.with_name(f".{target.name}.{_host()}.{os.getpid()}.old")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    return old


def _make_partial(target: Path) -> Path:
    """A fresh ``.NAME.HOST.PID.XXXXXXXX.partial`` sibling of ``target``.

    Made with :func:`os.mkdir` (not :func:`tempfile.mkdtemp`, whose 0700 mode would make
    the finished run directory private): the user's umask applies as for any directory.
    """
    while True:
        tmp = target.with_name(
            f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.partial"
        )
        try:
            os.mkdir(tmp)
            return tmp
        except FileExistsError:
            continue


def write_run_dir(path: str | Path, writers: dict[str, Callable[[Path], None]]) -> Path:
    """Write every file via ``writers[name](file_path)`` and swap the directory in atomically.

    See the module docstring for the protocol. Before writing, a swap a killed writer left
    half done is finished (:func:`recover_run_dir`) and dead writers' leftovers of this
    name are deleted.

    Raises
    ------
    OutputError
        If the directory cannot be created, or ``path`` is a non-empty directory that is
        not a run directory (see :func:`check_output_dir`).
    """
    target = check_output_dir(path, replacing=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover_run_dir(target)
        clean_stale_leftovers(target)
        tmp = _make_partial(target)
    except OSError as exc:
        raise OutputError(
            f"--out {target}: cannot create the directory ({exc.strerror or exc})"
        ) from None
    try:
        for name, write in writers.items():
            write(tmp / name)
        (tmp / MARKER).write_text("ok\n")
        for f in tmp.rglob("*"):
            if f.is_file():
                _fsync(f)
        _fsync(tmp, directory=True)
        old = _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync(target.parent, directory=True)
    if old is not None:
        _discard(old)
    return target


def dump_json(obj: Any) -> Callable[[Path], None]:
    """A writer for :func:`write_run_dir` that stores ``obj`` as strict JSON (no NaN or inf)."""

    def write(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")

    return write
