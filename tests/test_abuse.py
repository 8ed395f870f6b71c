"""Issue 19: outputs, sweeps and run directories under abuse.

Nothing the user did not name is deleted or overwritten (a sentinel file beside every
``--out``); OS errors and a second writer give one line; ``runway report`` neither follows
links nor writes in place, and names the damaged file of a tampered directory; resuming a
sweep recomputes what is invalid and never deletes finished outputs first. The SIGKILL loops
are in tests/test_kill.py; the one-line refusals that need no simulation are in the corpus
(tests/bad_configs/cases.toml).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import runway
from runway import io

HERE = Path(__file__).resolve().parent
BASE = HERE / "bad_configs" / "valid_base.toml"
DESCRIPTION = r"<script>alert(1)</script> **bold** | pipe \u007f end"
"""TOML text of the fixture's description: markup, a table pipe and a raw DEL (U+007F)."""


def cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """``runway ARGS`` in this process through the console entry point: (code, out, err)."""
    from runway import cli as c

    monkeypatch.setattr(sys, "argv", ["runway", *args])
    monkeypatch.setattr(c, "_DEBUG", False)
    capsys.readouterr()
    try:
        c.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str, *needles: str) -> str:
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def snapshot(d: Path) -> dict[str, bytes | str]:
    """Every entry below ``d``: file bytes, or ``->target`` for links, ``/`` for directories."""
    out: dict[str, bytes | str] = {}
    for p in sorted(d.rglob("*")):
        rel = str(p.relative_to(d))
        if p.is_symlink():
            out[rel] = "->" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "/"
        else:
            out[rel] = p.read_bytes()
    return out


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = BASE.read_text(encoding="utf-8")
    start = text.index("description = ", text.index("[scenario]"))
    end = text.index("\n", start)
    cfg = tmp_path_factory.mktemp("cfg") / "c.toml"
    cfg.write_text(text[:start] + f'description = "{DESCRIPTION}"' + text[end:], encoding="utf-8")
    return cfg


