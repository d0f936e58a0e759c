"""PackNet: pack several tasks into one network by iterative magnitude pruning.

Mallya & Lazebnik 2018, "PackNet: Adding Multiple Tasks to a Single Network by Iterative Pruning"
(CVPR). Every weight of a linear / convolution layer of the shared trunk is free or owned by one
task. For task t:

1. train: minimise CE on task t's data over the free weights only; weights owned by tasks < t are
   used in the forward pass but frozen;
2. prune: in every layer, keep the (1 - f_t) fraction of the free weights with the largest |w| for
   task t and set the others to zero (they stay free for later tasks);
3. retrain: minimise CE over task t's kept weights only (pruned weights stay at zero).

At test time, task j uses the weights owned by tasks 0..j (its binary mask), so its function never
changes after it is learned: zero forgetting in the task-incremental setting, with no growth.

The output layer is not shared: as in the paper (one classifier per task; the official code prunes
``model.shared`` only), each task owns its output units. Their weights and biases train in both
phases of the task and are fixed afterwards; they are never pruned, and no other task trains them.

Implementation notes: ``phases()`` = train (1 - retrain_fraction), retrain (retrain_fraction).
Frozen and pruned weights get zero gradients and are restored after every step (Adam's momentum or
weight decay would move them). The trunk's biases (and BatchNorm parameters) are not pruned and, as
in the paper, are trained on the first task only. The default f_t = 1 - 1/(T - t) gives every task
an equal share of the weights (T is known); the last task keeps every free weight, so it has no
pruning or retraining phase. The paper uses a fixed f (e.g. 0.5 or 0.75): set ``prune_fraction``.
Ownership is one integer tensor per layer (0 free, k + 1 owned by task k): the masks are disjoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from lifelong.components.ownership import claim_largest, owned_up_to
from lifelong.components.routing import route_by_task
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Phase, Strategy, StrategyConfig
from lifelong.data.scenarios import Task
from lifelong.errors import ConfigError


@dataclass(frozen=True)
class PackNetConfig(StrategyConfig):
    """Pruning schedule."""

    prune_fraction: float | None = field(
        None, "f: share of the free weights pruned after each task (none: 1 - 1/(T - t))"
    )
    retrain_fraction: float = field(0.3, "share of each task's iterations retraining after pruning")

    def __post_init__(self) -> None:
        f = self.prune_fraction
        check(f is None or 0.0 <= f < 1.0, "prune_fraction must be in [0, 1)")
        check(0.0 < self.retrain_fraction < 1.0, "retrain_fraction must be in (0, 1)")


@register
class PackNet(Strategy):
    """Iterative pruning with one binary weight mask per task."""

    name = "packnet"
    config_class = PackNetConfig
    settings = frozenset({"task"})
    paper = "Mallya & Lazebnik 2018, PackNet (CVPR)"
    config: PackNetConfig
    label: torch.Tensor  # owner id being trained (a buffer)
    head_rows: torch.Tensor  # output units trained by the current task
    head_weight: torch.Tensor  # the head's values at the start of the phase
    head_bias: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        head = self._head()
        own = {id(p) for p in head.parameters()}  # per task: not pruned
        self.pruned = [n for n, p in model.named_parameters() if p.dim() > 1 and id(p) not in own]
        for i, name in enumerate(self.pruned):
            weight = model.get_parameter(name)
            self.register_buffer(f"owner_{i}", torch.zeros_like(weight, dtype=torch.int16))
            self.register_buffer(f"stored_{i}", weight.detach().clone())
        self.register_buffer("label", torch.zeros((), dtype=torch.int16))  # owner being trained
        self.register_buffer("head_rows", torch.zeros(len(head.bias), dtype=torch.bool))
        self.register_buffer("head_weight", head.weight.detach().clone())
        self.register_buffer("head_bias", head.bias.detach().clone())

    def _head(self) -> nn.Linear:
        """The model's output layer (``head`` in lifelong's models, or the user model's)."""
        head = self.model.get_submodule(self.context.output_layer)
        if not isinstance(head, nn.Linear) or head.bias is None:
            raise ConfigError(
                f"packnet needs the output layer '{self.context.output_layer}' to be an nn.Linear "
                "with a bias (each task owns its output units)"
            )
        return head

    def _layers(self) -> list[tuple[torch.nn.Parameter, torch.Tensor, torch.Tensor]]:
        """(weight, owner, stored values) per pruned layer."""
        get = self.get_buffer
        return [
            (self.model.get_parameter(n), get(f"owner_{i}"), get(f"stored_{i}"))
            for i, n in enumerate(self.pruned)
        ]

    def _edited(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(parameter, entries trained now, stored values): pruned layers and the head."""
        head, rows = self._head(), self.head_rows
        return [(w, owner == self.label, stored) for w, owner, stored in self._layers()] + [
            (head.weight, rows[:, None], self.head_weight),
            (head.bias, rows, self.head_bias),
        ]

    def prune_fraction(self, task: int) -> float:
        f = self.config.prune_fraction
        return 1.0 - 1.0 / (self.context.scenario.num_tasks - task) if f is None else f

    def phases(self, task: Task) -> Sequence[Phase]:
        r = self.config.retrain_fraction
        if self.prune_fraction(task.index) == 0.0:  # the last task keeps every free weight
            return (Phase("train", 1.0),)
        return Phase("train", 1.0 - r), Phase("retrain", r)

    @torch.no_grad()
    def before_phase(self, task: Task, phase: Phase) -> None:
        label, share = task.index + 1, 1.0 - self.prune_fraction(task.index)
        claim = phase.name == "retrain" or share == 1.0  # no pruning: claim every free weight now
        for weight, owner, stored in self._layers():
            if claim:
                claim_largest(weight, owner, share, label)
            stored.copy_(weight)
        self.label.fill_(label if claim else 0)
        units, head = self.context.scenario.task_output_mask, self._head()
        self.head_rows.copy_(units[task.index] & ~units[: task.index].any(0))  # new units only
        self.head_weight.copy_(head.weight)
        self.head_bias.copy_(head.bias)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        if self.context.tasks_seen <= 1:
            return super().trainable_parameters()
        return [w for w, _, _ in self._layers()] + list(self._head().parameters())

    def after_backward(self, batch: Batch) -> None:
        for param, trained, _ in self._edited():
            if param.grad is not None:
                param.grad.mul_(trained)

    @torch.no_grad()
    def after_step(self, batch: Batch) -> None:
        for param, trained, stored in self._edited():
            param.copy_(torch.where(trained, param, stored))

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        return route_by_task(x, task_ids, self._run)

    def _run(self, x: torch.Tensor, task: int) -> torch.Tensor:
        if task >= self.context.tasks_seen - 1:  # the task being learned sees every weight
            return self.model(x)
        layers = zip(self.pruned, self._layers(), strict=True)
        masked = {n: w * owned_up_to(owner, task) for n, (w, owner, _) in layers}
        return functional_call(self.model, masked, (x,))

    def parameter_counts(self) -> dict[str, int]:
        owners = [owner for _, owner, _ in self._layers()]
        return {
            "total": sum(p.numel() for p in self.model.parameters()),
            "trainable": sum(int((owner == 0).sum()) for owner in owners),  # still free
            "assigned": sum(int((owner > 0).sum()) for owner in owners),
        }

    def extra_metrics(self) -> dict[str, object]:
        owners = torch.cat([owner.flatten() for _, owner, _ in self._layers()]).long()
        counts = torch.bincount(owners, minlength=self.context.scenario.num_tasks + 1)
        return {"weights_per_task": counts[1:].tolist(), "free_weights": int(counts[0])}
