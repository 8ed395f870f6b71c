"""Atomic run directories: a writer killed with SIGKILL at any point leaves nothing that looks
complete but is not, and the next run to the same directory replaces it cleanly.

A small script calls :func:`runway.io.write_run_dir` in a subprocess and stops (sleeps) at a
chosen point of the protocol (see ``runway/io.py``): while writing files, after the marker
but before the swap, right after the atomic exchange, between the two renames of the
fallback, and while deleting the previous directory. The test SIGKILLs it there and checks
the directory. A real ``runway run`` is killed too, as soon as its ``.partial`` directory
appears; ``runway report`` refuses a directory without the ``.complete`` marker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runway import io
from runway.errors import OutputError

N_FILES = 5
SCRIPT = r"""
import os, shutil, sys, time
from pathlib import Path
from runway import io

target, phase, flag, tag = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
n = int(sys.argv[5])

def hold():
    flag.write_text(phase)
    time.sleep(600)

def writer(i):
    def write(p):
        p.write_text(f"{tag} {i}\n" * 2000)
        if phase == "writing" and i == 2:
            hold()
    return write

if phase == "before_swap":
    real_swap = io._swap_in
    def swap(tmp, t):
        hold()
    io._swap_in = swap
elif phase == "after_exchange":
    real_exchange = io._exchange
    def exchange(a, b):
        ok = real_exchange(a, b)
        if ok:
            hold()
        return ok
    io._exchange = exchange
elif phase == "between_renames":
    io._exchange = lambda a, b: False
    real_rename = os.rename
    def rename(src, dst):
        real_rename(src, dst)
        if Path(src) == target:
            hold()
    io.os.rename = rename
elif phase == "discarding":
    def rmtree(d, ignore_errors=False):
        victims = sorted(Path(d).iterdir())
        for f in victims[: len(victims) // 2]:
            f.unlink()
        hold()
    io.shutil.rmtree = rmtree

io.write_run_dir(target, {f"f{i}.txt": writer(i) for i in range(n)})
flag.write_text("done")
"""


def expected(tag: str, i: int) -> str:
    return f"{tag} {i}\n" * 2000


def write_complete(target: Path, tag: str) -> None:
    def writer(i: int):
        return lambda p: p.write_text(expected(tag, i))

    io.write_run_dir(target, {f"f{i}.txt": writer(i) for i in range(N_FILES)})


def tag_of(d: Path) -> str | None:
    """The tag of a directory whose files are all intact, else None."""
    tags = set()
    for i in range(N_FILES):
        f = d / f"f{i}.txt"
        if not f.is_file():
            return None
        text = f.read_text()
        tag = text.split(" ", 1)[0]
        if text != expected(tag, i):
            return None
        tags.add(tag)
    return tags.pop() if len(tags) == 1 else None


def leftover_re(name: str) -> re.Pattern[str]:
    # .NAME.lock: the writer's lock file, removed by the next writer of NAME
    return re.compile(rf"^\.{re.escape(name)}\.(.+\.(partial|old)|lock)$")


def check_state(target: Path, allowed: set[str | None]) -> str | None:
    """Nothing half-written looks complete; return the target's tag (None when absent)."""
    parent = target.parent
    pat = leftover_re(target.name)
    for e in parent.iterdir():
        if e == target:
            continue
        assert pat.match(e.name), f"unexpected entry {e.name}"
        if (e / io.MARKER).exists():
            assert tag_of(e) is not None, f"{e.name} has a marker but is not complete"
    if not target.exists():
        assert None in allowed, "target missing"
        return None
    assert (target / io.MARKER).is_file(), "the target has no .complete marker"
    tag = tag_of(target)
    assert tag is not None, "the target has the marker but missing or torn files"
    assert tag in allowed, tag
    return tag


def kill_at(tmp_path: Path, target: Path, phase: str, tag: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(SCRIPT)
    flag = tmp_path / f"flag-{phase}"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), phase, str(flag), tag, str(N_FILES)]
    )
    deadline = time.monotonic() + 120
    while not (flag.exists() and flag.read_text() in (phase, "done")):
        assert proc.poll() is None, f"writer exited early with {proc.returncode}"
        assert time.monotonic() < deadline, "writer never reached the phase"
        time.sleep(0.02)
    assert flag.read_text() == phase, "the writer finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return proc


def exchange_supported(d: Path) -> bool:
    a, b = d / "xa", d / "xb"
    a.mkdir()
    b.mkdir()
    (a / "a").touch()
    try:
        return io._exchange(a, b) and (b / "a").exists()
    finally:
        for x in (a, b):
            for f in x.iterdir():
                f.unlink()
            x.rmdir()


