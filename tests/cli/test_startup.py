"""Start-up: commands import only what they use (issue 15).

Each case runs in a fresh interpreter and reports which modules it ended up importing; heavy optional
libraries must be absent, and the help and the bare ``import lifelong`` must not even import torch.
Behaviour, not timing: a lazily imported library is never paid for by a command that does not use it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "ray", "peft", "transformers", "scipy", "sklearn", "tensorboard", "pandas")

PROBE = """
import json, sys
{statement}
print("MODULES=" + json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})), file=sys.stderr)
"""
RUN_CLI = """
from lifelong.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
"""


def imported_by(statement: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter running ``statement``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


@pytest.mark.parametrize(
    "statement",
    [
        "import lifelong",
        "import lifelong.cli; lifelong.cli.build_parser()",
        RUN_CLI.format(argv=["--help"]),
        RUN_CLI.format(argv=["run", "--help"]),
        RUN_CLI.format(argv=["sweep", "--help"]),
    ],
    ids=["import-lifelong", "build-parser", "help", "run-help", "sweep-help"],
)
def test_help_and_bare_import_do_not_import_torch(statement):
    modules = imported_by(statement)
    assert "lifelong" in modules
    assert not modules & {"torch", "numpy", *HEAVY}, sorted(modules & {"torch", "numpy", *HEAVY})


def test_list_imports_no_optional_heavy_library():
    modules = imported_by(RUN_CLI.format(argv=["list"]))
    assert "torch" in modules  # it lists the strategies, which are torch modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_public_names_still_import_from_the_package():
    modules = imported_by(
        "import lifelong\n"
        "from lifelong import RunConfig, Strategy, run, scenario_from_tensors\n"
        "assert lifelong.metrics.average_accuracy([[1.0]]) == 1.0\n"
        "assert set(lifelong.__all__) <= set(dir(lifelong))"
    )
    assert "torch" in modules
