"""Dynamically Expandable Networks (DEN): selective retraining, expansion, split/duplication.

Yoon, Yang, Lee & Hwang 2018, "Lifelong Learning with Dynamically Expandable Networks" (ICLR). Task
0 trains the MLP on CE + mu ||W||_1. Each later task t is split into phases of its budget:

1. head (10%): task t's output weights, started at zero, on CE + mu ||W||_1 (a sparse linear model
   on the top hidden layer); everything else frozen.
2. select (40%): a breadth-first search down from task t's outputs through the non-zero weights
   gives the relevant units; only the weights among them train, on
   CE + mu ||W||_1 + lambda ||W - W^{t-1}||^2 (hidden layers; the new outputs have no W^{t-1}).
3. expand (25%): if the loss on (up to 1024 of) task t's training samples is still above tau, add
   k units to every hidden layer and train only them (and task t's outputs) on
   CE + mu ||W||_1 + gamma sum_g ||W_g||_2 (one group per new unit's incoming weights).
4. split (25%): new units whose group became exactly zero are dropped; every earlier unit whose
   incoming weights and bias drifted by rho_i = ||w_i^t - w_i^{t-1}||_2 > sigma is duplicated (at
   most max_split per layer, the most drifted): the copy (timestamp t) keeps the new values, the
   original gets back w_i^{t-1}; then the units of timestamp t and task t's outputs train on
   CE + mu ||W||_1.

Task j uses only the units added at tasks <= j (timestamps). Penalties are proximal steps after
every optimizer step (exact zeros). Simplified vs the paper: MLP, task-incremental setting only; the
sub-network is selected once per task; lambda acts in selective retraining (the paper's Eq. 3 has
none; it uses lambda in the split step, Eq. 5); the drift of step 2 is what is measured (the paper
first retrains the whole network with lambda), and the split phase trains only the units of
timestamp t; a split unit gets back its incoming weights and bias only (its outgoing weights are the
next layer's incoming ones, checked there). Units that drifted less than sigma, or beyond the
max_split most drifted, keep their new values, so forgetting is small but not zero. The paper's
text splits every unit past sigma; the authors' code (jaehong31/DEN, DEN.py) splits at most k
(ex_k) per layer and task, and so does max_split (default k = 10; 0: no limit): without it a new
permutation of Permuted MNIST moves nearly every unit past sigma, the network doubles at each task
(400 -> 1339 units after three) and ten tasks do not fit in memory or time. The code keeps the
least drifted units past sigma (an ascending sort); lifelong keeps the most drifted, the units the
split exists for. Defaults were chosen on a validation split (never the
test set): docs/results.md, section den-validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lifelong.components.expandable import ExpandableMLP, connected_units
from lifelong.components.routing import route_by_task, training_loss
from lifelong.components.subnetwork import TrainableSubset
from lifelong.core.fields import check, field
from lifelong.core.registry import register
from lifelong.core.strategy import Batch, Phase, Strategy, StrategyConfig
from lifelong.data.scenarios import Task
from lifelong.models.user import mlp_layers

LATER = (Phase("head", 0.1), Phase("select", 0.4), Phase("expand", 0.25), Phase("split", 0.25))


@dataclass(frozen=True)
class DENConfig(StrategyConfig):
    """Sparsity, expansion and split thresholds (symbols of the paper)."""

    l1: float = field(1e-5, "mu: l1 soft-threshold applied after each step to trained weights")
    l2: float = field(1.0, "lambda: strength of ||W - W^{t-1}||^2 during selective retraining")
    group_l1: float = field(1e-3, "gamma: group soft-threshold on the new units' incoming weights")
    loss_threshold: float = field(0.05, "tau: expand when the training loss stays above this")
    expand_units: int = field(10, "k: units added to every hidden layer on expansion")
    split_threshold: float = field(0.03, "sigma: duplicate units whose weights drifted further")
    max_split: int = field(
        10, "most units duplicated per hidden layer and task, the most drifted (0: no limit)"
    )

    def __post_init__(self) -> None:
        check(min(self.l1, self.l2, self.group_l1) >= 0, "l1, l2 and group_l1 must be >= 0")
        check(self.loss_threshold >= 0 and self.split_threshold >= 0, "thresholds must be >= 0")
        check(self.expand_units >= 1, "expand_units must be >= 1")
        check(self.max_split >= 0, "max_split must be >= 0 (0: no limit)")


@register
class DEN(Strategy):
    """Selective retraining, dynamic expansion and split/duplication of an MLP."""

    name = "den"
    config_class = DENConfig
    settings = frozenset({"task"})
    paper = "Yoon et al. 2018, Dynamically Expandable Networks (ICLR)"
    revision = 2  # 2: at most max_split units split per layer and task (the authors' code)
    config: DENConfig
    model: ExpandableMLP

    def __init__(self, model, config, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(model, config, context)
        self.model = ExpandableMLP(mlp_layers(model, self.name, "it adds fully connected units"))
        self.subset = TrainableSubset()  # what trains in the current phase, and W^{t-1}
        keys = ("expanded", "added", "dropped", "split", "loss_before_expansion", "units")
        self.record: dict[str, list] = {k: [] for k in keys}

    def phases(self, task: Task) -> tuple[Phase, ...]:
        return LATER if task.index else (Phase("train", 1.0),)

    @torch.no_grad()
    def before_phase(self, task: Task, phase: Phase) -> None:
        m, t, c = self.model, task.index, self.config
        head = self.context.scenario.task_output_mask[t].to(self.context.device)
        everything = [torch.ones(len(w), dtype=torch.bool, device=head.device) for w in m.weights]
        if phase.name == "train":
            self.subset.select(m, everything)
        elif phase.name == "head":  # a sparse linear model of task t on the top hidden layer
            self.subset.previous = [p.detach().clone() for p in m.interleaved()]
            m.weights[-1][head], m.biases[-1][head] = 0.0, 0.0
            self.subset.select(m, [~r for r in everything[:-1]] + [head])
        elif phase.name == "select":
            units = connected_units(list(m.weights), head)
            self.subset.select(m, [*units, head], [None, *units])
        elif phase.name == "expand":
            loss = training_loss(self, t)
            expand = loss > c.loss_threshold
            self.record["loss_before_expansion"].append(loss)
            self.record["expanded"].append(expand)
            self.record["added"].append(c.expand_units * len(m.stages) if expand else 0)
            if expand:
                m.widen_all(c.expand_units, t, self.context.rng)
                self.subset.select_units(m, t, head, group=True)
        else:  # split: drop the new units group sparsity emptied, then duplicate drifted ones
            previous, sigma = self.subset.previous, c.split_threshold
            dropped, split = m.drop_and_split(previous, sigma, t, c.max_split)
            self.record["dropped"].append(dropped)
            self.record["split"].append(split)
            self.subset.select_units(m, t, head, group=False)

    def loss(self, batch: Batch) -> torch.Tensor:
        loss = self.classification_loss(batch)
        if self.subset.previous and self.config.l2 > 0:  # keep close to W^{t-1}
            loss = loss + self.config.l2 * self.subset.drift_penalty(self.model)
        return loss

    def after_backward(self, batch: Batch) -> None:
        self.subset.mask_gradients(self.model)

    def after_step(self, batch: Batch) -> None:
        self.subset.restore_and_shrink(self.model, self.config.l1, self.config.group_l1)

    def after_task(self, task: Task) -> None:
        self.record["units"].append(self.model.widths)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        return route_by_task(x, task_ids, lambda xs, t: self.model(xs, t))

    def parameter_counts(self) -> dict[str, int]:
        total, units = sum(p.numel() for p in self.model.parameters()), sum(self.model.widths)
        return {"total": total, "trainable": self.subset.count(), "hidden_units": units}

    def extra_metrics(self) -> dict[str, object]:
        return {**self.record, "hidden_units": self.model.widths}

    def extra_state(self) -> dict[str, object]:
        return {**self.model.structure(), "record": self.record, **self.subset.state()}

    def load_extra_state(self, state: dict[str, object]) -> None:
        self.model.resize(state["shapes"], state["stages"])  # type: ignore[arg-type]
        self.subset.load(state, self.context.device)  # type: ignore[arg-type]
        self.record = {k: list(v) for k, v in state["record"].items()}  # type: ignore[attr-defined]
