"""The strategy interface: how a continual-learning method plugs into the one training loop.

A strategy is an ``nn.Module`` that owns the model (``self.model``) and any state of its own (Fisher
diagonals, buffers, masks, adapters, a generator). The loop in :mod:`lifelong.core.learner` calls, for
each task::

    before_task(task)
    for phase in phases(task):            # e.g. PackNet: "train" then "retrain" after pruning
        before_phase(task, phase)
        for each batch of training_tasks(task):
            loss = loss(batch)            # the overridable objective
            backward()                    # done by the loop, never by a strategy
            after_backward(batch)         # edit gradients (GEM, A-GEM, PackNet)
            optimizer step
            after_step(batch)             # SI path integral, buffer updates
    after_task(task)                      # Fisher, herding, pruning
    retraining()                          # batches trained on before evaluating (GDumb)
    evaluate with predict(x, task_ids)    # task routing, nearest-mean-of-exemplars

Online runs (``--online``, :mod:`lifelong.data.online`) call the same hooks on one pass of small
batches. With known boundaries ``before_task``/``after_task`` fire at each task's start and end, as
offline. With hidden or blurry boundaries (task-free) the learner is told nothing about tasks:
``before_task`` fires once, at the start of the stream, with a task that names nothing (index 0, no
classes, no data), ``after_task`` never; batches carry task id 0; ``context.tasks_seen`` stays 1;
the class-incremental output mask covers the labels observed so far (``observed_units``, a buffer
of the strategy that only the loop writes).
Only strategies with ``task_free = True`` run there. ``loss`` may return ``None``: no gradient step
on that batch (GDumb only stores it); ``after_step`` still runs.

Language-modelling streams (``scenario.objective == "lm"``: text domains, no labels) use the same
hooks: :meth:`Strategy.task_loss` is then the mean next-token loss of the batch's texts instead of
the cross-entropy of their labels, and evaluation reads :meth:`Strategy.sequence_losses`. Only
strategies whose ``objectives`` include ``"lm"`` run there (the others need labels or output units).

Strategies never call ``backward()``, ``step()`` or ``zero_grad()``. Everything a hook stores must be
part of ``state_dict()`` (as parameters, buffers, sub-modules, or in :meth:`extra_state`), so that a
checkpoint taken at any iteration resumes exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from lifelong.data.scenarios import SETTINGS, Scenario, Task
from lifelong.errors import UnsupportedSettingError

_OBJECTIVE_NAMES = {"classify": "classification", "lm": "language-modelling"}


@dataclass(frozen=True)
class Batch:
    """One training batch on the training device.

    Attributes:
        x: model inputs (B, C, H, W), already transformed for their task.
        y: target output units (B,).
        task_ids: the task each sample comes from (B,). Available during training in every setting
            (task boundaries are known); use :meth:`Strategy.routing_ids` to pass ids to a model.
    """

    x: torch.Tensor
    y: torch.Tensor
    task_ids: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Phase:
    """A named part of a task's training budget (``fraction`` of the task's iterations)."""

    name: str
    fraction: float = 1.0


@dataclass(frozen=True)
class StrategyConfig:
    """Base of every strategy's frozen, validated hyperparameter dataclass."""


@dataclass
class Context:
    """What the loop tells a strategy about the run. Strategies read it; only the loop writes it.

    Attributes:
        scenario: the stream of tasks (data on ``device``).
        device: training device.
        batch_size: the run's training batch size.
        iterations_per_task: iterations of the current task (all phases).
        rng: the strategy's own random generator (CPU); saved in checkpoints.
        tasks_seen: number of tasks whose training has started (1 during the first task).
        output_layer: dotted name of the model's output ``nn.Linear`` (``"head"`` for lifelong's
            models; see :mod:`lifelong.models.user`). A copy of the model (a teacher, a snapshot)
            is a deep copy of ``strategy.model``, which works for any network.
        task_free: the run is an online stream with hidden or blurry boundaries: no task ids, no
            task ends (see :mod:`lifelong.core.online`).
    """

    scenario: Scenario
    device: torch.device
    batch_size: int
    rng: torch.Generator
    output_layer: str = "head"
    iterations_per_task: int = 0
    tasks_seen: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    task_free: bool = False


