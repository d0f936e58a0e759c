"""EWC as the A-GEM paper's code runs it, a diagnosis of ``agem-permuted``'s EWC row.

The paper-time A-GEM code (facebookresearch/agem at 5e84338; ``model/model.py`` 1071-1107 and
1248-1257, ``fc_permute_mnist.py`` 281-290) runs the EWC++ of Chaudhry et al. 2018 ("Riemannian
Walk for Incremental Learning"), not Kirkpatrick et al.'s EWC:

* every training step adds the squared gradient of the batch's mean cross-entropy (the task loss
  alone) to a sum S; at step s of a task, when (s + 1) is a multiple of ``update_after`` (10), the
  running Fisher first becomes F <- (1 - d) F + d S / ``update_after`` (d = ``ema_decay``, 0.9)
  and S restarts; S also restarts at each task's end, F never does;
* at the end of each task, the penalty's importance becomes the running Fisher min-max normalised
  over all parameters, F^ = (F - min F) / (max F - min F + 1e-32), and its anchor theta* the
  current parameters; both replace the previous ones (one term);
* the objective is CE_t + lambda sum_i F^_i (theta_i - theta*_i)^2, lambda = ``strength`` (10 in
  the paper's replication script).

lifelong's ``ewc`` follows Kirkpatrick et al. This is a plugin for the ``ewc-agem-code`` row of
``bench/protocols.py``, not a method.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lifelong import Batch, Strategy, StrategyConfig, check, field, register
from lifelong.components.fisher import trainable
from lifelong.components.penalty import QuadraticPenalty
from lifelong.data.scenarios import Task


def _buffer_name(kind: str, parameter: str) -> str:
    return f"{kind}__{parameter.replace('.', '__')}"


@dataclass(frozen=True)
class AGEMCodeEWCConfig(StrategyConfig):
    """Hyperparameters of the A-GEM code's EWC."""

    strength: float = field(10.0, "lambda: weight of lambda sum_i F^_i (theta_i - theta*_i)^2")
    ema_decay: float = field(0.9, "d: running Fisher F <- (1 - d) F + d S / update_after")
    update_after: int = field(10, "steps of a task between updates of the running Fisher")

    def __post_init__(self) -> None:
        check(self.strength >= 0, f"strength must be >= 0, got {self.strength}")
        check(0 <= self.ema_decay <= 1, f"ema_decay must be in [0, 1], got {self.ema_decay}")
        check(self.update_after >= 1, f"update_after must be >= 1, got {self.update_after}")


@register
class AGEMCodeEWC(Strategy):
    """A running, normalised empirical Fisher of mini-batch gradients, one anchor."""

    name = "ewc-agem-code"
    config_class = AGEMCodeEWCConfig
    paper = "Chaudhry et al. 2019 (A-GEM)'s code: EWC++ of Chaudhry et al. 2018 (RWalk)"
    config: AGEMCodeEWCConfig
    task_step: torch.Tensor

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        params = trainable(self.model)
        self.penalty = QuadraticPenalty(params.items())
        for name, p in params.items():
            self.register_buffer(_buffer_name("running", name), torch.zeros_like(p))  # F
            self.register_buffer(_buffer_name("squares", name), torch.zeros_like(p))  # S
        self.register_buffer("task_step", torch.zeros((), dtype=torch.long))

    def state_of(self, kind: str) -> dict[str, torch.Tensor]:
        """The running Fisher F (``running``) or the sum S (``squares``) of each parameter."""
        return {name: getattr(self, _buffer_name(kind, name)) for name in self.penalty.names}

    def loss(self, batch: Batch) -> torch.Tensor:
        # the penalty is 0 until the first task ends
        penalty = self.penalty(self.model.named_parameters())
        return self.task_loss(batch) + self.config.strength * penalty

    @torch.no_grad()
    def after_backward(self, batch: Batch) -> None:
        decay, every = self.config.ema_decay, self.config.update_after
        update = (int(self.task_step) + 1) % every == 0
        params = trainable(self.model)
        squares_of = self.state_of("squares")
        for name, running in self.state_of("running").items():
            squares = squares_of[name]
            if update:
                running.mul_(1 - decay).add_(squares, alpha=decay / every)
                squares.zero_()
            p = params[name]
            if p.grad is None:
                continue
            g = p.grad
            if self.penalty.active and self.config.strength > 0:  # the task loss's gradient only
                distance = p - self.penalty.anchor(name)
                g = g - 2 * self.config.strength * self.penalty.importance(name) * distance
            squares.add_(g * g)
        self.task_step += 1

    @torch.no_grad()
    def after_task(self, task: Task) -> None:
        running = self.state_of("running")
        low = min(float(f.min()) for f in running.values())
        high = max(float(f.max()) for f in running.values())
        importance = {n: (f - low) / (high - low + 1e-32) for n, f in running.items()}
        self.penalty.update(importance, trainable(self.model), decay=0.0)
        for squares in self.state_of("squares").values():
            squares.zero_()
        self.task_step.zero_()
