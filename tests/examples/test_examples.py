"""The example scripts run as a user runs them (``python examples/NAME.py`` from a checkout) and
print what their docstrings promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_example(name: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"{name} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _matrices(output: str) -> list[list[list[float]]]:
    """The accuracy matrices printed by an example, in order."""
    matrices: list[list[list[float]]] = []
    for line in output.splitlines():
        if line.startswith("accuracy matrix") or line.endswith("column: task j)"):
            matrices.append([])
        elif line.startswith("  ") and matrices:
            matrices[-1].append([float(v) for v in line.split()])
    return matrices


def test_own_tabular_data_example_trains_naive_and_ewc_on_features():
    output = _run_example("own_tabular_data.py")
    assert "3 tasks, inputs (20,), 2 units" in output
    naive, ewc = _matrices(output)
    assert len(naive) == len(ewc) == 3 and all(len(row) == 3 for row in naive + ewc)
    # naive forgets task 0 more than EWC does
    assert naive[0][0] - naive[2][0] > ewc[0][0] - ewc[2][0]


def test_own_image_folder_example_reads_the_folder_in_memory_and_lazily():
    output = _run_example("own_image_folder.py")
    assert "classes ('checkerboard', 'diagonal', 'horizontal', 'vertical')" in output
    assert "inputs (1, 16, 16)" in output
    naive, replay = _matrices(output)
    assert naive[1][0] < replay[1][0]  # replay keeps some of the first task
    assert "same accuracy matrix: True" in output
