"""TensorBoard event files: training loss per iteration and task accuracies at every evaluation.

Scalars: ``loss/train`` (x: global iteration), ``accuracy/task_<j>`` and ``accuracy/average_seen``
at curve evaluations (``loss/task_<j>`` and ``loss/average_seen`` for a language-modelling run), and
``final/task_<j>`` after each task (x: number of tasks trained). View with
``tensorboard --logdir RUN/tensorboard``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lifelong.core.events import Observer


class TensorBoardLog(Observer):
    """Write events under ``out_dir/tensorboard`` (needs the ``tensorboard`` package)."""

    def __init__(self, out_dir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            from lifelong.errors import LifelongError

            raise LifelongError(
                "--tensorboard needs the tensorboard package: pip install 'lifelong[tensorboard]'"
            ) from None
        self.log_dir = Path(out_dir) / "tensorboard"
        self._writer_class = SummaryWriter
        self.writer: Any = None  # created when the run starts, after its folder is checked
        self.last_global = 0
        self.tasks_seen = 0
        self.scores = "accuracy"  # "loss" on a language-modelling stream

    def run_started(self, info: dict[str, Any]) -> None:
        self.writer = self._writer_class(log_dir=str(self.log_dir))
        self.scores = "loss" if info.get("objective") == "lm" else "accuracy"
        self.writer.add_text("run", ", ".join(f"{k}: {v}" for k, v in info.items()))

    def task_started(self, task: int, iterations: int) -> None:
        self.tasks_seen = task + 1

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        self.last_global = global_iteration
        self.writer.add_scalar("loss/train", loss, global_iteration)

    def evaluated(self, global_iteration: int, task: int, accuracies: Sequence[float]) -> None:
        for j, accuracy in enumerate(accuracies):
            self.writer.add_scalar(f"{self.scores}/task_{j + 1}", accuracy, global_iteration)
        seen = list(accuracies[: task + 1])
        average = sum(seen) / len(seen)
        self.writer.add_scalar(f"{self.scores}/average_seen", average, global_iteration)

    def task_done(self, task: int, accuracies: Sequence[float]) -> None:
        self.evaluated(self.last_global, task, accuracies)
        for j, accuracy in enumerate(accuracies):
            self.writer.add_scalar(f"final/task_{j + 1}", accuracy, task + 1)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
