"""Gradient Episodic Memory (Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual
Learning").

Each task keeps an episodic memory M_k of ``buffer_size // num_tasks`` examples (the budget is
``buffer_size`` stored examples in total). With g the gradient of the current batch's loss and
g_k = grad L(f_theta, M_k) for every past task k, if any <g, g_k> < 0 the update uses the solution
of::

    min_z 1/2 ||g - z||^2   s.t.   <z, g_k> >= 0  for all k < t

solved in its dual (t x t) with quadprog, with the dual variables bounded below by
``memory_strength`` (the authors' margin). See :mod:`lifelong.components.projection`.

Deviations: by default the memory of a task is a reservoir sample of its stream (the authors keep
the last examples seen, a ring buffer; ``buffer_policy=ring`` keeps the last ones of each class, see
:mod:`lifelong.components.memory`); the memory losses use the masked logits of the setting (the task's
head in the task-incremental setting, all seen classes in the class-incremental one, every unit
with ``class_units=all`` as in Mammoth). If quadprog fails (infeasible or numerically singular
dual), the step falls back to the A-GEM projection on the average memory gradient;
``qp_fallbacks`` in metrics.json counts how often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from lifelong.components.buffer import STORAGE, Storage
from lifelong.components.memory import BufferPolicy
from lifelong.components.policy_memory import PolicyMemory, replay_metrics
from lifelong.components.projection import (
    agem_project,
    assign_flat_grad,
    flat_grad,
    flatten,
    gem_project,
)
from lifelong.components.replay_config import POLICY_HELP
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, StrategyConfig


@dataclass(frozen=True)
class GEMConfig(StrategyConfig):
    buffer_size: int = field(1000, "memory budget in stored examples, split evenly over the tasks")
    memory_strength: float = field(
        0.5, "margin: lower bound of the dual variables (gamma in the code)"
    )
    storage: Storage = field(
        "auto", "dtype of the stored inputs (auto: uint8 when lossless, else float32)"
    )
    buffer_policy: BufferPolicy = field("task-reservoir", POLICY_HELP)

    def __post_init__(self) -> None:
        check(self.buffer_size >= 1, "buffer_size must be >= 1")
        check(self.memory_strength >= 0, "memory_strength must be >= 0")
        check(self.storage in ("auto", *STORAGE), f"storage must be auto or one of {STORAGE}")


def memory_gradients(strategy: GEM, tasks_before: int) -> torch.Tensor:
    """Rows g_k: the gradient of the mean loss on each past task's memory, shape (K, P).

    One gather from the buffer, then one forward/backward per task on its own examples only
    (``torch.autograd.grad``, so ``p.grad`` of the current batch is untouched). Batching the K
    backward passes over one forward of the whole memory (``is_grads_batched``) was 8x slower in
    bench/replay_speed.py (2.98 s vs 0.37 s per step with 19 tasks): each of its K backward passes
    runs over every task's examples.
    """
    params = strategy.trainable_parameters()
    memory = strategy.buffer.get(strategy.buffer.indices(tasks_before))
    task_setting = strategy.context.scenario.setting == "task"
    rows = []
    for task in memory.task_ids.unique():
        chosen = memory.task_ids == task
        ids = memory.task_ids[chosen] if task_setting else None
        logits = strategy.masked_logits(strategy(memory.x[chosen], ids), ids)
        loss = F.cross_entropy(logits, memory.y[chosen])
        rows.append(flatten(torch.autograd.grad(loss, params, allow_unused=True), params))
    return torch.stack(rows)


@register
class GEM(PolicyMemory):
    """Project the gradient so that no past task's memory loss increases (a QP per step)."""

    name = "gem"
    config_class = GEMConfig
    paper = "Lopez-Paz & Ranzato 2017, Gradient Episodic Memory for Continual Learning"
    config: GEMConfig
    projections: torch.Tensor
    qp_fallbacks: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.register_buffer("projections", torch.zeros((), dtype=torch.long))
        self.register_buffer("qp_fallbacks", torch.zeros((), dtype=torch.long))

    def after_backward(self, batch: Batch) -> None:
        current = self.context.tasks_seen - 1
        if current == 0 or len(self.buffer.indices(current)) == 0:
            return
        params = self.trainable_parameters()
        g = flat_grad(params)
        G = memory_gradients(self, current)
        if bool((G @ g >= 0).all()):
            return
        self.projections += 1
        assign_flat_grad(params, self.project(g, G))

    def project(self, g: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
        """The update that replaces ``g`` when it violates a constraint: the QP's solution."""
        try:
            return gem_project(g, G, self.config.memory_strength)
        except ValueError:
            self.qp_fallbacks += 1
            return agem_project(g, G.mean(0))

    def extra_metrics(self) -> dict[str, Any]:
        return {
            **replay_metrics(self.buffer),
            "projections": int(self.projections),
            "qp_fallbacks": int(self.qp_fallbacks),
        }
