"""The memory of the strategies whose memory policy is a choice (ER, A-GEM, GEM, DER, DER++).

:class:`PolicyMemory` makes ``self.buffer`` from ``config.buffer_policy``, ``buffer_size`` and
``storage`` (:func:`lifelong.components.memory.policy_buffer`), lets the policy see every training
batch after its step and every finished task, and reports the memory in metrics.json. A strategy
subclasses it and writes only what it does with the memory. On a task-free stream the learner has
no task ids, so ``task-reservoir`` (one reservoir per task) falls back to a single reservoir.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from lifelong.components.buffer import ReplayBuffer
from lifelong.components.memory import Logits, policy_buffer, store_step, store_task
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.scenarios import Task


def replay_metrics(buffer: ReplayBuffer) -> dict[str, Any]:
    """The memory budget of a buffer-based strategy, for metrics.json."""
    return {
        "buffer_capacity_examples": buffer.capacity,
        "buffer_stored_examples": len(buffer),
        "buffer_bytes": buffer.nbytes(),
        "buffer_storage": buffer.storage,
    }


class PolicyMemory(Strategy):
    """A strategy with an episodic memory ``self.buffer`` filled by ``config.buffer_policy``.

    ``stores_logits`` keeps the network's logits with each stored example (DER): those of the
    training step (``step_logits``) or, for the policies filled at task end, ``end_logits``.
    """

    stores_logits: ClassVar[bool] = False
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer_policy: str = config.buffer_policy
        self.buffer = policy_buffer(
            config.buffer_policy,
            config.buffer_size,
            context.scenario,
            config.storage,
            logits=self.stores_logits,
            task_free=context.task_free,
        )

    @classmethod
    def behaviour(cls, config: Any, task_free: bool) -> dict[str, str]:
        """On a task-free stream ``task-reservoir`` is one reservoir over the whole budget; ER,
        DER and DER++ kept ``buffer_size // tasks`` examples there before (fixed 2026-12)."""
        if task_free and config.buffer_policy == "task-reservoir":
            return {"task_free_task_reservoir": "one reservoir over the whole budget"}
        return {}

    def step_logits(self, batch: Batch) -> torch.Tensor | None:
        """The logits stored with ``batch`` after its step (``stores_logits`` strategies)."""
        return None

    def end_logits(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """The logits stored with examples chosen at task end: the network in evaluation mode."""
        was_training = self.training
        self.eval()
        with torch.no_grad():
            logits = self(x, task_ids if self.context.scenario.setting == "task" else None)
        self.train(was_training)
        return logits

    def after_step(self, batch: Batch) -> None:
        policy = self.buffer_policy
        if self.context.task_free and policy == "task-reservoir":
            policy = "reservoir"
        num_tasks = self.context.scenario.num_tasks
        logits = self.step_logits(batch)
        store_step(policy, self.buffer, batch, self.context.rng, num_tasks, logits=logits)

    def after_task(self, task: Task) -> None:
        logits_of: Logits | None = self.end_logits if self.stores_logits else None
        scenario, policy = self.context.scenario, self.buffer_policy
        store_task(policy, self.buffer, task, scenario, self.context.rng, logits_of)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)
