"""Averaged GEM (Chaudhry et al. 2019, "Efficient Lifelong Learning with A-GEM").

The episodic memory holds ``buffer_size // num_tasks`` examples per task. At each step a batch of
``replay_batch_size`` examples is drawn from the memories of the past tasks and its gradient g_ref
computed; if <g, g_ref> < 0 the update is the closed-form projection::

    g~ = g - (<g, g_ref> / <g_ref, g_ref>) g_ref

Deviation: by default the memory of a task is a reservoir sample of its stream
(``buffer_policy=task-reservoir``); ``buffer_policy=ring`` fills per-class blocks first-in
first-out, as the paper's code does (see :mod:`lifelong.components.memory`). Memory losses use the
setting's masked logits.

Task-free variant (online streams with hidden or blurry boundaries, where there are no task
memories): one reservoir memory of ``buffer_size`` examples over the whole stream, and g_ref from a
batch of all of it (as "A-GEM with reservoir" in online benchmarks, e.g. Mammoth's ``agem_r``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lifelong.components.memory import BufferPolicy
from lifelong.components.policy_memory import PolicyMemory, replay_metrics
from lifelong.components.projection import agem_project, assign_flat_grad, flat_grad, flatten
from lifelong.components.replay_config import POLICY_HELP, ReplayPolicyConfig
from lifelong.core.fields import field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch


@dataclass(frozen=True)
class AGEMConfig(ReplayPolicyConfig):
    buffer_size: int = field(1000, "memory budget in stored examples, split evenly over the tasks")
    replay_batch_size: int = field(256, "memory examples drawn per step to compute g_ref")
    buffer_policy: BufferPolicy = field("task-reservoir", POLICY_HELP)


@register
class AGEM(PolicyMemory):
    """Project the gradient so the loss on a random memory batch does not increase."""

    name = "agem"
    config_class = AGEMConfig
    paper = "Chaudhry et al. 2019, Efficient Lifelong Learning with A-GEM"
    task_free = True
    config: AGEMConfig
    projections: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.register_buffer("projections", torch.zeros((), dtype=torch.long))

    def after_backward(self, batch: Batch) -> None:
        # past tasks' memories; task-free: the whole reservoir
        current = None if self.context.task_free else self.context.tasks_seen - 1
        if current == 0 or len(self.buffer.indices(current)) == 0:
            return
        memory = self.buffer.sample(self.config.replay_batch_size, self.context.rng, current)
        params = self.trainable_parameters()
        ref = self.classification_loss(Batch(memory.x, memory.y, memory.task_ids))
        g_ref = flatten(torch.autograd.grad(ref, params, allow_unused=True), params)
        g = flat_grad(params)
        if float(torch.dot(g, g_ref)) < 0:
            self.projections += 1
            assign_flat_grad(params, agem_project(g, g_ref))

    def extra_metrics(self) -> dict[str, Any]:
        return {**replay_metrics(self.buffer), "projections": int(self.projections)}
