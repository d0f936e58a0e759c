"""DER++ (Buzzega et al. 2020, "Dark Experience for General Continual Learning: a Strong, Simple
Baseline").

DER (:mod:`lifelong.strategies.der`) plus a cross-entropy term on the stored labels of a second,
independently drawn replay batch B_M'::

    L = CE on B  +  alpha * MSE(f_theta(x'), z') on B_M  +  beta * CE(f_theta(x''), y'') on B_M'
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch
from lifelong.strategies.der import DER, DERConfig


@dataclass(frozen=True)
class DERppConfig(DERConfig):
    alpha: float = field(0.1, "weight alpha of the logit-matching (MSE) term")
    beta: float = field(0.5, "weight beta of the cross-entropy on replayed labels")

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.beta >= 0, "beta must be >= 0")


@register
class DERpp(DER):
    """DER with an extra cross-entropy on replayed labels."""

    name = "derpp"
    config_class = DERppConfig
    paper = "Buzzega et al. 2020, Dark Experience for General Continual Learning (DER++)"
    config: DERppConfig

    def replay_loss(self) -> torch.Tensor:
        replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
        return super().replay_loss() + self.config.beta * self.classification_loss(
            Batch(replay.x, replay.y, replay.task_ids)
        )
