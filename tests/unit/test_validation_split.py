"""The validation split: one held-out set of base images for benchmarks whose tasks share them
(permuted, rotated), so no validation image is trained on under another task's transform; streams
without validation are unchanged."""

from __future__ import annotations

import hashlib

import pytest
import torch

from lifelong.data.scenarios import build_scenario
from lifelong.data.stream import BatchStream


def _held_out_per_class(labels: torch.Tensor, held_out: torch.Tensor) -> list[int]:
    return labels[held_out].bincount(minlength=10).tolist()


def _stratified(labels: torch.Tensor, fraction: float) -> list[int]:
    return [round(int(n) * fraction) for n in labels.bincount(minlength=10)]


@pytest.mark.parametrize(
    "name, sizes",
    [("permuted-digits", {}), ("permuted-digits", {"train_samples_per_task": 300})],
)
def test_no_validation_image_of_a_shared_base_benchmark_is_trained_on_by_any_task(name, sizes):
    scenario = build_scenario(
        name, "task", validation_fraction=0.2, evaluate_on="validation", seed=3, **sizes
    )
    trained = torch.cat([t.train_indices for t in scenario]).unique()
    held_out = scenario[0].eval_indices
    for task in scenario:
        assert torch.equal(task.eval_indices, held_out)  # one set, shared by every task
        assert not torch.isin(task.eval_indices, trained).any(), task.index
    labels = scenario.dataset.train_y
    assert _held_out_per_class(labels, held_out) == _stratified(labels, 0.2)
    if not sizes:  # every other base image trains every task
        assert len(held_out) + len(trained) == len(labels)
    assert len({tuple(t.train_indices.tolist()) for t in scenario}) == (1 if not sizes else 5)


def test_rotated_mnist_validation_images_are_never_trained_on(shared_data):
    scenario = build_scenario(
        "rotated-mnist",
        "domain",
        num_tasks=3,
        validation_fraction=0.1,
        evaluate_on="validation",
        data_root=shared_data,
    )
    trained = torch.cat([t.train_indices for t in scenario])
    assert all(not torch.isin(t.eval_indices, trained).any() for t in scenario)
    labels = scenario.dataset.train_y
    assert _held_out_per_class(labels, scenario[0].eval_indices) == _stratified(labels, 0.1)


def _digest(scenario) -> str:
    h = hashlib.sha256()
    for task in scenario:
        h.update(task.train_indices.numpy().tobytes())
        h.update(task.eval_indices.numpy().tobytes())
    ids, idx = next(BatchStream(scenario, [0, len(scenario) - 1], 32, seed=3).batches())
    x, y = scenario.train_batch(ids, idx)
    h.update(x.numpy().tobytes())
    h.update(y.numpy().tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    "name, options, expected",
    [  # digests computed before the shared validation split was introduced
        ("permuted-digits", {"setting": "task", "seed": 1}, "7aed61024cafeb45"),
        (
            "permuted-digits",
            {"setting": "domain", "seed": 2, "train_samples_per_task": 200},
            "a6cce03595ba00da",
        ),
        (
            "split-digits",
            {"setting": "class", "train_samples_per_task": 50, "shuffle_classes": True},
            "350cd733e5848d59",
        ),
        (  # split benchmarks: disjoint classes, so the per-task split was already leak-free
            "split-digits",
            {"setting": "task", "seed": 3, "validation_fraction": 0.2, "evaluate_on": "validation"},
            "35ce50ce1b4310de",
        ),
        (
            "split-digits",
            {"setting": "class", "validation_fraction": 0.1, "train_samples_per_task": 40},
            "b7b5c7f6ab3f318a",
        ),
    ],
)
def test_streams_without_a_shared_validation_split_are_bit_identical(name, options, expected):
    assert _digest(build_scenario(name, **options)) == expected
