"""Dark Experience Replay (Buzzega et al. 2020, "Dark Experience for General Continual Learning: a
Strong, Simple Baseline").

A reservoir memory of ``buffer_size`` examples stores each example with the logits z the network
gave it when it was seen. Each step adds a logit-matching term on a replay batch B_M::

    L = CE(f_theta(x), y) on B  +  alpha * mean_{(x', z') in B_M} ||f_theta(x') - z'||^2

DER++ (:mod:`lifelong.strategies.derpp`) adds beta * CE on the labels of a second replay batch.
Logits are stored over all output units, unmasked (as in the authors' code); the current batch's
logits are those of the forward pass used for its loss (before the optimizer step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from lifelong.components.buffer import ReplayBuffer, make_buffer
from lifelong.components.replay_config import ReplayConfig
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy
from lifelong.strategies.er import replay_metrics


@dataclass(frozen=True)
class DERConfig(ReplayConfig):
    buffer_size: int = field(1000, "memory budget |M| in stored examples (with their logits)")
    alpha: float = field(0.3, "weight alpha of the logit-matching (MSE) term")

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.alpha >= 0, "alpha must be >= 0")


@register
class DER(Strategy):
    """Replay stored logits with an MSE penalty."""

    name = "der"
    config_class = DERConfig
    paper = "Buzzega et al. 2020, Dark Experience for General Continual Learning"
    task_free = True
    config: DERConfig
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer = make_buffer(config.buffer_size, context.scenario, config.storage, logits=True)
        self._logits: torch.Tensor | None = None  # current batch's logits, from loss to after_step

    def loss(self, batch: Batch) -> torch.Tensor:
        ids = self.routing_ids(batch)
        logits = self(batch.x, ids)
        self._logits = logits.detach()
        loss = F.cross_entropy(self.masked_logits(logits, ids), batch.y)
        if len(self.buffer) > 0:
            loss = loss + self.replay_loss()
        return loss

    def replay_loss(self) -> torch.Tensor:
        replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
        ids = replay.task_ids if self.context.scenario.setting == "task" else None
        assert replay.logits is not None  # this buffer stores logits
        return self.config.alpha * F.mse_loss(self(replay.x, ids), replay.logits)

    def after_step(self, batch: Batch) -> None:
        self.buffer.add_reservoir(
            batch.x, batch.y, batch.task_ids, self.context.rng, logits=self._logits
        )
        self._logits = None

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)
