"""Elastic Weight Consolidation (Kirkpatrick et al. 2017, PNAS, "Overcoming catastrophic forgetting
in neural networks").

After each task k the parameters theta*_k and the diagonal Fisher information F_k are stored; while
learning task t the objective is

    L(theta) = CE_t(theta) + (lambda / 2) * sum_{k<t} sum_i F_{k,i} (theta_i - theta*_{k,i})^2

F is the MEAN over N training samples of the task of per-sample squared gradients of the
log-likelihood, on the masked logits of the units the task may predict in training
(:func:`lifelong.components.fisher.diagonal_fisher`). The label of each sample's log-likelihood is
chosen by ``fisher_mode`` (van de Ven 2025, "On the computation of the Fisher information in
continual learning"): ``empirical`` (the true label), ``sampled`` (one label drawn from the model's
predictive distribution), ``predicted`` (the model's most probable label, as van de Ven & Tolias
2019's code) or ``exact`` (the expectation over all units, weighted by the model's
probabilities; the default, the true Fisher of the model's predictive distribution).

Implementation notes (no change of the objective): the separate per-task quadratics are merged
exactly into one quadratic plus a constant (:class:`lifelong.components.penalty.QuadraticPenalty`),
so memory and per-step cost do not grow with the number of tasks. The Fisher is computed in eval
mode on ``fisher_samples`` random training samples of the task (the paper does not state N).

Language-modelling streams (text domains): CE_t is the mean next-token loss, and F is the Fisher of
each text's mean token log-likelihood (:func:`lifelong.components.fisher.text_fisher`): ``empirical``
uses the text's own tokens; ``sampled`` draws one token per position from the model; ``exact`` (a
sum over the whole vocabulary at every position) is estimated as ``sampled`` there.

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

from lifelong.components.fisher import diagonal_fisher, task_samples, text_fisher, trainable
from lifelong.components.penalty import QuadraticPenalty
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Context, Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class EWCConfig(StrategyConfig):
    """Hyperparameters of EWC."""

    strength: float = field(
        1e6, "lambda: penalty weight, (lambda/2) sum_i F_i (theta_i - theta*_i)^2"
    )
    fisher_mode: Literal["empirical", "sampled", "predicted", "exact"] = field(
        "exact",
        "Fisher labels: true (empirical), drawn from the model (sampled), its most probable "
        "(predicted), expectation (exact)",
    )
    fisher_samples: int = field(1000, "N: training samples of the task used to estimate F")
    fisher_method: Literal["auto", "vmap", "factored", "loop"] = field(
        "auto",
        "per-sample gradients: vmap, factored (Linear layers only, faster), loop (transformers), auto",
    )

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")
        check(self.fisher_samples >= 1, f"fisher_samples must be >= 1, got {self.fisher_samples}")


@register
class EWC(Strategy):
    """Quadratic penalty towards each past task's solution, weighted by its diagonal Fisher."""

    name = "ewc"
    config_class = EWCConfig
    paper = "Kirkpatrick et al. 2017, Overcoming catastrophic forgetting in neural networks (PNAS)"
    config: EWCConfig
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def __init__(self, model: torch.nn.Module, config: EWCConfig, context: Context) -> None:
        super().__init__(model, config, context)
        self.penalty = QuadraticPenalty(trainable(self.model).items())  # adapter + head under LoRA

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.task_loss(batch)
        if self.penalty.active and self.config.strength > 0:
            loss = loss + self.config.strength / 2 * self.penalty(self.model.named_parameters())
        return loss

    def fisher(self, task: Task) -> dict[str, torch.Tensor]:
        """The diagonal Fisher of ``task`` at the current parameters."""
        x, y, mask = task_samples(self, task, self.config.fisher_samples)
        if self.context.scenario.objective == "lm":
            return text_fisher(
                self.model,
                x,
                self.config.fisher_mode,
                generator=self.context.rng,
                method=self.config.fisher_method,
            )
        return diagonal_fisher(
            self.model,
            x,
            y,
            mask,
            self.config.fisher_mode,
            generator=self.context.rng,
            method=self.config.fisher_method,
        )

    def after_task(self, task: Task) -> None:
        fisher = self.fisher(task)
        self.penalty.consolidate(fisher, dict(self.model.named_parameters()))

    def extra_metrics(self) -> dict[str, Any]:
        total = sum(float(self.penalty.importance(n).sum()) for n in self.penalty.names)
        return {"consolidations": int(self.penalty.consolidations), "importance_sum": total}
