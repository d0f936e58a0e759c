"""ER-ACE (Caccia et al. 2022, "New Insights on Reducing Abrupt Representation Change in Online
Continual Learning", ICLR): experience replay with an asymmetric cross-entropy.

The incoming batch B's cross-entropy normalises only over the classes present in B (C_B), so
learning new classes does not push down the logits of the stored ones; the replay batch B_M from a
reservoir memory uses the usual cross-entropy over every class seen::

    L = CE_{C_B}(f_theta(x), y) on B  +  CE(f_theta(x'), y') on B_M

Deviation: none in the objective (logits outside C_B are masked to -1e9 rather than removed); the
replay term also uses the setting's mask (the units seen so far in class-incremental runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from lifelong.components.buffer import ReplayBuffer, make_buffer
from lifelong.components.policy_memory import replay_metrics
from lifelong.components.replay_config import ReplayConfig
from lifelong.core.fields import field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy


@dataclass(frozen=True)
class ERACEConfig(ReplayConfig):
    buffer_size: int = field(500, "memory budget |M| in stored examples (reservoir)")
    replay_batch_size: int = field(10, "replayed examples per step (|B_M|)")


def present_class_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``logits`` with every unit absent from the labels ``y`` set to -1e9."""
    present = torch.zeros(logits.shape[1], dtype=torch.bool, device=logits.device)
    present[y] = True
    return logits.masked_fill(~present, -1e9)


@register
class ERACE(Strategy):
    """ER with the incoming batch's cross-entropy restricted to the classes it contains."""

    name = "er-ace"
    config_class = ERACEConfig
    paper = "Caccia et al. 2022, New Insights on Reducing Abrupt Representation Change in OCL"
    task_free = True
    config: ERACEConfig
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer = make_buffer(config.buffer_size, context.scenario, config.storage)

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = F.cross_entropy(present_class_logits(self.batch_logits(batch), batch.y), batch.y)
        if len(self.buffer) > 0:
            replay = self.buffer.sample(self.config.replay_batch_size, self.context.rng)
            loss = loss + self.classification_loss(Batch(replay.x, replay.y, replay.task_ids))
        return loss

    def after_step(self, batch: Batch) -> None:
        self.buffer.add_reservoir(batch.x, batch.y, batch.task_ids, self.context.rng)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)
