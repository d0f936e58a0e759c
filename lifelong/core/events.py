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

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None: ...

    def evaluated(self, global_iteration: int, task: int, accuracies: Sequence[float]) -> None: ...

    def task_done(self, task: int, accuracies: Sequence[float]) -> None: ...

    def run_done(self, metrics: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class Observers(Observer):
    """Fan events out to several observers."""

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self.observers = list(observers)

    def __getattribute__(self, name: str) -> Any:
        if name in Observer.__dict__ and not name.startswith("_"):
            members = object.__getattribute__(self, "observers")

            def fan_out(*args: Any, **kwargs: Any) -> None:
                for observer in members:
                    getattr(observer, name)(*args, **kwargs)

            return fan_out
        return object.__getattribute__(self, name)
