"""Online EWC (Schwarz et al. 2018, ICML, "Progress & Compress: A scalable framework for continual
learning"; see also Huszar 2018).

One running Fisher and one anchor instead of one pair per task. After task t::

    F~_t = gamma * F~_{t-1} + F_t,        theta* = theta_t (the parameters after task t)

and while learning task t+1::

    L(theta) = CE_{t+1}(theta) + (lambda / 2) * sum_i F~_{t,i} (theta_i - theta*_i)^2

F_t is computed exactly as in :mod:`lifelong.strategies.ewc` (mean of per-sample squared gradients,
``fisher_mode`` labels). Deviation: Progress & Compress applies the penalty to a separate knowledge
base distilled from an active column; here, as in van de Ven & Tolias (2019) and most libraries, it
is applied directly to the one network being trained.

Default strength: the value selected on a validation split of Split MNIST Task-IL (MLP 2x400, Adam;
``bench/regularization.py``, docs/results.md); it is scale-dependent: tune it for other streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.data.scenarios import Task
from lifelong.strategies.ewc import EWC, EWCConfig


@dataclass(frozen=True)
class OnlineEWCConfig(EWCConfig):
    """Hyperparameters of online EWC (those of EWC plus the decay gamma)."""

    strength: float = field(
        1e5, "lambda: penalty weight, (lambda/2) sum_i F~_i (theta_i - theta*_i)^2"
    )
    decay: float = field(
        1.0, "gamma: decay of the running Fisher, F~ <- gamma F~ + F_t (1: no decay)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check(0 <= self.decay <= 1, f"decay must be in [0, 1], got {self.decay}")


@register
class OnlineEWC(EWC):
    """EWC with a single running Fisher (decayed by gamma) anchored at the latest parameters."""

    name = "online-ewc"
    config_class = OnlineEWCConfig
    paper = "Schwarz et al. 2018, Progress & Compress (ICML)"
    config: OnlineEWCConfig

    def after_task(self, task: Task) -> None:
        fisher = self.fisher(task)
        with torch.no_grad():
            self.penalty.update(
                fisher, dict(self.model.named_parameters()), decay=self.config.decay
            )
