"""Memory policies of the replay strategies: which examples a buffer of ``buffer_size`` keeps.

The strategies' ``buffer_policy`` option (ER, DER, DER++, A-GEM, GEM):

* ``reservoir`` (Vitter 1985; ER and DER's default): every example of the stream enters during
  training with probability capacity / (examples seen), so the memory is a uniform sample of the
  stream so far, the current task included.
* ``task-reservoir`` (A-GEM and GEM's default): ``buffer_size // num_tasks`` slots per task, each
  filled during its task by reservoir sampling over that task's examples.
* ``ring`` (Chaudhry et al. 2019, "On tiny episodic memories in continual learning"): each class of
  each task (each output unit of a task) owns ``buffer_size // (classes in the stream)`` slots,
  written first-in first-out during training: the memory keeps each class's most recent examples.
  The stream's classes are known up front, so slots of classes not seen yet stay empty.
* ``task-balanced`` (Avalanche's experience-balanced buffer): nothing enters during a task; at its
  end the memory is re-split into ``buffer_size // tasks seen`` slots per past task (earlier tasks
  keep a random subset of theirs) and the finished task fills its share with a uniform random sample
  of its training data. Replay therefore draws only from past tasks.
* ``class-balanced`` (as GDumb's balanced sampler, filled at task end): the same with
  ``buffer_size // classes seen`` slots per class of a past task; each class of the finished task
  stores a uniform random sample of its examples (all of them if it has fewer).

Every policy draws its randomness from the strategy's generator, so a resumed run stores the same
examples. Memories filled at task end with logits (DER) store the logits the model gives at the end
of the task (in evaluation mode), not those of the step the example was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from lifelong.components.buffer import ReplayBuffer, make_buffer
from lifelong.core.strategy import Batch
from lifelong.data.scenarios import Scenario, Task
from lifelong.errors import ConfigError

BufferPolicy = Literal["reservoir", "task-reservoir", "ring", "task-balanced", "class-balanced"]
POLICIES: tuple[str, ...] = (
    "reservoir",
    "task-reservoir",
    "ring",
    "task-balanced",
    "class-balanced",
)
Logits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def class_keys(scenario: Scenario) -> torch.Tensor:
    """(tasks, outputs) table numbering every (task, output unit) pair of the stream 0, 1, ... in
    stream order (-1 where a task has no such unit): one key per class of each task."""
    mask = scenario.task_output_mask
    return torch.where(mask, mask.flatten().cumsum(0).view(mask.shape) - 1, -1)


def policy_buffer(
    policy: str,
    capacity: int,
    scenario: Scenario,
    storage: str,
    *,
    logits: bool = False,
    task_free: bool = False,
) -> ReplayBuffer:
    """The buffer ``policy`` needs (its keys and, for ``ring``, the block per key). A task-free
    stream (no task ids, no task ends; one task as far as the learner knows) refuses ``ring`` (it
    keys the memory by each task's classes) and the balanced policies (filled at task ends);
    ``task-reservoir`` is a reservoir there."""
    if policy not in POLICIES:
        raise ConfigError(f"buffer_policy must be one of {', '.join(POLICIES)}, got '{policy}'")
    if task_free and policy in ("ring", "task-balanced", "class-balanced"):
        raise ConfigError(
            f"buffer_policy={policy} needs task ids or task ends, which a task-free stream "
            "(--boundaries hidden/blurry/gradual) does not give; use buffer_policy=reservoir"
        )
    tasks, classes = scenario.num_tasks, int(scenario.task_output_mask.sum())
    keys = {"task-reservoir": tasks, "task-balanced": tasks, "ring": classes}
    keys["class-balanced"] = classes
    needed = keys.get(policy, 1)
    if capacity < needed:
        what = "tasks" if needed == tasks and policy.startswith("task") else "classes of the tasks"
        raise ConfigError(
            f"buffer_size ({capacity}) must be >= the number of {what} ({needed}): the memory is "
            f"split evenly over them (buffer_policy={policy})"
        )
    if policy == "reservoir":
        return make_buffer(capacity, scenario, storage, logits=logits)
    return make_buffer(
        capacity,
        scenario,
        storage,
        logits=logits,
        num_keys=keys[policy],
        ring_quota=capacity // classes if policy == "ring" else None,
        key_table=class_keys(scenario) if policy in ("ring", "class-balanced") else None,
    )


def store_step(
    policy: str,
    buffer: ReplayBuffer,
    batch: Batch,
    generator: torch.Generator,
    num_tasks: int,
    logits: torch.Tensor | None = None,
) -> None:
    """After a training step: the policies that fill the memory during training see the batch."""
    if policy == "reservoir":
        buffer.add_reservoir(batch.x, batch.y, batch.task_ids, generator, logits=logits)
    elif policy == "task-reservoir":
        buffer.add_balanced(
            batch.x,
            batch.y,
            batch.task_ids,
            by="task_ids",
            quota=buffer.capacity // num_tasks,
            generator=generator,
            logits=logits,
        )
    elif policy == "ring":
        assert buffer.key_table is not None  # made by policy_buffer
        keys = buffer.key_table[batch.task_ids, batch.y]
        buffer.add_ring(batch.x, batch.y, batch.task_ids, keys, logits=logits)


def store_task(
    policy: str,
    buffer: ReplayBuffer,
    task: Task,
    scenario: Scenario,
    generator: torch.Generator,
    logits_of: Logits | None = None,
) -> None:
    """At the end of ``task``: the balanced policies re-split the memory and store a random sample
    of the task's training data (``logits_of(x, task_ids)`` gives the logits to keep with them)."""
    if policy not in ("task-balanced", "class-balanced"):
        return
    seen = task.index + 1
    indices = task.train_indices.cpu()
    order = torch.randperm(len(indices), generator=generator)
    if policy == "task-balanced":
        quota = buffer.capacity // seen
        buffer.shrink(buffer.task_ids, quota, generator)
        chosen = indices[order[:quota]]
    else:
        assert buffer.key_table is not None  # made by policy_buffer
        keys_table = buffer.key_table.cpu()
        quota = buffer.capacity // int((keys_table[:seen] >= 0).sum())
        stored = keys_table[buffer.task_ids.long().cpu(), buffer.y.long().cpu()]
        buffer.shrink(stored.to(buffer.y.device), quota, generator)
        ids = torch.full((len(indices),), task.index, dtype=torch.long)
        _, units = scenario.train_batch(ids.to(scenario.device), indices.to(scenario.device))
        keys = keys_table[task.index, units.cpu()][order]  # shuffled, then grouped by key
        grouped = torch.sort(keys, stable=True).indices
        counts = torch.bincount(keys)
        rank = torch.empty_like(grouped)
        rank[grouped] = torch.arange(len(keys)) - (torch.cumsum(counts, 0) - counts)[keys[grouped]]
        chosen = indices[order[grouped[rank[grouped] < quota]]]
    ids = torch.full((len(chosen),), task.index, dtype=torch.long, device=scenario.device)
    x, y = scenario.train_batch(ids, chosen.to(scenario.device))
    device = buffer.y.device
    x, y, ids = x.to(device), y.to(device), ids.to(device)
    buffer.append(x, y, ids, logits=logits_of(x, ids) if logits_of is not None else None)
