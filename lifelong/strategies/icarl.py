"""iCaRL (Rebuffi et al. 2017, "iCaRL: Incremental Classifier and Representation Learning").

Class-incremental only. A fixed total memory of K = ``buffer_size`` exemplars is shared by the
classes seen so far (m = K // classes per class). Training on task t uses the current batch joined
with a batch of exemplars, and a sigmoid (binary cross-entropy) loss over the units of all seen
classes::

    L = - sum_{y in seen} [ d_y log s(g_y(x)) + (1 - d_y) log(1 - s(g_y(x))) ]

with targets d_y = 1[y = label] for the new classes and d_y = s(g*_y(x) / T), the sigmoid output
of the model frozen at the end of the previous task (in evaluation mode,
:mod:`lifelong.components.frozen`), for the old classes (distillation; T = ``temperature``, 1 in
the paper). After each task, every old class keeps its first m exemplars and each new class gets m
exemplars chosen by herding on the L2-normalised features phi(x).
Prediction is the nearest mean of exemplars::

    y* = argmin_y || phi(x) - mu_y ||,   mu_y = normalise(mean of phi over class y's exemplars)

``predictors()`` also evaluates the network's own head ("head" in metrics.json). Deviations:
exemplars are replayed as a mini-batch per step instead of being concatenated to the task's dataset;
no flipped-image feature averaging; the loss is summed over units and averaged over the batch.
Before a class has a mean (during its first task), prediction uses the head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from lifelong.components.buffer import Replay, ReplayBuffer, herding, joined, make_buffer
from lifelong.components.frozen import Frozen
from lifelong.components.policy_memory import replay_metrics
from lifelong.components.replay_config import ReplayConfig
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.scenarios import Task
from lifelong.errors import ConfigError
from lifelong.models.user import penultimate


@dataclass(frozen=True)
class ICaRLConfig(ReplayConfig):
    buffer_size: int = field(
        2000, "K: total exemplars, shared by all classes seen (m = K // classes)"
    )
    replay_batch_size: int = field(128, "exemplars joined to each training batch")
    temperature: float = field(
        1.0,
        "T of the old classes' targets s(g*_y(x) / T); 1 in Rebuffi et al., 2 in van de Ven & "
        "Tolias' code (its distillation temperature)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.temperature > 0, f"temperature must be > 0, got {self.temperature}")


@register
class ICaRL(Strategy):
    """Herding exemplars, sigmoid distillation and the nearest-mean-of-exemplars classifier."""

    name = "icarl"
    config_class = ICaRLConfig
    settings = frozenset({"class"})
    paper = "Rebuffi et al. 2017, iCaRL: Incremental Classifier and Representation Learning"
    config: ICaRLConfig
    buffer: ReplayBuffer
    has_teacher: torch.Tensor
    class_means: torch.Tensor
    has_mean: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        outputs = context.scenario.num_outputs
        if config.buffer_size < outputs:
            raise ConfigError(
                f"icarl: buffer_size ({config.buffer_size}) must be >= the number of "
                f"classes ({outputs}) so every class keeps an exemplar"
            )
        self.buffer = make_buffer(config.buffer_size, context.scenario, config.storage)
        self.teacher = Frozen(model)
        self.register_buffer("has_teacher", torch.zeros((), dtype=torch.bool))
        dim = model.get_submodule(context.output_layer).in_features  # features: its input
        self.register_buffer("class_means", torch.zeros(outputs, dim))
        self.register_buffer("has_mean", torch.zeros(outputs, dtype=torch.bool))

    def loss(self, batch: Batch) -> torch.Tensor:
        if len(self.buffer) > 0:
            batch = joined(batch, self.exemplar_batch())
        seen = self.context.scenario.seen_units(self.context.tasks_seen)
        logits = self(batch.x)
        targets = F.one_hot(batch.y, len(seen)).float()
        if self.has_teacher:
            old = self.context.scenario.seen_units(self.context.tasks_seen - 1)
            targets[:, old] = torch.sigmoid(self.teacher(batch.x)[:, old] / self.config.temperature)
        bce = F.binary_cross_entropy_with_logits(
            logits[:, seen], targets[:, seen], reduction="none"
        )
        return bce.sum(1).mean()

    def exemplar_batch(self) -> Replay:
        """The exemplars joined to a training batch: ``replay_batch_size`` drawn from the memory."""
        return self.buffer.sample(self.config.replay_batch_size, self.context.rng)

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised features phi(x), computed in chunks in evaluation mode."""
        was_training = self.training
        self.eval()
        layer = self.context.output_layer
        phi = torch.cat(
            [F.normalize(penultimate(self.model, layer, c), dim=1) for c in x.split(1000)]
        )
        self.train(was_training)
        return phi

    def after_task(self, task: Task) -> None:
        self.teacher.copy_from(self.model)
        self.has_teacher.fill_(True)
        scenario = self.context.scenario
        seen = scenario.seen_units(task.index + 1)
        per_class = self.config.buffer_size // int(seen.sum())
        self.buffer.keep_first_per_class(per_class)
        ids = torch.full_like(task.train_indices, task.index)
        x, y = scenario.train_batch(ids, task.train_indices)
        for unit in task.classes:
            members = torch.nonzero(y == unit).flatten()
            chosen = members[herding(self.features(x[members]), per_class)]
            self.buffer.append(x[chosen], y[chosen], ids[chosen])
        stored = self.buffer.get(self.buffer.indices())
        phi = self.features(stored.x)
        sums = torch.zeros_like(self.class_means).index_add_(0, stored.y, phi)
        self.class_means.copy_(F.normalize(sums, dim=1))
        self.has_mean.copy_(torch.bincount(stored.y, minlength=len(sums)) > 0)

    def predict(
        self,
        x: torch.Tensor,
        task_ids: torch.Tensor | None = None,
        *,
        tasks_seen: int | None = None,
    ) -> torch.Tensor:
        seen = self.context.tasks_seen if tasks_seen is None else tasks_seen
        allowed = self.context.scenario.seen_units(seen)
        if not bool(self.has_mean[allowed].all()):
            return super().predict(x, task_ids, tasks_seen=seen)
        scores = -torch.cdist(self.features(x), self.class_means)
        return self.masked_logits(scores, task_ids, tasks_seen=seen)

    def predictors(self) -> dict[str, Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]]:
        return {"head": super().predict}

    def extra_metrics(self) -> dict[str, Any]:
        return {
            **replay_metrics(self.buffer),
            "exemplars_per_class": self.config.buffer_size
            // max(1, int(self.context.scenario.seen_units(self.context.tasks_seen).sum())),
        }
