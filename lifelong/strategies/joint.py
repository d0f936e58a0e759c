"""Joint training: one model trained on all tasks' data at once (the upper bound).

As in Mammoth's ``joint``, the data of every task becomes available at the end of the stream: nothing
is trained while tasks 0..T-2 arrive (their rows of the accuracy matrix show the untrained model), and
at the last task the model trains on the union of all tasks with a budget of T times the per-task
iterations (or the given epochs over the union). Only the final row is meaningful: read the average
accuracy, not the forgetting, of this baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class JointConfig(StrategyConfig):
    """Joint training has no hyperparameters."""


@register
class Joint(Strategy):
    """Train once, on every task's data, when the last task arrives."""

    name = "joint"
    config_class = JointConfig
    paper = "joint (multi-task / offline) training upper bound"
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def training_tasks(self, task: Task) -> list[int]:
        last = self.context.scenario.num_tasks - 1
        return list(range(last + 1)) if task.index == last else []
