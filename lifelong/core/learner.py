"""The one training loop. It owns devices, the optimizer, clipping, divergence checks, evaluation
and checkpoints; strategies only answer its hooks (see :mod:`lifelong.core.strategy`)."""

from __future__ import annotations

import functools
import itertools
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from lifelong.core.config import EvaluationConfig, RunConfig, TrainingConfig
from lifelong.core.evaluation import class_counts, task_losses
from lifelong.core.events import Observer, Observers
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.scenarios import Scenario
from lifelong.data.stream import BatchStream, batches_per_epoch
from lifelong.errors import ConfigError, DivergenceError, LossGrowthWarning

if TYPE_CHECKING:
    from lifelong.core.distributed import DataParallel

# A loss this many times its value at the start of the task is reported as growing (not only NaN).
LOSS_GROWTH = 1000.0
# Losses are read on the host (checked for NaN and growth, passed to observers) once per this many
# iterations, and before every evaluation, checkpoint and task end: reading a loss makes the host
# wait for the device, so the training step itself never synchronizes on a GPU.
SYNC_EVERY = 50

Measured = TypeVar("Measured")


@dataclass
class _PendingLosses:
    """Losses of the iterations since the last synchronization, still on the device."""

    values: list[torch.Tensor] = field(default_factory=list)
    # (task, iteration within the task, global iteration, iteration within the phase) of each
    positions: list[tuple[int, int, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Progress:
    """Where the run is and what it measured so far; saved in checkpoints (plain data only)."""

    task: int = 0
    phase: int = 0
    iteration: int = 0  # within the phase
    global_iteration: int = 0
    rows: list[list[float]] = field(default_factory=list)
    extra_rows: dict[str, list[list[float]]] = field(default_factory=dict)
    initial_accuracy: list[float] | None = None
    curve_iterations: list[int] = field(default_factory=list)
    # one row per curve point; intermediate points leave tasks not yet trained as None
    curve_accuracy: list[list[float | None]] = field(default_factory=list)
    # learning curve area (--lca-batches): per task, its accuracy before and after each of its
    # first mini-batches
    lca_accuracy: list[list[float]] = field(default_factory=list)
    task_starts: list[int] = field(default_factory=list)
    # training time without evaluation; retraining before an evaluation (GDumb) is training
    train_seconds: float = 0.0
    parameters: list[dict[str, int]] = field(default_factory=list)
    # online streams: samples consumed, anytime points, prequential counts, compute
    samples: int = 0
    anytime_samples: list[int] = field(default_factory=list)
    anytime_accuracy: list[list[float]] = field(default_factory=list)
    anytime_tasks: list[int] = field(default_factory=list)
    # per anytime point, accuracy per output unit on the tasks that have appeared (None: no sample)
    anytime_class_accuracy: list[list[float | None]] = field(default_factory=list)
    online_correct: int = 0
    online_tested: int = 0
    forward_samples: int = 0
    backward_samples: int = 0
    eval_seconds: float = 0.0
    # process CPU time of training (evaluation excluded): unlike wall time, not inflated by other
    # processes sharing the cores
    train_cpu_seconds: float = 0.0
    eval_cpu_seconds: float = 0.0
    # CPU time counted since the first step (a checkpoint of older offline code counted none)
    cpu_counted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        return cls(**data)


class TrainingClock:
    """Training time since :meth:`start`, evaluation excluded, added to the progress by
    :meth:`charge`: wall seconds (``train_seconds``) and process CPU seconds
    (``train_cpu_seconds``)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.start()

    def start(self) -> None:
        """Count from now (time spent before, such as a checkpoint's saving, is not training)."""
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.eval_wall, self.eval_cpu = self.progress.eval_seconds, self.progress.eval_cpu_seconds

    def charge(self) -> None:
        """Add the training time since :meth:`start` or the last charge to the progress."""
        progress = self.progress
        wall, cpu = time.perf_counter(), time.process_time()
        progress.train_seconds += wall - self.wall - (progress.eval_seconds - self.eval_wall)
        progress.train_cpu_seconds += cpu - self.cpu - (progress.eval_cpu_seconds - self.eval_cpu)
        self.start()


def make_optimizer(
    params: list[torch.nn.Parameter], config: TrainingConfig
) -> torch.optim.Optimizer:
    """Adam or SGD from the training configuration."""
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


class Learner:
    """Trains ``strategy`` on ``scenario``, task after task, and fills the accuracy matrix.

    Args:
        strategy: the method, holding the model.
        scenario: the stream of tasks (default: the strategy's).
        training: budget, optimizer, clipping and checkpoint schedule.
        evaluation: intermediate evaluation for the curves.
        seed: seed of the batch order and of the curve subsets.
        boundaries: online runs: how task boundaries appear in the stream (known, hidden,
            blurry, gradual; see :mod:`lifelong.data.online`), ``blurriness`` the blurry mode's b
            and ``drift`` the gradual mode's w.
        observers: read-only observers (progress, logs).
        checkpoint: called with a checkpoint dict at task ends (and every ``checkpoint_every``
            iterations); the caller decides where it is written and what it adds.
        parallel: this process's rank in data-parallel training (torchrun), or None.
    """

    def __init__(
        self,
        strategy: Strategy,
        scenario: Scenario | None = None,
        *,
        training: TrainingConfig,
        evaluation: EvaluationConfig | None = None,
        seed: int = 0,
        boundaries: str = "known",
        blurriness: float = 0.0,
        drift: float = 0.0,
        observers: list[Observer] | None = None,
        checkpoint: Callable[[dict[str, Any]], None] | None = None,
        parallel: DataParallel | None = None,
    ) -> None:
        self.strategy = strategy
        self.scenario = strategy.context.scenario if scenario is None else scenario
        self.training = training
        self.evaluation = evaluation or EvaluationConfig()
        self.seed = seed
        self.boundaries, self.blurriness, self.drift = boundaries, blurriness, drift
        self.context = strategy.context
        self.observers = Observers(observers or [])
        self.checkpoint = checkpoint
        self.parallel = parallel
        self.progress = Progress()
        self.optimizer: torch.optim.Optimizer | None = None
        self._optimized: list[int] = []
        self._pending_optimizer_state: dict[str, Any] | None = None
        self._loss_reference: tuple[int, float, bool] | None = None  # (task, first loss, warned)
        self._pending = _PendingLosses()
        self._bf16 = training.precision == "bf16"
        generator = torch.Generator().manual_seed(seed + 7)
        self._curve_subsets = [
            t.eval_indices[
                torch.randperm(len(t.eval_indices), generator=generator).to(t.eval_indices.device)[
                    : self.evaluation.curve_samples
                ]
            ]
            for t in self.scenario
        ]

    @classmethod
    def from_config(cls, strategy: Strategy, config: RunConfig, **kwargs: Any) -> Learner:
        """A learner with the training, evaluation and seed of a run configuration."""
        return cls(
            strategy,
            training=config.training,
            evaluation=config.evaluation,
            seed=config.seed,
            boundaries=config.data.boundaries,
            blurriness=config.data.blurry,
            drift=config.data.drift,
            **kwargs,
        )

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(
        self,
        predictor: Callable | None = None,
        *,
        tasks_seen: int | None = None,
        subsets: list[torch.Tensor] | None = None,
        tasks: list[int] | None = None,
    ) -> list[float]:
        """Accuracy on each task's evaluation set (all tasks, or ``tasks``; ``subsets`` to use fewer
        samples); on a language-modelling stream, the mean next-token loss on each domain's texts
        (a row of the loss matrix, which the progress rows and curves then hold)."""
        size = self.evaluation.eval_batch_size
        if self.scenario.objective == "lm":
            _, losses = self._evaluated(
                predictor,
                tasks_seen,
                subsets,
                tasks,
                lambda _, chosen, sets: task_losses(
                    self.strategy.sequence_losses, self.scenario, chosen, sets, size
                ),
            )
            return losses
        sets, (correct, _) = self._evaluated(
            predictor,
            tasks_seen,
            subsets,
            tasks,
            lambda predict, chosen, sets: class_counts(predict, self.scenario, chosen, sets, size),
        )
        return [int(c.sum()) / max(1, len(s)) for c, s in zip(correct, sets, strict=True)]

    @torch.no_grad()
    def evaluate_by_class(
        self, subsets: list[torch.Tensor] | None = None
    ) -> tuple[list[float], torch.Tensor, torch.Tensor]:
        """Accuracy on every task, and correct / evaluated samples per (task, target unit): two
        (tasks, outputs) CPU tensors (see :func:`lifelong.core.evaluation.class_counts`)."""
        size = self.evaluation.eval_batch_size
        sets, (correct, total) = self._evaluated(
            None,
            None,
            subsets,
            None,
            lambda predict, chosen, sets: class_counts(predict, self.scenario, chosen, sets, size),
        )
        accuracies = [int(c.sum()) / max(1, len(s)) for c, s in zip(correct, sets, strict=True)]
        return accuracies, correct, total

    def _evaluated(
        self,
        predictor: Callable | None,
        tasks_seen: int | None,
        subsets: list[torch.Tensor] | None,
        tasks: list[int] | None,
        measure: Callable[[Callable, list[int], list[torch.Tensor]], Measured],
    ) -> tuple[list[torch.Tensor], Measured]:
        """The evaluated index sets and ``measure(predictor, tasks, sets)`` on them, in evaluation
        mode, with the evaluation time counted."""
        started, cpu = time.perf_counter(), time.process_time()
        if predictor is None:
            predictor = (
                self.strategy.predict
                if tasks_seen is None
                else functools.partial(self.strategy.predict, tasks_seen=tasks_seen)
            )
        was_training = self.strategy.training
        self.strategy.eval()
        chosen = list(range(self.scenario.num_tasks)) if tasks is None else list(tasks)
        sets = [
            subsets[t] if subsets is not None else self.scenario[t].eval_indices for t in chosen
        ]
        measured = measure(predictor, chosen, sets)
        self.strategy.train(was_training)
        self.progress.eval_seconds += time.perf_counter() - started
        self.progress.eval_cpu_seconds += time.process_time() - cpu
        return sets, measured

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly from the current position."""
        rng = {"torch": torch.get_rng_state(), "strategy": self.context.rng.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()  # type: ignore[assignment]
        return {
            "format": 1,
            "progress": self.progress.to_dict(),
            "strategy": self.strategy.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "rng": rng,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.progress = Progress.from_dict(state["progress"])
        self.strategy.load_state_dict(state["strategy"])
        self.strategy.to(self.context.device)
        torch.set_rng_state(state["rng"]["torch"])
        self.context.rng.set_state(state["rng"]["strategy"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self._pending_optimizer_state = state["optimizer"]

    def _save_checkpoint(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint(self.state_dict())

    # ------------------------------------------------------------------ training
    def _ensure_optimizer(self, *, fresh: bool) -> None:
        params = self.strategy.trainable_parameters()
        ids = [id(p) for p in params]
        if fresh:
            self._pending_optimizer_state = None
        if fresh or self.optimizer is None or ids != self._optimized:
            self.optimizer = make_optimizer(params, self.training)
            self._optimized = ids
        if self._pending_optimizer_state is not None:
            self.optimizer.load_state_dict(self._pending_optimizer_state)
            self._pending_optimizer_state = None

    def _iterations_for(self, scenario: Scenario, budget_tasks: list[int]) -> int:
        """Iterations of one task: the budget of ``budget_tasks`` (:meth:`Strategy.budget_tasks`),
        ``iterations`` for each, or ``epochs`` passes over their training data."""
        if self.training.iterations is not None:
            return self.training.iterations * len(budget_tasks)
        samples = sum(len(scenario[t].train_indices) for t in budget_tasks)
        per_epoch = batches_per_epoch(samples, self.training.batch_size)
        return self.training.epochs * per_epoch  # type: ignore[operator]

    def _check_loss_growth(self, value: float, task: int, iteration: int) -> None:
        """Warn once per task when the loss exceeds ``LOSS_GROWTH`` times the task's first loss."""
        if self._loss_reference is None or self._loss_reference[0] != task:
            self._loss_reference = (task, value, False)
            return
        _, reference, warned = self._loss_reference
        if not warned and value > LOSS_GROWTH * max(reference, 1e-2):
            self._loss_reference = (task, reference, True)
            warnings.warn(
                f"the training loss grew from {reference:.4g} to {value:.4g} at task {task}, "
                f"iteration {iteration}; the run may be diverging (lower the learning rate or "
                "the strategy's strength)",
                LossGrowthWarning,
                stacklevel=2,
            )

    def _train_step(self, batch: Batch) -> torch.Tensor:
        """One optimizer step; returns the detached loss without reading it (no host sync). A
        strategy that only stores the batch (``loss`` is None: GDumb) takes no step; its loss is
        reported as 0."""
        assert self.optimizer is not None
        loss: torch.Tensor | None
        if self.parallel is not None:
            loss = self._parallel_backward(batch)
        elif self.training.grad_accumulation > 1:
            loss = self._accumulate(batch)
        else:
            loss = self._loss(batch)
            if loss is not None:
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
        if loss is None:
            self.strategy.after_step(batch)
            return torch.zeros((), device=self.context.device)
        self.strategy.after_backward(batch)
        if self.training.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(
                self.strategy.trainable_parameters(), self.training.grad_clip
            )
        self.optimizer.step()
        self.strategy.after_step(batch)
        return loss.detach()

    def _loss(self, batch: Batch) -> torch.Tensor | None:
        if self._bf16:
            with torch.autocast(self.context.device.type, dtype=torch.bfloat16):
                return self.strategy.loss(batch)
        return self.strategy.loss(batch)

    def _accumulate(self, batch: Batch) -> torch.Tensor | None:
        """Gradient accumulation: backpropagate ``grad_accumulation`` micro-batches one at a time,
        each loss weighted by its share of the batch, so that the summed gradient is the batch's
        (for a mean loss; a strategy's penalty or replay term, added to every micro-batch's loss,
        counts once in total). Returns the batch's loss, or None when the strategy took none."""
        assert self.optimizer is not None
        self.optimizer.zero_grad(set_to_none=True)
        total: torch.Tensor | None = None
        n = len(batch)
        parts = min(self.training.grad_accumulation, n)  # a short last batch: no empty parts
        for x, y, ids in zip(
            batch.x.tensor_split(parts),
            batch.y.tensor_split(parts),
            batch.task_ids.tensor_split(parts),
            strict=True,
        ):
            loss = self._loss(Batch(x, y, ids))
            if loss is None:
                continue
            share = loss * (len(y) / n)
            share.backward()
            total = share.detach() if total is None else total + share.detach()
        return total

    def _parallel_backward(self, batch: Batch) -> torch.Tensor:
        """Data-parallel training: backpropagate this rank's slice of the batch, average the
        gradients and the loss over the ranks (see :mod:`lifelong.core.distributed`)."""
        assert self.optimizer is not None and self.parallel is not None
        part, scale = self.parallel.slice(batch)
        loss = self._loss(part)
        assert loss is not None, "data-parallel strategies always return a loss"
        self.optimizer.zero_grad(set_to_none=True)
        (loss * scale).backward()
        grads = [p.grad for p in self.strategy.trainable_parameters() if p.grad is not None]
        return self.parallel.average(grads, loss * scale)

    def _sync_losses(self) -> None:
        """Read the pending losses in one transfer; check them in order (the first non-finite one
        stops the run, naming its iteration) and report them to the observers."""
        pending, self._pending = self._pending, _PendingLosses()
        if not pending:
            return
        values = torch.stack([v.float() for v in pending.values]).tolist()
        for value, (task, iteration, global_iteration, in_phase) in zip(
            values, pending.positions, strict=True
        ):
            if not math.isfinite(value):
                raise DivergenceError(task, in_phase, value)
            self._check_loss_growth(value, task, in_phase)
            self.observers.iteration_done(task, iteration, global_iteration, value)

    def _retrain(self) -> None:
        """Train on the strategy's :meth:`~Strategy.retraining` batches, if any, with a fresh
        optimizer (cross-entropy, the run's optimizer, learning rate and clipping); a second call
        with nothing new stored trains nothing."""
        batches = self.strategy.retraining()
        first = next(batches, None)
        if first is None:
            return
        self.strategy.train()
        params = self.strategy.trainable_parameters()
        optimizer = make_optimizer(params, self.training)
        for batch in itertools.chain([first], batches):
            loss = self.strategy.classification_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.training.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, self.training.grad_clip)
            optimizer.step()

    def _measure_initial_accuracy(self) -> None:
        progress = self.progress
        if progress.initial_accuracy is None:
            # b_j is measured the way R[j-1][j] is: with the output units of the tasks seen by then
            progress.initial_accuracy = [
                self.evaluate(tasks_seen=max(j, 1), tasks=[j])[0]
                for j in range(self.scenario.num_tasks)
            ]

    def fit(self) -> Progress:
        """Train on every remaining task; returns the filled :class:`Progress`."""
        if self.progress.global_iteration == 0 and self.progress.samples == 0:
            self.progress.cpu_counted = True  # a fresh run (not a checkpoint of older code)
        if self.training.online:
            from lifelong.core.online import fit_online

            if self.scenario.objective == "lm":
                raise ConfigError(
                    "online streams (--online) are for classification; a language-modelling "
                    "stream trains by --epochs or --iterations"
                )
            return fit_online(self)
        progress, scenario, strategy = self.progress, self.scenario, self.strategy
        self._measure_initial_accuracy()
        info = {"tasks": scenario.num_tasks, "setting": scenario.setting}
        if scenario.objective != "classify":  # observers' evaluations are losses then
            info["objective"] = scenario.objective
        self.observers.run_started(info)
        resuming = progress.phase > 0 or progress.iteration > 0
        clock = TrainingClock(progress)
        while progress.task < scenario.num_tasks:
            task = scenario[progress.task]
            self.context.tasks_seen = task.index + 1
            clock.start()
            if not resuming:
                progress.task_starts.append(progress.global_iteration)
                strategy.before_task(task)
                self._learning_curve_point(task.index)
            sources = strategy.training_tasks(task)
            stream = (
                BatchStream(
                    scenario,
                    sources,
                    self.training.batch_size,
                    seed=self.seed * 1000 + task.index,
                )
                if sources
                else None
            )
            total = self._iterations_for(scenario, strategy.budget_tasks(task)) if stream else 0
            self.context.iterations_per_task = total
            self.observers.task_started(task.index, total)
            phases = list(strategy.phases(task))
            done_before = sum(round(p.fraction * total) for p in phases[: progress.phase])
            strategy.train()
            while progress.phase < len(phases):
                phase = phases[progress.phase]
                n_iter = round(phase.fraction * total)
                if not resuming:
                    strategy.before_phase(task, phase)
                self._ensure_optimizer(
                    fresh=progress.phase == 0 and self.training.reset_optimizer and not resuming
                )
                resuming = False
                if stream is not None and n_iter > 0:
                    batches = scenario.train_batches(
                        stream.batches(done_before + progress.iteration)
                    )
                    while progress.iteration < n_iter:
                        ids, x, y = next(batches)
                        self._pending.values.append(self._train_step(Batch(x, y, ids)))
                        self._pending.positions.append(
                            (
                                task.index,
                                done_before + progress.iteration + 1,
                                progress.global_iteration + 1,
                                progress.iteration,
                            )
                        )
                        progress.iteration += 1
                        progress.global_iteration += 1
                        if done_before + progress.iteration <= self.evaluation.lca_batches:
                            self._learning_curve_point(task.index)
                        curve = self._curve_due(total, done_before + progress.iteration)
                        checkpoint = bool(
                            self.training.checkpoint_every
                            and progress.global_iteration % self.training.checkpoint_every == 0
                        )
                        if curve or checkpoint or len(self._pending) >= SYNC_EVERY:
                            self._sync_losses()
                        if curve:
                            self._evaluate_curve(task.index)
                        if checkpoint:
                            clock.charge()
                            self._save_checkpoint()
                            clock.start()
                    self._sync_losses()
                    batches.close()  # a lazy dataset's DataLoader workers stop here
                done_before += n_iter
                progress.phase += 1
                progress.iteration = 0
            strategy.after_task(task)
            self._retrain()  # the training an evaluation needs (GDumb) is counted as training
            clock.charge()
            self._finish_task(task.index)
        self.observers.run_done({"train_seconds": progress.train_seconds})
        return progress

    def _curve_due(self, total: int, iteration: int) -> bool:
        """Whether the curves get a point after ``iteration`` (of ``total`` in the task)."""
        every = self.evaluation.eval_every
        if every is None:
            every = max(1, total // 10)
        return bool(every) and iteration % every == 0 and iteration < total

    def _evaluate_curve(self, task: int) -> None:
        """A curve point on the tasks trained so far (0..task): the curves of later tasks start
        at their task's start, from the full evaluation that ends the previous task."""
        self._retrain()
        accs = self.evaluate(subsets=self._curve_subsets, tasks=list(range(task + 1)))
        unseen: list[float | None] = [None] * (self.scenario.num_tasks - len(accs))
        self.progress.curve_iterations.append(self.progress.global_iteration)
        self.progress.curve_accuracy.append([*accs, *unseen])
        self.observers.evaluated(self.progress.global_iteration, task, accs)

    def _learning_curve_point(self, task: int) -> None:
        """With ``lca_batches``, the accuracy on ``task`` (its curve subset) now: before its first
        mini-batch (a new row) and after each of its first ``lca_batches`` ones."""
        if not self.evaluation.lca_batches:
            return
        if self.scenario.objective != "classify":
            raise ConfigError(
                "--lca-batches measures accuracy; a language-modelling stream has losses instead"
            )
        self._retrain()
        accuracy = self.evaluate(subsets=self._curve_subsets, tasks=[task])[0]
        rows = self.progress.lca_accuracy
        if len(rows) <= task:
            rows.append([])
        rows[task].append(accuracy)

    def _finish_task(
        self, task: int, record: Callable[[list[float]], None] | None = None
    ) -> list[float]:
        """Evaluate the row of ``task``; ``record`` stores more of it before the checkpoint."""
        progress = self.progress
        self._retrain()
        row = self.evaluate()
        progress.rows.append(row)
        for name, predictor in self.strategy.predictors().items():
            progress.extra_rows.setdefault(name, []).append(self.evaluate(predictor))
        progress.curve_iterations.append(progress.global_iteration)
        progress.curve_accuracy.append(list(row))
        progress.parameters.append(self.strategy.parameter_counts())
        progress.task, progress.phase, progress.iteration = task + 1, 0, 0
        if record is not None:
            record(row)
        self.observers.task_done(task, row)
        self._save_checkpoint()
        return row
