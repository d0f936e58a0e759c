"""The own-model, own-loop and plugin examples run as users run them: separate processes, the
public API, one thread.

The plugin package in examples/plugin_strategy is used both ways: named with ``--plugin`` and
installed (editable, offline) into a temporary virtual environment, where lifelong finds it through
its ``lifelong.strategies`` entry point.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
PLUGIN = EXAMPLES / "plugin_strategy"
TINY = ["--benchmark", "split-digits", "--iterations", "10", "--hidden", "16", "--quiet"]
TINY += ["--eval-every", "0", "--threads", "1"]


def python(
    *args: str,
    executable: str = sys.executable,
    path: tuple[Path, ...] = (),
    data_root: Path | None = None,
    **kwargs,
):
    """Run ``python args`` with this checkout (and ``path``) importable, reading real data from
    ``data_root`` (the folder the ``shared_data`` fixture found); fail with its output."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT, *path)),
        "OMP_NUM_THREADS": "1",
    }
    if data_root is not None:
        env["LIFELONG_DATA"] = str(data_root)
    result = subprocess.run(
        [executable, *args], env=env, capture_output=True, text=True, timeout=600, **kwargs
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_own_model_cnn_trains_a_user_cnn_with_ewc_and_lwf(shared_data):
    out = python(str(EXAMPLES / "own_model_cnn.py"), data_root=shared_data)
    assert "SmallConvNet on split-mnist, task-incremental" in out
    rows = {
        line.split(":")[0].strip(): line for line in out.splitlines() if "average accuracy" in line
    }
    assert set(rows) == {"naive", "ewc", "lwf"}
    assert "config recorded as model: user:SmallConvNet" in out


def test_own_loop_builds_an_accuracy_matrix_with_evaluate():
    out = python(str(EXAMPLES / "own_loop.py"))
    R = [
        [float(v) for v in line.split(": ")[1].split()]
        for line in out.splitlines()
        if line.startswith("after task")
    ]
    assert len(R) == 5 and all(len(row) == 5 for row in R)
    # plain fine-tuning, class-incremental: each task is learned, then forgotten
    assert all(R[i][i] > 0.9 for i in range(5)) and R[4][0] < 0.1
    assert "average forgetting" in out


def test_plugin_strategy_runs_with_plugin_flag_and_meets_the_contract(tmp_path):
    out = python(
        "-m",
        "lifelong",
        "run",
        *TINY,
        "--plugin",
        "l2_anchor",
        "-s",
        "l2-anchor",
        "--set",
        "strength=5",
        "--out",
        str(tmp_path / "run"),
        path=(PLUGIN,),
    )
    assert "l2-anchor on split-digits" in out
    assert "plugins:\n- l2_anchor" in (tmp_path / "run" / "config.yaml").read_text()
    checks = python(
        "-c",
        "import l2_anchor\nfrom lifelong.testing import check_strategy\n"
        "print(check_strategy('l2-anchor'))",
        path=(PLUGIN,),
    )
    assert "resume-mid-task" in checks


def test_plugin_strategy_installed_in_a_venv_is_found_by_its_entry_point(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        timeout=300,
    )
    venv_python = str(venv / "bin" / "python")
    source = shutil.copytree(PLUGIN, tmp_path / "plugin_strategy")  # the build writes egg-info
    python(
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-e",
        str(source),
        executable=venv_python,
    )
    listed = python("-m", "lifelong", "list", "strategies", executable=venv_python, cwd=tmp_path)
    assert "l2-anchor  [task, domain, class]  Kirkpatrick et al. 2017" in listed
    assert "(plugin: l2_anchor)" in listed
    out = python(
        "-m", "lifelong", "run", *TINY, "-s", "l2-anchor", executable=venv_python, cwd=tmp_path
    )
    assert "l2-anchor on split-digits" in out
