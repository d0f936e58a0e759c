"""The code stays clean: ruff (lint and format) and mypy pass on the whole project.

Each tool runs as a subprocess from the repository root with the options in ``pyproject.toml``, so a
failure here reproduces with the same command line (shown in the failure message, with the tool's
output). mypy keeps its incremental cache in ``.mypy_cache``: a cold run (fresh CI checkout) takes
about 25-30 s of CPU, a warm one about 2 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINTED = ("lifelong", "tests", "bench", "examples")


def _passes(*command: str) -> None:
    """Run ``python -m <command>`` from the repository root; fail with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # only a guard against a hung tool; a cold mypy run needs well under a minute
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        pytest.fail(
            f"`python -m {' '.join(command)}` exited with {result.returncode}:\n{output}",
            pytrace=False,
        )


def test_ruff_check_passes() -> None:
    _passes("ruff", "check", *LINTED)


def test_ruff_format_check_passes() -> None:
    _passes("ruff", "format", "--check", *LINTED)


def test_mypy_passes() -> None:
    _passes("mypy")  # files and options from [tool.mypy] in pyproject.toml


def test_layers_contract_holds() -> None:
    """Layers import downward only, no circles between them ([tool.importlinter] in
    pyproject.toml): errors < data | models | metrics < core < components < strategies |
    experiments | testing < report < cli."""
    import shutil

    tool = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run(
        [tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(f"`lint-imports` failed:\n{result.stdout}{result.stderr}", pytrace=False)
