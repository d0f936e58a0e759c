"""Memory policies of the replay strategies (issue 15): which examples each one keeps, on small
hand-checked streams, and the option on the strategies."""

from __future__ import annotations

import pytest
import torch

import lifelong
from lifelong import RunConfig, run
from lifelong.components.buffer import ReplayBuffer
from lifelong.components.memory import class_keys, policy_buffer, store_step, store_task
from lifelong.core.strategy import Batch
from lifelong.errors import ConfigError
from lifelong.testing import contract_checks


def ring(capacity: int, keys: int) -> ReplayBuffer:
    return ReplayBuffer(capacity, (1,), 4, num_keys=keys, ring_quota=capacity // keys)


def offer(buffer: ReplayBuffer, values: list[float], keys: list[int]) -> None:
    """Examples whose input is their value; key = label."""
    x = torch.tensor(values).view(-1, 1)
    k = torch.tensor(keys)
    buffer.add_ring(x, k, torch.zeros_like(k), k)


def kept(buffer: ReplayBuffer) -> dict[int, float]:
    return {int(s): float(buffer.x[s, 0]) for s in buffer.indices()}


def test_ring_keeps_the_most_recent_examples_of_each_key_in_its_block():
    buffer = ring(4, 2)  # key 0: slots 0-1, key 1: slots 2-3
    offer(buffer, [1, 2, 3, 4], [0, 0, 0, 1])  # 3 overwrites 1 (first in, first out)
    assert kept(buffer) == {0: 3.0, 1: 2.0, 2: 4.0}
    assert len(buffer) == 3
    offer(buffer, [5, 6, 7], [1, 1, 0])  # key 1: 5 fills slot 3, 6 overwrites 4; key 0: 7 over 2
    assert kept(buffer) == {0: 3.0, 1: 7.0, 2: 6.0, 3: 5.0}
    assert len(buffer) == 4
    copy = ring(4, 2)
    copy.load_state_dict(buffer.state_dict())
    assert kept(copy) == kept(buffer) and len(copy) == 4


def test_class_keys_number_each_class_of_each_task_in_stream_order():
    x = torch.arange(24.0).view(-1, 1)
    y = torch.arange(6).repeat(4)
    scenario = lifelong.scenario_from_tensors(
        x, y, test=(x, y), task_classes=[[0, 1], [2, 3, 4], [5]]
    )
    assert class_keys(scenario)[[0, 1, 2]].max(1).values.tolist() == [1, 4, 5]
    assert (class_keys(scenario) >= 0).sum() == 6


def small_stream():
    """3 tasks of 2 classes; class c has 4 training examples whose input is their index."""
    y = torch.arange(6).repeat_interleave(4)
    x = torch.arange(24.0).view(-1, 1)
    return lifelong.scenario_from_tensors(x, y, test=(x, y), task_classes=[[0, 1], [2, 3], [4, 5]])


def stored(buffer: ReplayBuffer) -> list[tuple[int, int, int]]:
    """(task, class unit, example index) of every stored example."""
    s = buffer.indices()
    rows = zip(
        buffer.task_ids[s].tolist(), buffer.y[s].tolist(), buffer.x[s, 0].tolist(), strict=True
    )
    return sorted((int(t), int(u), int(v)) for t, u, v in rows)


@pytest.mark.parametrize("policy", ["task-balanced", "class-balanced"])
def test_balanced_memories_hold_past_tasks_only_and_shrink_to_a_subset(policy):
    scenario = small_stream()
    buffer = policy_buffer(policy, 6, scenario, "float32")
    generator = torch.Generator().manual_seed(0)
    history = []
    for task in scenario:
        ids = torch.full((8,), task.index)
        x, y = scenario.train_batch(ids, task.train_indices)
        store_step(policy, buffer, Batch(x, y, ids), generator, scenario.num_tasks)
        assert stored(buffer) == (history[-1] if history else [])  # nothing enters during a task
        store_task(policy, buffer, task, scenario, generator)
        history.append(stored(buffer))
    per_task = [[sum(1 for t, _, _ in h if t == k) for k in range(3)] for h in history]
    per_class = [[sum(1 for _, u, _ in h if u == c) for c in range(6)] for h in history]
    if policy == "task-balanced":  # quota 6 // tasks seen: 6, then 3 + 3, then 2 + 2 + 2
        assert per_task == [[6, 0, 0], [3, 3, 0], [2, 2, 2]]
    else:  # quota 6 // classes seen: 3 per class (of 4), then 1 per class, then 1 per class
        assert per_class == [[3, 3, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]
    for before, after in zip(history, history[1:], strict=False):
        old = {e for e in after if e[0] < max(t for t, _, _ in after)}
        assert old <= set(before)  # earlier tasks keep a subset of what they had
    for task, unit, index in history[-1]:
        assert unit == index // 4 and task == unit // 2  # each example is stored with its labels


def test_policy_errors_name_the_budget_and_the_choices():
    scenario = small_stream()
    with pytest.raises(ConfigError, match=r"buffer_size \(5\) must be >= the number of classes"):
        policy_buffer("ring", 5, scenario, "float32")
    with pytest.raises(
        ConfigError, match="buffer_policy: 'fifo' is not one of reservoir, task-reservoir, ring"
    ):
        run(RunConfig(strategy="er", strategy_params={"buffer_policy": "fifo"}), write=False)


@pytest.mark.parametrize("strategy", ["er", "derpp", "agem"])
@pytest.mark.parametrize("policy", ["ring", "task-balanced", "class-balanced"])
def test_replay_strategies_run_with_every_policy_and_keep_the_budget(tiny_config, strategy, policy):
    config = tiny_config(
        strategy=strategy, strategy_params={"buffer_policy": policy, "buffer_size": 40}
    )
    first = run(config, write=False)
    again = run(config, write=False)
    assert first.accuracy_matrix == again.accuracy_matrix  # seeded: the same examples are kept
    buffer = first.strategy.buffer
    assert 0 < len(buffer) <= 40
    if policy != "ring":  # filled at task end: every task holds its share at the end of the run
        assert sorted(set(buffer.task_ids[buffer.indices()].tolist())) == [0, 1, 2, 3, 4]


POLICY_CHECKS = [
    check
    for strategy, policy in [
        ("er", "ring"),
        ("der", "class-balanced"),
        ("agem", "task-balanced"),
        ("gem", "ring"),
    ]
    for check in contract_checks(
        strategy,
        params={"buffer_size": 60, "buffer_policy": policy}
        | ({} if strategy == "gem" else {"replay_batch_size": 16}),
    )
    if check.name in ("same-seed", "checkpoint-round-trip", "resume-mid-task")
]


@pytest.mark.parametrize(
    "check", POLICY_CHECKS, ids=lambda c: f"{c}-{c.case.params['buffer_policy']}"
)
def test_policies_meet_the_strategy_contract(check, tmp_path):
    """Seeded, checkpointed and resumed mid-task exactly, as the default policies are."""
    check(tmp_path)


@pytest.mark.parametrize("policy", ["ring", "task-balanced", "class-balanced"])
def test_task_free_streams_refuse_policies_that_need_task_ids_or_ends(policy, tmp_path):
    """Hidden boundaries give no task ids and no task ends: these policies would store nothing
    (task-/class-balanced) or fail on the classes of unseen tasks (ring)."""
    config = RunConfig.of(
        benchmark="split-digits",
        tasks=2,
        strategy="er",
        strategy_params={"buffer_policy": policy, "buffer_size": 40},
        online=True,
        boundaries="hidden",
        threads=1,
        out=str(tmp_path / "run"),
    )
    with pytest.raises(ConfigError, match=f"buffer_policy={policy} needs task ids or task ends"):
        run(config, write=False)


@pytest.mark.parametrize("strategy", ["er", "der", "agem"])
def test_task_reservoir_is_one_reservoir_of_the_whole_budget_on_a_task_free_stream(strategy):
    """The learner sees task id 0 throughout a hidden-boundary stream; a per-task reservoir would
    keep buffer_size // tasks examples of that one 'task' and leave the rest of the budget empty."""
    config = RunConfig.of(
        benchmark="split-digits",
        tasks=5,
        strategy=strategy,
        strategy_params={"buffer_policy": "task-reservoir", "buffer_size": 100},
        online=True,
        boundaries="hidden",
        batch_size=10,
        train_samples_per_task=40,
        threads=1,
    )
    memory = run(config, write=False).metrics["strategy_metrics"]
    assert memory["buffer_stored_examples"] == memory["buffer_capacity_examples"] == 100


def test_runs_of_the_fixed_task_free_reservoir_are_marked_and_no_others():
    """The fix above changed only task-free runs with ``task-reservoir``: those record a behaviour
    mark (a run stored before it, with or without hyperparameters, is another run), while every
    other configuration keeps the identity its stored runs have."""
    from lifelong.core.identity import BEHAVIOUR, HYPERPARAMETERS, run_identity, same_identity
    from lifelong.core.runner import resolve

    def identity_of(policy: str, boundaries: str) -> dict:
        online = boundaries != "offline"
        return run_identity(
            resolve(
                RunConfig.of(
                    benchmark="split-digits",
                    strategy="er",
                    strategy_params={"buffer_policy": policy},
                    online=online,
                    boundaries=boundaries if online else "known",
                )
            ).to_dict()
        )

    fixed = identity_of("task-reservoir", "hidden")
    assert fixed[HYPERPARAMETERS][BEHAVIOUR] == {
        "task_free_task_reservoir": "one reservoir over the whole budget"
    }
    for policy, boundaries in [("reservoir", "hidden"), ("task-reservoir", "known")]:
        assert BEHAVIOUR not in identity_of(policy, boundaries)[HYPERPARAMETERS]
    assert BEHAVIOUR not in identity_of("task-reservoir", "offline")[HYPERPARAMETERS]

    before_fix = {**fixed, HYPERPARAMETERS: {**fixed[HYPERPARAMETERS]}}
    del before_fix[HYPERPARAMETERS][BEHAVIOUR]
    assert same_identity(fixed, fixed)
    assert not same_identity(before_fix, fixed)
    unrecorded = {k: v for k, v in fixed.items() if k != HYPERPARAMETERS}
    assert not same_identity(unrecorded, fixed)
