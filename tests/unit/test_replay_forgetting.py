"""Every replay / gradient-episodic method forgets less than naive fine-tuning on a real
class-incremental stream (split-digits, 5 tasks of 2 classes, fixed seed)."""

from __future__ import annotations

import pytest

from lifelong import RunConfig, run

BASE = dict(
    benchmark="split-digits",
    setting="class",
    iterations=100,
    batch_size=32,
    hidden=(64,),
    eval_every=0,
    seed=0,
    tasks=5,
    threads=1,
)

METHODS = {
    "er": {"buffer_size": 300, "replay_batch_size": 32},
    "gem": {"buffer_size": 300},
    "agem": {"buffer_size": 300, "replay_batch_size": 64},
    "icarl": {"buffer_size": 300, "replay_batch_size": 32},
    "der": {"buffer_size": 300, "replay_batch_size": 32, "alpha": 3.0},
    "derpp": {"buffer_size": 300, "replay_batch_size": 32},
    "generative-replay": {"generator_hidden": (100,), "latent_size": 20, "labels": "soft"},
    "pseudo-rehearsal": {"strength": 10.0},
}
# Pseudo-rehearsal's random inputs lower class-incremental forgetting (0.99 -> ~0.71 here) without
# improving the final accuracy: its class-incremental check is on forgetting only, and a
# domain-incremental test below checks that it improves accuracy there.
MARGIN = {"pseudo-rehearsal": 0.1}
ACCURACY_MARGIN = {"pseudo-rehearsal": None}


@pytest.fixture(scope="module")
def naive():
    return run(RunConfig.of(strategy="naive", **BASE), write=False).metrics


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_forgets_less_than_naive(name, naive):
    metrics = run(
        RunConfig.of(strategy=name, strategy_params=METHODS[name], **BASE), write=False
    ).metrics
    margin = MARGIN.get(name, 0.2)
    assert metrics["average_forgetting"] < naive["average_forgetting"] - margin
    accuracy_margin = ACCURACY_MARGIN.get(name, margin / 2)
    if accuracy_margin is not None:
        assert metrics["average_accuracy"] > naive["average_accuracy"] + accuracy_margin


def test_pseudo_rehearsal_improves_domain_incremental_accuracy():
    base = {**BASE, "benchmark": "permuted-digits", "setting": "domain"}
    naive = run(RunConfig.of(strategy="naive", **base), write=False).metrics
    pseudo = run(
        RunConfig.of(strategy="pseudo-rehearsal", strategy_params={"strength": 10.0}, **base),
        write=False,
    ).metrics
    assert pseudo["average_accuracy"] > naive["average_accuracy"] + 0.05
    assert pseudo["average_forgetting"] < naive["average_forgetting"] - 0.05


def test_gdumb_keyed_by_task_and_class_learns_every_domain():
    """On a domain-incremental stream every class is in the first task: the paper's class-balanced
    memory keeps only that task; keyed by (task, class) (``balance=auto`` with task ids) it keeps
    every task's examples and ends well above both it and naive fine-tuning."""
    base = {**BASE, "benchmark": "permuted-digits", "setting": "domain", "tasks": 3}
    naive = run(RunConfig.of(strategy="naive", **base), write=False).metrics

    def gdumb(balance: str) -> float:
        params = {"balance": balance, "buffer_size": 300, "epochs": 30}
        config = RunConfig.of(strategy="gdumb", strategy_params=params, **base)
        return run(config, write=False).metrics["average_accuracy"]

    by_class, by_task = gdumb("class"), gdumb("auto")
    assert by_task > by_class + 0.2
    assert by_task > naive["average_accuracy"] + 0.1  # 0.86 vs 0.66 at seed 0
