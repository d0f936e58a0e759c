"""Scenarios from your own data: tensors or numpy arrays, a map-style ``torch.utils.data.Dataset``, or
an image folder (one subfolder per class); texts are in :mod:`lifelong.data.custom_text`::

    import lifelong
    scenario = lifelong.scenario_from_tensors(x, y, num_tasks=3)
    result = lifelong.run(lifelong.RunConfig.of(strategy="ewc", epochs=5), scenario=scenario)

How the data is cut into tasks (give one of the three):

* by class: ``num_tasks`` or ``classes_per_task`` cut the classes into equal groups, taken in
  ``class_order``, or shuffled by ``seed`` with ``shuffle_classes=True``, else in label order;
  ``task_classes=[[0, 1], [2]]`` gives the groups themselves (uneven, or only some classes);
* by task label: ``task_labels`` gives each sample's task, 0 .. T-1 (and ``test_task_labels`` a
  separate test set's);
* by transform: ``transforms=[f0, f1, ...]``: every task holds all the data and task t's inputs pass
  through ``f_t``, a function of a whole float batch run on the training device (a feature
  permutation, a noise level, a colour shift): domain-incremental, like permuted MNIST.

Settings (``setting``, default "class", or "domain" with ``transforms``): in the task and class
settings every (task, class) pair has its own output unit; in the domain setting a class's unit is
its position within its task (:func:`lifelong.data.scenarios.output_units`, shared with the built-in
benchmarks).

Inputs: uint8 inputs are images with values 0..255 and are divided by 255, as in the built-in
benchmarks; any other inputs become float32 and are used as they are, whatever their shape ((N, D)
features, (N, C, H, W) images). ``normalize=True`` standardises each channel (the first dimension of
an input: an image's colour channel, a feature of (N, D) data) with the mean and standard deviation
of the whole training split; ``normalize=(mean, std)`` gives them.

Held-out data: a test set, or a ``test_fraction`` (default 0.2) of the training data, stratified by
class (and task label) with a fixed seed, so every scenario seed evaluates on the same test set.
``validation_fraction``, ``evaluate_on`` and ``train_samples_per_task`` work as for the built-in
benchmarks (the same code, :func:`lifelong.data.scenarios.make_tasks`).

In-memory data is held as tensors on the training device (the fast path, as fast as a built-in
benchmark). ``scenario_from_dataset(..., lazy=True)`` keeps the Dataset and reads batches through a
``DataLoader`` with ``num_workers`` processes and pinned memory (:mod:`lifelong.data.lazy`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, Subset

from lifelong.data.datasets import ImageDataset
from lifelong.data.folders import ImageFiles, list_image_folder, probe_images
from lifelong.data.lazy import LazyDataset, as_input, item_fields, read_items
from lifelong.data.scenarios import (
    Normalization,
    Scenario,
    check_split_options,
    class_groups,
    make_tasks,
    ordered_classes,
    output_units,
    stratified_split,
)
from lifelong.data.transforms import PerTask, TaskTransform
from lifelong.errors import ConfigError, DataError

if TYPE_CHECKING:
    from typing_extensions import Unpack

ArrayLike = torch.Tensor | np.ndarray | Sequence[Any]
BatchTransform = Callable[[torch.Tensor], torch.Tensor]
TEST_SPLIT_SEED = 0  # the held-out test set does not depend on the scenario seed


class ScenarioOptions(TypedDict, total=False):
    """Keyword options of every constructor here (see the module docstring).

    Keys:
        setting: 'task', 'domain' or 'class'.
        num_tasks, classes_per_task, class_order, shuffle_classes, task_classes: split by class.
        transforms: one batch function per task (domain-incremental).
        seed: seeds the shuffled class order, the validation split and the subsets (default 0).
        train_samples_per_task: keep a stratified random subset of this many training samples.
        validation_fraction: hold out this fraction of each task's training data (stratified).
        evaluate_on: 'test', or 'validation' to evaluate on that held-out split (for tuning).
        normalize: ``True`` (per-channel statistics of the training split) or ``(mean, std)``.
        padding: zero-pad (C, H, W) images by this many pixels per side.
        name: the scenario's name in results (letters, digits, '.', '_', '-').
        device: where tensors live and batches are delivered (the training device).
    """

    setting: str
    num_tasks: int
    classes_per_task: int
    class_order: Sequence[int]
    shuffle_classes: bool
    task_classes: Sequence[Sequence[int]]
    transforms: Sequence[BatchTransform]
    seed: int
    train_samples_per_task: int | None
    validation_fraction: float
    evaluate_on: str
    normalize: bool | Normalization
    padding: int
    name: str
    device: torch.device | str


# ---------------------------------------------------------------------- public constructors
def scenario_from_tensors(
    x: ArrayLike,
    y: ArrayLike,
    *,
    test: tuple[ArrayLike, ArrayLike] | None = None,
    test_fraction: float | None = None,
    task_labels: ArrayLike | None = None,
    test_task_labels: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    **options: Unpack[ScenarioOptions],
) -> Scenario:
    """A scenario over inputs ``x`` (N, ...) and integer labels ``y`` (N,) held in memory.

    Args:
        x: tensor or numpy array; uint8 images are scaled to [0, 1], anything else is used as float32.
        y: class labels 0 .. C-1.
        test: a separate test set ``(x, y)``; else ``test_fraction`` of ``x`` is held out.
        test_fraction: share of the data held out for testing (default 0.2), stratified.
        task_labels: each sample's task 0 .. T-1, to split by task label.
        test_task_labels: the test set's task labels (needed with ``test`` and ``task_labels``).
        class_names: optional names of the classes, kept in the results.
        **options: how tasks are made and evaluated (:class:`ScenarioOptions`).
    """
    name = _checked_name(options.get("name", "tensors"))
    x = _as_inputs(x, "x")
    y = _as_labels(y, "y", len(x))
    tasks = None if task_labels is None else _as_labels(task_labels, "task_labels", len(x))
    if test is not None:
        if test_fraction is not None:
            raise ConfigError("give a test set or a test fraction, not both")
        test_x = _as_inputs(test[0], "test x")
        test_y = _as_labels(test[1], "test y", len(test_x))
        if (tasks is None) != (test_task_labels is None):
            raise ConfigError(
                "task_labels and test_task_labels go together when a test set is given"
            )
        test_tasks = (
            None
            if test_task_labels is None
            else _as_labels(test_task_labels, "test_task_labels", len(test_x))
        )
    else:
        if test_task_labels is not None:
            raise ConfigError("test_task_labels need a test set (test=(x, y))")
        keep, held = _hold_out(y, tasks, test_fraction)
        x, test_x, y, test_y = x[keep], x[held], y[keep], y[held]
        test_tasks = None if tasks is None else tasks[held]
        tasks = None if tasks is None else tasks[keep]
    if test_x.shape[1:] != x.shape[1:] or test_x.dtype != x.dtype:
        raise DataError(
            f"test inputs of shape {tuple(test_x.shape[1:])} ({test_x.dtype}) do not match the "
            f"training inputs of shape {tuple(x.shape[1:])} ({x.dtype})"
        )
    num_classes = int(torch.cat([y, test_y]).max()) + 1
    data = ImageDataset(
        name,
        x,
        y,
        test_x,
        test_y,
        num_classes,
        scale=255.0 if x.dtype == torch.uint8 else 1.0,
        class_names=_checked_class_names(class_names, num_classes),
    )
    return _scenario(data, tasks, test_tasks, **options)


def scenario_from_dataset(
    train: Dataset,
    test: Dataset | None = None,
    *,
    test_fraction: float | None = None,
    lazy: bool = False,
    targets: ArrayLike | None = None,
    test_targets: ArrayLike | None = None,
    task_labels: ArrayLike | None = None,
    test_task_labels: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    batch_size: int = 256,
    num_workers: int = 0,
    pin_memory: bool | None = None,
    **options: Unpack[ScenarioOptions],
) -> Scenario:
    """A scenario over any map-style Dataset whose items are ``(input, label)`` or
    ``(input, label, task_label)``.

    By default the Dataset is read once, batch by batch through a DataLoader, into tensors (the fast
    path; per-item random transforms are then drawn once). With ``lazy=True`` it is kept, and every
    training and evaluation batch is read through a DataLoader: for data larger than memory.

    Args:
        train: the training Dataset.
        test: a test Dataset; else ``test_fraction`` (default 0.2) of ``train`` is held out.
        test_fraction: share of ``train`` held out for testing, stratified.
        lazy: keep the Datasets and read batches on demand.
        targets, test_targets: the labels, if known, to save the pass over every item that otherwise
            finds them (a Dataset with a ``targets`` attribute, as torchvision's, needs none).
        task_labels, test_task_labels: each item's task, when not the third element of the items.
        class_names: optional names of the classes.
        batch_size: items per DataLoader batch when reading (training batches are the run's own).
        num_workers: DataLoader worker processes (0: read in this process).
        pin_memory: page-locked batches (default: when the device is a GPU).
        **options: how tasks are made and evaluated (:class:`ScenarioOptions`).
    """
    options.setdefault("name", "dataset")
    for what, dataset in (("train", train), ("test", test)):
        if dataset is not None:
            _check_map_style(dataset, what)
    if batch_size < 1 or num_workers < 0:
        raise ConfigError("batch_size must be >= 1 and num_workers >= 0")
    if not lazy:
        x, y, tasks = read_items(train, batch_size=batch_size, num_workers=num_workers)
        test_set = None
        test_tasks = None
        if test is not None:
            test_x, test_y, test_tasks = read_items(
                test, batch_size=batch_size, num_workers=num_workers
            )
            test_set = (test_x, test_y if test_targets is None else test_targets)
        assert x is not None
        return scenario_from_tensors(
            x,
            y if targets is None else targets,
            test=test_set,  # type: ignore[arg-type]
            test_fraction=test_fraction,
            task_labels=tasks if task_labels is None else task_labels,
            test_task_labels=test_tasks if test_task_labels is None else test_task_labels,
            class_names=class_names,
            **options,
        )
    name = _checked_name(options["name"])
    y, tasks = _dataset_labels(train, targets, task_labels, batch_size, num_workers, "train")
    shape, dtype = _sample_type(train, "train")
    if test is None:
        keep, held = _hold_out(y, tasks, test_fraction)
        train, test = Subset(train, keep.tolist()), Subset(train, held.tolist())
        y, test_y = y[keep], y[held]
        tasks, test_tasks = (None, None) if tasks is None else (tasks[keep], tasks[held])
    else:
        if test_fraction is not None:
            raise ConfigError("give a test set or a test fraction, not both")
        test_y, test_tasks = _dataset_labels(
            test, test_targets, test_task_labels, batch_size, num_workers, "test"
        )
        if _sample_type(test, "test") != (shape, dtype):
            raise DataError(
                f"test inputs {_sample_type(test, 'test')} do not match training inputs "
                f"{(shape, dtype)}"
            )
        if (tasks is None) != (test_tasks is None):
            raise ConfigError("the training and test sets must both have task labels, or neither")
    num_classes = int(torch.cat([y, test_y]).max()) + 1
    data = LazyDataset(
        name,
        train,
        test,
        y,
        test_y,
        num_classes,
        shape,
        dtype,
        scale=255.0 if dtype == torch.uint8 else 1.0,
        num_workers=num_workers,
        pin_memory=pin_memory,
        batch_size=batch_size,
        class_names=_checked_class_names(class_names, num_classes),
    )
    return _scenario(data, tasks, test_tasks, **options)


def scenario_from_folder(
    root: str | Path,
    *,
    test: str | Path | None = None,
    test_fraction: float | None = None,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    lazy: bool = False,
    batch_size: int = 256,
    num_workers: int = 0,
    pin_memory: bool | None = None,
    **options: Unpack[ScenarioOptions],
) -> Scenario:
    """A scenario over an image folder laid out ``root/<class name>/<image files>`` (Pillow reads any
    format it knows; classes are the subfolders in sorted order).

    Args:
        root: the training folder.
        test: a test folder with the same class subfolders; else ``test_fraction`` (default 0.2) of
            the images is held out, stratified.
        test_fraction: share of the images held out for testing.
        image_size: resize every image (bilinear) to this (H, W), or (S, S) for an int; by default all
            images must already have one size.
        channels: 1 (grayscale) or 3 (RGB); default 1 if every image is grayscale, else 3.
        lazy: read images from disk batch by batch (for folders larger than memory).
        batch_size, num_workers, pin_memory: DataLoader options for reading (see
            :func:`scenario_from_dataset`).
        **options: how tasks are made and evaluated (:class:`ScenarioOptions`); the name defaults to
            the folder's.
    """
    folder = list_image_folder(root)
    test_folder = None if test is None else list_image_folder(test)
    if test_folder is not None and test_folder.class_names != folder.class_names:
        raise DataError(
            f"{test_folder.root}: class folders {list(test_folder.class_names)} differ from "
            f"{folder.root}'s {list(folder.class_names)}"
        )
    files = folder.files + (test_folder.files if test_folder is not None else ())
    modes, sizes = probe_images(files)
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1 or 3, got {channels}")
    grayscale = channels == 1 or (channels is None and all(m in ("1", "L") for m in modes))
    mode = "L" if grayscale else "RGB"
    size: tuple[int, int] | None = None
    if image_size is not None:
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)  # type: ignore[assignment]
        if len(size) != 2 or min(size) < 1:  # type: ignore[arg-type]
            raise ConfigError(
                f"image_size must be a positive int or (height, width), got {image_size}"
            )
    else:
        for path, other in zip(files, sizes, strict=True):
            if other != sizes[0]:
                raise DataError(
                    f"{path} is {other[0]}x{other[1]} but {files[0]} is {sizes[0][0]}x{sizes[0][1]}; "
                    "pass image_size to resize every image to one size"
                )
    options.setdefault("name", re.sub(r"[^\w.-]+", "-", folder.root.resolve().name) or "images")
    train_set = ImageFiles(folder.files, folder.labels, mode, size)
    test_set = None
    if test_folder is not None:
        test_set = ImageFiles(test_folder.files, test_folder.labels, mode, size)
    return scenario_from_dataset(
        train_set,
        test_set,
        test_fraction=test_fraction,
        lazy=lazy,
        class_names=folder.class_names,
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=pin_memory,
        **options,
    )


# ---------------------------------------------------------------------- tasks
def _scenario(
    data: ImageDataset | LazyDataset,
    train_tasks: torch.Tensor | None,
    test_tasks: torch.Tensor | None,
    *,
    setting: str | None = None,
    num_tasks: int | None = None,
    classes_per_task: int | None = None,
    class_order: Sequence[int] | None = None,
    shuffle_classes: bool = False,
    task_classes: Sequence[Sequence[int]] | None = None,
    transforms: Sequence[BatchTransform] | None = None,
    seed: int = 0,
    train_samples_per_task: int | None = None,
    validation_fraction: float = 0.0,
    evaluate_on: str = "test",
    normalize: bool | Normalization = False,
    padding: int = 0,
    name: str | None = None,
    device: torch.device | str = "cpu",
) -> Scenario:
    """Cut ``data`` into tasks by class, by the given task labels, or by per-task transforms."""
    by_class = shuffle_classes or any(
        v is not None for v in (classes_per_task, class_order, task_classes)
    )
    modes = [
        mode
        for mode, given in (
            ("by class", by_class),
            ("task labels", train_tasks is not None),
            ("transforms", transforms is not None),
        )
        if given
    ]
    if len(modes) > 1:
        raise ConfigError(f"give one way to cut the data into tasks, not {' and '.join(modes)}")
    if not modes and num_tasks is None:
        raise ConfigError(
            "say how to cut the data into tasks: num_tasks or classes_per_task (by class), "
            "task_classes, task_labels, or transforms"
        )
    setting = setting or ("domain" if transforms is not None else "class")
    check_split_options(
        setting,
        evaluate_on=evaluate_on,
        validation_fraction=validation_fraction,
        train_samples_per_task=train_samples_per_task,
        padding=padding,
    )
    train_y, test_y = data.train_y, data.test_y
    transform: TaskTransform = TaskTransform()
    if train_tasks is not None:
        assert test_tasks is not None
        groups, train_members, test_members = _by_task_label(
            train_y, test_y, train_tasks, test_tasks
        )
    elif transforms is not None:
        if not transforms:
            raise ConfigError("transforms must list one function per task")
        present = train_y.unique().tolist()
        groups = [present] * len(transforms)
        train_members = [torch.arange(len(train_y))] * len(transforms)
        test_members = [torch.arange(len(test_y))] * len(transforms)
        transform = PerTask(transforms)
        _check_test_classes(test_y, present, "the test set")
    else:
        groups = _class_split(
            train_y,
            data.num_classes,
            data.name,
            num_tasks=num_tasks,
            classes_per_task=classes_per_task,
            class_order=class_order,
            shuffle_classes=shuffle_classes,
            task_classes=task_classes,
            seed=seed,
        )
        train_members = [
            torch.nonzero(torch.isin(train_y, torch.tensor(g))).flatten() for g in groups
        ]
        test_members = [
            torch.nonzero(torch.isin(test_y, torch.tensor(g))).flatten() for g in groups
        ]
    if num_tasks is not None and num_tasks != len(groups):
        raise ConfigError(f"num_tasks is {num_tasks} but the data gives {len(groups)} tasks")
    heads, table, num_outputs = output_units(groups, data.num_classes, setting)
    tasks = make_tasks(
        groups,
        heads,
        train_members,
        test_members,
        train_y,
        seed=seed,
        validation_fraction=validation_fraction,
        train_samples_per_task=train_samples_per_task,
        evaluate_on=evaluate_on,
    )
    scenario = Scenario(
        name=name or data.name,
        setting=setting,
        dataset=data,
        tasks=tasks,
        transform=transform,
        target_table=table,
        num_outputs=num_outputs,
        eval_split=evaluate_on,
        padding=padding,
        normalization=_normalization(normalize, data),
    ).to(device)
    if transforms is not None:
        _check_transforms(scenario)
    return scenario


def _class_split(
    labels: torch.Tensor,
    num_classes: int,
    what: str,
    *,
    num_tasks: int | None,
    classes_per_task: int | None,
    class_order: Sequence[int] | None,
    shuffle_classes: bool,
    task_classes: Sequence[Sequence[int]] | None,
    seed: int,
) -> list[list[int]]:
    """The class groups of a split by class, checked: known, disjoint, each with training data."""
    if task_classes is not None:
        if class_order is not None or classes_per_task is not None or shuffle_classes:
            raise ConfigError(
                "task_classes gives the groups itself; drop class_order, classes_per_task and "
                "shuffle_classes"
            )
        groups = [[int(c) for c in group] for group in task_classes]
        if not groups or any(not group for group in groups):
            raise ConfigError("task_classes must list at least one class for every task")
    else:
        order = ordered_classes(num_classes, class_order, shuffle_classes, seed)
        if classes_per_task is not None:
            if classes_per_task < 1 or len(order) % classes_per_task:
                raise ConfigError(
                    f"{len(order)} classes cannot be cut into tasks of {classes_per_task}; give "
                    "task_classes for tasks of different sizes"
                )
            num_tasks = num_tasks or len(order) // classes_per_task
            if num_tasks * classes_per_task != len(order):
                raise ConfigError(
                    f"num_tasks {num_tasks} x classes_per_task {classes_per_task} is not the "
                    f"{len(order)} classes"
                )
        if num_tasks is None:
            raise ConfigError("give num_tasks or classes_per_task to split by class")
        groups = class_groups(order, num_tasks, what)
    listed = [c for group in groups for c in group]
    if len(set(listed)) != len(listed):
        raise ConfigError(f"a class may belong to one task only: {groups}")
    unknown = sorted(c for c in listed if not 0 <= c < num_classes)
    if unknown:
        raise ConfigError(f"classes {unknown} are not labels of the data (0 .. {num_classes - 1})")
    counts = labels.bincount(minlength=num_classes)
    missing = [c for c in listed if counts[c] == 0]
    if missing:
        raise ConfigError(
            f"classes {missing} have no training samples; leave them out with task_classes or "
            "class_order"
        )
    return groups


def _by_task_label(
    train_y: torch.Tensor,
    test_y: torch.Tensor,
    train_tasks: torch.Tensor,
    test_tasks: torch.Tensor,
) -> tuple[list[list[int]], list[torch.Tensor], list[torch.Tensor]]:
    """Classes and members of each task 0 .. T-1 of given task labels."""
    count = int(train_tasks.max()) + 1
    if len(test_tasks) and int(test_tasks.max()) >= count:
        raise ConfigError(
            f"test task labels go up to {int(test_tasks.max())} but training task labels only to "
            f"{count - 1}"
        )
    train_members = [torch.nonzero(train_tasks == t).flatten() for t in range(count)]
    test_members = [torch.nonzero(test_tasks == t).flatten() for t in range(count)]
    for t, members in enumerate(train_members):
        if len(members) == 0:
            raise ConfigError(
                f"task {t} has no training samples (task labels must use every value 0 .. "
                f"{count - 1})"
            )
    groups = [train_y[members].unique().tolist() for members in train_members]
    for t, members in enumerate(test_members):
        _check_test_classes(test_y[members], groups[t], f"task {t}'s test set")
    return groups, train_members, test_members


def _check_test_classes(test_y: torch.Tensor, classes: list[int], what: str) -> None:
    extra = sorted(set(test_y.unique().tolist()) - set(classes))
    if extra:
        raise ConfigError(f"{what} has classes {extra} that its training data does not have")


def _check_transforms(scenario: Scenario) -> None:
    """Each task's transform, run on two of its samples, returns a float batch of the same shape."""
    for task in scenario:
        probe = task.train_indices[:2]
        ids = torch.full_like(probe, task.index)
        expected = (len(probe), *scenario.input_shape)
        try:
            x, _ = scenario.train_batch(ids, probe)
        except Exception as err:  # noqa: BLE001 - any failure of user code is reported the same way
            raise ConfigError(
                f"the transform of task {task.index} failed on a batch of shape {expected}: {err}"
            ) from err
        if (
            not isinstance(x, torch.Tensor)
            or tuple(x.shape) != expected
            or not x.is_floating_point()
        ):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ConfigError(
                f"the transform of task {task.index} must return a float batch of the shape it "
                f"gets, {expected}; got {got}"
            )


# ---------------------------------------------------------------------- inputs and labels
def _checked_name(name: str) -> str:
    if not re.fullmatch(r"[\w.-]+", name):
        raise ConfigError(
            f"a scenario name may hold letters, digits, '.', '_' and '-', got {name!r}"
        )
    return name


def _checked_class_names(names: Sequence[str] | None, num_classes: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    if len(names) < num_classes:
        raise ConfigError(f"{len(names)} class names for {num_classes} classes")
    return tuple(str(n) for n in names)


def _as_inputs(value: ArrayLike, what: str) -> torch.Tensor:
    """Inputs as a CPU tensor: uint8 kept (images), anything else float32; (N,) becomes (N, 1)."""
    try:
        x = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise DataError(f"{what} is not a numeric array ({err})") from None
    if x.dtype == torch.bool or x.is_complex():
        raise DataError(f"{what} must be numbers, got {x.dtype}")
    if x.ndim == 0 or len(x) == 0:
        raise DataError(f"{what} must hold at least one sample, got shape {tuple(x.shape)}")
    if x.ndim == 1:
        x = x.unsqueeze(1)  # one feature per sample
    if x.dtype != torch.uint8:
        x = x.to(torch.float32)
    return x.cpu().contiguous()


def _as_labels(value: ArrayLike, what: str, count: int) -> torch.Tensor:
    """Integer labels >= 0, one per sample, as an int64 CPU tensor."""
    try:
        y = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise DataError(f"{what} is not a numeric array ({err})") from None
    if y.ndim != 1:
        raise DataError(f"{what} must be one label per sample (1-D), got shape {tuple(y.shape)}")
    if len(y) != count:
        raise DataError(f"{what} has {len(y)} labels for {count} samples")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise DataError(f"{what} must be whole numbers")
    y = y.cpu().long()
    if (y < 0).any():
        raise DataError(f"{what} must be >= 0, got {int(y.min())}")
    return y


def _hold_out(
    labels: torch.Tensor, tasks: torch.Tensor | None, fraction: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept, held-out) indices with ``fraction`` of every class (of every task) held out."""
    fraction = 0.2 if fraction is None else fraction
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"test fraction must be in (0, 1), got {fraction}")
    key = labels if tasks is None else tasks * (int(labels.max()) + 1) + labels
    generator = torch.Generator().manual_seed(TEST_SPLIT_SEED)
    return stratified_split(torch.arange(len(labels)), key, fraction, generator)


def _check_map_style(dataset: Any, what: str) -> None:
    if isinstance(dataset, IterableDataset) or not (
        hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")
    ):
        raise ConfigError(
            f"the {what} dataset must be map-style (with __len__ and __getitem__), got "
            f"{type(dataset).__name__}"
        )
    if len(dataset) == 0:
        raise DataError(f"the {what} dataset is empty")


def _sample_type(dataset: Dataset, what: str) -> tuple[tuple[int, ...], torch.dtype]:
    """Shape and dtype of the first item's input."""
    x = as_input(item_fields(dataset[0])[0])
    if x.ndim == 0 or x.dtype == torch.bool or x.is_complex():
        raise DataError(
            f"{what} dataset inputs must be numeric arrays of at least one dimension, got "
            f"{x.dtype} of shape {tuple(x.shape)}"
        )
    return tuple(int(d) for d in x.shape), x.dtype


def _dataset_labels(
    dataset: Dataset,
    targets: ArrayLike | None,
    task_labels: ArrayLike | None,
    batch_size: int,
    num_workers: int,
    what: str,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Labels (and task labels) of a lazy dataset: given, its ``targets``, or read in one pass."""
    count = len(dataset)  # type: ignore[arg-type]
    if targets is None:
        targets = getattr(dataset, "targets", None)
    triples = len(item_fields(dataset[0])) == 3
    if targets is None or (task_labels is None and triples):
        _, read_y, read_tasks = read_items(
            dataset, batch_size=batch_size, num_workers=num_workers, inputs=False
        )
        targets = read_y if targets is None else targets
        task_labels = read_tasks if task_labels is None else task_labels
    labels = _as_labels(targets, f"{what} labels", count)
    tasks = None if task_labels is None else _as_labels(task_labels, f"{what} task labels", count)
    return labels, tasks


def _normalization(
    normalize: bool | Normalization, data: ImageDataset | LazyDataset
) -> Normalization | None:
    """Per-channel (mean, std): given, or measured on the training split (one pass, float64)."""
    if normalize is False:
        return None
    channels = data.sample_shape[0]
    if normalize is True:
        total = torch.zeros(channels, dtype=torch.float64)
        squares = torch.zeros(channels, dtype=torch.float64)
        count = 0
        for raw in data.stream("train", torch.arange(len(data.train_y)).split(4096)):
            values = raw.cpu().double().div(data.scale).transpose(0, 1).reshape(channels, -1)
            total += values.sum(1)
            squares += values.square().sum(1)
            count += values.shape[1]
        mean = total / count
        std = (squares / count - mean.square()).clamp_min(0).sqrt()
        std[std == 0] = 1.0  # a constant channel is only centred
        return tuple(mean.tolist()), tuple(std.tolist())
    mean_values, std_values = ([float(v) for v in values] for values in normalize)
    if {len(mean_values), len(std_values)} - {1, channels} or min(std_values) <= 0:
        raise ConfigError(
            f"normalize=(mean, std) needs 1 or {channels} values each, std > 0; got {normalize}"
        )
    return tuple(mean_values), tuple(std_values)
