"""Cumulative training: at task t, train on the data of tasks 0..t (a stronger upper bound baseline).

Each task's budget scales with the data: ``epochs`` passes over the union, or (t+1) times the per-task
iterations, so every task's data gets the same number of passes as under naive fine-tuning.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class CumulativeConfig(StrategyConfig):
    """Cumulative training has no hyperparameters."""


@register
class Cumulative(Strategy):
    """Retrain on everything seen so far at every task."""

    name = "cumulative"
    config_class = CumulativeConfig
    paper = "cumulative (incremental joint) training"
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def training_tasks(self, task: Task) -> list[int]:
        return list(range(task.index + 1))
