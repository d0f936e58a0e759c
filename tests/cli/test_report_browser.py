"""report.html renders in a real browser: headless Chromium screenshots a non-blank page with plots.

Needs Chromium (Debian: ``apt-get install -y chromium``; .ci/run installs it): without it the test is
skipped, or fails under CI (``CI=true``); see the ``chromium`` fixture in tests/conftest.py.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from lifelong.cli import main

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,2000",
]


def screenshot(browser: str, page: Path, png: Path) -> np.ndarray:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert png.is_file(), done.stderr[-2000:]
    return np.asarray(Image.open(png).convert("RGB"), dtype=float)


def colourful_fraction(pixels: np.ndarray) -> float:
    """Share of clearly coloured (not grey/white/black) pixels: plot lines, bars and heatmaps."""
    return float(((pixels.max(axis=2) - pixels.min(axis=2)) > 60).mean())


def test_comparison_report_renders_in_chromium(tmp_path, chromium):
    out = tmp_path / "c"
    assert (
        main(
            [
                "compare",
                "--benchmark",
                "split-digits",
                "--strategies",
                "naive,cumulative",
                "--seeds",
                "0,1",
                "--iterations",
                "5",
                "--batch-size",
                "32",
                "--hidden",
                "16",
                "--eval-every",
                "5",
                "--threads",
                "1",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    pixels = screenshot(chromium, out / "report.html", tmp_path / "shot.png")
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels.std() > 20  # not a blank page
    assert colourful_fraction(pixels) > 0.02  # the embedded plots were decoded and drawn

    # The colour check tells a page whose images failed to decode from a real report.
    broken = tmp_path / "broken.html"
    broken.write_text((out / "report.html").read_text().replace("base64,iVBOR", "base64,xxxx"))
    assert colourful_fraction(screenshot(chromium, broken, tmp_path / "broken.png")) < 0.02

    # A single run's page renders too.
    single = out / "runs" / "naive-s0"
    assert main(["report", str(single)]) == 0
    pixels = screenshot(chromium, single / "report.html", tmp_path / "single.png")
    assert pixels.std() > 20 and colourful_fraction(pixels) > 0.02
