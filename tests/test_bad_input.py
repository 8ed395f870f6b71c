"""The bad-input corpus (tests/bad_configs/cases.toml), run as real subprocesses of the CLI.

Every case must exit with code 2 and print exactly one line on stderr that names the key or
option at fault, with no traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "bad_configs"
sys.path.insert(0, str(HERE))
import generate  # noqa: E402

CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _skip_reason(case: dict) -> str | None:
    if case.get("setup") == "unreadable" and IS_ROOT:
        return "root can read a chmod 000 file"
    return None


def _run_case(case: dict, tmp: Path) -> subprocess.CompletedProcess[str]:
    tmp.mkdir(parents=True)
    if case.get("setup") == "file":
        (tmp / "f").write_text("not a directory\n")
    elif case.get("setup") == "unreadable":
        shutil.copy(HERE / "valid_base.toml", tmp / "f.toml")
        os.chmod(tmp / "f.toml", 0)
    subs = {"{file}": str(HERE / f"{case['name']}.toml"), "{base}": str(HERE / "valid_base.toml"), "{tmp}": str(tmp)}
    args = []
    for a in case["args"]:
        for k, v in subs.items():
            a = a.replace(k, v)
        args.append(a)
    return subprocess.run(
        [sys.executable, "-m", "runway", *args], capture_output=True, text=True, timeout=120, cwd=tmp
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("bad")
    todo = [c for c in CASES if _skip_reason(c) is None]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        done = pool.map(lambda c: _run_case(c, root / c["name"]), todo)
        return {c["name"]: r for c, r in zip(todo, done, strict=True)}


def test_corpus_size() -> None:
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)


def test_base_is_valid() -> None:
    """Each case is one defect away from a valid config."""
    from runway import load_config

    load_config(HERE / "valid_base.toml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_files_match_cases(case: dict) -> None:
    text = generate.render(case, (HERE / "valid_base.toml").read_text(encoding="utf-8"))
    if text is not None:
        want = text.encode(case.get("encoding", "utf-8"))
        assert (HERE / f"{case['name']}.toml").read_bytes() == want, "run tests/bad_configs/generate.py"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(case: dict, results: dict) -> None:
    reason = _skip_reason(case)
    if reason:
        pytest.skip(reason)
    r = results[case["name"]]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip("\n").split("\n")
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    assert case["expect"] in lines[0], lines[0]
    assert r.stdout == ""


def test_debug_shows_traceback(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "runway", "--debug", "validate", str(HERE / "negative_cash.toml")],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode != 0 and "Traceback" in r.stderr and "liquidity.cash_bn" in r.stderr


def test_memory_guard_refuses(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    from runway import cli, guard

    monkeypatch.setattr(guard, "available_memory_bytes", lambda: 64 * 2**20)
    monkeypatch.setattr(sys, "argv", ["runway", "run", "--paths", "50000000", "--out", str(tmp_path / "o"), "-q"])
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
