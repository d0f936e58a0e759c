"""Observers see what the loop does and cannot change it: progress bars, logs, TensorBoard.

An observer receives plain numbers (never the model or the strategy), so it cannot alter training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Observer:
    """Base observer: every event is a no-op."""

    def run_started(self, info: dict[str, Any]) -> None: ...

    def task_started(self, task: int, iterations: int) -> None: ...

    def iteration_done(
        self, task: int, iteration: int, global_iteration: int, loss: float
    ) -> None: ...

    def evaluated(self, global_iteration: int, task: int, accuracies: Sequence[float]) -> None:
        """A curve point during ``task``: the accuracies of tasks 0..task, those trained so far
        (``curve_samples`` examples each); ``task_done`` gets every task's."""

    def task_done(self, task: int, accuracies: Sequence[float]) -> None: ...

    def run_done(self, metrics: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class Observers(Observer):
    """Fan events out to several observers, in order."""

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self.observers = list(observers)

    def run_started(self, info: dict[str, Any]) -> None:
        for o in self.observers:
            o.run_started(info)

    def task_started(self, task: int, iterations: int) -> None:
        for o in self.observers:
            o.task_started(task, iterations)

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        for o in self.observers:
            o.iteration_done(task, iteration, global_iteration, loss)

    def evaluated(self, global_iteration: int, task: int, accuracies: Sequence[float]) -> None:
        for o in self.observers:
            o.evaluated(global_iteration, task, accuracies)

    def task_done(self, task: int, accuracies: Sequence[float]) -> None:
        for o in self.observers:
            o.task_done(task, accuracies)

    def run_done(self, metrics: dict[str, Any]) -> None:
        for o in self.observers:
            o.run_done(metrics)

    def close(self) -> None:
        for o in self.observers:
            o.close()
