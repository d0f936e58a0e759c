"""PackNet: pack several tasks into one network by iterative magnitude pruning.

Mallya & Lazebnik 2018, "PackNet: Adding Multiple Tasks to a Single Network by Iterative Pruning"
(CVPR). Every weight of a linear / convolution layer is free or owned by one task. For task t:

1. train: minimise CE on task t's data over the free weights only; weights owned by tasks < t are
   used in the forward pass but frozen;
2. prune: in every layer, keep the (1 - f_t) fraction of the free weights with the largest |w| for
   task t and set the others to zero (they stay free for later tasks);
3. retrain: minimise CE over task t's kept weights only (pruned weights stay at zero).

At test time, task j uses the weights owned by tasks 0..j (its binary mask), so its function never
changes after it is learned: zero forgetting in the task-incremental setting, with no growth.

Implementation notes: ``phases()`` = train (1 - retrain_fraction), retrain (retrain_fraction).
Frozen and pruned weights get zero gradients and are restored after every step (Adam's momentum or
weight decay would move them). Biases (and BatchNorm parameters) are not pruned and, as in the
paper, are trained on the first task only. The default f_t = 1 - 1/(T - t) gives every task an equal
share of the weights (T is known); the last task keeps every free weight, so it has no pruning or
retraining phase. The paper uses a fixed f (e.g. 0.5 or 0.75): set ``prune_fraction``. Ownership is
one integer tensor per layer (0 free, k + 1 owned by task k), so the masks are disjoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call

from lifelong.components.ownership import claim_largest, owned_up_to
from lifelong.components.routing import route_by_task
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Phase, Strategy, StrategyConfig
from lifelong.data.scenarios import Task


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

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.pruned = [n for n, p in model.named_parameters() if p.dim() > 1]
        for i, name in enumerate(self.pruned):
            weight = model.get_parameter(name)
            self.register_buffer(f"owner_{i}", torch.zeros_like(weight, dtype=torch.int16))
            self.register_buffer(f"stored_{i}", weight.detach().clone())
        self.register_buffer("label", torch.zeros((), dtype=torch.int16))  # owner being trained

    def _layers(self) -> list[tuple[torch.nn.Parameter, torch.Tensor, torch.Tensor]]:
        """(weight, owner, stored values) per pruned layer."""
        get = self.get_buffer
        return [
            (self.model.get_parameter(n), get(f"owner_{i}"), get(f"stored_{i}"))
            for i, n in enumerate(self.pruned)
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

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        if self.context.tasks_seen <= 1:
            return super().trainable_parameters()
        return [w for w, _, _ in self._layers()]

    def after_backward(self, batch: Batch) -> None:
        for weight, owner, _ in self._layers():
            if weight.grad is not None:
                weight.grad.mul_(owner == self.label)

    @torch.no_grad()
    def after_step(self, batch: Batch) -> None:
        for weight, owner, stored in self._layers():
            weight.copy_(torch.where(owner == self.label, weight, stored))

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
