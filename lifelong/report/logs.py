"""The terminal progress bar (the per-iteration CSV log is :mod:`lifelong.core.logs`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from lifelong.core.events import Observer


class ProgressBar(Observer):
    """A tqdm bar per task showing iteration, loss and ETA; silent when stderr is not a terminal."""

    def __init__(self, *, enabled: bool | None = None, label: str = "") -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.label = label
        self.bar: Any = None
        self.tasks = 0

    def run_started(self, info: dict[str, Any]) -> None:
        self.tasks = int(info.get("tasks", 0))

    def task_started(self, task: int, iterations: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(
            total=iterations,
            desc=f"{self.label}task {task + 1}/{self.tasks}",
            leave=False,
            dynamic_ncols=True,
        )

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if iteration % 10 == 0:
                self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def task_done(self, task: int, accuracies: Sequence[float]) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
