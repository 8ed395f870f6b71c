"""Open report.html in headless Chromium: it renders, every image loads, no console error.

Needs Debian's ``chromium`` (installed by .ci/run: ``apt-get install -y chromium``). The test
skips only when no Chromium binary is on the PATH (or at /usr/bin/chromium); with
``RUNWAY_REQUIRE_CHROMIUM=1`` (set by .ci/run) a missing browser is a failure, not a skip.
Screenshots are saved as test artefacts in ``$RUNWAY_ARTEFACTS`` (default
``<tmp>/runway-artefacts``): ``report_screenshot.png`` (the whole page) and
``report_first_screen.png`` (the first 1280 x 800 screen, which must state the four answers).
The page's own script sets ``document.title`` to ``ok:N/N:errors=0`` once loaded when every
image decoded and no script error or ``console.error`` happened; ``--dump-dom`` returns it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import runway
from runway.outputs import write_outputs
from runway.report.plots import PLOTS

ARTEFACTS = Path(
    os.environ.get("RUNWAY_ARTEFACTS", Path(tempfile.gettempdir()) / "runway-artefacts")
)
"""Where the screenshots are kept after the test (CI uploads this directory)."""


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
    assert ">runway report: hsbc_2025_11</h1>" in dom.stdout and dom.stdout.count("<table>") >= 4
    shot = tmp_path / "report.png"
    r = _chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", "--hide-scrollbars", url
    )
    assert r.returncode == 0 and shot.stat().st_size > 10_000, r.stderr[-2000:]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTEFACTS / "report_screenshot.png")


MONTH_YEAR = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d\b")


def _answers(dom: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", a) for a in re.findall(r'<p class="answer">(.*?)</p>', dom)]


def test_hsbc_report_first_screen_states_the_four_answers_with_dates(tmp_path):
    res = runway.simulate(runway.default_config_path(), paths=2000, seed=11)
    run_dir = write_outputs(res, tmp_path / "r")
    url = (run_dir / "report.html").resolve().as_uri()
    size = "--window-size=1280,800"
    dom = _chromium(tmp_path, size, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body is not None
    # the page's script counts the answers whose bottom edge is inside the first screen
    assert 'data-answers="4"' in body.group(0), body.group(0)
    assert 'data-answers-first-screen="4"' in body.group(0), body.group(0)
    gap, when, prob, drivers = _answers(dom.stdout)
    assert gap.startswith("1. How big is the funding gap?") and "$" in gap and "bn" in gap
    assert "HSBC" in gap and "$207bn" in gap  # the HSBC config's own reference
    assert when.startswith("2. When does cash run out?")
    assert len(MONTH_YEAR.findall(when)) >= 3, when  # first defaults, 1 in 20, riskiest months
    assert "months from" not in when
    assert prob.startswith("3. With what probability?") and "%" in prob
    assert drivers.startswith("4. What drives it?") and "worst tenth of funding gaps" in drivers
    shot = tmp_path / "first.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", size, "--hide-scrollbars", url)
    assert r.returncode == 0 and shot.stat().st_size > 10_000, r.stderr[-2000:]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTEFACTS / "report_first_screen.png")


def test_a_users_own_config_report_has_no_hsbc_reference(tmp_path):
    import tomllib

    from runway.config import config_from_dict

    d = tomllib.loads(runway.default_config_path().read_text())
    d.pop("references")
    d.pop("credit", None)  # its revolver, backlogs and Bain figures are published figures too
    d["scenario"] = {"name": "my_scenario", "description": "my own assumptions"}
    d["calendar"]["end"] = "2028-12"
    d["consumer"]["conversion_target_month"] = "2028-12"
    res = runway.simulate(config_from_dict(d, "test"), paths=1000, seed=2)
    run_dir = write_outputs(res, tmp_path / "own")
    url = (run_dir / "report.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", dom.stdout)
    assert title is not None and title.group(1).startswith("ok:"), title
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", dom.stdout, flags=re.S)
    text = re.sub(r'src="data:[^"]*"', "", text)  # base64 pixels are not text
    for word in ("HSBC", "207", "Bain"):
        assert word not in text, word
    assert len(_answers(dom.stdout)) == 4
