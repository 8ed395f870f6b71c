"""SIGKILL at random moments of `runway report` and of `runway sweep` (issue 19).

After each kill: a directory marked complete holds only whole files (each compared with the
uninterrupted result, or checked for its end), nothing the command did not own changed, and
no process of the killed command is left running (the command runs in its own session; only
the command's own pid is killed, so its workers must end by themselves: PR_SET_PDEATHSIG).
The moments are drawn from a seeded generator over the command's uninterrupted duration,
plus kills timed right after its private ``.partial`` directory appears (the renames).
The fast version kills 3 times per command; ``slow`` 10 times.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import runway
from runway import io

HERE = Path(__file__).resolve().parent
BASE = HERE / "bad_configs" / "valid_base.toml"
PNG_END = b"IEND\xaeB`\x82"


def session_alive(sid: int) -> list[int]:
    """Pids (not zombies) of session ``sid``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            rest = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if rest[0] != "Z" and int(rest[3]) == sid:
            out.append(int(d.name))
    return out


def wait_session_gone(sid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while left := session_alive(sid):
        assert time.monotonic() < deadline, f"processes left running after SIGKILL: {left}"
        time.sleep(0.1)


def kill_at(cmd: list[str], delay: float | None, watch: Path | None, cwd: Path) -> int:
    """Start ``cmd`` in a new session; SIGKILL its own pid after ``delay`` s, or ``delay`` s
    after an entry matching ``watch``'s name prefix appears beside it. Returns its code."""
    p = subprocess.Popen(
        cmd, cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if watch is not None:
            deadline = time.monotonic() + 120
            prefix = f".{watch.name}."
            while not any(
                e.name.startswith(prefix) and e.name.endswith(".partial")
                for e in watch.parent.iterdir()
            ):
                if p.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        time.sleep(delay or 0.0)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
    finally:
        wait_session_gone(p.pid)
    return p.returncode


def moments(n: int, duration: float, seed: int) -> list[tuple[float, bool]]:
    """(delay, after .partial appears) for ``n`` kills: a fifth (at least one) at the renames."""
    rng = np.random.default_rng(seed)
    at_partial = max(1, n // 5)
    out = [(float(rng.uniform(0, 0.4)), True) for _ in range(at_partial)]
    out += [(float(rng.uniform(0, 1.1 * duration)), False) for _ in range(n - at_partial)]
    return out


# --- runway report --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A run directory and the duration of an uninterrupted `runway report` of it."""
    from runway.outputs import write_outputs

    d = tmp_path_factory.mktemp("kill") / "run"
    write_outputs(runway.simulate(BASE, paths=60, seed=3), d)
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "runway", "report", str(d), "-q"], check=True, timeout=300
    )
    return d, time.monotonic() - t0


def check_report_dir(d: Path, ref: Path) -> None:
    assert (d / io.MARKER).is_file(), "the directory lost its .complete marker"
    for f in sorted(ref.iterdir()):
        got = d / f.name
        assert got.is_file() and not got.is_symlink(), f.name
        if f.suffix == ".png":
            data = got.read_bytes()
            assert data.startswith(b"\x89PNG") and data.endswith(PNG_END), f"torn {f.name}"
        elif f.name == "report.html":
            assert got.read_text().endswith("</html>\n"), "torn report.html"
        else:  # inputs and report.md: byte for byte what the uninterrupted command leaves
            assert got.read_bytes() == f.read_bytes(), f"changed {f.name}"
    extra = {p.name for p in d.iterdir()} - {p.name for p in ref.iterdir()}
    extra = {x for x in extra if not (x.startswith(".") and x.endswith(".tmp"))}  # see below
    assert not extra, extra


def _report_kills(reported: tuple[Path, float], tmp_path: Path, n: int) -> None:
    ref, duration = reported
    codes = []
    for i, (delay, at_partial) in enumerate(moments(n, duration, seed=1900 + n)):
        d = tmp_path / f"k{i}" / "run"
        shutil.copytree(ref, d)
        cmd = [sys.executable, "-m", "runway", "report", str(d), "-q"]
        code = kill_at(cmd, delay, d if at_partial else None, tmp_path)
        assert code in (0, -signal.SIGKILL), code
        codes.append(code)
        check_report_dir(d, ref)
        for e in d.parent.iterdir():  # only the command's own leftovers beside it
            assert e.name == "run" or e.name.startswith(".run."), e.name
    assert -signal.SIGKILL in codes, "no kill landed while the command ran"
    # the next report cleans a killed one's leftovers
    r = subprocess.run(
        [sys.executable, "-m", "runway", "report", str(d), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert [e.name for e in d.parent.iterdir()] == ["run"]
    check_report_dir(d, ref)
    assert not list(d.glob(".*.tmp")), "a killed report's temporary file was not removed"


def test_sigkill_report_3(reported: tuple[Path, float], tmp_path: Path) -> None:
    _report_kills(reported, tmp_path, 3)


@pytest.mark.slow
def test_sigkill_report_10(reported: tuple[Path, float], tmp_path: Path) -> None:
    _report_kills(reported, tmp_path, 10)


# --- runway sweep ---------------------------------------------------------------------------------
SWEEP = f"""
name = "kill"
base = "{BASE}"
paths = 200
seed = 5
years = [2030]

[[axes]]
path = "consumer.conversion_target"
values = [0.07, 0.10]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, float]:
    """The sweep file, its uninterrupted table and the duration of an uninterrupted sweep."""
    d = tmp_path_factory.mktemp("sweep")
    spec = d / "s.toml"
    spec.write_text(SWEEP)
    t0 = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "runway",
            "sweep",
            str(spec),
            "--out",
            str(d / "ref"),
            "--workers",
            "1",
            "-q",
        ],
        check=True,
        timeout=600,
    )
    return spec, pd.read_parquet(d / "ref" / "sweep.parquet"), time.monotonic() - t0


def check_sweep_dir(out: Path, table: pd.DataFrame) -> None:
    if not out.exists():
        return
    for f in (out / "scenarios").glob("*.json"):
        json.loads(f.read_text())  # every kept row is whole
    if (out / io.MARKER).is_file():
        pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), table)
        assert (out / "sweep.html").read_text().rstrip().endswith("</html>")
        assert len(pd.read_csv(out / "timings.csv")) == len(table)
    for f in out.rglob("*"):
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            continue  # a killed writer's temporary sibling: never read, removed by the next one
        assert not (f.is_file() and f.stat().st_size == 0), f"empty {f}"


def _sweep_kills(swept: tuple[Path, pd.DataFrame, float], tmp_path: Path, n: int) -> None:
    from runway.sweep import run_sweep

    spec, table, duration = swept
    out = tmp_path / "sw"
    codes = []
    for delay, at_partial in moments(n, duration, seed=1950 + n):
        del at_partial  # a sweep writes in place: its moments are all random
        cmd = [
            sys.executable,
            "-m",
            "runway",
            "sweep",
            str(spec),
            "--out",
            str(out),
            "--workers",
            "1",
            "--resume",
            "-q",
        ]
        code = kill_at(cmd, delay, None, tmp_path)
        assert code in (0, -signal.SIGKILL), code
        codes.append(code)
        check_sweep_dir(out, table)
    assert -signal.SIGKILL in codes, "no kill landed while the command ran"
    # resuming after the kills finishes the same table
    pd.testing.assert_frame_equal(run_sweep(spec, out=out, resume=True, workers=1), table)
    assert (out / io.MARKER).is_file()
    assert not [f for f in out.rglob(".*.tmp")], "the resume left the killed writers' temporaries"


def test_sigkill_sweep_3(swept: tuple[Path, pd.DataFrame, float], tmp_path: Path) -> None:
    _sweep_kills(swept, tmp_path, 3)


@pytest.mark.slow
def test_sigkill_sweep_10(swept: tuple[Path, pd.DataFrame, float], tmp_path: Path) -> None:
    _sweep_kills(swept, tmp_path, 10)