PHASES = {
    # phase: tags the target may hold after the kill (None: absent)
    "writing": {"old"},
    "before_swap": {"old"},
    "after_exchange": {"new"},
    "between_renames": {None},
    "discarding": {"new"},
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_sigkill_leaves_nothing_half_written(tmp_path: Path, phase: str) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    if phase == "after_exchange" and not exchange_supported(root):
        pytest.skip("this file system has no atomic exchange (renameat2); the fallback is tested")
    target = root / "run"
    write_complete(target, "old")
    assert check_state(target, {"old"}) == "old"

    kill_at(tmp_path, target, phase, "new")
    assert check_state(target, PHASES[phase] | {"old", "new"}) in PHASES[phase]
    assert any(leftover_re("run").match(e.name) for e in root.iterdir()), "the kill left no trace"

    if phase == "between_renames":
        # the documented window of the fallback: a reader puts the newest complete
        # directory of the dead writer back before refusing anything
        assert io.require_complete(target) == target
        assert check_state(target, {"new"}) == "new"

    write_complete(target, "next")
    assert check_state(target, {"next"}) == "next"
    assert sorted(e.name for e in root.iterdir()) == ["run"], "stale leftovers were not cleaned"


def test_sigkill_on_first_write_leaves_no_target(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    target = root / "run"
    kill_at(tmp_path, target, "writing", "new")
    assert check_state(target, {None}) is None
    write_complete(target, "next")
    assert check_state(target, {"next"}) == "next"
    assert sorted(e.name for e in root.iterdir()) == ["run"]


def test_live_writers_leftovers_are_kept(tmp_path: Path) -> None:
    """Only leftovers of dead processes are deleted: a concurrent writer keeps its files."""
    root = tmp_path / "runs"
    root.mkdir()
    target = root / "run"
    live = root / f".run.{io._host()}.{os.getppid()}.deadbeef.partial"  # our parent runs
    other_host = root / ".run.elsewhere.1.deadbeef.partial"
    live.mkdir()
    other_host.mkdir()
    write_complete(target, "next")
    assert live.is_dir() and other_host.is_dir()
    assert check_state(target, {"next"}) == "next"


def test_finished_directory_has_the_umask_mode(tmp_path: Path) -> None:
    write_complete(tmp_path / "run", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o777 & ~umask


def test_require_complete(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with pytest.raises(OutputError, match="no such run directory"):
        io.require_complete(target)
    write_complete(target, "x")
    assert io.require_complete(target) == target
    (target / io.MARKER).unlink()
    with pytest.raises(OutputError, match=r"not a run directory \(no summary.json\)"):
        io.require_complete(target)
    (target / "summary.json").write_text("{}")
    with pytest.raises(
        OutputError, match=r"an incomplete run directory \(no \.complete marker"
    ) as exc:
        io.require_complete(target)
    assert "\n" not in str(exc.value)


# --- a real `runway run`, killed mid-write --------------------------------------------------------
RUN_FILES = (
    "summary.json",
    "annual.csv",
    "paths.parquet",
    "fan.parquet",
    "report.md",
    "report.html",
)


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str
) -> tuple[int, str]:
    from runway import cli

    monkeypatch.setattr(sys, "argv", ["runway", *args])
    monkeypatch.setattr(cli, "_DEBUG", False)
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_runway_run_killed_mid_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    target = root / "hsbc"
    write_complete(target, "old")  # a previous complete directory (stand-in files)
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runway",
                "run",
                "--paths",
                "200",
                "--seed",
                "1",
                "--out",
                str(target),
                "-q",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err_file,
        )
    deadline = time.monotonic() + 300
    while not list(root.glob(".hsbc.*.partial")):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"

    pat = leftover_re("hsbc")
    assert all(e == target or pat.match(e.name) for e in root.iterdir())
    for e in root.iterdir():
        if e != target and (e / io.MARKER).exists():
            assert all((e / f).is_file() for f in RUN_FILES)
    assert (target / io.MARKER).is_file()
    if tag_of(target) != "old":  # the swap itself is atomic: then the new run is all there
        assert all((target / f).is_file() for f in RUN_FILES)

    # the next run to the same directory replaces it and deletes the killed run's leftovers
    monkeypatch.chdir(tmp_path)
    code, err = _cli(
        monkeypatch, capsys, "run", "--paths", "200", "--seed", "1", "--out", str(target), "-q"
    )
    assert code == 0, err
    assert all((target / f).is_file() for f in RUN_FILES) and (target / io.MARKER).is_file()
    assert not (target / "f0.txt").exists()
    assert sorted(e.name for e in root.iterdir()) == ["hsbc"]

    # a copy without the marker is what an interrupted writer leaves: readers refuse it
    incomplete = root / "incomplete"
    incomplete.mkdir()
    for f in target.iterdir():
        if f.name != io.MARKER:
            (incomplete / f.name).write_bytes(f.read_bytes())
    with pytest.raises(OutputError, match=r"no \.complete marker"):
        io.require_complete(incomplete)
    _report_refuses(monkeypatch, capsys, incomplete)


def test_report_refuses_a_directory_without_the_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import runway
    from runway.outputs import write_outputs

    target = tmp_path / "run"
    write_outputs(
        runway.simulate(runway.default_config_path(), paths=50, seed=2), target, report=False
    )
    code, err = _cli(monkeypatch, capsys, "report", str(target), "-q")
    assert code == 0, err  # complete: re-rendered
    (target / io.MARKER).unlink()
    _report_refuses(monkeypatch, capsys, target)


def _report_refuses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, d: Path
) -> None:
    code, err = _cli(monkeypatch, capsys, "report", str(d), "-q")
    assert code == 2, err
    lines = err.strip().split("\n")
    assert len(lines) == 1 and "no .complete marker" in lines[0] and str(d) in lines[0], err
