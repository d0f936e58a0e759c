"""Synaptic Intelligence (Zenke, Poole & Ganguli 2017, ICML, "Continual learning through synaptic
intelligence").

During task t every optimizer step accumulates the path integral of each parameter's contribution to
the decrease of the task loss::

    W_i += -g_i * (theta_i(after step) - theta_i(before step))

with g the gradient of the task loss WITHOUT the surrogate penalty (as in the paper; the loop's
gradient minus the penalty's analytic gradient 2 c Omega (theta - theta*)). After the task, with
Delta_i = theta_i(end of task) - theta_i(start of task)::

    omega_i = W_i / (Delta_i^2 + xi),   Omega_i <- Omega_i + omega_i,   theta* <- theta(end of task)

and the objective while learning later tasks is::

    L(theta) = CE_t(theta) + c * sum_i Omega_i (theta_i - theta*_i)^2

Omega is summed over tasks and not clipped (a parameter may get a small negative importance, as in
the paper). The gradient g is taken before gradient clipping, if the run clips.

Default strength: the value selected on a validation split of Split MNIST Task-IL (MLP 2x400, Adam;
``bench/regularization.py``, docs/results.md); it is scale-dependent: tune it for other streams.

Parameters: the importance and the penalty cover the trainable parameters: all of them, unless
``--freeze`` or a LoRA adapter (``--lora-rank``) leaves part of the network frozen; under LoRA they
are the adapter and the head, which makes this strategy "LoRA + <method>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lifelong.components.fisher import trainable
from lifelong.components.penalty import QuadraticPenalty
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Context, Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class SIConfig(StrategyConfig):
    """Hyperparameters of SI."""

    strength: float = field(
        500.0, "c: weight of the surrogate loss c sum_i Omega_i (theta_i - theta*_i)^2"
    )
    damping: float = field(0.1, "xi: damping of omega_i = W_i / (Delta_i^2 + xi)")

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")
        check(self.damping > 0, f"damping must be > 0, got {self.damping}")


@register
class SI(Strategy):
    """Importance = path integral of the loss decrease each parameter caused, accumulated online."""

    name = "si"
    config_class = SIConfig
    paper = "Zenke, Poole & Ganguli 2017, Continual learning through synaptic intelligence (ICML)"
    config: SIConfig
    objectives = frozenset({"classify", "lm"})  # language modelling: its next-token loss

    def __init__(self, model: torch.nn.Module, config: SIConfig, context: Context) -> None:
        super().__init__(model, config, context)
        self.penalty = QuadraticPenalty(trainable(self.model).items())  # adapter + head under LoRA
        self.names = list(self.penalty.names)
        for i, p in enumerate(self._params()):
            self.register_buffer(f"path_integral_{i}", torch.zeros_like(p))  # W
            self.register_buffer(f"task_start_{i}", p.detach().clone())  # theta at the task start
        self._step: list[tuple[torch.Tensor, torch.Tensor]] = []  # (g, theta before the step)

    def _params(self) -> list[torch.Tensor]:
        return list(trainable(self.model).values())

    def _tensors(self, kind: str) -> list[torch.Tensor]:
        return [getattr(self, f"{kind}_{i}") for i in range(len(self.names))]

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.task_loss(batch)
        if self.penalty.active and self.config.strength > 0:
            loss = loss + self.config.strength * self.penalty(self.model.named_parameters())
        return loss

    @torch.no_grad()
    def before_task(self, task: Task) -> None:
        for p, w, start in zip(
            self._params(), self._tensors("path_integral"), self._tensors("task_start"), strict=True
        ):
            w.zero_()
            start.copy_(p)

    @torch.no_grad()
    def after_backward(self, batch: Batch) -> None:
        params = self._params()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        c = self.config.strength
        if self.penalty.active and c > 0:  # remove the penalty's gradient: g of the task loss only
            distances = torch._foreach_sub(params, [self.penalty.anchor(n) for n in self.names])
            importances = [self.penalty.importance(n) for n in self.names]
            task_grads = list(torch._foreach_addcmul(grads, importances, distances, value=-2 * c))
        else:
            task_grads = [g.clone() for g in grads]
        self._step = list(zip(task_grads, [p.detach().clone() for p in params], strict=True))

    @torch.no_grad()
    def after_step(self, batch: Batch) -> None:
        if not self._step:
            return
        grads, befores = (list(column) for column in zip(*self._step, strict=True))
        torch._foreach_sub_(befores, self._params())  # before - after
        # W += -g * (after - before) = g * (before - after)
        torch._foreach_addcmul_(self._tensors("path_integral"), grads, befores)
        self._step = []

    @torch.no_grad()
    def after_task(self, task: Task) -> None:
        omega, anchor = {}, {}
        for name, p, w, start in zip(
            self.names,
            self._params(),
            self._tensors("path_integral"),
            self._tensors("task_start"),
            strict=True,
        ):
            omega[name] = w / ((p - start) ** 2 + self.config.damping)
            anchor[name] = p
        self.penalty.update(omega, anchor, decay=1.0)

    def extra_metrics(self) -> dict[str, Any]:
        total = sum(float(self.penalty.importance(n).sum()) for n in self.penalty.names)
        return {"consolidations": int(self.penalty.consolidations), "importance_sum": total}
