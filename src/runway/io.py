"""One output discipline and one reader for every file runway writes or reads.

Writing: :func:`check_output_dir` refuses, before anything is simulated, an ``--out`` that
would replace what runway did not write (see there); :func:`lock_output` gives one process
a directory at a time; :func:`write_run_dir` (directories) and :func:`atomic_write_file`
(single files) write a temporary sibling, fsync it and rename it into place; OS errors
become one line naming the path (:func:`os_error_line`); :func:`check_free_space` runs
before simulating; :func:`bench_outputs` checks ``runway bench --out``.

Reading: :func:`read_bytes` / :func:`read_text` / :func:`read_toml` / :func:`read_json` read
configs, sweep files and run-directory files: regular files only (a FIFO or device is
refused without blocking), a size cap, a nesting cap (:data:`MAX_DEPTH`), strict UTF-8 and,
for JSON, no NaN or Infinity; each problem one line naming the file.

Writing a run directory atomically, and refusing to read one that is not complete:

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

import atexit
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


SWEEP_META = "sweep.json"
"""Written first into a sweep directory (what is being run); ``.complete`` is written last."""
LOCK_SUFFIX = ".lock"
"""``.NAME.lock`` beside an output directory ``NAME``: held (``flock``) by its one writer."""
MAX_SCAN_ENTRIES = 20_000
"""Entries looked at below an existing ``--out`` for nested run directories."""


def os_error_line(exc: OSError, path: str | Path, option: str = "--out") -> str:
    """One line for an OS error: the option, the path at fault and what the OS said.

    ``ENOSPC`` (disk full), ``EROFS`` (read-only file system), ``EBUSY`` (a mount point or a
    file in use), ``ENAMETOOLONG``, ``EACCES`` and the rest, each with a hint where one helps.
    """
    name = errno.errorcode.get(exc.errno or 0, "")
    where = exc.filename if exc.filename else path
    hints = {
        errno.ENOSPC: "the disk is full; free space or give another --out",
        errno.EDQUOT: "the disk quota is exhausted; free space or give another --out",
        errno.EROFS: "the file system is read-only; give another --out",
        errno.EBUSY: "it is busy (a mount point?); give another --out",
        errno.ENAMETOOLONG: "a name in the path is too long; give a shorter --out",
        errno.EACCES: "permission denied; give another --out",
        errno.EPERM: "operation not permitted; give another --out",
    }
    reason = hints.get(exc.errno or -1) or (exc.strerror or type(exc).__name__)
    code = f" ({name})" if name else ""
    prefix = f"{option} {path}: " if option else f"{path}: "
    sub = "" if str(where) == str(path) else f"{where}: "
    return f"{prefix}{sub}{reason}{code}"


def _first_symlink(p: Path) -> Path | None:
    """The first component of absolute ``p`` that is a symbolic link, if any."""
    cur = Path(p.anchor)
    for part in p.parts[1:]:
        cur = cur / part
        try:
            if cur.is_symlink():
                return cur
        except OSError:
            return None
        if not os.path.lexists(cur):
            return None
    return None


def marker_files(d: Path) -> list[str] | None:
    """The file names a run directory's ``.complete`` marker lists (None: an old marker)."""
    try:
        lines = (d / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    names = [x for x in lines[1:] if x]
    return names or None


def _is_sweep_dir(d: Path) -> bool:
    f = d / SWEEP_META
    try:
        if f.is_symlink() or not f.is_file() or f.stat().st_size > 1 << 20:
            return False
        return "sha256" in json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, RecursionError):
        return False


def _is_output_dir(d: Path) -> bool:
    return (d / MARKER).is_file() or _is_sweep_dir(d)


def _nested_output(d: Path) -> Path | None:
    """A run or sweep directory strictly below ``d`` (bounded scan), if any."""
    seen = 0
    stack = [(d, 0)]
    while stack:
        cur, depth = stack.pop()
        try:
            entries = list(os.scandir(cur))
        except OSError:
            continue
        for e in entries:
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                return None
            if e.is_dir(follow_symlinks=False):
                sub = Path(e.path)
                if _is_output_dir(sub):
                    return sub
                if depth < 3:
                    stack.append((sub, depth + 1))
    return None


