"""GDumb (Prabhu et al. 2020, "GDumb: A Simple Approach that Questions Our Progress in Continual
Learning", ECCV).

The stream is only stored, never trained on: a greedy sampler keeps a class-balanced memory of
``buffer_size`` (k) examples (an example enters while the memory has room, or when its class has
fewer than k / |classes seen| examples, evicting one of the largest class). Before every evaluation
the network is re-initialised and trained from scratch on the memory alone::

    theta = theta_0';  for ``epochs`` epochs over M in batches of ``retrain_batch_size``:
        theta <- step(theta, grad CE(f_theta(x), y))

``balance=task-class`` (not in the paper) balances the memory over (task, class) pairs instead of
classes. On a domain-incremental stream every class appears in the first task, so the paper's
class-balanced memory is full of the first task's examples and admits none of a later task's; keyed
by (task, class), it keeps about k / (tasks seen x classes) examples of each task's every class. It
needs task ids while training, so it refuses task-free streams; ``balance=auto`` is task-class when
the stream gives task ids and class on a task-free one.

Deviations: the retraining uses the run's optimizer, learning rate and gradient clipping, with
neither the paper's SGDR cosine schedule nor CutMix; re-initialisation calls ``reset_parameters()``
of every sub-module that has one (with a seed drawn from the strategy's generator); the sampler
takes a batch's decisions together (see ``ReplayBuffer.add_greedy_balanced``). Retraining is skipped
when the memory has not changed since the last one. Its passes count as compute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch

from lifelong.components.buffer import ReplayBuffer, make_buffer
from lifelong.components.policy_memory import replay_metrics
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy, StrategyConfig
from lifelong.errors import ConfigError


@dataclass(frozen=True)
class GDumbConfig(StrategyConfig):
    buffer_size: int = field(500, "memory budget k in stored examples (class-balanced)")
    epochs: int = field(30, "epochs of retraining on the memory before each evaluation")
    retrain_batch_size: int = field(16, "batch size of the retraining")
    storage: str = field("auto", "dtype of the stored inputs (auto, float32, float16, uint8)")
    balance: Literal["class", "task-class", "auto"] = field(
        "class",
        "what the memory balances: class (the paper), task-class (each (task, class) pair; for "
        "domain-incremental streams, not in the paper) or auto (task-class when the stream gives "
        "task ids, class on a task-free stream)",
    )

    def __post_init__(self) -> None:
        check(self.buffer_size >= 1, "buffer_size must be >= 1")
        check(self.epochs >= 1, "epochs must be >= 1")
        check(self.retrain_batch_size >= 1, "retrain_batch_size must be >= 1")
        check(self.storage in ("auto", "float32", "float16", "uint8"), "storage: unknown dtype")
        check(
            self.balance in ("class", "task-class", "auto"),
            f"balance must be class, task-class or auto, got {self.balance}",
        )


@register
class GDumb(Strategy):
    """Store a class-balanced memory greedily; retrain from scratch on it before evaluating."""

    name = "gdumb"
    config_class = GDumbConfig
    paper = "Prabhu et al. 2020, GDumb: A Simple Approach that Questions Our Progress in CL"
    task_free = True
    config: GDumbConfig
    buffer: ReplayBuffer
    trained_on: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        scenario = context.scenario
        self.task_stride = 0
        by_task = config.balance == "task-class" or (
            config.balance == "auto" and not context.task_free
        )
        if by_task:
            if context.task_free:
                raise ConfigError(
                    "gdumb: balance=task-class needs task ids, which a task-free stream does not "
                    "give; use balance=class or auto"
                )
            self.task_stride = scenario.num_outputs
        self.buffer = make_buffer(
            config.buffer_size,
            scenario,
            config.storage,
            num_keys=scenario.num_outputs * (scenario.num_tasks if self.task_stride else 1),
        )
        # examples offered when the network was last retrained (-1: never)
        self.register_buffer("trained_on", torch.full((), -1, dtype=torch.long))

    def loss(self, batch: Batch) -> None:
        return None  # the stream is stored, not trained on

    def after_step(self, batch: Batch) -> None:
        self.buffer.add_greedy_balanced(
            batch.x, batch.y, batch.task_ids, self.context.rng, self.task_stride
        )

    def retraining(self) -> Iterator[Batch]:
        offered = int(self.buffer.seen_per_key.sum())
        if len(self.buffer) == 0 or offered == int(self.trained_on):
            return iter(())
        self.trained_on.fill_(offered)
        seed = int(torch.randint(2**62, (1,), generator=self.context.rng))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for module in self.model.modules():
                reset = getattr(module, "reset_parameters", None)
                if callable(reset):
                    reset()
        orders = [
            torch.randperm(len(self.buffer), generator=self.context.rng)
            for _ in range(self.config.epochs)
        ]
        return self._batches(orders)

    def _batches(self, orders: list[torch.Tensor]) -> Iterator[Batch]:
        size = self.config.retrain_batch_size
        for order in orders:
            for start in range(0, len(order), size):
                part = order[start : start + size]
                if len(part) > 1 or len(order) == 1:
                    memory = self.buffer.get(part.to(self.buffer.y.device))
                    yield Batch(memory.x, memory.y, memory.task_ids)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)
