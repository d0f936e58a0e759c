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

from lifelong.components.buffer import STORAGE, ReplayBuffer, Storage, make_buffer
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy, StrategyConfig
from lifelong.strategies.er import replay_metrics


@dataclass(frozen=True)
class DERConfig(StrategyConfig):
    buffer_size: int = field(1000, "memory budget |M| in stored examples (with their logits)")
    replay_batch_size: int = field(128, "replayed examples per step (|B_M|)")
    alpha: float = field(0.3, "weight alpha of the logit-matching (MSE) term")
    storage: Storage = field(
        "auto", "dtype of the stored inputs (auto: uint8 when lossless, else float32)"
    )

    def __post_init__(self) -> None:
        check(self.buffer_size >= 1, "buffer_size must be >= 1")
        check(self.replay_batch_size >= 1, "replay_batch_size must be >= 1")
        check(self.alpha >= 0, "alpha must be >= 0")
        check(self.storage in ("auto", *STORAGE), f"storage must be auto or one of {STORAGE}")


@register
class DER(Strategy):
    """Replay stored logits with an MSE penalty."""

    name = "der"
    config_class = DERConfig
    paper = "Buzzega et al. 2020, Dark Experience for General Continual Learning"
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