SWEEP_NAMES = re.compile(
    r"^(sweep\.json|sweep\.parquet|sweep\.md|sweep\.html|timings\.csv|sweep_[A-Za-z0-9_.-]*\.png"
    r"|\.complete|\.[A-Za-z0-9_.-]+\.(?:tmp-\d+|tmp)|scenarios)$"
)
SCENARIO_NAMES = re.compile(r"^(\d+\.json|base_paths\.npz|\.[A-Za-z0-9_.-]+\.(?:tmp-\d+|tmp))$")


def _foreign_entry(d: Path, kind: str) -> str | None:
    """The first entry of output directory ``d`` runway did not write, if any."""
    if kind == "run":
        listed = marker_files(d)
        for e in sorted(os.scandir(d), key=lambda e: e.name):
            if _TMP_RE.match(e.name) and e.is_file(follow_symlinks=False):
                continue  # a temporary sibling of runway's own (atomic_write_file)
            if e.is_symlink() or not e.is_file(follow_symlinks=False):
                return e.name
            if listed is not None and e.name != MARKER and e.name not in listed:
                return e.name
        return None
    for e in sorted(os.scandir(d), key=lambda e: e.name):
        if not SWEEP_NAMES.match(e.name) or e.is_symlink():
            return e.name
        if e.name == "scenarios":
            if not e.is_dir(follow_symlinks=False):
                return e.name
            for s in os.scandir(e.path):
                if not SCENARIO_NAMES.match(s.name) or not s.is_file(follow_symlinks=False):
                    return f"scenarios/{s.name}"
        elif not e.is_file(follow_symlinks=False):
            return e.name
    return None


def check_output_dir(
    path: str | Path,
    *,
    replacing: bool = False,
    kind: str = "run",
    lock: bool = True,
    option: str = "--out",
) -> Path:
    """Fail early, with one line, when ``path`` cannot become a run (or sweep) directory.

    Refused (:class:`OutputError` naming the path): a path that resolves through a symbolic
    link; the working directory or one of its parents; a directory inside a run or sweep
    directory, or one that holds one; a mount point; a file; an existing non-empty directory
    runway did not write (for a run directory: no ``.complete`` marker; for a sweep
    directory: no ``sweep.json``), or one holding an entry runway did not write (``--out
    ~/Documents`` must never delete someone's documents); a place where no directory can be
    created (probed by creating and removing a scratch directory: permission bits say nothing
    for root or on special file systems).

    With ``lock`` (the default) this process then holds the directory's lock
    (:func:`lock_output`) until :func:`release_output` or its exit, so a second writer is
    refused before it simulates anything. ``replacing`` is kept for callers of the old
    signature; a run directory is always replaced whole.
    """
    del replacing
    p = Path(path)
    try:
        return _check_output_dir(p, kind, lock, option)
    except OSError as exc:
        raise OutputError(os_error_line(exc, p, option)) from None


