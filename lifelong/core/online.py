"""The online loop: one pass over a stream of small batches (see :mod:`lifelong.data.online`).

It is :class:`~lifelong.core.learner.Learner`'s loop for ``online`` runs: the same library-owned
step, optimizer, checkpoints and observers, with what the learner may know set by the boundary mode.

Events the strategy sees, per mode:

* ``known``: ``before_task(task)`` before a task's first batch, ``after_task(task)`` after its last;
  batches carry their task ids; ``context.tasks_seen`` is the current task + 1; the optimizer is
  renewed at each task start if ``reset_optimizer``.
* ``hidden`` / ``blurry`` / ``gradual`` (task-free): ``before_task`` once, at the start of the
  stream, with a task that names nothing; never ``after_task``; task ids are 0;
  ``context.tasks_seen`` stays 1; ``strategy.observed_units`` holds the labels observed so far (the
  class-incremental mask, written after the prequential prediction of a batch); the optimizer is
  never renewed.

In every mode the evaluator (not the learner) records the accuracy-matrix row of task t when the
stream passes the nominal end of task t, and an anytime point every ``anytime_every`` samples and at
each row (per task, and per output unit on the curve subsets of the tasks that have appeared).
With ``prequential``, each incoming batch is predicted (eval mode, no gradient) before training on it.
"""

from __future__ import annotations

import math

import torch

from lifelong.core.compute import PassCounter
from lifelong.core.learner import Learner, Progress, TrainingClock
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.online import OnlineStream
from lifelong.data.scenarios import Task
from lifelong.errors import ConfigError, DivergenceError, UnsupportedSettingError


def check_online(strategy: Strategy, boundaries: str) -> None:
    """Raise a clear error when ``strategy`` cannot learn from a single-pass stream this way."""
    cls = type(strategy)
    if cls.training_tasks is not Strategy.training_tasks or cls.phases is not Strategy.phases:
        raise UnsupportedSettingError(
            f"strategy '{cls.name}' trains on several tasks' data or in several phases per task, "
            "which a single-pass stream cannot give it; run it without --online"
        )
    if boundaries != "known" and not cls.task_free:
        raise UnsupportedSettingError(
            f"strategy '{cls.name}' needs task boundaries (it acts at task ends or uses task "
            f"ids); run it with --boundaries known"
        )
    if boundaries != "known" and strategy.context.scenario.setting == "task":
        raise ConfigError(
            "task-free streams hide task ids, which the task-incremental setting needs; use the "
            "class or domain setting, or --boundaries known"
        )


def stream_task(scenario_device: torch.device) -> Task:
    """The task a task-free learner is shown at the start of the stream: it names nothing."""
    empty = torch.zeros(0, dtype=torch.long, device=scenario_device)
    return Task(0, (), (), empty, empty)


