"""Open report.html in headless Chromium: it renders, every image loads, no console error.

Needs Debian's ``chromium`` (installed by .ci/run: ``apt-get install -y chromium``). The test
skips only when no Chromium binary is on the PATH (or at /usr/bin/chromium); with
``RUNWAY_REQUIRE_CHROMIUM=1`` (set by .ci/run) a missing browser is a failure, not a skip.
The screenshot is saved as ``tests/artifacts/report_screenshot.png``.
The page's own script sets ``document.title`` to ``ok:N/N:errors=0`` once loaded when every
image decoded and no script error or ``console.error`` happened; ``--dump-dom`` returns it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import runway
from runway.outputs import write_outputs
from runway.report.plots import PLOTS

ARTIFACTS = Path(__file__).parent / "artifacts"


def _find_chromium() -> Path | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    debian = Path("/usr/bin/chromium")
    return debian if debian.exists() else None


CHROMIUM = _find_chromium()


@pytest.fixture(autouse=True)
def _need_chromium():
    if CHROMIUM is None:
        msg = "chromium absent (apt-get install -y chromium)"
        if (
            os.environ.get("RUNWAY_REQUIRE_CHROMIUM") == "1"
        ):  # CI: a missing browser must not pass as a skip
            pytest.fail(f"RUNWAY_REQUIRE_CHROMIUM=1 but {msg}")
        pytest.skip(msg)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run(
        [str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120
    )


def test_report_html_renders_in_chromium(tmp_path):
    res = runway.simulate(runway.default_config_path(), paths=2000, seed=11)
    run_dir = write_outputs(res, tmp_path / "r")
    url = (run_dir / "report.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", dom.stdout)
    assert title is not None, dom.stdout[:500]
    assert title.group(1) == f"ok:{len(PLOTS)}/{len(PLOTS)}:errors=0", title.group(1)
    assert "ERROR:CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    assert "<h1>runway report: hsbc_2025_11</h1>" in dom.stdout and dom.stdout.count("<table>") >= 4
    shot = tmp_path / "report.png"
    r = _chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", "--hide-scrollbars", url
    )
    assert r.returncode == 0 and shot.stat().st_size > 10_000, r.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "report_screenshot.png")