def _check_output_dir(p: Path, kind: str, lock: bool, option: str) -> Path:
    what = "sweep" if kind == "sweep" else "run"
    absolute = Path(os.path.abspath(p))  # normalises "..": runs/.. is the working directory
    link = _first_symlink(Path(os.path.normpath(Path.cwd() / p)) if not p.is_absolute() else p)
    if link is not None:
        raise OutputError(
            f"{option} {p}: resolves through the symbolic link {link}; runway does not write "
            "through links: give the real path"
        )
    cwd = Path(os.path.realpath(os.getcwd()))
    if cwd == absolute or absolute in cwd.parents:
        raise OutputError(
            f"{option} {p}: is the working directory or one of its parents, which runway "
            f"never replaces; give a new directory such as runs/<name>"
        )
    for anc in absolute.parents:
        if anc != absolute and _is_output_dir(anc):
            raise OutputError(
                f"{option} {p}: is inside the {'sweep' if _is_sweep_dir(anc) else 'run'} "
                f"directory {anc}, which replacing it would delete; give a path outside it"
            )
    if os.path.lexists(p):
        if not p.is_dir():
            raise OutputError(f"{option} {p}: exists and is a file; give a directory path")
        if os.path.ismount(p):
            raise OutputError(
                f"{option} {p}: is a mount point, which cannot be replaced; give a "
                "directory below it"
            )
        if any(p.iterdir()):
            if kind != "sweep" and _is_sweep_dir(p):
                raise OutputError(
                    f"{option} {p}: is a sweep directory, not a run directory; give another path"
                )
            if not (_is_sweep_dir(p) if kind == "sweep" else (p / MARKER).is_file()):
                marker = SWEEP_META if kind == "sweep" else MARKER
                raise OutputError(
                    f"{option} {p}: exists and is not a {what} directory (no {marker}), so it "
                    "would be replaced; give a new or empty directory"
                )
            nested = _nested_output(p)
            if nested is not None:
                raise OutputError(
                    f"{option} {p}: holds another run or sweep directory ({nested}), which "
                    "replacing it would delete; give another path"
                )
            foreign = _foreign_entry(p, kind)
            if foreign is not None:
                raise OutputError(
                    f"{option} {p}: holds {foreign}, which runway did not write (replacing "
                    "the directory would delete it); move it away or give another path"
                )
    probe = absolute.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(
            f"{option} {p}: {probe} is a file, so no directory can be created under it"
        )
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".runway-probe.", dir=probe))
        if p.is_dir():
            os.rmdir(tempfile.mkdtemp(prefix=".runway-probe.", dir=p))
    except OSError as exc:
        raise OutputError(os_error_line(exc, p, option)) from None
    if lock:
        lock_output(p, option=option)
    return p


def check_free_space(path: str | Path, need_bytes: int, option: str = "--out") -> None:
    """Refuse (one line) when the file system of ``path`` has less than ``need_bytes`` free.

    Checked on the nearest existing ancestor, before simulating; a run needs room for its
    new directory while the previous one still exists.
    """
    p = Path(os.path.abspath(path))
    probe = p
    while not probe.exists():
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    if need_bytes > free:
        raise OutputError(
            f"{option} {path}: needs about {need_bytes / 2**20:,.0f} MiB but its file system "
            f"has {free / 2**20:,.0f} MiB free; free space, use fewer paths or give another "
            f"{option}"
        )


# --- one writer per output directory ------------------------------------------------------------
_HELD: dict[str, int] = {}


def _release_all() -> None:
    """At exit (also after a refusal between the check and the write): drop every lock."""
    for key in list(_HELD):
        release_output(Path(key).with_name(Path(key).name[1 : -len(LOCK_SUFFIX)]))


atexit.register(_release_all)


def _lock_path(p: Path) -> Path:
    absolute = Path(os.path.abspath(p))
    return absolute.with_name(f".{absolute.name}{LOCK_SUFFIX}")


