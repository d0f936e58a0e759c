"""Memory Aware Synapses (Aljundi et al. 2018, ECCV, "Memory Aware Synapses: Learning what (not) to
forget").

After each task, the importance of parameter i is the mean sensitivity of the squared L2 norm of the
network's output to it, over N samples of the task (unsupervised: no labels are used)::

    Omega_i <- Omega_i + 1/N sum_n | d ||f_theta(x_n)||_2^2 / d theta_i |,    theta* <- theta

and the objective while learning later tasks is::

    L(theta) = CE_t(theta) + lambda * sum_i Omega_i (theta_i - theta*_i)^2

The gradient is taken per sample (vectorized, see
:func:`lifelong.components.fisher.output_sensitivity`), not of the batch mean. f is the logit vector
restricted to the units the task may predict in training
(its head in the task-incremental setting, the classes seen so far in the class-incremental one).
Omega is accumulated (summed) over tasks. The paper uses all training samples; here N is
``importance_samples`` random training samples of the task.

Language-modelling streams (text domains): CE_t is the mean next-token loss and f the next-token
logits, ||f(x_n)||^2 averaged over the text's positions
(:func:`lifelong.components.fisher.text_output_sensitivity`).

Default strength: the value selected on a validation split of Split MNIST Task-IL (MLP 2x400, Adam;
``bench/regularization.py``, docs/results.md); it is scale-dependent: tune it for other streams.

Parameters: the importance and the penalty cover the trainable parameters: all of them, unless
``--freeze`` or a LoRA adapter (``--lora-rank``) leaves part of the network frozen; under LoRA they
are the adapter and the head, which makes this strategy "LoRA + <method>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from lifelong.components.fisher import (
    output_sensitivity,
    task_samples,
    text_output_sensitivity,
    trainable,
)
from lifelong.components.penalty import QuadraticPenalty
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Context, Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class MASConfig(StrategyConfig):
    """Hyperparameters of MAS."""

    strength: float = field(
        0.3, "lambda: penalty weight, lambda sum_i Omega_i (theta_i - theta*_i)^2"
    )
    importance_samples: int = field(1000, "N: training samples of the task used to estimate Omega")
    importance_method: Literal["auto", "vmap", "factored", "loop"] = field(
        "auto",
        "per-sample gradients: vmap, factored (Linear layers only, faster), loop (transformers), auto",
    )

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")
        check(
            self.importance_samples >= 1,
            f"importance_samples must be >= 1, got {self.importance_samples}",
        )


@register
class MAS(Strategy):
    """Quadratic penalty weighted by the output's sensitivity to each parameter (no labels)."""

    name = "mas"
    config_class = MASConfig
    paper = "Aljundi et al. 2018, Memory Aware Synapses (ECCV)"
    config: MASConfig
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def __init__(self, model: torch.nn.Module, config: MASConfig, context: Context) -> None:
        super().__init__(model, config, context)
        self.penalty = QuadraticPenalty(trainable(self.model).items())  # adapter + head under LoRA

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.task_loss(batch)
        if self.penalty.active and self.config.strength > 0:
            loss = loss + self.config.strength * self.penalty(self.model.named_parameters())
        return loss

    def after_task(self, task: Task) -> None:
        x, _, mask = task_samples(self, task, self.config.importance_samples)
        if self.context.scenario.objective == "lm":
            omega = text_output_sensitivity(self.model, x, method=self.config.importance_method)
        else:
            omega = output_sensitivity(self.model, x, mask, method=self.config.importance_method)
        self.penalty.update(omega, dict(self.model.named_parameters()), decay=1.0)

    def extra_metrics(self) -> dict[str, Any]:
        total = sum(float(self.penalty.importance(n).sum()) for n in self.penalty.names)
        return {"consolidations": int(self.penalty.consolidations), "importance_sum": total}
