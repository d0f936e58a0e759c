"""L2 anchor: keep the parameters close to where the previous task left them.

The "L2" baseline of Kirkpatrick et al. 2017 ("Overcoming catastrophic forgetting in neural
networks", PNAS, Fig. 2): after each task t the parameters theta*_t are stored, and task t + 1 is
trained on::

    L(theta) = CE(theta) + (lambda / 2) * || theta - theta*_t ||^2

EWC weights the same squared distance by the diagonal Fisher information; this uniform version
protects every parameter equally, which the paper shows is too rigid to learn new tasks well.

This file is an example of a lifelong plugin: a strategy outside the lifelong package, registered
with ``@register`` and found by ``lifelong`` through the entry point in ``pyproject.toml`` (group
``lifelong.strategies``) or with ``--plugin l2_anchor``. Everything it keeps between tasks is a
buffer, so checkpoints hold it and an interrupted run resumes exactly (``lifelong.testing`` checks
that).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lifelong import Batch, Context, Strategy, StrategyConfig, Task, check, field, register


@dataclass(frozen=True)
class L2AnchorConfig(StrategyConfig):
    """Hyperparameters of the L2 anchor."""

    strength: float = field(1.0, "lambda: weight of the squared distance to theta*_t")

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")


@register
class L2Anchor(Strategy):
    """Squared distance to the previous task's parameters (uniform importance)."""

    name = "l2-anchor"
    config_class = L2AnchorConfig
    paper = "Kirkpatrick et al. 2017, the L2 baseline of EWC (PNAS, Fig. 2)"
    config: L2AnchorConfig
    anchored: torch.Tensor

    def __init__(self, model: torch.nn.Module, config: L2AnchorConfig, context: Context) -> None:
        super().__init__(model, config, context)
        params = list(model.parameters())
        for i, p in enumerate(params):
            self.register_buffer(f"anchor_{i}", p.detach().clone())  # theta*_t, in checkpoints
        self.register_buffer("anchored", torch.zeros((), dtype=torch.bool))
        self.count = len(params)

    def anchors(self) -> list[torch.Tensor]:
        return [self.get_buffer(f"anchor_{i}") for i in range(self.count)]

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.classification_loss(batch)
        if bool(self.anchored) and self.config.strength > 0:
            pairs = zip(self.model.parameters(), self.anchors(), strict=True)
            distance = sum(((p - a) ** 2).sum() for p, a in pairs)
            loss = loss + 0.5 * self.config.strength * distance
        return loss

    @torch.no_grad()
    def after_task(self, task: Task) -> None:
        for p, a in zip(self.model.parameters(), self.anchors(), strict=True):
            a.copy_(p)
        self.anchored.fill_(True)