def lock_output(path: str | Path, *, option: str = "--out") -> None:
    """Hold the lock of output directory ``path`` (``flock`` on the sibling ``.NAME.lock``).

    A second process that asks for the same directory is refused at once with one line
    naming the holder's pid; the lock goes with the holder's exit (also on SIGKILL), so a
    stale lock file never blocks anybody. Re-entrant within one process. The holder removes
    the file when it releases the lock (a writer that opened the old file sees that its inode
    is gone and opens the new one); one a killed holder left is reused and then removed.
    """
    lp = _lock_path(Path(path))
    key = str(lp)
    if key in _HELD:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        lp.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(os_error_line(exc, Path(path), option)) from None
    while True:
        try:
            fd = os.open(lp, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError(os_error_line(exc, Path(path), option)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            except OSError:
                holder = "?"
            os.close(fd)
            raise OutputError(
                f"{option} {path}: another runway process (pid {holder}) is writing it; wait "
                f"for it to finish or give another {option}"
            ) from None
        except OSError:
            os.close(fd)
            raise
        # the holder before us may have removed the file after we opened it: lock the file
        # that is at the path now, not an orphan
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lp, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass
    _HELD[key] = fd


def release_output(path: str | Path) -> None:
    """Give up the lock :func:`lock_output` took (no-op when not held)."""
    lp = _lock_path(Path(path))
    fd = _HELD.pop(str(lp), None)
    if fd is not None:
        try:
            lp.unlink()  # while still locked: a waiting writer re-checks the inode
        except OSError:
            pass
        os.close(fd)


def holds_lock(path: str | Path) -> bool:
    """Whether this process holds the lock of output directory ``path``."""
    return str(_lock_path(Path(path))) in _HELD


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
        if not (p / "summary.json").is_file():
            raise OutputError(
                f"{p}: not a run directory (no summary.json); give a directory written by "
                "`runway run CONFIG --out DIR`"
            )
        raise OutputError(
            f"{p}: an incomplete run directory (no {MARKER} marker: the run writing it was "
            "interrupted); run it again into a new directory: `runway run CONFIG --out NEW_DIR`"
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
        try:
            os.rename(tmp, target)
            return None
        except OSError as exc:  # the target appeared meanwhile (a writer without the lock)
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
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
    name are deleted. The directory's lock (:func:`lock_output`) is held throughout and
    released at the end. The ``.complete`` marker lists the files written, so that a later
    run knows which entries of the directory it may replace.

    Raises
    ------
    OutputError
        If ``path`` is refused by :func:`check_output_dir`, or an OS error (disk full,
        read-only, busy, name too long, ...) stops the writing: one line naming the path;
        the previous directory, if any, is kept.
    """
    target = check_output_dir(path)
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            recover_run_dir(target)
            clean_stale_leftovers(target)
            tmp = _make_partial(target)
        except OSError as exc:
            raise OutputError(os_error_line(exc, target)) from None
        try:
            for name, write in writers.items():
                write(tmp / name)
            names = sorted(str(f.relative_to(tmp)) for f in tmp.rglob("*") if f.is_file())
            (tmp / MARKER).write_text("ok\n" + "".join(f"{n}\n" for n in names))
            for f in tmp.rglob("*"):
                if f.is_file():
                    _fsync(f)
            _fsync(tmp, directory=True)
            old = _swap_in(tmp, target)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise OutputError(os_error_line(exc, target)) from None
            raise
        _fsync(target.parent, directory=True)
        if old is not None:
            _discard(old)
        return target
    finally:
        release_output(target)


def dump_json(obj: Any) -> Callable[[Path], None]:
    """A writer for :func:`write_run_dir` that stores ``obj`` as strict JSON (no NaN or inf)."""

    def write(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")

    return write


# --- one way to write a single file -------------------------------------------------------------
def atomic_write_file(
    path: str | Path, write: Callable[[Path], object], *, option: str = "--out"
) -> Path:
    """Write ``path`` via ``write(tmp)`` on a temporary sibling, fsync it, rename it into place.

    A reader sees the old file or the new one, never a part; a symbolic link at ``path`` is
    replaced by the file (its target is never written). A process killed meanwhile leaves
    only a ``.NAME.HOST.PID.XXXX.tmp`` sibling. OS errors become one line naming the path.
    """
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        try:
            write(tmp)
            _fsync(tmp)
            os.replace(tmp, p)
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise
        _fsync(p.parent, directory=True)
    except OSError as exc:
        raise OutputError(os_error_line(exc, p, option)) from None
    return p


_TMP_RE = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")


def stale_tmp_files(d: str | Path) -> list[Path]:
    """``.NAME.HOST.PID.XXXX.tmp`` files in ``d`` left by dead processes of this host."""
    pat = _TMP_RE
    out = []
    try:
        entries = list(Path(d).iterdir())
    except OSError:
        return []
    for e in entries:
        m = pat.match(e.name)
        if m and m["host"] == _host() and not _alive(int(m["pid"])):
            out.append(e)
    return out


# --- one way to read every file -----------------------------------------------------------------
MAX_CONFIG_BYTES = 4 * 2**20
"""Largest config or sweep file read (4 MiB: the shipped ones are under 20 kB)."""
MAX_JSON_BYTES = 64 * 2**20
"""Largest JSON file of a run or sweep directory read (summary.json is ~50 kB)."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and tables accepted in a TOML or JSON file (runway needs 5)."""


class ReadError(RuntimeError):
    """Internal: what went wrong reading a file (the caller picks the error class)."""


def _fail_read(error: type[Exception], path: Path, msg: str) -> Exception:
    return error(f"{path}: {msg}")


def read_bytes(
    path: str | Path,
    *,
    what: str = "file",
    max_bytes: int = MAX_CONFIG_BYTES,
    follow_symlinks: bool = True,
    error: type[Exception] = OutputError,
) -> bytes:
    """The bytes of regular file ``path``, at most ``max_bytes``; else ``error`` (one line).

    Refuses a missing file, a directory, a FIFO, device or socket (opened non-blocking, so a
    pipe with no writer never hangs the reader; checked on the open descriptor, so nothing
    can swap the file between the check and the read), a symbolic link when
    ``follow_symlinks`` is false, and a file larger than ``max_bytes`` (read up to one byte
    past the cap: ``/dev/zero``-like files that report size 0 are caught too).
    """
    import stat

    p = Path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if p.is_symlink():
            raise _fail_read(
                error, p, f"is a symbolic link; runway does not follow links to read a {what}"
            )
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise _fail_read(error, p, f"no such file (expected a {what})") from None
    except IsADirectoryError:
        raise _fail_read(error, p, f"is a directory, expected a {what}") from None
    except PermissionError:
        raise _fail_read(error, p, "cannot read the file (permission denied)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _fail_read(
                error, p, f"is a symbolic link; runway does not follow links to read a {what}"
            ) from None
        raise _fail_read(error, p, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _fail_read(error, p, f"is a directory, expected a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise _fail_read(
                error, p, f"not a regular file (a pipe, device or socket), expected a {what}"
            )
        if st.st_size > max_bytes:
            raise _fail_read(
                error, p, f"is {st.st_size:,} bytes, more than the {max_bytes:,} a {what} may have"
            )
        os.set_blocking(fd, True)
        chunks, n = [], 0
        while n <= max_bytes:
            b = os.read(fd, min(1 << 20, max_bytes + 1 - n))
            if not b:
                break
            chunks.append(b)
            n += len(b)
        if n > max_bytes:
            raise _fail_read(error, p, f"is larger than the {max_bytes:,} bytes a {what} may have")
        return b"".join(chunks)
    except OSError as exc:
        raise _fail_read(error, p, f"cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def read_text(path: str | Path, **kw: Any) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a file that is not UTF-8 is refused, one line)."""
    error = kw.get("error", OutputError)
    what = kw.get("what", "file")
    data = read_bytes(path, **kw)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail_read(
            error, Path(path), f"not UTF-8 text (byte {exc.start:,}), expected a {what}"
        ) from None


def check_depth(
    obj: Any, path: str | Path, *, max_depth: int = MAX_DEPTH, error: type[Exception] = OutputError
) -> None:
    """Refuse data nested deeper than ``max_depth`` arrays / tables (checked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if isinstance(o, dict):
            children: Any = o.values()
        elif isinstance(o, (list, tuple)):
            children = o
        else:
            continue
        if depth > max_depth:
            raise _fail_read(
                error, Path(path), f"nested deeper than {max_depth} levels of arrays or tables"
            )
        stack.extend((c, depth + 1) for c in children)


def read_toml(
    path: str | Path,
    *,
    what: str = "TOML file",
    error: type[Exception] = OutputError,
    max_bytes: int = MAX_CONFIG_BYTES,
    follow_symlinks: bool = True,
) -> dict[str, Any]:
    """Parse a TOML file read by :func:`read_text`; nesting capped at :data:`MAX_DEPTH`."""
    import tomllib

    p = Path(path)
    text = read_text(
        p, what=what, error=error, max_bytes=max_bytes, follow_symlinks=follow_symlinks
    )
    if not text.strip():
        raise _fail_read(error, p, f"the file is empty, expected a {what}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail_read(error, p, f"not valid TOML ({exc})") from None
    except RecursionError:
        raise _fail_read(
            error, p, f"nested deeper than {MAX_DEPTH} levels of arrays or tables"
        ) from None
    check_depth(data, p, error=error)
    return data


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows (runway never writes it)")


def read_json(
    path: str | Path,
    *,
    what: str = "JSON file",
    error: type[Exception] = OutputError,
    max_bytes: int = MAX_JSON_BYTES,
    follow_symlinks: bool = False,
) -> Any:
    """Parse strict JSON (no NaN or Infinity) read by :func:`read_text`; nesting capped."""
    p = Path(path)
    text = read_text(
        p, what=what, error=error, max_bytes=max_bytes, follow_symlinks=follow_symlinks
    )
    if not text.strip():
        raise _fail_read(error, p, f"the file is empty, expected a {what}")
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise _fail_read(
            error,
            p,
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "was it truncated or edited?",
        ) from None
    except ValueError as exc:
        raise _fail_read(error, p, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise _fail_read(
            error, p, f"nested deeper than {MAX_DEPTH} levels of arrays or objects"
        ) from None
    check_depth(data, p, error=error)
    return data


# --- runway bench --out -------------------------------------------------------------------------
BENCH_MD_HEAD = "# runway bench"
"""First line of the markdown ``runway bench`` writes: how it recognises its own file."""


def bench_outputs(out: str | Path) -> tuple[Path, Path]:
    """The JSON file and the markdown file ``runway bench --out OUT`` writes, checked first.

    ``OUT`` an existing directory: ``OUT/bench.json`` and ``OUT/bench.md``. Otherwise
    ``OUT`` is the JSON file and the markdown goes beside it with the suffix ``.md``. Refused
    before the benchmark runs (one line naming the path): ``OUT`` ending in ``.md`` (the
    markdown would overwrite the JSON's place), a path through a symbolic link, a JSON path
    that exists but is not a regular file, and a markdown neighbour the user did not name
    that exists and was not written by ``runway bench`` (its first line is not
    :data:`BENCH_MD_HEAD`), which is never overwritten.
    """
    p = Path(out)
    try:
        if p.is_dir() and not p.is_symlink():
            j, md = p / "bench.json", p / "bench.md"
        else:
            if p.suffix.lower() == ".md":
                raise OutputError(
                    f"--out {p}: names a markdown file; give the JSON file (e.g. "
                    f"{p.with_suffix('.json')}): the markdown is written beside it"
                )
            j = p
            md = p.with_suffix(".md") if p.suffix else p.with_name(p.name + ".md")
        for f in (j, md):
            link = _first_symlink(Path(os.path.abspath(f)))
            if link is not None:
                raise OutputError(
                    f"--out {p}: {f} resolves through the symbolic link {link}; give the real path"
                )
        if os.path.lexists(j) and not j.is_file():
            raise OutputError(f"--out {p}: {j} exists and is not a regular file")
        if os.path.lexists(md):
            head = ""
            if md.is_file():
                with open(md, encoding="utf-8", errors="replace") as fh:
                    head = fh.readline()
            if not head.startswith(BENCH_MD_HEAD):
                raise OutputError(
                    f"--out {p}: the markdown would go to {md}, which exists and was not written "
                    "by runway bench; move it or give another --out"
                )
        parent = Path(os.path.abspath(j)).parent
        probe = parent
        while not probe.exists():
            probe = probe.parent
        os.rmdir(tempfile.mkdtemp(prefix=".runway-probe.", dir=probe))
    except OSError as exc:
        raise OutputError(os_error_line(exc, p)) from None
    return j, md


def write_text_atomic(path: str | Path, text: str, option: str = "--out") -> Path:
    """Write ``text`` to ``path`` with :func:`atomic_write_file` (parents created)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(os_error_line(exc, p, option)) from None
    return atomic_write_file(p, lambda t: t.write_text(text, encoding="utf-8"), option=option)
