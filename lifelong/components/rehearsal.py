"""Replay of unlabelled inputs (generated or random) labelled by a frozen copy of the previous
model.

Used by generative replay and pseudo-rehearsal. Replayed inputs are assigned to the tasks seen
before the current one: in the task-incremental setting each gets a uniformly drawn past task (its
head); in the class-incremental setting the teacher's targets cover the past tasks' classes (zero
probability for the new ones, as in van de Ven's code) while the student's outputs cover every class
seen so far, so replay also pushes the new classes' scores down; in the domain-incremental setting
all units.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lifelong.components.distillation import distillation_loss
from lifelong.core.strategy import Strategy


def replayed_loss(
    strategy: Strategy, teacher: nn.Module, x: torch.Tensor, *, soft: bool, temperature: float
) -> torch.Tensor:
    """Loss of ``strategy`` on inputs ``x`` labelled by ``teacher`` over the past tasks' units.

    Args:
        soft: distillation on the teacher's softened outputs (``temperature``); else cross-entropy
            on the teacher's hard predictions (argmax).
    """
    context = strategy.context
    past = context.tasks_seen - 1
    ids = None
    if context.scenario.setting == "task":
        ids = torch.randint(past, (len(x),), generator=context.rng).to(x.device)
    old_units = context.scenario.output_mask(ids, past)
    with torch.no_grad():
        target = teacher(x)
    if old_units is not None:
        target = target.masked_fill(~old_units, -1e9)  # new units: zero probability (van de Ven)
    logits = strategy.masked_logits(strategy(x, ids), ids)  # all units the setting allows now
    if soft:
        return distillation_loss(logits, target, temperature)
    return F.cross_entropy(logits, target.argmax(1))
