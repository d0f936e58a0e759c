"""Pseudo-rehearsal (Robins 1995, "Catastrophic forgetting, rehearsal and pseudorehearsal").

No examples are stored. At task t > 1 each step draws ``replay_batch_size`` random inputs (uniform
in [0, 1], or binary with p = 0.5 as in Robins' pseudo-items), labels them with the model frozen at
the end of the previous task (in evaluation mode, :mod:`lifelong.components.frozen`) and replays
them with distillation at ``temperature``::

    L = CE(f_theta(x), y) + strength * KD(f_theta(x_rand), f_old(x_rand); T)

over the past tasks' output units (see :mod:`lifelong.components.rehearsal`). Deviation: Robins used
the previous network's binary outputs as targets for a squared-error loss; here the targets are the
softened class probabilities (distillation, Hinton et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from lifelong.components.frozen import Frozen
from lifelong.components.rehearsal import replayed_loss
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy, StrategyConfig
from lifelong.data.scenarios import Task
from lifelong.data.text import is_tokens
from lifelong.errors import ConfigError


@dataclass(frozen=True)
class PseudoRehearsalConfig(StrategyConfig):
    replay_batch_size: int = field(128, "random pseudo-items replayed per step")
    noise: Literal["uniform", "bernoulli"] = field("uniform", "distribution of the random inputs")
    strength: float = field(1.0, "weight of the pseudo-item distillation term")
    temperature: float = field(2.0, "distillation temperature T")

    def __post_init__(self) -> None:
        check(self.replay_batch_size >= 1, "replay_batch_size must be >= 1")
        check(self.strength >= 0, "strength must be >= 0")
        check(self.temperature > 0, "temperature must be > 0")


@register
class PseudoRehearsal(Strategy):
    """Distil the previous model's outputs on random inputs."""

    name = "pseudo-rehearsal"
    config_class = PseudoRehearsalConfig
    paper = "Robins 1995, Catastrophic forgetting, rehearsal and pseudorehearsal"
    config: PseudoRehearsalConfig
    has_teacher: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        if is_tokens(context.scenario.dataset):
            raise ConfigError(
                f"{self.name} replays random continuous inputs; text (token) inputs are not supported"
            )
        self.teacher = Frozen(model)
        self.register_buffer("has_teacher", torch.zeros((), dtype=torch.bool))

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.classification_loss(batch)
        if not self.has_teacher:
            return loss
        shape = (self.config.replay_batch_size, *self.context.scenario.input_shape)
        x = torch.rand(shape, generator=self.context.rng)
        if self.config.noise == "bernoulli":
            x = (x < 0.5).float()
        replay = replayed_loss(
            self, self.teacher, x.to(batch.x.device), soft=True, temperature=self.config.temperature
        )
        return loss + self.config.strength * replay

    def after_task(self, task: Task) -> None:
        self.teacher.copy_from(self.model)
        self.has_teacher.fill_(True)

    def extra_metrics(self) -> dict[str, Any]:
        return {"buffer_capacity_examples": 0, "teacher_bytes": self.memory_bytes()}
