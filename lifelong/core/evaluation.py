"""Accuracy on a scenario's tasks: what fills the accuracy matrix, usable in your own loop; on a
language-modelling stream, the mean next-token loss per text domain, what fills the loss matrix.

The training loop evaluates with the same function, so an accuracy matrix built with
:func:`evaluate` after each task of your own loop is comparable with the ones ``lifelong run``
writes, and every function of :mod:`lifelong.metrics` applies to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from lifelong.core.strategy import Strategy
from lifelong.data.scenarios import Scenario
from lifelong.errors import LifelongError

Predictor = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


@torch.no_grad()
def task_accuracies(
    predict: Predictor,
    scenario: Scenario,
    tasks: Sequence[int],
    index_sets: Sequence[torch.Tensor],
    batch_size: int,
) -> list[float]:
    """For each task, the fraction of its evaluation samples (``index_sets``, one per task) whose
    scores' argmax is the target.

    ``predict(x, task_ids)`` gets task ids only in the task-incremental setting (else ``None``).
    Every batch comes from ``scenario.eval_batches`` (a lazy dataset reads them through one
    DataLoader).
    """
    correct, total = class_counts(predict, scenario, tasks, index_sets, batch_size)
    return [
        int(c.sum()) / max(1, len(indices)) for c, indices in zip(correct, index_sets, strict=True)
    ]


@torch.no_grad()
def class_counts(
    predict: Predictor,
    scenario: Scenario,
    tasks: Sequence[int],
    index_sets: Sequence[torch.Tensor],
    batch_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Correct predictions and evaluated samples per (task, target unit): two (len(tasks),
    num_outputs) integer tensors on the CPU, from one pass over ``index_sets`` (as
    :func:`task_accuracies`)."""
    owners = [
        (position, chunk)
        for position, indices in enumerate(index_sets)
        for chunk in indices.split(batch_size)
    ]
    chunks = [(tasks[position], chunk) for position, chunk in owners]
    shape = (len(tasks), scenario.num_outputs)
    correct = torch.zeros(shape, dtype=torch.long, device=scenario.device)
    total = torch.zeros(shape, dtype=torch.long, device=scenario.device)
    for (position, _), (x, y) in zip(owners, scenario.eval_batches(chunks), strict=True):
        ids = torch.full_like(y, tasks[position]) if scenario.setting == "task" else None
        hit = (predict(x, ids).argmax(1) == y).long()
        y = y.to(correct.device)
        correct[position].index_add_(0, y, hit.to(correct.device))
        total[position].index_add_(0, y, torch.ones_like(y))
    return correct.cpu(), total.cpu()


@torch.no_grad()
def task_losses(
    sequence_losses: Callable[[torch.Tensor], torch.Tensor],
    scenario: Scenario,
    tasks: Sequence[int],
    index_sets: Sequence[torch.Tensor],
    batch_size: int,
) -> list[float]:
    """For each task (text domain) of a language-modelling stream, the mean over its evaluation
    texts (``index_sets``, one per task) of their mean next-token loss: one row ``L[i]`` of the
    loss matrix (nats per token; lower is better).

    ``sequence_losses(x)`` returns each text's mean next-token loss (B,) (e.g.
    :meth:`lifelong.models.hf.HFCausalLM.token_loss`).
    """
    owners = [
        (position, chunk)
        for position, indices in enumerate(index_sets)
        for chunk in indices.split(batch_size)
    ]
    chunks = [(tasks[position], chunk) for position, chunk in owners]
    totals = [0.0] * len(tasks)
    for (position, _), (x, _) in zip(owners, scenario.eval_batches(chunks), strict=True):
        totals[position] += float(sequence_losses(x).float().sum())
    return [t / max(1, len(indices)) for t, indices in zip(totals, index_sets, strict=True)]


def masked_predictor(model: nn.Module, scenario: Scenario, tasks_seen: int) -> Predictor:
    """Logits of a plain network with the setting's mask: the task's own units (task-incremental),
    the units of the first ``tasks_seen`` tasks (class-incremental), all units (domain)."""

    def predict(x: torch.Tensor, task_ids: torch.Tensor | None) -> torch.Tensor:
        logits = model(x)
        if logits.dim() != 2 or logits.shape[1] != scenario.num_outputs:
            raise LifelongError(
                f"evaluate: the model returned shape {tuple(logits.shape)}; expected (batch, "
                f"{scenario.num_outputs}) logits, one per output unit of the scenario"
            )
        mask = scenario.output_mask(task_ids, tasks_seen)
        return logits if mask is None else logits.masked_fill(~mask, -1e9)

    return predict


@torch.no_grad()
def evaluate(
    model: nn.Module,
    scenario: Scenario,
    *,
    tasks: Sequence[int] | None = None,
    tasks_seen: int | None = None,
    batch_size: int = 1000,
) -> list[float]:
    """Accuracy on each task's evaluation set (the test set, or the validation split the scenario
    was built with), in evaluation mode; the model's training mode is restored afterwards.

    Args:
        model: a :class:`~lifelong.core.strategy.Strategy` (its ``predict``: task routing,
            nearest-mean classifiers, masking) or any ``nn.Module`` returning logits over the
            scenario's ``num_outputs`` units (on the scenario's device).
        scenario: the stream of tasks.
        tasks: the task indices to evaluate (default: all).
        tasks_seen: how many tasks have been trained; in the class-incremental setting only the
            classes of those tasks may be predicted (default: a strategy's own count, or every task
            of the scenario for a plain module).
        batch_size: evaluation batch size.

    Returns:
        One accuracy (a fraction in [0, 1]) per evaluated task, in the order of ``tasks``.
    """
    chosen = list(range(scenario.num_tasks)) if tasks is None else list(tasks)
    bad = [t for t in chosen if not 0 <= t < scenario.num_tasks]
    if bad:
        raise LifelongError(f"evaluate: no task {bad[0]}; the scenario has {scenario.num_tasks}")
    sets = [scenario[t].eval_indices for t in chosen]
    was_training = model.training
    model.eval()
    try:
        if isinstance(model, Strategy):
            routed = (
                model.predict
                if tasks_seen is None
                else functools.partial(model.predict, tasks_seen=tasks_seen)
            )
            return task_accuracies(routed, scenario, chosen, sets, batch_size)
        predict = masked_predictor(model, scenario, tasks_seen or scenario.num_tasks)
        return task_accuracies(predict, scenario, chosen, sets, batch_size)
    finally:
        model.train(was_training)


@torch.no_grad()
def domain_losses(
    model: nn.Module, domains: Sequence[torch.Tensor], batch_size: int = 256
) -> list[float]:
    """A language model's mean loss on each text domain: one row of the loss matrix.

    Args:
        model: has ``token_loss(x) -> (B,)``, the mean next-token loss of each text (e.g.
            :class:`lifelong.models.hf.HFCausalLM`); evaluated in eval mode (restored afterwards).
        domains: one token tensor (N, 2, L) per domain (see :mod:`lifelong.data.text`).

    Returns:
        Per domain, the mean over its texts of their mean per-token loss (nats; lower is better).
        After each domain of your own loop it gives a row ``L[i]`` for :func:`lifelong.metrics.summarize_losses`.
    """
    was_training = model.training
    model.eval()
    try:
        losses = []
        for x in domains:
            token_loss: Callable[[torch.Tensor], torch.Tensor] = model.token_loss  # type: ignore[assignment]
            total = sum(
                float(token_loss(x[i : i + batch_size]).sum()) for i in range(0, len(x), batch_size)
            )
            losses.append(total / max(1, len(x)))
        return losses
    finally:
        model.train(was_training)
