"""The report renders in headless Chromium: the figure and the tables are visible.

Skipped when Chromium is missing, except under CI=true (CI installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from restraint.study.figure import COLOURS

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required under CI=true (apt-get install chromium)")
        pytest.skip("chromium not installed")
    return exe


@pytest.fixture(scope="module")
def report(fixture_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "out"
    fixture_run.write(out)
    return out / "report.html"


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_report_dom_has_tables_and_figure(report: Path, tmp_path: Path) -> None:
    res = _run(["--dump-dom", report.as_uri()], tmp_path)
    dom = res.stdout
    assert res.returncode == 0, res.stderr[-2000:]
    for tid in ("table1", "table2", "table3", "table4", "table5", "table6", "tableA1"):
        assert f'id="{tid}"' in dom, tid
    assert 'id="figure1-img"' in dom and "data:image/png;base64," in dom
    assert "Agreement with the paper" in dom and "Provenance" in dom
    assert "-0.338**" in dom  # Model 5's MP, as in Table 4


def _near(img: np.ndarray, hex_colour: str, tol: int = 40) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img[..., :3].astype(int) - rgb).max(axis=-1) <= tol).sum())


def test_report_screenshot_shows_figure_and_tables(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "shot.png"
    res = _run([f"--screenshot={shot}", "--window-size=1200,3000", report.as_uri()], tmp_path)
    assert shot.exists(), res.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] >= 2000 and img.shape[1] >= 1000
    # Not blank: plenty of non-white pixels, and dark text (the tables) among them.
    non_white = (img < 235).any(axis=-1).mean()
    assert non_white > 0.02
    assert ((img < 80).all(axis=-1)).sum() > 5000
    # The figure's line colours are on screen (drawn only by the embedded PNG).
    assert _near(img, COLOURS[0]) > 200
    assert _near(img, COLOURS[1]) > 100
