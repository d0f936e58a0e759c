"""Scenarios: a benchmark (dataset + how it is cut into tasks) in a setting.

Settings (van de Ven & Tolias 2019, "Three scenarios for continual learning"):

* ``task``   - task-incremental: the task id is given at train and test time. Each task owns a set of
  output units (a "head"); predictions are restricted to the task's units.
* ``domain`` - domain-incremental: no task id; one head whose size is the number of classes per task,
  shared by every task (split: "first or second class of the pair").
* ``class``  - class-incremental: no task id; one head over every class seen so far.

A :class:`Scenario` keeps the base dataset as tensors on the training device, once. Tasks are index
sets into it plus a per-task transform (pixel permutation, rotation) applied to whole batches, so no
task copies the data. Targets are looked up in a (tasks x dataset classes) table that maps a dataset
label to the output unit it trains in the chosen setting. Data larger than memory is read batch by
batch from a ``torch.utils.data.Dataset`` instead (:class:`lifelong.data.lazy.LazyDataset`); users'
own data becomes a scenario through :mod:`lifelong.data.custom`, with the helpers below.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import torch
import torch.nn.functional as F

from lifelong.data import digest
from lifelong.data.benchmarks import BENCHMARKS
from lifelong.data.datasets import ImageDataset, load_dataset
from lifelong.data.lazy import LazyDataset
from lifelong.data.text import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_TRAIN_PER_CLASS,
    is_tokens,
    load_wordnet_text,
    make_tokenizer,
)
from lifelong.data.transforms import Permute, Rotate, TaskTransform
from lifelong.errors import ConfigError, unknown_name

SETTINGS: tuple[str, ...] = ("task", "domain", "class")
# What a scenario's tasks are learned for: labels (the accuracy matrix) or the text itself (language
# modelling: next-token loss, a loss matrix; see :mod:`lifelong.core.evaluation`).
OBJECTIVES: tuple[str, ...] = ("classify", "lm")
# Which output units a class-incremental stream trains and predicts on: those of the tasks seen so
# far, or all of them from the first task on.
CLASS_UNITS: tuple[str, ...] = ("seen", "all")
Normalization = tuple[Sequence[float], Sequence[float]]  # per-channel (mean, std)


# Per-channel normalisation applied after scaling to [0, 1]; MNIST-like data stays in [0, 1] as in
# van de Ven's protocols (and so a VAE can model it with a Bernoulli likelihood).
_NORMALISATION = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}


@dataclass(frozen=True)
class Task:
    """One task of a scenario.

    Attributes:
        index: position in the stream.
        classes: output units the task trains (its head in the task-incremental setting).
        dataset_classes: labels of the base dataset that appear in the task.
        train_indices: indices into the base training tensors.
        eval_indices: indices into the evaluation tensors (test set, or a validation split).
    """

    index: int
    classes: tuple[int, ...]
    dataset_classes: tuple[int, ...]
    train_indices: torch.Tensor
    eval_indices: torch.Tensor


class Scenario:
    """A stream of tasks over one dataset; indexable like a sequence (``scenario[:3]``).

    Use :func:`build_scenario` for a built-in benchmark, or a constructor of
    :mod:`lifelong.data.custom` (``lifelong.scenario_from_tensors`` and its siblings) for your own data.
    """

    def __init__(
        self,
        *,
        name: str,
        setting: str,
        dataset: ImageDataset | LazyDataset,
        tasks: list[Task],
        transform: TaskTransform,
        target_table: torch.Tensor,
        num_outputs: int,
        eval_split: str = "test",
        padding: int = 0,
        normalization: Normalization | None = None,
        device: torch.device | str = "cpu",
        objective: str = "classify",
        class_units: str = "seen",
    ) -> None:
        if objective not in OBJECTIVES:
            raise unknown_name("objective", objective, OBJECTIVES)
        if objective == "lm" and not is_tokens(dataset):
            raise ConfigError("a language-modelling scenario needs text (token) inputs")
        if objective == "lm" and setting != "domain":
            raise ConfigError(
                f"a language-modelling stream has no {setting}-incremental setting: its domains "
                "share one model and are evaluated by loss (setting 'domain')"
            )
        if class_units not in CLASS_UNITS:
            raise unknown_name("class_units", class_units, CLASS_UNITS)
        if class_units != "seen" and setting != "class":
            raise ConfigError(
                f"class_units={class_units!r} applies to the class-incremental setting, not to "
                f"{setting}-incremental"
            )
        self.name = name
        self.objective = objective
        self.class_units = class_units
        self.setting = setting
        self.dataset = dataset
        self.tasks = tasks
        self.transform = transform
        self.target_table = target_table
        self.num_outputs = num_outputs
        self.eval_split = eval_split
        self.padding = padding
        self.normalization = normalization
        self.device = torch.device(device)
        self._tokens = is_tokens(dataset)
        if self._tokens and (
            padding or normalization is not None or type(transform) is not TaskTransform
        ):
            raise ConfigError(
                "text (token) inputs take no padding, normalisation or task transform"
            )
        if padding and len(dataset.sample_shape) != 3:
            raise ConfigError(
                f"padding needs image inputs (C, H, W); these inputs have shape "
                f"{dataset.sample_shape}"
            )
        task_mask = torch.zeros(len(tasks), num_outputs, dtype=torch.bool)
        for task in tasks:
            task_mask[task.index, list(task.classes)] = True
        self.task_output_mask = task_mask
        # evaluation reads the test split, or the validation split carved from the training data
        self._eval_source = "train" if eval_split == "validation" else "test"
        self._eval_y = dataset.train_y if eval_split == "validation" else dataset.test_y
        self._mean = self._std = None
        if normalization is not None:
            # per channel: the first dimension of an input, broadcast over the others
            view = (1, -1) + (1,) * (len(dataset.sample_shape) - 1)
            self._mean = torch.tensor(normalization[0], device=self.device).view(view)
            self._std = torch.tensor(normalization[1], device=self.device).view(view)

    # ------------------------------------------------------------------ sequence protocol
    def __len__(self) -> int:
        return len(self.tasks)

    @overload
    def __getitem__(self, item: int) -> Task: ...

    @overload
    def __getitem__(self, item: slice) -> list[Task]: ...

    def __getitem__(self, item: int | slice) -> Task | list[Task]:
        return self.tasks[item]

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    def first(self, count: int) -> Scenario:
        """The first ``count`` tasks of this stream, with the same data, heads and output units.

        Unlike a scenario built with fewer tasks (which regroups a split benchmark's classes), this
        keeps every task identical to its counterpart in the full stream: tuning on a prefix
        (Chaudhry et al. 2019) sees exactly the tasks that are later excluded from the reported metrics.
        """
        if not 1 <= count <= len(self.tasks):
            raise ConfigError(f"first tasks must be between 1 and {len(self.tasks)}, got {count}")
        return self._copy(tasks=self.tasks[:count])

    def _copy(self, **changes: Any) -> Scenario:
        """A scenario equal to this one except for ``changes`` (constructor keywords)."""
        fields: dict[str, Any] = {
            "name": self.name,
            "setting": self.setting,
            "dataset": self.dataset,
            "tasks": self.tasks,
            "transform": self.transform,
            "target_table": self.target_table,
            "num_outputs": self.num_outputs,
            "eval_split": self.eval_split,
            "padding": self.padding,
            "normalization": self.normalization,
            "device": self.device,
            "objective": self.objective,
            "class_units": self.class_units,
        }
        return Scenario(**{**fields, **changes})

    def with_class_units(self, class_units: str) -> Scenario:
        """This stream with another class-incremental output convention: ``seen`` (train and
        predict on the units of the tasks seen so far) or ``all`` (every unit from the first task
        on, as Mammoth does; after the last task both predict over every unit)."""
        return self if class_units == self.class_units else self._copy(class_units=class_units)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one model input: (C, H, W) for images (after padding), e.g. (D,) for features."""
        shape = self.dataset.sample_shape
        if not self.padding:
            return shape
        c, h, w = shape
        return c, h + 2 * self.padding, w + 2 * self.padding

    def to(self, device: torch.device | str) -> Scenario:
        """A copy whose tensors live on ``device`` (the dataset is moved once)."""
        device = torch.device(device)
        if device == self.device:
            return self
        tasks = [
            Task(
                t.index,
                t.classes,
                t.dataset_classes,
                t.train_indices.to(device),
                t.eval_indices.to(device),
            )
            for t in self.tasks
        ]
        return self._copy(
            dataset=self.dataset.to(device),
            tasks=tasks,
            transform=self.transform.to(device),
            target_table=self.target_table.to(device),
            device=device,
        )

    def fingerprint(self) -> str:
        """SHA-256 (hex) of what the scenario holds: the data (every input of in-memory data; labels
        and a sample of inputs of a lazy Dataset, see :meth:`LazyDataset.digest_parts`), the tasks'
        index sets and units, the target table, the transform's parameters, the normalisation and the
        setting. The name is left out. Equal fingerprints mean the same training and evaluation data.
        """
        data = self.dataset
        if isinstance(data, ImageDataset):
            content: tuple[Any, ...] = (data.train_x, data.train_y, data.test_x, data.test_y)
        else:
            content = data.digest_parts()
        hasher = hashlib.sha256()
        digest.update(
            hasher,
            (
                "lifelong-scenario/1",
                self.setting,
                self.num_outputs,
                self.eval_split,
                self.padding,
                self.normalization,
                data.scale,
                content,
                [
                    (t.classes, t.dataset_classes, t.train_indices, t.eval_indices)
                    for t in self.tasks
                ],
                self.target_table,
                self.transform,
                # only language-modelling scenarios add it: classification fingerprints are unchanged
                *(("objective", self.objective) if self.objective != "classify" else ()),
            ),
        )
        return hasher.hexdigest()

    # ------------------------------------------------------------------ batches
    def prepare(self, inputs: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Turn stored inputs of the given tasks into model inputs (scale, pad, transform,
        normalise). ``inputs`` is never modified. Token tensors (text) are used as they are."""
        if self._tokens:
            return inputs
        x = inputs.to(torch.float32, copy=True)
        if self.dataset.scale != 1.0:
            x.div_(self.dataset.scale)
        if self.padding:
            x = F.pad(x, (self.padding,) * 4)
        x = self.transform(x, task_ids)
        if self._mean is not None:
            x = (x - self._mean) / self._std  # type: ignore[operator]
        return x

    def train_batch(
        self, task_ids: torch.Tensor, indices: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets for training samples ``indices`` of tasks ``task_ids``."""
        x = self.prepare(self.dataset.gather("train", indices), task_ids)
        y = self.target_table[task_ids, self.dataset.train_y.index_select(0, indices)]
        return x, y

    def train_batches(
        self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]
    ) -> Generator[tuple[torch.Tensor, torch.Tensor, torch.Tensor], None, None]:
        """``(task_ids, x, y)`` for each ``(task_ids, indices)`` batch, in order; a lazy dataset
        reads ahead through its DataLoader."""
        for_reading, for_targets = itertools.tee(batches)
        raws = self.dataset.stream("train", (indices for _, indices in for_reading))
        for (task_ids, indices), raw in zip(for_targets, raws, strict=True):
            y = self.target_table[task_ids, self.dataset.train_y.index_select(0, indices)]
            yield task_ids, self.prepare(raw, task_ids), y

    def eval_batch(
        self, task_index: int, indices: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of evaluation samples ``indices`` of one task."""
        task_ids = torch.full((len(indices),), task_index, dtype=torch.long, device=indices.device)
        x = self.prepare(self.dataset.gather(self._eval_source, indices), task_ids)
        y = self.target_table[task_ids, self._eval_y.index_select(0, indices)]
        return x, y

    def eval_batches(
        self, chunks: Sequence[tuple[int, torch.Tensor]]
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Inputs and targets of each ``(task_index, indices)`` chunk of evaluation samples, in
        order; a lazy dataset reads them through one DataLoader."""
        raws = self.dataset.stream(self._eval_source, (indices for _, indices in chunks))
        for (task_index, indices), raw in zip(chunks, raws, strict=True):
            task_ids = torch.full(
                (len(indices),), task_index, dtype=torch.long, device=indices.device
            )
            y = self.target_table[task_ids, self._eval_y.index_select(0, indices)]
            yield self.prepare(raw, task_ids), y

    # ------------------------------------------------------------------ output units
    def output_mask(self, task_ids: torch.Tensor | None, tasks_seen: int) -> torch.Tensor | None:
        """Which output units may be predicted.

        Task-incremental with ``task_ids``: each sample's own task units, shape (B, outputs).
        Class-incremental: the units of all tasks seen so far, shape (outputs,), or ``None`` (all
        units) with ``class_units="all"``. Domain-incremental: ``None``. The mask never depends on a
        test sample's task in the domain and class settings, so no task identity leaks into their
        predictions.
        """
        if self.setting == "task":
            if task_ids is None:
                raise ConfigError("the task-incremental setting needs task ids")
            return self.task_output_mask.to(task_ids.device)[task_ids]
        if self.setting == "class" and self.class_units == "seen":
            return self.seen_units(tasks_seen)
        return None

    def seen_units(self, tasks_seen: int) -> torch.Tensor:
        """The output units of the first ``tasks_seen`` tasks, shape (outputs,) (the
        class-incremental mask, in any setting)."""
        return self.task_output_mask[:tasks_seen].any(0).to(self.device)

    def describe(self) -> dict[str, object]:
        described: dict[str, object] = {
            "benchmark": self.name,
            "setting": self.setting,
            "tasks": self.num_tasks,
            "outputs": self.num_outputs,
            "input_shape": list(self.input_shape),
            "train_sizes": [len(t.train_indices) for t in self.tasks],
            "eval_sizes": [len(t.eval_indices) for t in self.tasks],
            "classes": [list(t.dataset_classes) for t in self.tasks],
        }
        if self.dataset.class_names is not None:
            described["class_names"] = list(self.dataset.class_names)
        if self.objective != "classify":
            described["objective"] = self.objective
        if self.class_units != "seen":
            described["class_units"] = self.class_units
        return described


# ---------------------------------------------------------------------- shared by every constructor
def check_split_options(
    setting: str,
    *,
    evaluate_on: str,
    validation_fraction: float,
    train_samples_per_task: int | None,
    padding: int,
) -> None:
    """Validate the options that every scenario constructor shares."""
    if setting not in SETTINGS:
        raise unknown_name("setting", setting, SETTINGS)
    if evaluate_on not in ("test", "validation"):
        raise unknown_name("evaluation split", evaluate_on, ("test", "validation"))
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation fraction must be in [0, 1), got {validation_fraction}")
    if evaluate_on == "validation" and validation_fraction <= 0:
        raise ConfigError("evaluating on the validation split needs a validation fraction > 0")
    if train_samples_per_task is not None and train_samples_per_task < 1:
        raise ConfigError(f"train samples per task must be >= 1, got {train_samples_per_task}")
    if padding < 0:
        raise ConfigError(f"padding must be >= 0, got {padding}")


def ordered_classes(
    num_classes: int, class_order: Sequence[int] | None, shuffle_classes: bool, seed: int
) -> torch.Tensor:
    """The classes of a split in stream order: ``class_order`` as given, shuffled by ``seed``, or
    in label order (built-in and users' splits alike)."""
    if class_order is not None and shuffle_classes:
        raise ConfigError("give class_order or shuffle_classes, not both")
    if class_order is not None:
        return torch.tensor([int(c) for c in class_order], dtype=torch.long)
    if shuffle_classes:
        return torch.randperm(num_classes, generator=torch.Generator().manual_seed(seed))
    return torch.arange(num_classes)


def class_groups(order: torch.Tensor, num_tasks: int, what: str) -> list[list[int]]:
    """Classes in ``order`` cut into ``num_tasks`` equal consecutive groups."""
    n_cls = len(order)
    if num_tasks < 1:
        raise ConfigError(f"number of tasks must be >= 1, got {num_tasks}")
    if n_cls % num_tasks:
        valid = [d for d in range(1, n_cls + 1) if n_cls % d == 0]
        raise ConfigError(
            f"{what} has {n_cls} classes, which cannot be split evenly into {num_tasks} tasks; "
            f"choose one of {valid}"
        )
    per_task = n_cls // num_tasks
    return [order[t * per_task : (t + 1) * per_task].tolist() for t in range(num_tasks)]


def output_units(
    task_classes: Sequence[Sequence[int]], num_classes: int, setting: str
) -> tuple[list[tuple[int, ...]], torch.Tensor, int]:
    """Each task's units, the (tasks x dataset classes) target table and the number of units.

    Task and class settings: every (task, class) pair gets its own unit, numbered in stream order,
    so disjoint class splits have one unit per class (ordered as presented) and tasks that share
    classes (permuted, rotated, per-task transforms) get new units per task. Domain setting: a
    class's unit is its position within its task, in one head as wide as the largest task.
    """
    table = torch.zeros(len(task_classes), num_classes, dtype=torch.long)
    heads: list[tuple[int, ...]] = []
    first_unit: dict[int, int] = {}
    next_unit = 0
    for t, classes in enumerate(task_classes):
        if setting == "domain":
            units = list(range(len(classes)))
        else:
            units = list(range(next_unit, next_unit + len(classes)))
            next_unit += len(classes)
        for c, unit in zip(classes, units, strict=True):
            table[t, c] = unit
            first_unit.setdefault(c, unit)
        heads.append(tuple(units))
    # A task's samples only carry its own classes; the other entries of its row repeat each class's
    # unit in the first task that has it, so a split benchmark's rows are all equal.
    for t, classes in enumerate(task_classes):
        for c, unit in first_unit.items():
            if c not in classes:
                table[t, c] = unit
    num_outputs = max(len(c) for c in task_classes) if setting == "domain" else next_unit
    return heads, table, num_outputs


def make_tasks(
    task_classes: Sequence[Sequence[int]],
    heads: Sequence[tuple[int, ...]],
    train_members: Sequence[torch.Tensor],
    test_members: Sequence[torch.Tensor],
    train_y: torch.Tensor,
    *,
    seed: int,
    validation_fraction: float,
    train_samples_per_task: int | None,
    evaluate_on: str,
) -> list[Task]:
    """Tasks from each task's candidate training and test indices: a stratified validation split
    carved from the training indices, then a stratified subset of ``train_samples_per_task``.

    Tasks that share samples (permuted, rotated, per-task transforms) share one held-out set of
    them: a split drawn per task would put most of a task's validation samples in other tasks'
    training sets. Tasks with disjoint samples (split by class or task label) each get their own.
    """
    held_out = torch.Generator().manual_seed(seed + 1)
    shared = None
    if validation_fraction > 0:
        shared = _shared_validation(train_members, train_y, validation_fraction, held_out)
    tasks = []
    for t, classes in enumerate(task_classes):
        train_idx = train_members[t]
        if len(train_idx) == 0:
            raise ConfigError(f"task {t} has no training samples")
        val_idx = torch.empty(0, dtype=torch.long)
        if shared is not None:
            held = torch.isin(train_idx, shared)
            train_idx, val_idx = train_idx[~held], train_idx[held]
        elif validation_fraction > 0:
            train_idx, val_idx = stratified_split(train_idx, train_y, validation_fraction, held_out)
        if train_samples_per_task is not None:
            train_idx = stratified_subset(train_idx, train_y, train_samples_per_task, held_out)
        eval_idx = val_idx if evaluate_on == "validation" else test_members[t]
        if len(eval_idx) == 0:
            split = "validation" if evaluate_on == "validation" else "test"
            raise ConfigError(f"task {t} has no {split} samples")
        tasks.append(Task(t, heads[t], tuple(classes), train_idx, eval_idx))
    return tasks


def _shared_validation(
    train_members: Sequence[torch.Tensor],
    labels: torch.Tensor,
    fraction: float,
    generator: torch.Generator,
) -> torch.Tensor | None:
    """One stratified held-out set of the samples that tasks share, or None if no two tasks share
    a sample."""
    every = torch.cat(list(train_members))
    used = every.unique()  # sorted
    if len(used) == len(every):
        return None
    return stratified_split(used, labels, fraction, generator)[1]


def stratified_split(
    indices: torch.Tensor, labels: torch.Tensor, fraction: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``indices`` into (keep, held_out) with ``fraction`` of every class held out, shuffled."""
    keep, held = [], []
    for c in labels[indices].unique():
        members = indices[labels[indices] == c]
        members = members[torch.randperm(len(members), generator=generator)]
        n_held = int(round(len(members) * fraction))
        held.append(members[:n_held])
        keep.append(members[n_held:])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values


def stratified_subset(
    indices: torch.Tensor, labels: torch.Tensor, size: int, generator: torch.Generator
) -> torch.Tensor:
    """A random subset of exactly ``size`` indices with classes in proportion to their counts.

    Each class gets the floor of its share; the remaining samples go to the classes with the largest
    fractional parts (largest-remainder rounding), so the total is exact.
    """
    if size >= len(indices):
        return indices
    classes, counts = labels[indices].unique(return_counts=True)
    shares = counts.double() * size / len(indices)
    quota = shares.floor().long()
    remainder = size - int(quota.sum())
    if remainder:
        quota[torch.argsort(shares - quota, descending=True, stable=True)[:remainder]] += 1
    chosen = []
    for c, n in zip(classes.tolist(), quota.tolist(), strict=False):
        members = indices[labels[indices] == c]
        chosen.append(members[torch.randperm(len(members), generator=generator)[:n]])
    return torch.cat(chosen).sort().values


def build_scenario(
    benchmark: str = "split-digits",
    setting: str | None = None,
    *,
    num_tasks: int | None = None,
    seed: int = 0,
    shuffle_classes: bool = False,
    class_order: Sequence[int] | None = None,
    train_samples_per_task: int | None = None,
    validation_fraction: float = 0.0,
    evaluate_on: str = "test",
    padding: int = 0,
    data_root: str | Path | None = None,
    download: bool = False,
    device: torch.device | str = "cpu",
    model: str | None = None,
    max_length: int | None = None,
    samples_per_class: int | None = None,
) -> Scenario:
    """Build a scenario.

    Args:
        benchmark: a name from :func:`list_benchmarks`.
        setting: 'task', 'domain' or 'class' (default: the benchmark's).
        num_tasks: number of tasks (split: must divide the classes evenly).
        seed: seeds the permutations / rotations, the class order when shuffled, subsets and splits.
        shuffle_classes: split benchmarks: shuffle the class order by ``seed`` (default 0, 1, 2, ...).
        class_order: split benchmarks: every class once, in stream order (task t gets the t-th
            consecutive group); not together with ``shuffle_classes``.
        train_samples_per_task: keep a stratified random subset of this many training samples per task
            (e.g. 1000 as in the GEM protocol).
        validation_fraction: hold out this fraction of each task's training data (stratified);
            tasks that share base images (permuted, rotated) share one held-out set of them.
        evaluate_on: 'test', or 'validation' to evaluate on the held-out split (for tuning).
        padding: zero-pad images by this many pixels per side (2 gives 32x32 MNIST).
        data_root: folder holding the dataset folders (see :func:`lifelong.data.files.data_root`).
        download: fetch missing files from the official mirrors.
        device: where the tensors live (training device).
        model: text benchmarks: the model the text is tokenized for (``hf:PATH`` uses that model's
            tokenizer; any other model the offline word-hash tokenizer).
        max_length: text benchmarks: tokens per text (default 32).
        samples_per_class: text benchmarks: training examples drawn per class (default 100; the
            test set has 20 per class).
    """
    if benchmark not in BENCHMARKS:
        raise unknown_name("benchmark", benchmark, BENCHMARKS)
    spec = BENCHMARKS[benchmark]
    setting = setting or spec.default_setting
    check_split_options(
        setting,
        evaluate_on=evaluate_on,
        validation_fraction=validation_fraction,
        train_samples_per_task=train_samples_per_task,
        padding=padding,
    )
    dataset: ImageDataset
    if spec.dataset == "wordnet":
        if download:
            ensure_wordnet(data_root)
        dataset = load_wordnet_text(
            data_root,
            tokenizer=make_tokenizer(model),
            train_per_class=samples_per_class or DEFAULT_TRAIN_PER_CLASS,
            max_length=max_length or DEFAULT_MAX_LENGTH,
            seed=seed,
        )
    else:
        dataset = load_dataset(spec.dataset, data_root, download=download)
    n_tasks = spec.default_tasks if num_tasks is None else num_tasks
    if n_tasks < 1:
        raise ConfigError(f"number of tasks must be >= 1, got {n_tasks}")
    n_cls = dataset.num_classes

    transform: TaskTransform = TaskTransform()
    if class_order is not None and spec.kind != "split":
        raise ConfigError(
            f"class_order applies to split benchmarks; {benchmark} is {spec.kind} (every task "
            "has every class)"
        )
    if spec.kind == "split":
        order = ordered_classes(n_cls, class_order, shuffle_classes, seed)
        if sorted(order.tolist()) != list(range(n_cls)):
            raise ConfigError(
                f"class_order must list each of {benchmark}'s classes 0..{n_cls - 1} exactly "
                f"once; got {order.tolist()}"
            )
        groups = class_groups(order, n_tasks, benchmark)
    else:
        groups = [list(range(n_cls))] * n_tasks
        if spec.kind == "permuted":
            c, h, w = dataset.image_shape
            pixels = c * (h + 2 * padding) * (w + 2 * padding)
            transform = Permute.random(n_tasks, pixels, seed, first_identity=True)
        else:
            transform = Rotate.random(n_tasks, seed)
    heads, table, num_outputs = output_units(groups, n_cls, setting)
    tasks = make_tasks(
        groups,
        heads,
        [torch.nonzero(torch.isin(dataset.train_y, torch.tensor(g))).flatten() for g in groups],
        [torch.nonzero(torch.isin(dataset.test_y, torch.tensor(g))).flatten() for g in groups],
        dataset.train_y,
        seed=seed,
        validation_fraction=validation_fraction,
        train_samples_per_task=train_samples_per_task,
        evaluate_on=evaluate_on,
    )
    scenario = Scenario(
        name=benchmark,
        setting=setting,
        dataset=dataset,
        tasks=tasks,
        transform=transform,
        target_table=table,
        num_outputs=num_outputs,
        eval_split=evaluate_on,
        padding=padding,
        normalization=_NORMALISATION.get(spec.dataset),
        objective=spec.objective,
    )
    return scenario.to(device)


def ensure_wordnet(root: str | Path | None) -> None:
    """Download the WordNet files that are missing or invalid under ``root``."""
    from lifelong.data import wordnet
    from lifelong.data.files import data_root

    folder = data_root(root) / wordnet.FOLDER
    found = wordnet.problems(folder)
    if found:
        folder.mkdir(parents=True, exist_ok=True)
        wordnet.download_wordnet(folder, list(found))
