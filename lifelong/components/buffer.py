"""A replay buffer kept as compact tensors on the training device.

The buffer stores model inputs (already transformed for their task, as the Scenario delivers them),
their target units ``y`` and task ids (int16: up to 32767 units or tasks) and optionally the logits
the model gave them (DER). Its
budget is a number of stored examples (``capacity``); :meth:`ReplayBuffer.nbytes` reports the bytes.

Storage of the inputs: ``"uint8"`` stores ``round(x * scale)`` and returns ``stored / scale``; it is
exact for un-normalised images whose task transform only moves pixels (split and permuted MNIST,
Digits), 4x smaller than float32. :func:`lossless_storage` probes a scenario and picks ``uint8``
when it is exact, else ``float32`` (rotations interpolate, CIFAR is normalised). ``"float16"``
halves float32. Text is stored as its int64 token ids and attention mask (``"tokens"``, chosen
automatically), returned as they are.

Insertion policies (all vectorised over the batch; randomness from a given ``torch.Generator`` so a
resumed run draws the same numbers):

* reservoir (Vitter 1985): the n-th example seen (0-based) is kept with probability capacity/(n+1),
  replacing a uniformly random slot, so every example seen is stored with equal probability;
* balanced: a separate reservoir per key (class label for class-balanced replay, task id for GEM's
  per-task memories) with a quota of slots per key; when the quota shrinks (more classes seen), each
  key keeps a random subset of its examples. Simplification: an example replaces one stored *before*
  the current batch (examples of the same batch never evict each other);
* appended in a chosen order (iCaRL's herding) and trimmed to the first ``m`` per class;
* ring (Chaudhry et al. 2019): each key (a task's class) owns a fixed block of ``ring_quota``
  slots, written first-in first-out, so it holds the key's most recent examples.

Which policy a strategy uses is its ``buffer_policy`` option (:mod:`lifelong.components.memory`).

Everything lives in registered buffers, so ``state_dict()`` saves and restores the buffer exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lifelong.core.strategy import Batch
from lifelong.data.scenarios import Scenario
from lifelong.data.text import is_tokens
from lifelong.errors import ConfigError

STORAGE = ("float32", "float16", "uint8")
Storage = Literal["auto", "float32", "float16", "uint8"]  # the strategies' ``storage`` option


@dataclass(frozen=True)
class Replay:
    """A batch drawn from the buffer (inputs as float32, or token ids for text)."""

    x: torch.Tensor
    y: torch.Tensor
    task_ids: torch.Tensor
    logits: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.y)


def joined(batch: Batch, replay: Replay) -> Batch:
    """The current batch followed by replayed examples, as one training batch."""
    return Batch(
        torch.cat([batch.x, replay.x]),
        torch.cat([batch.y, replay.y]),
        torch.cat([batch.task_ids, replay.task_ids]),
    )


def make_buffer(
    capacity: int,
    scenario: Scenario,
    storage: str = "auto",
    *,
    logits: bool = False,
    num_keys: int | None = None,
    ring_quota: int | None = None,
    key_table: torch.Tensor | None = None,
) -> ReplayBuffer:
    """A buffer for ``scenario``'s inputs; ``storage="auto"`` picks :func:`lossless_storage` (token
    ids for text)."""
    if is_tokens(scenario.dataset):
        if storage != "auto":
            raise ConfigError(
                f"text inputs are stored as token ids; storage must be auto, got {storage}"
            )
        storage = "tokens"
    elif storage == "auto":
        storage = lossless_storage(scenario)
    return ReplayBuffer(
        capacity,
        scenario.input_shape,
        scenario.num_outputs,
        logits=logits,
        storage=storage,
        scale=scenario.dataset.scale,
        num_keys=num_keys,
        ring_quota=ring_quota,
        key_table=key_table,
    )


def lossless_storage(scenario: Scenario, probe: int = 16) -> str:
    """``"uint8"`` if every task's inputs are exactly ``k / scale`` (k in 0..255), else float32.

    Only uint8 data qualifies: a probe of a few float inputs (users' features) that happen to be
    whole numbers says nothing about the others."""
    if scenario.dataset.dtype != torch.uint8:
        return "float32"
    scale = scenario.dataset.scale
    for task in scenario:
        idx = task.train_indices[:probe]
        x, _ = scenario.train_batch(torch.full_like(idx, task.index), idx)
        q = x * scale
        if not (torch.equal(q, q.round()) and q.min() >= 0 and q.max() <= 255):
            return "float32"
    return "uint8"


class ReplayBuffer(nn.Module):
    """Fixed-capacity example memory on the device of its tensors.

    Args:
        capacity: number of stored examples (the memory budget).
        input_shape: shape of one model input, e.g. (1, 28, 28).
        num_outputs: number of output units (for label counts and stored logits).
        logits: also store a logit vector per example (DER).
        storage: dtype of the stored inputs: float32, float16 or uint8 (see the module docstring).
        scale: for uint8 storage, inputs are stored as ``round(x * scale)``.
        num_keys: number of distinct keys of the balanced and ring policies (default:
            ``num_outputs``).
        ring_quota: slots per key of the ring policy (key k owns slots ``k * ring_quota`` to
            ``(k + 1) * ring_quota - 1``); ``None``: the other policies, which fill slots from 0.
        key_table: (tasks, outputs) key of each (task, output unit) pair, for policies keyed by
            class (:func:`lifelong.components.memory.class_keys`); not saved (derived from the
            scenario).
    """

    x: torch.Tensor
    y: torch.Tensor
    task_ids: torch.Tensor
    logits: torch.Tensor | None
    size: torch.Tensor
    seen: torch.Tensor
    seen_per_key: torch.Tensor
    key_table: torch.Tensor | None

    def __init__(
        self,
        capacity: int,
        input_shape: tuple[int, ...],
        num_outputs: int,
        *,
        logits: bool = False,
        storage: str = "float32",
        scale: float = 255.0,
        num_keys: int | None = None,
        ring_quota: int | None = None,
        key_table: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if ring_quota is not None and not 1 <= ring_quota * (num_keys or num_outputs) <= capacity:
            raise ValueError(f"ring_quota {ring_quota} x keys must be in 1..capacity {capacity}")
        self.ring_quota = ring_quota
        if storage not in (*STORAGE, "tokens"):
            raise ValueError(f"storage must be one of {STORAGE} or tokens, got {storage}")
        self.capacity, self.storage, self.scale = capacity, storage, scale
        dtype = {
            "float32": torch.float32,
            "float16": torch.float16,
            "uint8": torch.uint8,
            "tokens": torch.long,
        }[storage]
        self.register_buffer("x", torch.zeros(capacity, *input_shape, dtype=dtype))
        self.register_buffer("y", torch.zeros(capacity, dtype=torch.int16))
        self.register_buffer("task_ids", torch.zeros(capacity, dtype=torch.int16))
        self.register_buffer("logits", torch.zeros(capacity, num_outputs) if logits else None)
        self.register_buffer("size", torch.zeros((), dtype=torch.long))  # slots in use: 0..size-1
        # examples offered to the reservoir
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))
        # balanced policy: examples offered per key
        self.register_buffer("seen_per_key", torch.zeros(num_keys or num_outputs, dtype=torch.long))
        self.register_buffer("key_table", key_table, persistent=False)

    def __len__(self) -> int:
        return int(self.size)

    def nbytes(self) -> int:
        """Bytes of the stored tensors (the full capacity is allocated up front)."""
        return sum(t.numel() * t.element_size() for t in self.state_dict().values())

    # ------------------------------------------------------------------ writing
    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.storage == "uint8":
            return (x * self.scale).round_().clamp_(0, 255).to(torch.uint8)
        return x.to(self.x.dtype)

    def _write(
        self,
        slots: torch.Tensor,
        source: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        logits: torch.Tensor | None,
        *,
        unique: bool = False,
    ) -> None:
        """Write batch rows ``source`` into ``slots``; with repeated slots the last row wins
        (``unique``: the caller knows no slot repeats, which saves the resolution)."""
        if slots.shape[0] == 0:
            return
        if unique or slots.shape[0] == 1:
            rows = source
        else:
            winner = torch.full((self.capacity,), -1, dtype=torch.long, device=slots.device)
            winner.scatter_reduce_(0, slots, torch.arange(len(slots), device=slots.device), "amax")
            slots = torch.nonzero(winner >= 0).flatten()
            rows = source[winner[slots]]
        self.x[slots] = self._encode(x[rows].detach())
        self.y[slots] = y[rows].to(self.y.dtype)
        self.task_ids[slots] = task_ids[rows].to(self.task_ids.dtype)
        if self.logits is not None:
            if logits is None:
                raise ValueError("this buffer stores logits: pass them")
            self.logits[slots] = logits[rows].detach().float()

    def add_reservoir(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        generator: torch.Generator,
        logits: torch.Tensor | None = None,
    ) -> None:
        """Offer a batch to reservoir sampling (one vectorised step for the whole batch)."""
        # shapes, in-place counters and no-op moves skipped: this runs once per online batch
        count, seen = y.shape[0], int(self.seen)
        n = torch.arange(seen, seen + count)  # stream position of each example
        draw = (torch.rand(count, generator=generator, dtype=torch.float64) * (n + 1)).long()
        slots = torch.where(n < self.capacity, n, draw)
        source = torch.nonzero(slots < self.capacity).flatten()
        if source.shape[0]:  # late in a long stream many batches store nothing
            slots, device = slots[source], self.y.device
            if device != slots.device:
                slots, source = slots.to(device), source.to(device)
            filling = seen + count <= self.capacity  # slots are the positions: no repeats
            self._write(slots, source, x, y, task_ids, logits, unique=filling)
        self.seen.add_(count)
        self.size.fill_(min(self.capacity, seen + count))

    def add_balanced(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        *,
        by: str,
        quota: int,
        generator: torch.Generator,
        logits: torch.Tensor | None = None,
    ) -> None:
        """Per-key reservoir sampling with ``quota`` slots per key; ``by``: "y" (class-balanced) or
        "task_ids" (a memory per task). The caller keeps quota * (keys in use) <= capacity."""
        if by not in ("y", "task_ids"):
            raise ValueError(f"by must be 'y' or 'task_ids', got {by}")
        device, num_keys = self.y.device, len(self.seen_per_key)
        self.shrink(getattr(self, by), quota, generator)
        size = int(self.size)
        stored_keys = getattr(self, by)[:size].long().cpu()
        keys = (y if by == "y" else task_ids).cpu()
        # position of each example in its key's stream: earlier offers + earlier rows of this batch
        onehot = torch.nn.functional.one_hot(keys, num_keys)
        before = (onehot.cumsum(0) - onehot)[torch.arange(len(keys)), keys]
        n = self.seen_per_key.cpu()[keys] + before
        counts = torch.bincount(stored_keys, minlength=num_keys)
        starts = torch.cumsum(counts, 0) - counts
        order = torch.sort(stored_keys, stable=True).indices  # slots grouped by key
        accept = torch.rand(len(keys), generator=generator, dtype=torch.float64) * (n + 1) < quota
        pick = (torch.rand(len(keys), generator=generator) * counts[keys]).long()
        append = n < quota
        slots = torch.full_like(keys, -1)
        slots[append] = size + torch.arange(int(append.sum()))
        replace = ~append & accept & (counts[keys] > 0)
        slots[replace] = order[(starts[keys] + pick)[replace]]
        keep = slots >= 0
        self._write(
            slots[keep].to(device), torch.nonzero(keep).flatten().to(device), x, y, task_ids, logits
        )
        self.size += int(append.sum())
        self.seen_per_key += torch.bincount(keys, minlength=num_keys).to(device)

    def add_ring(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        keys: torch.Tensor,
        logits: torch.Tensor | None = None,
    ) -> None:
        """Write each example into its key's block, first-in first-out (the ring policy): the n-th
        example of key k (0-based) goes to slot ``k * ring_quota + n % ring_quota``, so a full
        block holds the key's ``ring_quota`` most recent examples. No randomness, no host read."""
        if self.ring_quota is None:
            raise ValueError("this buffer was not made for the ring policy (ring_quota)")
        num_keys = len(self.seen_per_key)
        onehot = torch.nn.functional.one_hot(keys, num_keys)
        before = (onehot.cumsum(0) - onehot)[torch.arange(len(keys), device=keys.device), keys]
        n = self.seen_per_key[keys] + before  # position of each example in its key's stream
        slots = keys * self.ring_quota + n % self.ring_quota
        self._write(slots, torch.arange(len(keys), device=keys.device), x, y, task_ids, logits)
        self.seen_per_key += torch.bincount(keys, minlength=num_keys)
        self.size.copy_(self.seen_per_key.clamp(max=self.ring_quota).sum())

    def add_greedy_balanced(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        generator: torch.Generator,
        task_stride: int = 0,
    ) -> None:
        """GDumb's greedy class-balanced sampler (Prabhu et al. 2020, Algorithm 1): an example is
        stored while the memory has room; once full, it is stored if its class holds fewer than
        capacity / (classes seen) examples, evicting a random example of the largest class.

        With ``task_stride`` > 0 the balanced key is the (task, class) pair,
        ``task_id * task_stride + y`` (the buffer needs ``num_keys`` = tasks x stride): an extension
        for domain-incremental streams, where every class appears in the first task and a
        class-balanced memory would never admit a later task's example.

        Vectorised over the batch: the examples that fit are appended in order; the others are
        admitted while their class is under the quota (counting admitted examples of the batch
        before them), and as many evictions are taken together from the largest classes (the
        levels one-at-a-time evictions reach; ties go to the lower class index).
        """
        keys = (y.long() + task_ids.long() * task_stride).cpu()
        num_keys = len(self.seen_per_key)
        self.seen_per_key += torch.bincount(keys, minlength=num_keys).to(self.seen_per_key.device)
        quota = self.capacity / int((self.seen_per_key > 0).sum())
        free = self.capacity - int(self.size)
        if free > 0:
            self.append(x[:free], y[:free], task_ids[:free])
        if len(keys) <= free:
            return
        rest = torch.arange(free, len(keys))
        stored = (
            self.y[: self.capacity].long() + self.task_ids[: self.capacity].long() * task_stride
        ).cpu()
        counts = torch.bincount(stored, minlength=num_keys)
        onehot = torch.nn.functional.one_hot(keys[rest], num_keys)
        before = (onehot.cumsum(0) - onehot)[torch.arange(len(rest)), keys[rest]]
        admitted = rest[counts[keys[rest]] + before < quota]
        if len(admitted) == 0:
            return
        # the eviction levels: the largest L with sum_c max(count_c - L, 0) <= evictions
        levels = torch.arange(int(counts.max()) + 1)
        removed = (counts[None, :] - levels[:, None]).clamp(min=0).sum(1)
        level = int(torch.nonzero(removed <= len(admitted)).min())
        target = counts.clamp(max=level)
        extra = len(admitted) - int(removed[level])
        at_level = torch.nonzero(target == level).flatten()[:extra]
        target[at_level] -= 1
        # keep a random target[c] examples of each class c
        shuffled = torch.randperm(self.capacity, generator=generator)
        order = shuffled[torch.sort(stored[shuffled], stable=True).indices]
        rank = torch.empty_like(order)
        rank[order] = (
            torch.arange(self.capacity) - (torch.cumsum(counts, 0) - counts)[stored[order]]
        )
        self._compact((rank < target[stored]).to(self.y.device))
        chosen = admitted.to(y.device)
        self.append(x[chosen], y[chosen], task_ids[chosen])

    def append(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        task_ids: torch.Tensor,
        logits: torch.Tensor | None = None,
    ) -> None:
        """Store examples after the current ones, in the given order."""
        size = int(self.size)
        if size + len(y) > self.capacity:
            raise ValueError(f"buffer full: {size} + {len(y)} > {self.capacity}")
        slots = torch.arange(size, size + len(y), device=self.y.device)
        self._write(slots, torch.arange(len(y), device=self.y.device), x, y, task_ids, logits)
        self.size += len(y)

    def keep_first_per_class(self, per_class: int) -> None:
        """Keep the first ``per_class`` stored examples of every class (iCaRL's reduction step)."""
        size = int(self.size)
        y = self.y[:size].long()
        order = torch.sort(y, stable=True).indices
        counts = torch.bincount(y)
        rank = torch.empty_like(order)
        rank[order] = (
            torch.arange(size, device=y.device) - (torch.cumsum(counts, 0) - counts)[y[order]]
        )
        self._compact(rank < per_class)

    def shrink(self, keys: torch.Tensor, quota: int, generator: torch.Generator) -> None:
        """Keep a random ``quota`` examples of every key that has more (``keys``: one per slot)."""
        size = int(self.size)
        if size == 0:
            return
        keys = keys[:size].long().cpu()
        if int(torch.bincount(keys).max()) <= quota:
            return
        shuffled = torch.randperm(size, generator=generator)
        order = shuffled[torch.sort(keys[shuffled], stable=True).indices]  # by key, random within
        counts = torch.bincount(keys)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(size) - (torch.cumsum(counts, 0) - counts)[keys[order]]
        self._compact((rank < quota).to(self.y.device))

    def _compact(self, keep: torch.Tensor) -> None:
        """Move the kept examples (``keep`` over slots 0..size-1) to the front, in order."""
        kept = torch.nonzero(keep).flatten()
        for name in ("x", "y", "task_ids", "logits"):
            tensor = getattr(self, name)
            if tensor is not None:
                tensor[: len(kept)] = tensor[kept].clone()
        self.size.fill_(len(kept))

    # ------------------------------------------------------------------ reading
    def indices(self, tasks_before: int | None = None) -> torch.Tensor:
        """Slots in use, optionally only those of tasks ``< tasks_before``."""
        if self.ring_quota is None:
            slots = torch.arange(int(self.size), device=self.y.device)
        else:  # the first min(seen, quota) slots of every key's block
            q = self.ring_quota
            slots = torch.arange(q * len(self.seen_per_key), device=self.y.device)
            slots = slots[slots % q < self.seen_per_key.clamp(max=q)[slots // q]]
        if tasks_before is not None:
            slots = slots[self.task_ids[: len(slots)] < tasks_before]
        return slots

    def get(self, slots: torch.Tensor) -> Replay:
        """The examples in ``slots`` (one indexed gather per tensor)."""
        x = self.x[slots]
        if self.storage == "uint8":
            x = x.float() / self.scale
        elif self.storage != "tokens":
            x = x.float()
        logits = self.logits[slots] if self.logits is not None else None
        return Replay(x, self.y[slots].long(), self.task_ids[slots].long(), logits)

    def sample(self, n: int, generator: torch.Generator, tasks_before: int | None = None) -> Replay:
        """``n`` examples drawn uniformly without replacement (all of them if fewer are stored)."""
        if tasks_before is None:  # all slots: draw positions directly (the same draws)
            size = int(self.size)
            slots = (
                torch.randperm(size, generator=generator)[:n] if size > n else torch.arange(size)
            )
            return self.get(slots if slots.device == self.y.device else slots.to(self.y.device))
        slots = self.indices(tasks_before)
        if len(slots) > n:
            slots = slots[torch.randperm(len(slots), generator=generator)[:n].to(slots.device)]
        return self.get(slots)


def herding(features: torch.Tensor, m: int) -> torch.Tensor:
    """iCaRL's herding (Rebuffi et al. 2017, Algorithm 4): indices of ``m`` rows, in order.

    Row k is the example that brings the mean of the k chosen (L2-normalised) features closest to
    the class mean mu: ``p_k = argmin_x || mu - (phi(x) + sum_{j<k} phi(p_j)) / k ||``; each example
    is chosen at most once. One vectorised distance computation per chosen example.
    """
    phi = torch.nn.functional.normalize(features, dim=1)
    mu = phi.mean(0)
    m = min(m, len(phi))
    chosen = torch.empty(m, dtype=torch.long, device=phi.device)
    total = torch.zeros_like(mu)
    available = torch.ones(len(phi), dtype=torch.bool, device=phi.device)
    for k in range(m):
        distance = (mu - (total + phi) / (k + 1)).norm(dim=1).masked_fill(~available, float("inf"))
        chosen[k] = distance.argmin()
        total += phi[chosen[k]]
        available[chosen[k]] = False
    return chosen
