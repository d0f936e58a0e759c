"""Generative replay (Shin et al. 2017, "Continual Learning with Deep Generative Replay"; van de Ven
et al. 2020, "Brain-inspired replay for continual learning with artificial neural networks").

A VAE generator (:class:`lifelong.models.vae.VAE`) is trained alongside the classifier. At task t >
1 each step also draws ``replay_batch_size`` inputs x~ from the generator frozen at the end of the
previous task, labels them with the classifier frozen at that time (hard labels, or soft targets
with distillation at ``temperature``), and the objective, weighted by the number of tasks seen as in
van de Ven & Tolias 2018, is::

    L = (1/t) [CE(x, y) + L_VAE(x)] + (1 - 1/t) [L_replay(x~) + L_VAE(x~)]

with L_VAE the negative ELBO per input value. The generator's loss is part of the training loss, so
the run's optimizer trains classifier and generator together. The frozen copies are in evaluation
mode (:mod:`lifelong.components.frozen`). Memory budget: no stored examples; the generator and the
two frozen copies are counted in ``strategy_memory_bytes``.
``average_units=True`` divides the distillation by the number of units an example is classified
over, as van de Ven & Tolias' code did before its commit 26f00db (May 2019); a diagnosis of the
published numbers, not for use.
Deviations: one optimizer for both networks (the papers train them with separate optimizers, which
is equivalent here because their parameters do not overlap except through Adam's shared settings).
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
from lifelong.models.vae import VAE


@dataclass(frozen=True)
class GenerativeReplayConfig(StrategyConfig):
    replay_batch_size: int = field(128, "generated inputs replayed per step")
    generator_hidden: tuple[int, ...] = field(
        (400, 400), "VAE encoder widths (decoder mirrors them)"
    )
    latent_size: int = field(100, "dimension of the VAE's latent z")
    likelihood: Literal["bernoulli", "gaussian"] = field(
        "bernoulli", "VAE decoder likelihood: bernoulli for inputs in [0, 1], gaussian otherwise"
    )
    labels: Literal["hard", "soft"] = field("hard", "hard: teacher's argmax; soft: distillation")
    temperature: float = field(2.0, "distillation temperature T (soft labels)")
    average_units: bool = field(
        False,
        "soft labels: average the distillation over the units the setting allows instead of "
        "summing them (van de Ven & Tolias' code before its fix 26f00db of May 2019; for "
        "diagnosis only)",
    )

    def __post_init__(self) -> None:
        check(self.replay_batch_size >= 1, "replay_batch_size must be >= 1")
        check(
            len(self.generator_hidden) >= 1 and min(self.generator_hidden) >= 1,
            "generator_hidden must list positive widths",
        )
        check(self.latent_size >= 1, "latent_size must be >= 1")
        check(self.temperature > 0, "temperature must be > 0")


@register
class GenerativeReplay(Strategy):
    """Replay VAE samples labelled by the previous classifier."""

    name = "generative-replay"
    config_class = GenerativeReplayConfig
    paper = "Shin et al. 2017; van de Ven et al. 2020 (generative replay with a VAE)"
    config: GenerativeReplayConfig
    has_teacher: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        if is_tokens(context.scenario.dataset):
            raise ConfigError(
                f"{self.name} generates inputs with a VAE; text (token) inputs are not supported"
            )
        self.generator = VAE(
            context.scenario.input_shape,
            config.generator_hidden,
            config.latent_size,
            config.likelihood,
        )
        self.old_generator = Frozen(self.generator)
        self.teacher = Frozen(model)
        self.register_buffer("has_teacher", torch.zeros((), dtype=torch.bool))

    def loss(self, batch: Batch) -> torch.Tensor:
        rng = self.context.rng
        current = self.classification_loss(batch) + self.generator.loss(batch.x, rng)
        if not self.has_teacher:
            return current
        x = self.old_generator.network.sample(self.config.replay_batch_size, rng)
        replay = replayed_loss(
            self,
            self.teacher,
            x,
            soft=self.config.labels == "soft",
            temperature=self.config.temperature,
        )
        if self.config.average_units and self.config.labels == "soft":
            replay = replay / self.units_per_example()
        r = 1.0 / self.context.tasks_seen
        return r * current + (1 - r) * (replay + self.generator.loss(x, rng))

    def units_per_example(self) -> int:
        """How many output units an example is classified over now (its head's in task-IL)."""
        scenario = self.context.scenario
        if scenario.setting == "task":
            return len(scenario.tasks[0].classes)
        mask = self.output_mask(None)
        return scenario.num_outputs if mask is None else int(mask.sum())

    def before_task(self, task: Task) -> None:
        if self.config.likelihood == "bernoulli":
            # A Bernoulli likelihood of values outside [0, 1] has no minimum: the VAE loss diverges.
            probe = task.train_indices[:256]
            x, _ = self.context.scenario.train_batch(torch.full_like(probe, task.index), probe)
            if float(x.min()) < 0 or float(x.max()) > 1:
                raise ConfigError(
                    f"generative-replay: the bernoulli likelihood needs inputs in [0, 1], but task "
                    f"{task.index}'s inputs range over [{float(x.min()):.3g}, {float(x.max()):.3g}]"
                    "; set likelihood=gaussian"
                )

    def after_task(self, task: Task) -> None:
        self.teacher.copy_from(self.model)
        self.old_generator.copy_from(self.generator)
        self.has_teacher.fill_(True)

    def extra_metrics(self) -> dict[str, Any]:
        params = sum(p.numel() for p in self.generator.parameters())
        return {
            "buffer_capacity_examples": 0,
            "generator_parameters": params,
            "generator_bytes": params * 4,
        }
