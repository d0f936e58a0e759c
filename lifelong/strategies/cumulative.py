"""Cumulative training: at task t, train on the data of tasks 0..t (a stronger upper bound baseline).

``budget`` sets each task's training budget:

* ``scaled`` (default): the budget grows with the data: ``epochs`` passes over the union, or (t+1)
  times the per-task iterations, so every task's data gets the same number of passes as under naive
  fine-tuning.
* ``fixed``: every task costs what naive fine-tuning's costs: ``iterations`` steps (or as many steps
  as ``epochs`` passes over the current task's data) on batches drawn from the union. This is the
  "offline" upper bound of van de Ven & Tolias 2019 (arXiv:1904.07734; their ``--replay=offline``
  in the domain- and class-incremental scenarios: one data loader over the tasks so far, ``iters``
  steps per task).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lifelong.core.fields import field
from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class CumulativeConfig(StrategyConfig):
    """Hyperparameters of cumulative training."""

    budget: Literal["scaled", "fixed"] = field(
        "scaled",
        "per-task budget: (t+1) tasks' worth at task t (scaled) or one task's worth (fixed)",
    )


@register
class Cumulative(Strategy):
    """Retrain on everything seen so far at every task."""

    name = "cumulative"
    config_class = CumulativeConfig
    config: CumulativeConfig
    paper = "cumulative (incremental joint) training"
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def training_tasks(self, task: Task) -> list[int]:
        return list(range(task.index + 1))

    def budget_tasks(self, task: Task) -> list[int]:
        return [task.index] if self.config.budget == "fixed" else self.training_tasks(task)
