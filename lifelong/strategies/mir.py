"""Maximally Interfered Retrieval (Aljundi et al. 2019, "Online Continual Learning with Maximally
Interfered Retrieval", NeurIPS; ER-MIR).

Experience replay whose replay batch is not drawn at random but chosen among ``candidates`` (C)
random memory examples as the ``replay_batch_size`` (k) whose loss a virtual SGD step on the
incoming batch B would increase most::

    theta_v = theta - eta * grad_theta L(f_theta(B))
    s(x, y) = l(f_{theta_v}(x), y) - l(f_theta(x), y)          for each candidate
    B_M = the k candidates with the largest s
    L(theta) = CE(f_theta(x), y) averaged over B u B_M

and the incoming batch is then offered to a reservoir memory. Deviations: the virtual step is plain
SGD with step size ``virtual_lr`` (eta) whatever the run's optimizer (the paper uses the run's SGD
step); the incoming batch's forward pass is shared by the virtual and the real update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from lifelong.components.buffer import ReplayBuffer, make_buffer
from lifelong.components.policy_memory import replay_metrics
from lifelong.components.replay_config import ReplayConfig
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Strategy


@dataclass(frozen=True)
class MIRConfig(ReplayConfig):
    buffer_size: int = field(500, "memory budget |M| in stored examples (reservoir)")
    replay_batch_size: int = field(10, "k: retrieved memory examples per step")
    candidates: int = field(50, "C: random memory examples scored per step")
    virtual_lr: float = field(0.1, "eta: step size of the virtual SGD update")

    def __post_init__(self) -> None:
        super().__post_init__()
        check(self.candidates >= self.replay_batch_size, "candidates must be >= replay_batch_size")
        check(self.virtual_lr > 0, "virtual_lr must be > 0")


@register
class MIR(Strategy):
    """ER that replays the memory examples a virtual update would hurt most."""

    name = "mir"
    config_class = MIRConfig
    paper = "Aljundi et al. 2019, Online Continual Learning with Maximally Interfered Retrieval"
    task_free = True
    config: MIRConfig
    buffer: ReplayBuffer

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.buffer = make_buffer(config.buffer_size, context.scenario, config.storage)

    def _candidate_losses(self, x: torch.Tensor, y: torch.Tensor, ids: Any, params: Any) -> Any:
        logits = functional_call(self.model, params, (x,)) if params is not None else self(x)
        return F.cross_entropy(self.masked_logits(logits, ids), y, reduction="none")

    def loss(self, batch: Batch) -> torch.Tensor:
        incoming = self.classification_loss(batch)
        if len(self.buffer) == 0:
            return incoming
        cand = self.buffer.sample(self.config.candidates, self.context.rng)
        ids = cand.task_ids if self.context.scenario.setting == "task" else None
        names = [n for n, p in self.model.named_parameters() if p.requires_grad]
        params = [p for p in self.model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(incoming, params, retain_graph=True, allow_unused=True)
        virtual = {
            n: p.detach() - self.config.virtual_lr * g if g is not None else p.detach()
            for n, p, g in zip(names, params, grads, strict=True)
        }
        with torch.no_grad():
            before = self._candidate_losses(cand.x, cand.y, ids, None)
            after = self._candidate_losses(cand.x, cand.y, ids, virtual)
        k = min(self.config.replay_batch_size, len(cand))
        chosen = torch.topk(after - before, k).indices
        replay = Batch(cand.x[chosen], cand.y[chosen], cand.task_ids[chosen])
        n, m = len(batch), len(replay)
        # the mean over B u B_M, reusing the incoming batch's forward pass
        return (n * incoming + m * self.classification_loss(replay)) / (n + m)

    def after_step(self, batch: Batch) -> None:
        self.buffer.add_reservoir(batch.x, batch.y, batch.task_ids, self.context.rng)

    def extra_metrics(self) -> dict[str, Any]:
        return replay_metrics(self.buffer)
