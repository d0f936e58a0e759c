"""Dynamically Expandable Networks (DEN): selective retraining, expansion, split/duplication.

Yoon, Yang, Lee & Hwang 2018, "Lifelong Learning with Dynamically Expandable Networks" (ICLR). Task
0 trains the MLP on CE + l1 * ||W||_1. For every later task t (phases of its budget):

1. head (10%): fit task t's output weights, started at zero, with CE + l1 (a sparse linear model on
   the top hidden layer); everything else frozen.
2. select (40%): breadth-first search down from task t's outputs through the non-zero weights gives
   the relevant units; train only the weights among them on CE + l1 ||W||_1 + l2 ||W - W^{t-1}||^2.
3. expand (25%): if the loss on (up to 1024 of) task t's training samples is still above
   ``loss_threshold`` (tau), add ``expand_units`` (k) units to every hidden layer and train only
   them (and task t's outputs) with CE + l1 + group_l1 * sum_g ||W_g||_2 (one group per new unit's
   incoming weights); new units whose group became exactly zero are dropped. Otherwise keep on as in
   step 2.
4. split (25%): every earlier unit whose incoming weights drifted by rho_i = ||w_i^t - w_i^{t-1}||_2
   > ``split_threshold`` (sigma) is duplicated: the copy keeps the new weights (timestamp t) and the
   original gets back w_i^{t-1}; then the units of timestamp t and task t's outputs are trained.

Timestamped inference: task j uses only units added at tasks <= j. Penalties use proximal steps
after each optimizer step (soft-thresholding gives exact zeros). Simplifications: the network is the
MLP in the task-incremental setting (one output block per task); the selection is done once per task
instead of being re-estimated; when splitting, only a unit's incoming weights and bias are restored
(its outgoing weights are the next layer's incoming weights and are checked there); the paper's
fixed retraining of the whole network with l2 after splitting is the split phase's training of the
new units only. Earlier tasks can still change (selective retraining moves shared weights; l2 and
splitting limit the drift), so forgetting is small but not zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lifelong.components.expandable import (
    ExpandableMLP,
    connected_units,
    group_soft_threshold_,
    soft_threshold_,
)
from lifelong.components.routing import route_by_task
from lifelong.core.errors import ConfigError
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Phase, Strategy, StrategyConfig
from lifelong.data.scenarios import Task


@dataclass(frozen=True)
class DENConfig(StrategyConfig):
    """Sparsity, expansion and split thresholds (symbols of the paper)."""

    l1: float = field(1e-5, "mu: l1 soft-threshold applied after each step to trained weights")
    l2: float = field(1.0, "lambda: strength of ||W - W^{t-1}||^2 during selective retraining")
    group_l1: float = field(1e-3, "gamma: group soft-threshold on the new units' incoming weights")
    loss_threshold: float = field(0.05, "tau: expand when the training loss stays above this")
    expand_units: int = field(10, "k: units added to every hidden layer on expansion")
    split_threshold: float = field(0.1, "sigma: duplicate units whose weights drifted further")

    def __post_init__(self) -> None:
        check(min(self.l1, self.l2, self.group_l1) >= 0, "l1, l2 and group_l1 must be >= 0")
        check(self.loss_threshold >= 0 and self.split_threshold >= 0, "thresholds must be >= 0")
        check(self.expand_units >= 1, "expand_units must be >= 1")


@register
class DEN(Strategy):
    """Selective retraining, dynamic expansion and split/duplication of an MLP."""

    name = "den"
    config_class = DENConfig
    settings = frozenset({"task"})
    paper = "Yoon et al. 2018, Dynamically Expandable Networks (ICLR)"
    config: DENConfig

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        if context.model_spec.name != "mlp":
            raise ConfigError(f"den supports the mlp model only, not '{context.model_spec.name}'")
        self.model = ExpandableMLP([m for m in model.modules() if isinstance(m, torch.nn.Linear)])
        self.masks: list[torch.Tensor] = []  # trainable weight entries, per layer
        self.rows: list[torch.Tensor] = []  # trainable biases
        self.stored: list[torch.Tensor] = []  # weights and biases at the phase start (restored)
        self.previous: list[torch.Tensor] = []  # W^{t-1} and b^{t-1}
        self.group: list[torch.Tensor] = []  # rows under the group penalty (new units)
        self.record: dict[str, list] = {
            k: []
            for k in ("expanded", "added", "dropped", "split", "loss_before_expansion", "units")
        }

    def phases(self, task: Task) -> tuple[Phase, ...]:
        if task.index == 0:
            return (Phase("train", 1.0),)
        return (
            Phase("head", 0.1),
            Phase("select", 0.4),
            Phase("expand", 0.25),
            Phase("split", 0.25),
        )

    def _interleaved(self) -> list[torch.nn.Parameter]:
        """w_0, b_0, w_1, b_1, ... (the order of masks, stored and previous values)."""
        return [p for pair in zip(self.model.weights, self.model.biases, strict=True) for p in pair]

    def _task_rows(self, task: int) -> torch.Tensor:
        return self.context.scenario.task_output_mask[task].to(self.context.device)

    def _set_masks(self, rows: list[torch.Tensor], cols: list[torch.Tensor | None]) -> None:
        """Trainable = rows x cols per layer (cols None: all inputs)."""
        self.masks = [
            (r[:, None] & (c[None, :] if c is not None else True)).expand(w.shape).clone()
            for r, c, w in zip(rows, cols, self.model.weights, strict=True)
        ]
        self.rows = list(rows)
        self.stored = [p.detach().clone() for p in self._interleaved()]
        self.group = [torch.zeros_like(r) for r in rows]

    @torch.no_grad()
    def before_phase(self, task: Task, phase: Phase) -> None:
        m, t, c = self.model, task.index, self.config
        head = self._task_rows(t)
        if phase.name == "train":
            rows = [torch.ones(len(w), dtype=torch.bool, device=head.device) for w in m.weights]
            self._set_masks(rows, [None] * len(rows))
        elif phase.name == "head":
            self.previous = [p.detach().clone() for p in self._interleaved()]
            m.weights[-1][head], m.biases[-1][head] = 0.0, 0.0
            rows = [torch.zeros(len(w), dtype=torch.bool, device=head.device) for w in m.weights]
            self._set_masks(rows[:-1] + [head], [None] * len(m.weights))
        elif phase.name == "select":
            units = connected_units(list(m.weights), head)
            self._set_masks([*units, head], [None, *units])
        elif phase.name == "expand":
            loss = self._loss_on_task(t)
            self.record["loss_before_expansion"].append(loss)
            self.record["expanded"].append(loss > c.loss_threshold)
            if loss > c.loss_threshold:
                for i in range(len(m.stages)):
                    m.widen(i, c.expand_units, t, self.context.rng)
                self._train_units(t, head, group=True)
            self.record["added"].append(
                c.expand_units * len(m.stages) if loss > c.loss_threshold else 0
            )
        else:  # split: drop empty new units, then duplicate drifted ones
            dropped = split = 0
            for i in range(len(m.stages)):
                new = (m.stages[i] == t).to(m.weights[i].device)
                empty = new & (m.weights[i] == 0).all(1)
                m.keep(i, torch.nonzero(~empty).flatten())
                dropped += int(empty.sum())
                old, prev = m.weights[i], self.previous[2 * i]
                drift = (old[: len(prev), : prev.shape[1]] - prev).norm(dim=1)
                units = torch.nonzero(drift > c.split_threshold).flatten()
                m.duplicate(i, units, t)
                m.weights[i][units] = 0.0  # the original returns to w^{t-1} (new inputs unused)
                m.weights[i][units, : prev.shape[1]] = prev[units]
                m.biases[i][units] = self.previous[2 * i + 1][units]
                split += len(units)
            self.record["dropped"].append(dropped)
            self.record["split"].append(split)
            self._train_units(t, head, group=False)

    def _train_units(self, t: int, head: torch.Tensor, *, group: bool) -> None:
        """Trainable: the units of timestamp t (incoming rows, outgoing columns) and task t's
        outputs."""
        new = [(s == t).to(head.device) for s in self.model.stages]
        rows = [*new, head]
        self._set_masks(rows, [None] * len(rows))
        for i, n in enumerate(new):  # outgoing weights of the new units
            self.masks[i + 1] |= n[None, :] & (rows[i + 1][:, None] | (i + 1 < len(new)))
        if group:
            self.group = [*new, torch.zeros_like(head)]

    def _loss_on_task(self, t: int) -> float:
        task = self.context.scenario[t]
        idx = task.train_indices[:1024]
        ids = torch.full_like(idx, t)
        x, y = self.context.scenario.train_batch(ids, idx)
        return float(F.cross_entropy(self.masked_logits(self(x, ids), ids), y))

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.classification_loss(batch)
        if self.previous and self.config.l2 > 0:  # selective retraining keeps close to W^{t-1}
            for w, prev, mask in zip(
                self.model.weights, self.previous[::2], self.masks, strict=True
            ):
                r, c = prev.shape
                loss = loss + self.config.l2 * ((w[:r, :c] - prev) ** 2 * mask[:r, :c]).sum()
        return loss

    def after_backward(self, batch: Batch) -> None:
        masks = [m for pair in zip(self.masks, self.rows, strict=True) for m in pair]
        for p, mask in zip(self._interleaved(), masks, strict=True):
            if p.grad is not None:
                p.grad.mul_(mask)

    @torch.no_grad()
    def after_step(self, batch: Batch) -> None:
        masks = [m for pair in zip(self.masks, self.rows, strict=True) for m in pair]
        for p, mask, stored in zip(self._interleaved(), masks, self.stored, strict=True):
            p.copy_(torch.where(mask, p, stored))
        for w, mask, group in zip(self.model.weights, self.masks, self.group, strict=True):
            if self.config.l1 > 0:
                soft_threshold_(w, self.config.l1, mask)
            if self.config.group_l1 > 0 and group.any():
                group_soft_threshold_(w, self.config.group_l1, group)

    def after_task(self, task: Task) -> None:
        self.record["units"].append(self.model.widths)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        return route_by_task(x, task_ids, lambda xs, t: self.model(xs, t))

    def parameter_counts(self) -> dict[str, int]:
        return {
            "total": sum(p.numel() for p in self.model.parameters()),
            "trainable": sum(int(m.sum()) for m in self.masks + self.rows),
            "hidden_units": sum(self.model.widths),
        }

    def extra_metrics(self) -> dict[str, object]:
        return {**self.record, "hidden_units": self.model.widths}

    def extra_state(self) -> dict[str, object]:
        return {
            "shapes": [list(w.shape) for w in self.model.weights],
            "stages": self.model.stages,
            "masks": self.masks,
            "rows": self.rows,
            "stored": self.stored,
            "previous": self.previous,
            "group": self.group,
            "record": self.record,
        }

    def load_extra_state(self, state: dict[str, object]) -> None:
        self.model.resize(state["shapes"], state["stages"])  # type: ignore[arg-type]
        device = self.context.device
        for key in ("masks", "rows", "stored", "previous", "group"):
            setattr(self, key, [t.to(device) for t in state[key]])  # type: ignore[attr-defined]
        self.record = {k: list(v) for k, v in state["record"].items()}  # type: ignore[attr-defined]
