"""The bad-input corpus (tests/bad_configs/cases.toml).

Every case must exit with code 2 and print exactly one line on stderr that names the key or
option at fault, with no traceback. Every case runs in-process through the console entry
point (:func:`runway.cli.main` with a patched ``sys.argv``); the cases marked
``subprocess = true`` also run as real ``python -m runway`` subprocesses, which is what a
user's terminal sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "bad_configs"
sys.path.insert(0, str(HERE))
import generate  # noqa: E402

CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
SUBPROCESS_CASES = [c for c in CASES if c.get("subprocess")]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def _skip_reason(case: dict) -> str | None:
    if case.get("setup") == "unreadable" and IS_ROOT:
        return "root can read a chmod 000 file (fifo_as_config and unreadable_proc_file cover root)"
    if case.get("setup") == "proc_mem" and not Path("/proc/self/mem").is_file():
        return "no /proc/self/mem on this system"
    if case.get("setup") == "fifo" and not hasattr(os, "mkfifo"):
        return "no named pipes on this system"
    return None


def _prepare(case: dict, tmp: Path) -> tuple[list[str], str]:
    """Create the case's files under ``tmp``; its argument list and expected text."""
    tmp.mkdir(parents=True)
    setup = case.get("setup")
    if setup == "file":
        (tmp / "f").write_text("not a directory\n")
    elif setup == "unreadable":
        shutil.copy(HERE / "valid_base.toml", tmp / "f.toml")
        os.chmod(tmp / "f.toml", 0)
    elif setup == "fifo":
        os.mkfifo(tmp / "f.toml")
    elif setup == "other_dir":
        (tmp / "d").mkdir()
        (tmp / "d" / "thesis.tex").write_text("years of work\n")
    for name, text in case.get("files", {}).items():  # issue 19: fabricated directories
        f = tmp / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(text.encode(case.get("files_encoding", "utf-8")))
    for name, target in case.get("symlinks", {}).items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, tmp / name)
    subs = {
        "{file}": str(HERE / f"{case['name']}.toml"),
        "{base}": str(HERE / "valid_base.toml"),
        "{tmp}": str(tmp),
    }

    def sub(a: str) -> str:
        for k, v in subs.items():
            a = a.replace(k, v)
        return a

    return [sub(a) for a in case["args"]], sub(case["expect"])


def _check(case: dict, r: Outcome, expect: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip("\n").split("\n")
    if lines[0].startswith("Usage: runway"):
        # a usage error (bad option or argument) keeps click's usage and "Try ... -h" lines
        assert lines[1].startswith("Try 'runway") and lines[1].endswith("-h' for help."), lines
        assert lines[-1].startswith("Error: ") and expect in lines[-1], lines
        assert len(lines) <= 4, r.stderr
    else:
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("error: ")
        assert expect in lines[0], lines[0]
    assert r.stdout == ""


def test_corpus_size() -> None:
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)
    assert 4 <= len(SUBPROCESS_CASES) <= 12  # a handful: each costs an interpreter start


def test_base_is_valid() -> None:
    """Each case is one defect away from a valid config."""
    from runway import load_config

    load_config(HERE / "valid_base.toml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_files_match_cases(case: dict) -> None:
    text = generate.render(case, (HERE / "valid_base.toml").read_text(encoding="utf-8"))
    if text is not None:
        want = text.encode(case.get("encoding", "utf-8"))
        assert (HERE / f"{case['name']}.toml").read_bytes() == want, (
            "run tests/bad_configs/generate.py"
        )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(
    case: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    reason = _skip_reason(case)
    if reason:
        pytest.skip(reason)
    from runway import cli

    args, expect = _prepare(case, tmp_path / "case")
    monkeypatch.chdir(tmp_path / "case")
    monkeypatch.setattr(sys, "argv", ["runway", *args])
    monkeypatch.setattr(cli, "_DEBUG", False)  # main() keeps --debug across calls in one process
    with pytest.raises(SystemExit) as exc:
        cli.main()  # any other exception is a traceback reaching the user: the test errors
    out = capsys.readouterr()
    _check(case, Outcome(exc.value.code, out.out, out.err), expect)


@pytest.fixture(scope="module")
def subprocess_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Outcome, str]]:
    root = tmp_path_factory.mktemp("bad")

    def one(case: dict) -> tuple[Outcome, str]:
        tmp = root / case["name"]
        args, expect = _prepare(case, tmp)
        r = subprocess.run(
            [sys.executable, "-m", "runway", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp,
        )
        return Outcome(r.returncode, r.stdout, r.stderr), expect

    todo = [c for c in SUBPROCESS_CASES if _skip_reason(c) is None]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip([c["name"] for c in todo], pool.map(one, todo), strict=True))


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c["name"] for c in SUBPROCESS_CASES])
def test_bad_input_subprocess(case: dict, subprocess_results: dict) -> None:
    reason = _skip_reason(case)
    if reason:
        pytest.skip(reason)
    r, expect = subprocess_results[case["name"]]
    _check(case, r, expect)


def test_non_run_directory_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A refused --out directory is left exactly as it was."""
    from runway import cli

    d = tmp_path / "d"
    d.mkdir()
    (d / "thesis.tex").write_text("years of work\n")
    monkeypatch.setattr(sys, "argv", ["runway", "run", "--paths", "10", "--out", str(d), "-q"])
    monkeypatch.setattr(cli, "_DEBUG", False)
    with pytest.raises(SystemExit):
        cli.main()
    assert [p.name for p in d.iterdir()] == ["thesis.tex"]
    assert (d / "thesis.tex").read_text() == "years of work\n"


def test_debug_shows_traceback(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "runway", "--debug", "validate", str(HERE / "negative_cash.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "Traceback" in r.stderr and "liquidity.cash_bn" in r.stderr


def test_memory_guard_refuses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    from runway import cli, guard

    monkeypatch.setattr(guard, "available_memory_bytes", lambda: 64 * 2**20)
    monkeypatch.setattr(
        sys, "argv", ["runway", "run", "--paths", "50000000", "--out", str(tmp_path / "o"), "-q"]
    )
    monkeypatch.setattr(cli, "_DEBUG", False)
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--paths" in err and "GiB" in err and "fewer --paths" in err
    assert not (tmp_path / "o").exists()


def test_memory_guard_estimate() -> None:
    import runway
    from runway.guard import MemoryGuardError, check_memory

    cfg = runway.load_config(HERE / "valid_base.toml")
    assert check_memory(cfg, 1000, available=2**40) > 0
    with pytest.raises(MemoryGuardError, match="fewer --paths"):
        check_memory(cfg, 100_000_000, available=2**30)
