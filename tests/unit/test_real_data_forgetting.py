"""Catastrophic forgetting on real MNIST, and the joint upper bound with the same model."""

from __future__ import annotations

from lifelong import RunConfig, run


def test_naive_forgets_catastrophically_on_split_mnist_class_incremental(shared_data):
    metrics = run(
        RunConfig.of(
            benchmark="split-mnist",
            setting="class",
            strategy="naive",
            epochs=1,
            eval_every=0,
            data_root=str(shared_data),
        ),
        write=False,
    ).metrics
    assert metrics["average_accuracy"] < 0.25  # only the last task's two digits survive
    assert metrics["average_forgetting"] > 0.9
    assert min(metrics["learning_accuracy"]) > 0.95  # each task was learned before being forgotten


def test_joint_training_reaches_upper_bound_on_split_mnist(shared_data):
    metrics = run(
        RunConfig.of(
            benchmark="split-mnist",
            setting="class",
            strategy="joint",
            epochs=3,
            eval_every=0,
            data_root=str(shared_data),
        ),
        write=False,
    ).metrics
    assert metrics["average_accuracy"] >= 0.97
