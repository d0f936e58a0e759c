"""Online streams: a scenario consumed in one pass, in small batches, with known, hidden, blurry or
gradual task boundaries.

The whole stream order is built once, as two index tensors (task of each sample, index into the
training data), from which every batch is a slice: no per-sample Python runs while training, and
the order is a pure function of the seed (a resumed run continues at its batch).

Boundary modes:

* ``known``: the tasks come one after another; a batch never straddles two tasks, and the learner
  is told where each task starts and ends (``before_task`` / ``after_task``, task ids in batches).
* ``hidden`` (task-free): the same order, cut into batches regardless of tasks; the learner is told
  nothing about tasks.
* ``blurry`` (task-free): neighbouring tasks mix around each boundary. Sample i of task t gets the
  stream time ``t - b/2 + (1 + b) * u_i`` with ``u_i ~ U(0, 1)`` and blurriness ``b`` in (0, 1];
  the stream is sorted by time. Task t then occupies [t - b/2, t + 1 + b/2], so within a window of
  width ``b`` task lengths centred on each boundary, the two tasks' samples are uniformly mixed
  (half and half), and a fraction ``b / (1 + b)`` of each middle task's samples lies in a window.
  ``b -> 0`` gives the hidden-boundary stream.
* ``gradual`` (task-free): the distribution drifts from each task to the next, with the next task's
  share ramping *linearly* from 0 to 1 over a window of ``w`` task lengths (drift width ``w`` in
  (0, 1]) centred on each boundary. Sample i of task t gets the stream time
  ``t - w/2 + u_i + w * v_i`` with ``u_i, v_i ~ U(0, 1)``: the sum of a uniform of width 1 and one
  of width w has a trapezoidal density, rising linearly over [t - w/2, t + w/2], flat up to
  t + 1 - w/2 and falling linearly over [t + 1 - w/2, t + 1 + w/2]. Neighbouring ramps add up to
  the flat level, so at stream time t + 1 + s (|s| <= w/2) a sample comes from task t + 1 with
  probability ``1/2 + s/w``. ``w = 1`` leaves no pure stretch: the stream drifts all along, e.g.
  a rotated MNIST with many small angle steps becomes a continuously rotating stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from lifelong.data.scenarios import Scenario
from lifelong.errors import ConfigError

BOUNDARIES = ("known", "hidden", "blurry", "gradual")


class OnlineStream:
    """The single-pass order of a scenario's training samples and its cut into batches.

    Args:
        scenario: the tasks (all of them are streamed, in order).
        batch_size: samples per incoming batch (a final batch of one sample joins the one before).
        boundaries: ``known``, ``hidden``, ``blurry`` or ``gradual`` (see the module docstring).
        blurriness: ``b`` of the blurry mode (0 otherwise).
        drift: ``w`` of the gradual mode (0 otherwise).
        seed: determines the order within tasks (and the mixing of the blurry mode).
    """

    def __init__(
        self,
        scenario: Scenario,
        batch_size: int,
        *,
        boundaries: str = "known",
        blurriness: float = 0.0,
        drift: float = 0.0,
        seed: int = 0,
    ) -> None:
        if boundaries not in BOUNDARIES:
            raise ConfigError(f"boundaries must be one of {', '.join(BOUNDARIES)}: {boundaries}")
        if boundaries == "blurry" and not 0.0 < blurriness <= 1.0:
            raise ConfigError(f"blurry boundaries need a blurriness in (0, 1], got {blurriness}")
        if boundaries == "gradual" and not 0.0 < drift <= 1.0:
            raise ConfigError(f"gradual boundaries need a drift width in (0, 1], got {drift}")
        generator = torch.Generator().manual_seed(seed * 1_000_003 + 17)
        sizes = [len(t.train_indices) for t in scenario]
        if min(sizes, default=0) == 0:
            raise ConfigError("every task needs training samples to be streamed")
        task_ids = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
        indices = torch.cat([t.train_indices.cpu() for t in scenario])
        u = torch.rand(len(indices), generator=generator, dtype=torch.float64)
        b = blurriness if boundaries == "blurry" else 0.0
        time = task_ids.double() - b / 2 + (1 + b) * u
        if boundaries == "gradual":
            v = torch.rand(len(indices), generator=generator, dtype=torch.float64)
            time = task_ids.double() - drift / 2 + u + drift * v
        order = torch.sort(time, stable=True).indices
        self.boundaries = boundaries
        self.task_ids = task_ids[order].to(scenario.device)
        self.indices = indices[order].to(scenario.device)
        self.task_sizes = sizes
        # nominal task ends: after sum_{j<=t} n_j samples (the centre of a blurry window)
        self.task_ends = torch.cumsum(torch.tensor(sizes), 0).tolist()
        self.starts = self._batch_starts(batch_size)
        self.batch_tasks: list[int] = self.task_ids[self.starts[:-1]].tolist()
        # first stream position of each task: the tasks that have appeared by sample n
        first = torch.full((len(sizes),), len(order), dtype=torch.long)
        first.scatter_reduce_(0, task_ids[order], torch.arange(len(order)), "amin")
        self.first_position = first.tolist()

    def _batch_starts(self, batch_size: int) -> list[int]:
        """Start of every batch, and the stream's end last. Known boundaries cut at task ends."""
        segments = self.task_ends if self.boundaries == "known" else [self.task_ends[-1]]
        starts: list[int] = []
        begin = 0
        for end in segments:
            cuts = list(range(begin, end, batch_size))
            if len(cuts) > 1 and end - cuts[-1] == 1:
                cuts.pop()  # no lone last sample (BatchNorm cannot train on one)
            starts += cuts
            begin = end
        return starts + [begin]

    @property
    def num_batches(self) -> int:
        return len(self.starts) - 1

    @property
    def samples(self) -> int:
        return self.starts[-1]

    def batches(self, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(task_ids, indices)`` of batches ``start, start + 1, ...`` to the end of the stream."""
        for b in range(start, self.num_batches):
            part = slice(self.starts[b], self.starts[b + 1])
            yield self.task_ids[part], self.indices[part]

    def samples_after(self, batch: int) -> int:
        """Stream samples consumed once batch ``batch`` (0-based) is done."""
        return self.starts[batch + 1]

    def tasks_appeared(self, samples: int) -> int:
        """Number of tasks at least one of whose samples is among the first ``samples``."""
        return sum(1 for p in self.first_position if p < samples)

    def task_of_batch(self, batch: int) -> int:
        """Known boundaries: the task batch ``batch`` belongs to."""
        return self.batch_tasks[batch]

    def batches_of_task(self, task: int) -> int:
        """Known boundaries: the number of batches of ``task``."""
        return self.batch_tasks.count(task)

    def row_batches(self) -> list[int]:
        """For each task t, the batch after which the accuracy-matrix row t is recorded: the first
        batch ending at or after the nominal end of task t."""
        rows, b = [], 0
        for end in self.task_ends:
            while self.starts[b + 1] < end:
                b += 1
            rows.append(b)
        return rows
