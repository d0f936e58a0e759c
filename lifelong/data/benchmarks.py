"""The built-in benchmarks: which dataset each one splits, permutes or rotates, and what
``lifelong run -b NAME`` trains on it by default (``lifelong list benchmarks`` prints them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class BenchmarkSpec:
    """How a benchmark is built: which dataset, which kind of task split, its defaults."""

    name: str
    dataset: str
    kind: Literal["split", "permuted", "rotated"]
    default_tasks: int
    default_setting: str
    description: str
    objective: str = "classify"
    # What ``lifelong run -b NAME`` trains when the model and budget are not given.
    default_model: str = "mlp"
    default_epochs: int = 1


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in [
        BenchmarkSpec(
            "split-digits",
            "digits",
            "split",
            5,
            "class",
            "scikit-learn Digits (8x8, offline) in 5 tasks of 2 classes",
            default_epochs=40,
        ),
        BenchmarkSpec(
            "permuted-digits",
            "digits",
            "permuted",
            5,
            "domain",
            "scikit-learn Digits with a pixel permutation per task",
            default_epochs=40,
        ),
        BenchmarkSpec("split-mnist", "mnist", "split", 5, "class", "MNIST in 5 tasks of 2 digits"),
        BenchmarkSpec(
            "permuted-mnist",
            "mnist",
            "permuted",
            10,
            "domain",
            "MNIST with a fixed random pixel permutation per task (task 0 unpermuted)",
        ),
        BenchmarkSpec(
            "rotated-mnist",
            "mnist",
            "rotated",
            5,
            "domain",
            "MNIST rotated by a per-task angle in [0, 180) (task 0 unrotated)",
        ),
        BenchmarkSpec(
            "split-fashion-mnist",
            "fashion-mnist",
            "split",
            5,
            "class",
            "Fashion-MNIST in 5 tasks of 2 classes",
        ),
        BenchmarkSpec(
            "permuted-fashion-mnist",
            "fashion-mnist",
            "permuted",
            10,
            "domain",
            "Fashion-MNIST with a pixel permutation per task",
        ),
        BenchmarkSpec(
            "rotated-fashion-mnist",
            "fashion-mnist",
            "rotated",
            5,
            "domain",
            "Fashion-MNIST rotated by a per-task angle",
        ),
        BenchmarkSpec(
            "split-cifar10", "cifar10", "split", 5, "class", "CIFAR-10 in 5 tasks of 2 classes"
        ),
        BenchmarkSpec(
            "split-wordnet",
            "wordnet",
            "split",
            5,
            "class",
            "WordNet 3.0 noun glosses by supersense (animal, plant, food, ...) in 5 tasks of 2 "
            "(text: 100 train + 20 test synsets per class, tokenized)",
            default_model="bow",
            # naive, task- and class-IL, on validation: bow learns little in 1 epoch at lr 1e-3
            # (task-IL 0.61 at 5 epochs, 0.67 at 20; class-IL last task 0.25 -> 0.55)
            default_epochs=20,
        ),
        BenchmarkSpec(
            "wordnet-domains",
            "wordnet",
            "split",
            5,
            "domain",
            "language modelling: WordNet 3.0 noun glosses as 5 text domains of 2 supersenses "
            "(animal/plant, food/artifact, ...), next-token loss per domain (a loss matrix)",
            objective="lm",
            default_model="gpt-tiny",
            # naive on validation: mean loss 6.97 nats at 5 epochs, 7.26 at 20 (overfits 200 glosses)
            default_epochs=5,
        ),
        BenchmarkSpec(
            "split-cifar100",
            "cifar100",
            "split",
            10,
            "class",
            "CIFAR-100 in 10 tasks of 10 classes",
        ),
    ]
}


def list_benchmarks() -> list[BenchmarkSpec]:
    """All registered benchmarks."""
    return list(BENCHMARKS.values())
