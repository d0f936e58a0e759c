"""Learning without Forgetting (Li & Hoiem 2016, ECCV / TPAMI 2017).

A frozen copy of the model from the end of the previous task (the teacher: a sub-module, so it is in
``state_dict``, kept in evaluation mode by :mod:`lifelong.components.frozen`) labels the current
inputs; the model is trained on the current task while keeping its old outputs close to the
teacher's::

    L(theta) = CE_t(theta) + strength * T^2 * L_old(f_theta(x)[old], f_teacher(x)[old]; T)

with L_old = -sum_i q_i log q^_i Li & Hoiem's loss on the outputs softened by temperature T, and the
T^2 factor of Hinton et al. 2015 (:mod:`lifelong.components.distillation`), which keeps the size of
the gradient independent of T. The paper has no T^2 factor: its lambda_o is strength * T^2, so at
T = 2 the default strength 1 is lambda_o = 4, and the paper's lambda_o = 1 (with T = 2) is
strength = 0.25. Which outputs are "old" depends on the setting (as in van de Ven & Tolias 2019):

* task-incremental: each previous task's head; L_KD is averaged over those heads;
* class-incremental: one softmax over the units of every class seen so far, the current task's
  included; the teacher's probabilities are its softmax over the previous tasks' classes, with
  zero probability on the current task's classes (van de Ven & Tolias 2019's code, ``loss_fn_kd``
  with zero-padded targets). The distillation therefore also keeps the new classes' scores down on
  the current inputs, which is what lifts LwF above naive in this setting; a softmax over the old
  units alone would only preserve their order among themselves;
* domain-incremental: all output units (shared by every task).

Language-modelling streams (text domains): CE_t is the mean next-token loss and the distilled outputs
are the next-token distributions at every non-padding position of the current texts (L_old averaged
over positions), as in distillation of language models (Hinton et al. 2015, applied per token).

``weighting="by-tasks"`` weighs the two terms as van de Ven & Tolias 2019's code does
(``rnt = 1/t``: (1/t) CE + (1 - 1/t) strength * L_KD at task t), so that the distillation's weight
relative to the current task grows as t - 1; the default is Li & Hoiem's constant weight.
``average_units=True`` divides L_KD by the number of distilled units, as that code did before its
commit 26f00db (May 2019: "summation over classes was omitted"); it exists to diagnose the published
numbers, not for use.

Adam and the old heads (task-incremental): the current task's loss never reaches the previous
tasks' heads, so the distillation is their only gradient, and Adam steps each parameter by the size
of its own gradients: the old heads move at the full learning rate however small ``strength`` is.
Where the new inputs carry nothing of the old tasks (Permuted MNIST) a small strength therefore
forgets more than fine-tuning, while a large one holds the shared layers to the teacher and does
better (the MNIST task-incremental default, 100, was selected over 0.01-1000; docs/results.md has
the measurements). With SGD a small strength gives fine-tuning back.

Deviation: the paper also warms up the new head with the body frozen, then fine-tunes everything;
here all parameters are trained from the first iteration (as in van de Ven & Tolias 2019).

Default strength: the value selected on a validation split of Split MNIST Task-IL (MLP 2x400, Adam;
``bench/regularization.py``, docs/results.md); it is scale-dependent: tune it for other streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from lifelong.components.distillation import distillation_loss
from lifelong.components.frozen import Frozen
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Context, Strategy, StrategyConfig
from lifelong.data.scenarios import Task
from lifelong.models.hf import next_token_losses


@dataclass(frozen=True)
class LwFConfig(StrategyConfig):
    """Hyperparameters of LwF."""

    strength: float = field(
        1.0,
        "weight of the T^2-scaled distillation loss on the old outputs; Li & Hoiem's "
        "lambda_o = strength * T^2 (strength 1 at T = 2 is lambda_o = 4)",
    )
    temperature: float = field(2.0, "T: distillation temperature (the loss is scaled by T^2)")
    average_units: bool = field(
        False,
        "average the distillation over the distilled units instead of summing them (van de Ven & "
        "Tolias' code before its fix 26f00db of May 2019; for diagnosis only)",
    )
    weighting: Literal["constant", "by-tasks"] = field(
        "constant",
        "constant: CE + strength * KD; by-tasks: (1/t) CE + (1 - 1/t) strength * KD at task t "
        "(van de Ven & Tolias 2019's code; relative KD weight t - 1)",
    )

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")
        check(self.temperature > 0, f"temperature must be > 0, got {self.temperature}")


@register
class LwF(Strategy):
    """Distil the previous model's outputs on the current inputs (no stored data)."""

    name = "lwf"
    config_class = LwFConfig
    paper = "Li & Hoiem 2016, Learning without Forgetting (ECCV)"
    config: LwFConfig
    objectives = frozenset({"classify", "lm"})  # language modelling: per-token distillation
    revision = 2  # 2: class-incremental distillation over every seen class (zero on the new ones)

    def __init__(self, model: nn.Module, config: LwFConfig, context: Context) -> None:
        super().__init__(model, config, context)
        self.register_module("teacher", None)
        self.teacher: Frozen | None

    def distilled(
        self, logits: torch.Tensor, teacher_logits: torch.Tensor, task: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Student and teacher logits distilled while learning ``task``: (B, units), or
        (B, old heads, units) in the task-incremental setting. In the class-incremental setting
        the teacher's logits of the current task's classes are -inf (zero probability)."""
        scenario = self.context.scenario
        if scenario.setting == "task":
            heads = torch.tensor(
                [scenario.tasks[k].classes for k in range(task)], device=logits.device
            )
            return logits[:, heads], teacher_logits[:, heads]
        if scenario.setting == "class":
            masks = scenario.task_output_mask.to(logits.device)
            seen = masks[: task + 1].any(0).nonzero().flatten()
            old = masks[:task].any(0)
            teacher_logits = teacher_logits.masked_fill(~old, float("-inf"))
            return logits[:, seen], teacher_logits[:, seen]
        return logits, teacher_logits

    def text_loss(self, batch: Batch) -> torch.Tensor:
        """Language modelling: next-token loss plus distillation of the teacher's next-token
        distributions at the texts' positions."""
        logits = self.model(batch.x)
        loss = next_token_losses(logits, batch.x).mean()
        if self.teacher is not None and self.context.tasks_seen > 1 and self.config.strength > 0:
            valid = batch.x[:, 1].bool()
            kd = self.kd(logits[valid], self.teacher(batch.x)[valid])
            return self.combined(loss, kd)
        return loss

    def kd(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """L_KD between the distilled logits (divided by their units with ``average_units``)."""
        kd = distillation_loss(student, teacher, self.config.temperature)
        return kd / student.shape[-1] if self.config.average_units else kd

    def combined(self, current: torch.Tensor, kd: torch.Tensor) -> torch.Tensor:
        """The current task's loss and the distillation term, weighted as ``weighting`` says."""
        if self.config.weighting == "by-tasks":
            r = 1.0 / self.context.tasks_seen
            return r * current + (1 - r) * self.config.strength * kd
        return current + self.config.strength * kd

    def loss(self, batch: Batch) -> torch.Tensor:
        if self.context.scenario.objective == "lm":
            return self.text_loss(batch)
        logits = self(batch.x, self.routing_ids(batch))
        loss = nn.functional.cross_entropy(
            self.masked_logits(logits, self.routing_ids(batch)), batch.y
        )
        task = self.context.tasks_seen - 1
        if self.teacher is not None and task > 0 and self.config.strength > 0:
            student, teacher = self.distilled(logits, self.teacher(batch.x), task)
            return self.combined(loss, self.kd(student, teacher))
        return loss

    def after_task(self, task: Task) -> None:
        self.teacher = Frozen(self.model)

    def extra_state(self) -> dict[str, Any]:
        return {"has_teacher": self.teacher is not None}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if state.get("has_teacher") and self.teacher is None:
            self.teacher = Frozen(self.model)  # a copy of the right shape; weights load next