@pytest.fixture(scope="module")
def run_dir(config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from runway.outputs import write_outputs

    d = tmp_path_factory.mktemp("run") / "run"
    write_outputs(runway.simulate(config, paths=60, seed=3), d)
    return d


def copy_run(run_dir: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(run_dir, dest, symlinks=True)
    return dest


# --- markdown and TOML of config text ------------------------------------------------------------
def test_config_text_is_escaped_in_markdown_and_valid_in_toml(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text()
    page = (run_dir / "report.html").read_text()
    assert "<script>" not in md and "\\<script\\>" in md and "\\*\\*bold\\*\\*" in md
    assert "\x7f" not in md
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page  # kept escaped
    assert "\\<" not in page  # the markdown escapes do not leak into the page
    resolved = tomllib.loads((run_dir / "config.resolved.toml").read_text())  # raw DEL: invalid
    assert (
        resolved["scenario"]["description"] == "<script>alert(1)</script> **bold** | pipe \x7f end"
    )


def test_escape_md_round_trip() -> None:
    from runway.report.escape import escape_md, unescape_md

    for s in ["a_b*c", "<b>x</b>", "- not a list", "1. not a list", "# not a heading", "x|y", "\\"]:
        e = escape_md(s)
        assert unescape_md(e) == s
        assert not e.startswith(("-", "#", "1.")) and "<" not in e.replace("\\<", "")


# --- nothing the user did not name ---------------------------------------------------------------
SENTINELS = {"sentinel.txt": b"years of work\n", ".hidden": b"x", "run.md": b"# mine\n"}


def plant(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, data in SENTINELS.items():
        (d / name).write_bytes(data)


def assert_sentinels(d: Path, named: set[str]) -> None:
    """The sentinels are intact and nothing but ``named`` was added beside them."""
    for name, data in SENTINELS.items():
        assert (d / name).read_bytes() == data, name
    extra = {p.name for p in d.iterdir()} - set(SENTINELS) - named
    assert not extra, f"left beside --out: {extra}"


def test_sentinels_beside_run_report_and_bench(
    config: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import runway.bench as bench

    monkeypatch.chdir(tmp_path)
    d = tmp_path / "a"
    plant(d)
    code, _, err = cli(
        ["run", str(config), "--paths", "20", "--out", str(d / "run"), "-q"], monkeypatch, capsys
    )
    assert code == 0, err
    assert_sentinels(d, {"run"})
    (d / "run" / "report.html").unlink()
    code, _, err = cli(["report", str(d / "run"), "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert (d / "run" / "report.html").is_file()
    assert_sentinels(d, {"run"})
    # a second run replaces its own directory, and only that
    code, _, err = cli(
        ["run", str(config), "--paths", "20", "--seed", "5", "--out", str(d / "run"), "-q"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert_sentinels(d, {"run"})
    # runway bench --out FILE and --out DIR (the benchmark itself replaced by a stored result)
    latest = json.loads((HERE.parent / "benchmarks" / "results" / "latest.json").read_text())
    monkeypatch.setattr(bench, "run_bench", lambda **k: latest)
    code, _, err = cli(["bench", "--out", str(d / "b.json")], monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((d / "b.json").read_text()) == latest
    assert (d / "b.md").read_text().startswith(io.BENCH_MD_HEAD)
    assert_sentinels(d, {"run", "b.json", "b.md"})
    code, _, err = cli(["bench", "--out", str(d / "b.json")], monkeypatch, capsys)  # its own .md
    assert code == 0, err
    (d / "bdir").mkdir()
    code, _, err = cli(["bench", "--out", str(d / "bdir")], monkeypatch, capsys)
    assert code == 0, err
    assert sorted(p.name for p in (d / "bdir").iterdir()) == ["bench.json", "bench.md"]
    assert_sentinels(d, {"run", "b.json", "b.md", "bdir"})


def test_bench_refuses_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import runway.bench as bench

    def boom(**k):
        raise AssertionError("the benchmark must not run")

    monkeypatch.setattr(bench, "run_bench", boom)
    (tmp_path / "x.md").write_text("my notes\n")
    code, _, err = cli(["bench", "--out", str(tmp_path / "x.json")], monkeypatch, capsys)
    assert code == 2
    one_line_error(err, str(tmp_path / "x.md"), "not written by runway bench")
    assert (tmp_path / "x.md").read_text() == "my notes\n"
    assert not (tmp_path / "x.json").exists()


def test_dot_name_never_replaces_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The issue's worst case: scenario.name = "." made --out runs/ itself."""
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "runs" / "other"
    other.mkdir(parents=True)
    (other / io.MARKER).write_text("ok\n")
    (other / "summary.json").write_text("{}")
    before = snapshot(tmp_path)
    text = BASE.read_text(encoding="utf-8").replace('name = "hsbc_2025_11"', 'name = "."', 1)
    for name in (".", ".."):
        cfg = tmp_path / f"n{len(name)}.toml"
        cfg.write_text(text.replace('name = "."', f'name = "{name}"', 1))
        code, _, err = cli(["run", str(cfg), "--paths", "10", "-q"], monkeypatch, capsys)
        assert code == 2
        one_line_error(err, "scenario.name")
        cfg.unlink()
    # and given directly as --out: the runs/ holding a run, the working directory
    for out in ("runs", "runs/.", ".", "..", str(tmp_path)):
        code, _, err = cli(
            ["run", str(BASE), "--paths", "10", "--out", out, "-q"], monkeypatch, capsys
        )
        assert code == 2, out
        one_line_error(err, f"--out {Path(out)}")  # pathlib drops a trailing "/."
    assert snapshot(tmp_path) == before


# --- OS errors: one line naming the path, the previous run kept -----------------------------------
def test_disk_full_while_writing_keeps_the_previous_run(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import runway.outputs as outputs

    d = copy_run(run_dir, tmp_path / "a" / "run")
    plant(tmp_path / "a")
    before = snapshot(d)

    def full(paths, p):
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    monkeypatch.setattr(outputs, "write_paths_parquet", full)
    code, _, err = cli(
        ["run", str(BASE), "--paths", "20", "--out", str(d), "-q"], monkeypatch, capsys
    )
    assert code == 2
    one_line_error(err, f"--out {d}", "paths.parquet", "the disk is full", "ENOSPC")
    assert snapshot(d) == before
    assert_sentinels(tmp_path / "a", {"run"})


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ("statvfs", "MiB free"),
        ("erofs", "read-only; give another --out (EROFS)"),
        ("mount", "mount point"),
    ],
)
def test_refused_before_simulating(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, patch: str, needle: str
) -> None:
    d = copy_run(run_dir, tmp_path / "run")

    def boom(*a, **k):
        raise AssertionError("refused only after simulating")

    monkeypatch.setattr(runway, "simulate", boom)
    if patch == "statvfs":
        real = os.statvfs(tmp_path)

        class Tiny:
            f_bavail, f_frsize = 10, real.f_frsize

        monkeypatch.setattr(io.os, "statvfs", lambda p: Tiny)
    elif patch == "erofs":

        def ro(*a, **k):
            raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

        monkeypatch.setattr(io.tempfile, "mkdtemp", ro)
    else:
        real_ismount = os.path.ismount
        monkeypatch.setattr(io.os.path, "ismount", lambda p: Path(p) == d or real_ismount(p))
    before = snapshot(d)
    code, _, err = cli(
        ["run", str(BASE), "--paths", "20", "--out", str(d), "-q"], monkeypatch, capsys
    )
    assert code == 2
    one_line_error(err, f"--out {d}", needle)
    assert snapshot(d) == before


def test_busy_swap_is_one_line(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    d = copy_run(run_dir, tmp_path / "run")
    before = snapshot(d)

    def busy(tmp, target):
        raise OSError(errno.EBUSY, "Device or resource busy", str(target))

    monkeypatch.setattr(io, "_swap_in", busy)
    code, _, err = cli(
        ["run", str(BASE), "--paths", "20", "--out", str(d), "-q"], monkeypatch, capsys
    )
    assert code == 2
    one_line_error(err, f"--out {d}", "EBUSY")
    assert snapshot(d) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no .partial left


# --- one writer per directory ---------------------------------------------------------------------
HOLD = r"""
import sys, time
from runway.io import lock_output
lock_output(sys.argv[1])
print("locked", flush=True)
time.sleep(600)
"""


def test_second_writer_is_refused_then_free_after_sigkill(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    d = copy_run(run_dir, tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(d)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = snapshot(d)
        for args in (
            ["run", str(BASE), "--paths", "10", "--out", str(d), "-q"],
            ["report", str(d), "-q"],
        ):
            code, _, err = cli(args, monkeypatch, capsys)
            assert code == 2, args
            one_line_error(err, str(d), f"another runway process (pid {holder.pid})")
        assert snapshot(d) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    # the lock died with its holder: a writer gets it (and removes the stale lock file)
    io.check_output_dir(d)
    io.release_output(d)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_sweep_second_writer_is_refused(tmp_path: Path) -> None:
    from runway.errors import OutputError

    out = tmp_path / "sw"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError, match=f"another runway process \\(pid {holder.pid}\\)"):
            io.check_output_dir(out, kind="sweep")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]


def test_two_runs_racing_to_one_new_out(tmp_path: Path) -> None:
    """Both see no target; exactly one writes it, the other is refused with one line."""
    out = tmp_path / "new"
    cmd = [
        sys.executable,
        "-m",
        "runway",
        "run",
        str(BASE),
        "--paths",
        "200",
        "--out",
        str(out),
        "-q",
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.communicate(timeout=300)[1], p.returncode) for p in procs]
    results = [(code, err) for err, code in results]
    codes = sorted(c for c, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # [0, 0]: the second started after the first
    for code, err in results:
        if code == 2:
            one_line_error(err, f"--out {out}", "another runway process")
    io.require_complete(out)
    assert pd.read_parquet(out / "paths.parquet").shape[0] == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


# --- runway report on tampered directories --------------------------------------------------------
def test_report_replaces_links_never_their_targets(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    d = copy_run(run_dir, tmp_path / "run")
    victim = tmp_path / "victim.html"
    victim.write_text("not yours\n")
    (d / "report.html").unlink()
    (d / "report.html").symlink_to(victim)
    code, _, err = cli(["report", str(d), "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert victim.read_text() == "not yours\n"
    assert not (d / "report.html").is_symlink() and (d / "report.html").read_text().endswith(
        "</html>\n"
    )
    # an input that is a link is refused, naming it
    (d / "annual.csv").rename(tmp_path / "annual.csv")
    (d / "annual.csv").symlink_to(tmp_path / "annual.csv")
    code, _, err = cli(["report", str(d), "-q"], monkeypatch, capsys)
    assert code == 2
    one_line_error(err, f"{d / 'annual.csv'}: is a symbolic link")


def test_report_on_a_full_disk_keeps_every_file(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import runway.report.render as render

    d = copy_run(run_dir, tmp_path / "run")
    before = snapshot(d)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(d / "report.html"))

    monkeypatch.setattr(render, "render_report", full)
    code, _, err = cli(["report", str(d), "-q"], monkeypatch, capsys)
    assert code == 2
    one_line_error(err, str(d), "the disk is full", "ENOSPC")
    assert snapshot(d) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_run_and_sweep_directories_are_not_mixed(
    run_dir: Path,
    sweep: tuple[Path, Path, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    from runway.errors import OutputError
    from runway.sweep import run_sweep

    spec, done, _ = sweep
    sw = tmp_path / "sw"
    shutil.copytree(done, sw)
    code, _, err = cli(
        ["run", str(BASE), "--paths", "10", "--out", str(sw), "-q"], monkeypatch, capsys
    )
    assert code == 2
    one_line_error(err, f"--out {sw}: is a sweep directory")
    run = copy_run(run_dir, tmp_path / "run")
    with pytest.raises(OutputError, match="not a sweep directory"):
        run_sweep(spec, out=run)
    with pytest.raises(OutputError, match="inside the sweep directory"):
        io.check_output_dir(sw / "scenarios" / "x")


def _set_field(p: Path, line: int, field: int, value: str) -> None:
    lines = p.read_text().split("\n")
    cells = lines[line].split(",")
    cells[field] = value
    lines[line] = ",".join(cells)
    p.write_text("\n".join(lines))


def _truncate(p: Path) -> None:
    b = p.read_bytes()
    p.write_bytes(b[: len(b) // 2])


TAMPER = {
    "summary_truncated": ("summary.json", _truncate, "not valid JSON"),
    "summary_empty": ("summary.json", lambda p: p.write_bytes(b""), "the file is empty"),
    "summary_latin1": (
        "summary.json",
        lambda p: p.write_bytes(b'{"scenario": "caf\xe9"}'),
        "not UTF-8",
    ),
    "summary_nan": (
        "summary.json",
        lambda p: p.write_text(p.read_text().replace('"p50": ', '"p50": NaN, "x": ', 1)),
        "NaN",
    ),
    "summary_string_number": (
        "summary.json",
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "paths": "60"})),
        "'paths' is not a JSON int",
    ),
    "summary_garbled_layout": (
        "summary.json",
        lambda p: p.write_text(
            json.dumps({**json.loads(p.read_text()), "funding_gap": {"2030": 1}})
        ),
        "does not have the layout runway writes",
    ),
    "paths_garbage": ("paths.parquet", lambda p: p.write_bytes(os.urandom(4096)), "cannot be read"),
    "paths_truncated": ("paths.parquet", _truncate, "cannot be read"),
    "fan_garbage": (
        "fan.parquet",
        lambda p: p.write_bytes(b"PAR1" + os.urandom(100)),
        "cannot be read",
    ),
    "annual_empty": ("annual.csv", lambda p: p.write_bytes(b""), "the file is empty"),
    "annual_header_only": ("annual.csv", lambda p: p.write_text("year,revenue\n"), "holds no rows"),
    "annual_nan": ("annual.csv", lambda p: _set_field(p, 2, 1, "nan"), "NaN or infinite"),
    "paths_directory": ("paths.parquet", lambda p: (p.unlink(), p.mkdir()), "not a regular file"),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_report_names_the_damaged_file(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, case: str
) -> None:
    d = copy_run(run_dir, tmp_path / "run")
    name, damage, needle = TAMPER[case]
    damage(d / name)
    keep = {f: (d / f).read_bytes() for f in ("report.md", "report.html")}
    code, _, err = cli(["report", str(d), "-q"], monkeypatch, capsys)
    assert code == 2, err
    line = one_line_error(
        err, str(d / name) if case != "summary_garbled_layout" else str(d), needle
    )
    assert "$nan" not in line
    assert {f: (d / f).read_bytes() for f in keep} == keep  # nothing rewritten
    assert (d / io.MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no .partial left


# --- sweeps: resume validates, failures delete nothing -------------------------------------------
SWEEP = f"""
name = "abuse"
base = "{BASE}"
paths = 200
seed = 11
years = [2028, 2030]

[[axes]]
path = "consumer.conversion_target"
values = [0.07, 0.10]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    from runway.sweep import run_sweep

    d = tmp_path_factory.mktemp("sweep")
    spec = d / "s.toml"
    spec.write_text(SWEEP)
    table = run_sweep(spec, out=d / "done", workers=1)
    return spec, d / "done", table


def test_sweep_resume_recomputes_only_invalid_files(
    sweep: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    from runway.sweep import run_sweep

    spec, done, table = sweep
    out = tmp_path / "sw"
    shutil.copytree(done, out)
    scen = out / "scenarios"
    _truncate(scen / "00001.json")  # the JSONDecodeError
    row2 = json.loads((scen / "00002.json").read_text())
    row2["_sweep"] = "0" * 64  # a row of another sweep
    (scen / "00002.json").write_text(json.dumps(row2))
    kept = (scen / "00000.json").stat().st_mtime_ns
    got = run_sweep(spec, out=out, resume=True, workers=1)
    pd.testing.assert_frame_equal(got, table)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), table)
    assert (scen / "00000.json").stat().st_mtime_ns == kept  # valid: not recomputed
    assert json.loads((scen / "00002.json").read_text())["_sweep"] != "0" * 64
    assert (out / io.MARKER).is_file()
    # a damaged base_paths.npz: the base is run again, the table is the same
    (scen / "base_paths.npz").write_bytes(b"PK\x03\x04garbage")
    pd.testing.assert_frame_equal(run_sweep(spec, out=out, resume=True, workers=1), table)


def test_failed_sweep_deletes_no_finished_output(
    sweep: tuple[Path, Path, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway.sweep import execute, run_sweep

    spec, done, table = sweep
    out = tmp_path / "sw"
    shutil.copytree(done, out)
    plant(tmp_path)
    finished = {f: (out / f).read_bytes() for f in ("sweep.parquet", "sweep.md", "sweep.html")}

    def crash(tasks, workers):
        raise RuntimeError("worker lost")
        yield  # pragma: no cover

    monkeypatch.setattr(execute, "_local_outcomes", crash)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_sweep(spec, out=out, workers=1)  # not a resume: everything is to be recomputed
    assert {f: (out / f).read_bytes() for f in finished} == finished
    assert not (out / io.MARKER).exists()  # changed and unfinished: not marked complete
    assert_sentinels(tmp_path, {"sw"})
    monkeypatch.undo()
    pd.testing.assert_frame_equal(run_sweep(spec, out=out, resume=True, workers=1), table)
    assert (out / io.MARKER).is_file()
    assert_sentinels(tmp_path, {"sw"})  # nothing beside --out, also when it succeeds


def test_sweep_out_with_foreign_file_is_refused(
    sweep: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    from runway.errors import OutputError
    from runway.sweep import run_sweep

    spec, done, _ = sweep
    out = tmp_path / "sw"
    shutil.copytree(done, out)
    (out / "thesis.tex").write_text("years of work\n")
    before = snapshot(out)
    with pytest.raises(OutputError, match="holds thesis.tex, which runway did not write"):
        run_sweep(spec, out=out, resume=True)
    assert snapshot(out) == before


def test_workers_die_with_a_sigkilled_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: the pool's workers end when the sweep's process is SIGKILLed."""
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux-only")
    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from runway.sweep.execute import die_with_parent\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn'),\n"
        "                               initializer=die_with_parent, initargs=(os.getpid(),))\n"
        "    pids = [pool.submit(os.getpid).result() for _ in range(4)]\n"
        "    print(' '.join(map(str, set(pids))), flush=True)\n"
        "    time.sleep(600)\n"
    )
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    workers = [int(x) for x in p.stdout.readline().split()]
    assert workers
    p.send_signal(signal.SIGKILL)  # the parent only, not its process group
    p.wait()
    p.stdout.close()
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{w}").exists() and not _zombie(w) for w in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
