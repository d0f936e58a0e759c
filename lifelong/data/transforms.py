"""Task transforms applied to whole batches on the training device.

Each transform maps a float batch ``x`` of shape (B, C, H, W) (or any (B, ...) for :class:`PerTask`)
and the per-sample task indices ``task_ids`` (B,) to the transformed batch. Parameters for every task
are stored as one tensor, so a batch that mixes tasks (replay, joint training) is transformed in a
single vectorised call.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class TaskTransform:
    """Identity transform (split benchmarks); base class of the others."""

    def __call__(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        return x

    def to(self, device: torch.device) -> TaskTransform:
        return self


class Permute(TaskTransform):
    """Permute the pixels of each image with its task's permutation (Goodfellow et al. 2013).

    Args:
        permutations: long tensor (T, C*H*W); row ``t`` is task ``t``'s pixel order.
    """

    def __init__(self, permutations: torch.Tensor) -> None:
        self.permutations = permutations

    @classmethod
    def random(cls, num_tasks: int, num_pixels: int, seed: int, *, first_identity: bool) -> Permute:
        generator = torch.Generator().manual_seed(seed)
        perms = torch.stack(
            [torch.randperm(num_pixels, generator=generator) for _ in range(num_tasks)]
        )
        if first_identity:
            perms[0] = torch.arange(num_pixels)
        return cls(perms)

    def __call__(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        if len(task_ids) and bool((task_ids == task_ids[0]).all()):
            # One task (the usual training batch): a column gather is ~3x faster than a (B, P) one.
            return flat.index_select(1, self.permutations[task_ids[0]]).view_as(x)
        return flat.gather(1, self.permutations[task_ids]).view_as(x)

    def to(self, device: torch.device) -> Permute:
        return Permute(self.permutations.to(device))


class Rotate(TaskTransform):
    """Rotate each image by its task's angle, bilinear, with ``affine_grid`` + ``grid_sample``.

    Args:
        degrees: float tensor (T,) of rotation angles in degrees.
    """

    def __init__(self, degrees: torch.Tensor) -> None:
        self.degrees = degrees
        radians = degrees * (math.pi / 180.0)
        cos, sin = torch.cos(radians), torch.sin(radians)
        zeros = torch.zeros_like(cos)
        self.theta = torch.stack(
            [torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1
        )  # (T, 2, 3)

    @classmethod
    def random(cls, num_tasks: int, seed: int, max_degrees: float = 180.0) -> Rotate:
        """Task 0 is unrotated; the others draw an angle uniformly in [0, max_degrees)."""
        generator = torch.Generator().manual_seed(seed)
        degrees = torch.rand(num_tasks, generator=generator) * max_degrees
        degrees[0] = 0.0
        return cls(degrees)

    def __call__(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(self.theta[task_ids], list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def to(self, device: torch.device) -> Rotate:
        return Rotate(self.degrees.to(device))


class PerTask(TaskTransform):
    """A user-given callable per task (domain-incremental scenarios over one dataset).

    Args:
        transforms: ``transforms[t]`` maps a float batch (B, ...) of task ``t`` to a batch of the same
            shape, on the batch's device (e.g. ``lambda x: x + 0.5`` or an ``nn.Module``).

    A batch of one task (the usual training batch) is one call; a batch that mixes tasks (replay,
    joint training) makes one call per task present.
    """

    def __init__(self, transforms: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        if len(task_ids) == 0:
            return x
        first = int(task_ids[0])
        if bool((task_ids == first).all()):
            return self.transforms[first](x)
        out = torch.empty_like(x)
        for t in task_ids.unique().tolist():
            members = task_ids == t
            out[members] = self.transforms[t](x[members])
        return out

    def to(self, device: torch.device) -> PerTask:
        # modules move in place: copy them so the scenario this one was copied from keeps its device
        return PerTask(
            [
                copy.deepcopy(f).to(device) if isinstance(f, nn.Module) else f
                for f in self.transforms
            ]
        )