class Strategy(nn.Module):
    """Base class: plain fine-tuning. Override the hooks a method needs.

    Class attributes:
        name: registry name (also the file name under ``lifelong/strategies``).
        config_class: the frozen dataclass of hyperparameters.
        settings: the settings this strategy supports.
        paper: short citation shown by ``lifelong list``.
        task_free: runs on online streams with hidden or blurry task boundaries (it needs no
            ``after_task`` and no task id).
        objectives: what the scenario's tasks may be learned for: ``"classify"`` (labels) and/or
            ``"lm"`` (language modelling: the strategy's loss goes through :meth:`task_loss`).
        revision: raised by one whenever a change to the method alters what a run with the same
            hyperparameters computes (a fix, a closer reading of the paper). Above 1 it is recorded
            with the run's hyperparameters (``code_revision``), so a run of older code is never
            reused, resumed or reported as a run of this one.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[StrategyConfig]] = StrategyConfig
    settings: ClassVar[frozenset[str]] = frozenset(SETTINGS)
    paper: ClassVar[str] = ""
    task_free: ClassVar[bool] = False
    objectives: ClassVar[frozenset[str]] = frozenset({"classify"})
    revision: ClassVar[int] = 1
    observed_units: torch.Tensor  # task-free runs only: the labels observed so far

    def __init__(self, model: nn.Module, config: StrategyConfig, context: Context) -> None:
        super().__init__()
        objective = context.scenario.objective
        if objective not in self.objectives:
            from lifelong.core.registry import list_strategies

            able = [n for n, s in sorted(list_strategies().items()) if objective in s.objectives]
            raise UnsupportedSettingError(
                f"strategy '{self.name}' cannot train on a {_OBJECTIVE_NAMES[objective]} stream; "
                f"strategies that can: {', '.join(able)}"
            )
        if objective == "lm" and not callable(getattr(model, "token_loss", None)):
            raise UnsupportedSettingError(
                f"a language-modelling stream needs a causal language model with token_loss(x) "
                f"(--model gpt-tiny or hf:PATH); got {type(model).__name__}"
            )
        if context.scenario.setting not in self.settings:
            raise UnsupportedSettingError(
                f"strategy '{self.name}' does not support the {context.scenario.setting}-incremental "
                f"setting; supported: {', '.join(sorted(self.settings))}"
            )
        self._lm = objective == "lm"
        self.model = model
        self.config = config
        self.context = context
        if context.task_free:
            self.register_buffer(
                "observed_units",
                torch.zeros(context.scenario.num_outputs, dtype=torch.bool, device=context.device),
            )

    @classmethod
    def behaviour(cls, config: Any, task_free: bool) -> dict[str, str]:
        """Marks of a fix that changed what only some configurations compute ({} here): recorded
        with those runs' hyperparameters, so a run of the earlier code is never reused or resumed
        as theirs, while every other configuration keeps its stored runs (a raised ``revision``
        would orphan them all).

        Args:
            config: the strategy's resolved hyperparameters (its ``config_class``).
            task_free: the run is an online stream with hidden, blurry or gradual boundaries.
        """
        return {}

    # ----------------------------------------------------------------- hooks (override)
    def before_task(self, task: Task) -> None:
        """Called once before training on ``task``."""

    def phases(self, task: Task) -> Sequence[Phase]:
        """How the task's iterations are split into named phases."""
        return (Phase("train", 1.0),)

    def before_phase(self, task: Task, phase: Phase) -> None:
        """Called before each phase of a task."""

    def training_tasks(self, task: Task) -> list[int]:
        """Indices of the tasks whose training data is streamed while learning ``task``."""
        return [task.index]

    def budget_tasks(self, task: Task) -> list[int]:
        """The tasks whose per-task budget training on ``task`` takes: ``iterations`` steps for
        each, or as many steps as ``epochs`` passes over their data. Default: the streamed tasks
        (every streamed task's data gets the same passes as under naive fine-tuning)."""
        return self.training_tasks(task)

    def loss(self, batch: Batch) -> torch.Tensor | None:
        """The training objective for one batch (default: :meth:`task_loss`); ``None``: no
        gradient step on this batch."""
        return self.task_loss(batch)

    def after_backward(self, batch: Batch) -> None:
        """Edit ``p.grad`` in place after the backward pass (before the optimizer step)."""

    def after_step(self, batch: Batch) -> None:
        """Called after each optimizer step."""

    def after_task(self, task: Task) -> None:
        """Called once after training on ``task``, before it is evaluated."""

    def retraining(self) -> Iterator[Batch]:
        """Batches the loop trains on (with a fresh optimizer, its own steps) before each
        evaluation; none by default. GDumb retrains from scratch on its memory here. Called again
        with nothing new stored, it must yield nothing (the loop may ask twice before one
        evaluation). Its time counts as training time."""
        return iter(())

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Logits over all output units. ``task_ids`` is ``None`` unless task-incremental."""
        return self.model(x)

    def predict(
        self,
        x: torch.Tensor,
        task_ids: torch.Tensor | None = None,
        *,
        tasks_seen: int | None = None,
    ) -> torch.Tensor:
        """Scores whose argmax is the prediction; units that may not be predicted are masked.

        ``tasks_seen`` (default: the context's) is how many tasks may be predicted in the
        class-incremental setting, e.g. 1 to measure the accuracy before a task is trained."""
        return self.masked_logits(self.forward(x, task_ids), task_ids, tasks_seen=tasks_seen)

    def predictors(self) -> dict[str, Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]]:
        """Extra named predictors also evaluated into accuracy matrices (e.g. iCaRL's head)."""
        return {}

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters the optimizer updates."""
        return [p for p in self.parameters() if p.requires_grad]

    def memory_bytes(self) -> int:
        """Bytes the strategy keeps besides the model (buffers, importance weights, teachers)."""
        # state_dict() returns fresh detached views: compare storages, not Python ids
        model_ptrs = {t.data_ptr() for t in self.model.state_dict().values()}
        return sum(
            t.numel() * t.element_size()
            for t in self.state_dict().values()
            if isinstance(t, torch.Tensor) and t.data_ptr() not in model_ptrs
        )

    def parameter_counts(self) -> dict[str, int]:
        """Parameters of the network that makes predictions: total and trainable."""
        params = list(self.model.parameters())
        return {
            "total": sum(p.numel() for p in params),
            "trainable": sum(p.numel() for p in params if p.requires_grad),
        }

    def extra_metrics(self) -> dict[str, Any]:
        """Method-specific numbers written to metrics.json (e.g. QP fallbacks, buffer size)."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        """Non-tensor (or dynamically shaped) state for checkpoints; see :meth:`load_extra_state`."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`; may rebuild structure (it runs before sub-modules load)."""

    # ----------------------------------------------------------------- helpers
    def routing_ids(self, batch: Batch) -> torch.Tensor | None:
        """Task ids a model may use for routing: only in the task-incremental setting."""
        return batch.task_ids if self.context.scenario.setting == "task" else None

    def output_mask(
        self, task_ids: torch.Tensor | None, *, tasks_seen: int | None = None
    ) -> torch.Tensor | None:
        """Units that may be predicted now: the scenario's mask for the tasks seen (``tasks_seen``
        defaults to the context's), or, on a task-free stream in the class-incremental setting,
        the labels observed so far (``None``, every unit, with ``class_units="all"``)."""
        scenario = self.context.scenario
        if (
            self.context.task_free
            and scenario.setting == "class"
            and scenario.class_units == "seen"
        ):
            return self.observed_units
        seen = self.context.tasks_seen if tasks_seen is None else tasks_seen
        return scenario.output_mask(task_ids, seen)

    def masked_logits(
        self,
        logits: torch.Tensor,
        task_ids: torch.Tensor | None,
        *,
        tasks_seen: int | None = None,
    ) -> torch.Tensor:
        """Set units that may not be predicted to a large negative value (finite: safe for KD);
        ``tasks_seen`` defaults to the context's."""
        mask = self.output_mask(task_ids, tasks_seen=tasks_seen)
        if mask is None:
            return logits
        return logits.masked_fill(~mask, -1e9)

    def batch_logits(self, batch: Batch) -> torch.Tensor:
        """Masked logits for a training batch."""
        ids = self.routing_ids(batch)
        return self.masked_logits(self(batch.x, ids), ids)

    def classification_loss(self, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(self.batch_logits(batch), batch.y)

    def task_loss(self, batch: Batch) -> torch.Tensor:
        """The scenario's own loss on a batch: cross-entropy on the allowed units, or, on a
        language-modelling stream, the mean over the batch's texts of their mean next-token loss."""
        if self._lm:
            return self.sequence_losses(batch.x).mean()
        return self.classification_loss(batch)

    def sequence_losses(self, x: torch.Tensor) -> torch.Tensor:
        """Language-modelling streams: each text's mean next-token loss (B,), the quantity the loss
        matrix averages (override to route texts, e.g. through a per-task adapter)."""
        return self.model.token_loss(x)  # type: ignore[operator]

    # ----------------------------------------------------------------- nn.Module plumbing
    def get_extra_state(self) -> dict[str, Any]:
        return self.extra_state()

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.load_extra_state(state)