def default_anytime_every(stream: OnlineStream) -> int:
    """Ten anytime points per task (of the smallest task), at least one batch apart."""
    return max(1, min(stream.task_sizes) // 10)


def fit_online(learner: Learner) -> Progress:
    """Train ``learner.strategy`` on one pass of the stream; returns the filled Progress."""
    training, progress, strategy = learner.training, learner.progress, learner.strategy
    scenario, context = learner.scenario, learner.context
    check_online(strategy, learner.boundaries)
    task_free = context.task_free
    stream = OnlineStream(
        scenario,
        training.batch_size,
        boundaries=learner.boundaries,
        blurriness=learner.blurriness,
        drift=learner.drift,
        seed=learner.seed,
    )
    learner._measure_initial_accuracy()
    anytime_every = learner.evaluation.anytime_every
    every = default_anytime_every(stream) if anytime_every is None else anytime_every
    row_batches = stream.row_batches()
    rows = {b: t for t, b in enumerate(row_batches)}
    # the evaluator's task segments (for progress observers): batches up to each row
    segment_ends = [b + 1 for b in row_batches]
    if task_free:
        context.tasks_seen = 1
        context.iterations_per_task = stream.num_batches
    counter = PassCounter(strategy.model, progress.forward_samples, progress.backward_samples)
    correct = torch.tensor(progress.online_correct, device=scenario.device)
    learner.observers.run_started(
        {"tasks": scenario.num_tasks, "setting": scenario.setting, "online": learner.boundaries}
    )
    clock = TrainingClock(progress)

    def sync() -> None:
        """Counters into the (checkpointed) progress; training time without evaluation."""
        progress.online_correct = int(correct)
        progress.forward_samples, progress.backward_samples = counter.forward, counter.backward
        clock.charge()

    first = progress.global_iteration
    if first == 0 and task_free:
        strategy.before_task(stream_task(scenario.device))
    if task_free or first > 0:
        learner._ensure_optimizer(fresh=first == 0)
    batches = scenario.train_batches(stream.batches(first))
    strategy.train()
    try:
        for b in range(first, stream.num_batches):
            ids, x, y = next(batches)
            task = min(progress.task, scenario.num_tasks - 1)
            if b == first or b == (segment_ends[task - 1] if task else 0):
                learner.observers.task_started(task, segment_ends[task] - b)
            if not task_free:
                task = stream.task_of_batch(b)
                context.tasks_seen = task + 1
                context.iterations_per_task = stream.batches_of_task(task)
                if b == 0 or stream.task_of_batch(b - 1) != task:  # a task starts
                    progress.task_starts.append(progress.global_iteration)
                    strategy.before_task(scenario[task])
                    learner._ensure_optimizer(fresh=training.reset_optimizer or b == 0)
                    progress.iteration = 0
            if training.prequential:
                routing = ids if scenario.setting == "task" else None
                with torch.no_grad():
                    strategy.eval()
                    correct += (strategy.predict(x, routing).argmax(1) == y).sum()
                    strategy.train()
                progress.online_tested += len(y)
            if task_free:
                strategy.observed_units[y] = True
                ids = torch.zeros_like(ids)
            # Small online batches: the loss is read at every step (one sync per batch).
            loss = float(learner._train_step(Batch(x, y, ids)))
            if not math.isfinite(loss):
                raise DivergenceError(task, progress.iteration, loss)
            learner._check_loss_growth(loss, task, progress.iteration)
            before, progress.samples = progress.samples, stream.samples_after(b)
            progress.iteration += 1
            progress.global_iteration += 1
            learner.observers.iteration_done(
                task, progress.iteration, progress.global_iteration, loss
            )
            last_of_task = not task_free and (
                b + 1 == stream.num_batches or stream.task_of_batch(b + 1) != task
            )
            if last_of_task:
                strategy.after_task(scenario[task])
            if b in rows:
                sync()
                learner._finish_task(
                    rows[b],
                    lambda row: _record_anytime(
                        progress,
                        stream,
                        row,
                        *learner.evaluate_by_class(learner._curve_subsets)[1:],
                    ),
                )
            elif every and progress.samples // every > before // every:
                learner._retrain()
                accuracies, *class_counts = learner.evaluate_by_class(learner._curve_subsets)
                _record_anytime(progress, stream, accuracies, *class_counts)
                progress.curve_iterations.append(progress.global_iteration)
                progress.curve_accuracy.append(list[float | None](accuracies))
                learner.observers.evaluated(progress.global_iteration, task, accuracies)
            every_checkpoint = training.checkpoint_every
            if every_checkpoint and progress.global_iteration % every_checkpoint == 0:
                sync()
                learner._save_checkpoint()
    finally:
        batches.close()
        counter.close()
    sync()
    learner.observers.run_done({"train_seconds": progress.train_seconds})
    return progress


def _record_anytime(
    progress: Progress,
    stream: OnlineStream,
    accuracies: list[float],
    correct: torch.Tensor,
    total: torch.Tensor,
) -> None:
    """An anytime point: task accuracies, and per output unit the accuracy over the (curve subsets
    of the) tasks that have appeared, from the (tasks, outputs) counts."""
    appeared = stream.tasks_appeared(progress.samples)
    hits, count = correct[:appeared].sum(0).tolist(), total[:appeared].sum(0).tolist()
    progress.anytime_samples.append(progress.samples)
    progress.anytime_accuracy.append(accuracies)
    progress.anytime_tasks.append(appeared)
    progress.anytime_class_accuracy.append(
        [h / n if n else None for h, n in zip(hits, count, strict=True)]
    )
