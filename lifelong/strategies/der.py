"""Dark Experience Replay (Buzzega et al. 2020, "Dark Experience for General Continual Learning: a
Strong, Simple Baseline").

A reservoir memory of ``buffer_size`` examples stores each example with the logits z the network
gave it when it was seen. Each step adds a logit-matching term on a replay batch B_M::

    L = CE(f_theta(x), y) on B  +  alpha * mean_{(x', z') in B_M} ||f_theta(x') - z'||^2

DER++ (:mod:`lifelong.strategies.derpp`) adds beta * CE on the labels of a second replay batch.
Logits are stored over all output units, unmasked (as in the authors' code); the current batch's
logits are those of the forward pass used for its loss (before the optimizer step). The authors' code
also trains class-incremental streams on every output unit (``class_units=all``), so the stored
logits of classes still to come have been pushed down, and matching them keeps old examples away
from the new classes; with lifelong's default (``class_units=seen``) those units are untrained until
their task. With a memory filled at task end (``buffer_policy=task-balanced`` or
``class-balanced``, not in the paper) the stored logits are those of the model at the end of the
example's task.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lifelong.components.policy_memory import PolicyMemory
from lifelong.components.replay_config import ReplayPolicyConfig
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch


@dataclass(frozen=True)
class DERConfig(ReplayPolicyConfig):
    buffer_size: int = field(1000, "memory budget |M| in stored examples (with their logits)")
    alpha: float = field(0.3, "weight alpha of the logit-matching (MSE) term")

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.alpha >= 0, "alpha must be >= 0")


@register
class DER(PolicyMemory):
    """Replay stored logits with an MSE penalty."""

    name = "der"
    config_class = DERConfig
    paper = "Buzzega et al. 2020, Dark Experience for General Continual Learning"
    task_free = True
    stores_logits = True
    config: DERConfig

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
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

    def step_logits(self, batch: Batch) -> torch.Tensor | None:
        logits, self._logits = self._logits, None
        return logits
