"""Data read on demand from map-style ``torch.utils.data.Dataset`` objects, for data larger than memory.

A :class:`LazyDataset` keeps only the labels in memory. Batches of inputs are read through a
``torch.utils.data.DataLoader`` whose ``batch_sampler`` is lifelong's own sequence of index batches
(:class:`lifelong.data.stream.BatchStream`), so worker processes and pinned memory change nothing
about which samples a batch holds or in which order batches come: a run is the same as over the same
data in memory, and resumes at the same batch. Items of a Dataset are ``(input, label)`` or
``(input, label, task_label)``; an input is a tensor, a numpy array, a PIL image (to (C, H, W) uint8)
or a number sequence.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from lifelong.errors import DataError


def as_input(value: Any) -> torch.Tensor:
    """One input as a tensor (PIL images become (C, H, W) uint8, like the built-in datasets)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if type(value).__module__.startswith("PIL."):
        image = torch.from_numpy(np.array(value))
        return image.permute(2, 0, 1) if image.ndim == 3 else image.unsqueeze(0)
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        raise DataError(
            f"a dataset input of type {type(value).__name__} is not a tensor, array, PIL image "
            "or number sequence"
        ) from None


def item_fields(item: Any) -> Sequence[Any]:
    """``item`` checked to be an (input, label) or (input, label, task_label) pair."""
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise DataError(
            "dataset items must be (input, label) or (input, label, task_label) pairs, got "
            f"{type(item).__name__}"
            + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
        )
    return item


def _integer(value: Any, what: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise DataError(
            f"dataset {what}s must be integers, got {value!r} ({type(value).__name__})"
        ) from None


def collate_inputs(items: list[Any]) -> torch.Tensor:
    """The inputs of ``items`` stacked into one batch (labels are looked up from memory)."""
    return torch.stack([as_input(item_fields(item)[0]) for item in items])


def collate_items(items: list[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Inputs, labels and task labels (``None`` for pairs) of ``items``."""
    fields = [item_fields(item) for item in items]
    x = torch.stack([as_input(f[0]) for f in fields])
    y = torch.tensor([_integer(f[1], "label") for f in fields], dtype=torch.long)
    if any(len(f) == 3 for f in fields):
        if not all(len(f) == 3 for f in fields):
            raise DataError("some dataset items have a task label and others do not")
        t = torch.tensor([_integer(f[2], "task label") for f in fields], dtype=torch.long)
        return x, y, t
    return x, y, None


def _collate_labels(items: list[Any]) -> tuple[None, torch.Tensor, torch.Tensor | None]:
    _, y, t = collate_items(items)
    return None, y, t


def read_items(
    dataset: Dataset, *, batch_size: int, num_workers: int, inputs: bool = True
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
    """Every item of ``dataset`` in order, batched through a DataLoader: (inputs, or ``None`` when
    not ``inputs``, labels, task labels or ``None``)."""
    xs, ys, ts = [], [], []
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=collate_items if inputs else _collate_labels,
        generator=torch.Generator().manual_seed(0),  # leaves the global RNG untouched
    )
    for x, y, t in loader:
        if x is not None:
            xs.append(x)
        ys.append(y)
        if t is not None:
            ts.append(t)
    if not ys:
        raise DataError("the dataset is empty")
    if ts and len(ts) != len(ys):
        raise DataError("some dataset items have a task label and others do not")
    return torch.cat(xs) if xs else None, torch.cat(ys), torch.cat(ts) if ts else None


@dataclass(frozen=True)
class LazyDataset:
    """Labels in memory, inputs read from map-style Datasets batch by batch.

    Attributes:
        name: dataset name.
        train, test: the Datasets; ``train_y[i]`` is the label of ``train[i]``.
        train_y, test_y: int64 labels in ``[0, num_classes)``.
        num_classes: number of classes.
        sample_shape: shape of one input, e.g. (3, 32, 32) or (13,).
        dtype: dtype of the inputs as the Dataset returns them.
        scale: inputs are divided by this (255 for uint8 images, else 1).
        num_workers: DataLoader worker processes (0: read in the training process).
        pin_memory: page-locked batches for faster copies to a GPU (``None``: when training on one).
        batch_size: reads of more samples than this at once (e.g. iCaRL's whole task) are batched.
        class_names: optional names of the classes.
        device: where batches are delivered (set by :meth:`to`).
    """

    name: str
    train: Dataset
    test: Dataset
    train_y: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    sample_shape: tuple[int, ...]
    dtype: torch.dtype
    scale: float = 1.0
    num_workers: int = 0
    pin_memory: bool | None = None
    batch_size: int = 256
    class_names: tuple[str, ...] | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def _source(self, split: str) -> Dataset:
        return self.train if split == "train" else self.test

    @property
    def _pinned(self) -> bool:
        return self.device.type == "cuda" if self.pin_memory is None else self.pin_memory

    def _deliver(self, raw: torch.Tensor) -> torch.Tensor:
        return raw.to(self.device, non_blocking=self._pinned)

    def gather(self, split: str, indices: torch.Tensor) -> torch.Tensor:
        """Inputs ``indices`` of ``split`` ('train' or 'test'), read now."""
        if len(indices) == 0:
            return torch.empty((0, *self.sample_shape), dtype=self.dtype, device=self.device)
        if self.num_workers and len(indices) > self.batch_size:
            return torch.cat(list(self.stream(split, indices.split(self.batch_size))))
        source = self._source(split)
        return self._deliver(collate_inputs([source[i] for i in indices.tolist()]))

    def stream(self, split: str, index_batches: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Inputs of each index batch, in order, read ahead by the DataLoader's workers."""
        loader = DataLoader(
            self._source(split),
            batch_sampler=(indices.tolist() for indices in index_batches),  # type: ignore[arg-type]
            num_workers=self.num_workers,
            pin_memory=self._pinned,
            collate_fn=collate_inputs,
            # seeds the workers without drawing from the global RNG (which would change training)
            generator=torch.Generator().manual_seed(0),
        )
        for raw in loader:
            yield self._deliver(raw)

    def to(self, device: torch.device) -> LazyDataset:
        """A copy that delivers batches on ``device`` (labels move there; inputs stay on disk)."""
        return replace(
            self, train_y=self.train_y.to(device), test_y=self.test_y.to(device), device=device
        )

    def digest_parts(self, samples: int = 16) -> tuple[Any, ...]:
        """What :meth:`Scenario.fingerprint` hashes: labels, sizes, input type, and the inputs of up to
        ``samples`` evenly spaced items per split (reading every input would take a pass over the
        whole data)."""
        parts: list[Any] = [self.train_y, self.test_y, self.sample_shape, str(self.dtype)]
        for split in ("train", "test"):
            n = len(self._source(split))  # type: ignore[arg-type]
            probe = torch.linspace(0, n - 1, min(samples, n)).round().long().unique()
            parts += [type(self._source(split)).__qualname__, n, self.gather(split, probe).cpu()]
        return tuple(parts)
