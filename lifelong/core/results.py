"""Results on disk: the layout of run and comparison folders, the validated content of a run's
``metrics.json``, and statistics over seeds. The core writes results through this module; reports,
comparisons and sweeps read them through it (and import nothing from each other for it).

Layout of a run folder (see :mod:`lifelong.core.rundir` for who may write it)::

    metrics.json          RunResults: accuracy matrix, metrics, curve, configuration, fingerprint
    config.yaml           the resolved configuration (``lifelong run --config`` repeats the run)
    accuracy_matrix.csv   R[i][j]: accuracy on task j after training task i
    curves.png, log.csv, checkpoint.pt, error.txt (a failed run in a comparison)

Layout of a comparison folder: ``compare.yaml``, ``outcomes.json`` and ``runs/<strategy>-s<seed>/``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifelong.core.config import current_names
from lifelong.errors import LifelongError

METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.yaml"
MATRIX_FILE = "accuracy_matrix.csv"
CURVES_FILE = "curves.png"
LOG_FILE = "log.csv"
CHECKPOINT_FILE = "checkpoint.pt"
ERROR_FILE = "error.txt"
COMPARE_FILE = "compare.yaml"
OUTCOMES_FILE = "outcomes.json"
RUNS_FOLDER = "runs"


def run_name(strategy: str, seed: int) -> str:
    """The folder name of one run of a comparison."""
    return f"{strategy}-s{seed}"


REQUIRED = ("accuracy_matrix", "average_accuracy", "average_forgetting", "config", "curve")
# A language-modelling run (``"objective": "lm"``) holds a loss matrix instead (lower is better).
REQUIRED_LM = ("loss_matrix", "average_loss", "average_loss_forgetting", "config", "curve")


def objective(metrics: Mapping[str, Any]) -> str:
    """What a run's tasks were learned for: ``classify`` or ``lm`` (language modelling)."""
    return str(metrics.get("objective", "classify"))


def result_matrix(metrics: Mapping[str, Any]) -> list[list[float]]:
    """The run's matrix: the accuracy matrix, or a language-modelling run's loss matrix."""
    return metrics["loss_matrix" if objective(metrics) == "lm" else "accuracy_matrix"]


def load_metrics(folder: str | Path) -> dict[str, Any]:
    """The metrics of a finished run; a missing or corrupt file is a one-line error."""
    path = Path(folder) / METRICS_FILE
    if not path.is_file():
        raise LifelongError(f"{folder}: no metrics.json (the run has not finished)")
    try:
        metrics = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LifelongError(f"{path}: corrupt results file ({str(err).splitlines()[0]})") from None
    if not isinstance(metrics, dict):
        raise LifelongError(f"{path}: corrupt results file (not a mapping)")
    lm = objective(metrics) == "lm"
    missing = [key for key in (REQUIRED_LM if lm else REQUIRED) if key not in metrics]
    if missing:
        raise LifelongError(f"{path}: corrupt results file (missing '{missing[0]}')")
    if isinstance(metrics.get("config"), dict):
        metrics["config"] = current_names(metrics["config"])
    R = result_matrix(metrics)
    if not (isinstance(R, list) and R and all(isinstance(r, list) and len(r) == len(R) for r in R)):
        name = "loss_matrix" if lm else "accuracy_matrix"
        raise LifelongError(f"{path}: corrupt results file ({name} is not square)")
    return metrics


def matrix_csv(R: Sequence[Sequence[float]]) -> str:
    """The accuracy matrix as CSV (``accuracy_matrix.csv``)."""
    header = "trained_on," + ",".join(f"task_{j}" for j in range(len(R)))
    lines = [header] + [f"task_{i}," + ",".join(f"{v:.6f}" for v in row) for i, row in enumerate(R)]
    return "\n".join(lines) + "\n"


@dataclass
class Stat:
    """Mean, sample standard deviation and standard error of ``n`` values."""

    mean: float | None
    std: float | None
    sem: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Stat:
        xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        n = len(xs)
        if n == 0:
            return cls(None, None, None, 0)
        mean = sum(xs) / n
        if n == 1:
            return cls(mean, None, None, 1)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        return cls(mean, std, std / math.sqrt(n), n)


def check_same_objective(runs: Mapping[str, Mapping[str, Any]]) -> None:
    """Runs compared together (``name -> metrics``) must all be classification runs (accuracy,
    higher is better) or all language-modelling runs (loss, lower is better)."""
    kinds: dict[str, list[str]] = {}
    for name, metrics in runs.items():
        kinds.setdefault(objective(metrics), []).append(name)
    if len(kinds) > 1:
        raise LifelongError(
            f"cannot compare language-modelling runs (loss, lower is better: {kinds['lm'][0]}) "
            f"with classification runs (accuracy, higher is better: {kinds['classify'][0]})"
        )


def check_same_stream(configs: Mapping[str, Mapping[str, Any]]) -> None:
    """Runs in one comparison must share the benchmark, setting and number of tasks."""
    for key in ("benchmark", "setting", "tasks"):
        values = {name: c.get(key) for name, c in configs.items()}
        if len(set(map(str, values.values()))) > 1:
            shown = ", ".join(f"{name}: {v}" for name, v in list(values.items())[:4])
            raise LifelongError(
                f"the runs disagree on {key} ({shown}); compare runs of one scenario"
            )
