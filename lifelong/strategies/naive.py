"""Naive fine-tuning: train on each task in turn with plain cross-entropy (the lower bound).

Nothing protects earlier tasks, so this shows catastrophic forgetting (McCloskey & Cohen 1989;
French 1999). Objective at task t: L_t(theta) = CE(f_theta(x), y) on task t's data only.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.core.registry import register
from lifelong.core.strategy import Strategy, StrategyConfig


@dataclass(frozen=True)
class NaiveConfig(StrategyConfig):
    """Naive fine-tuning has no hyperparameters."""


@register
class Naive(Strategy):
    """Fine-tuning on the current task only."""

    name = "naive"
    config_class = NaiveConfig
    paper = "fine-tuning baseline (McCloskey & Cohen 1989)"
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss
    task_free = True
