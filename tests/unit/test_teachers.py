"""Teachers (the frozen copies of the previous model used by LwF, iCaRL, generative replay and
pseudo-rehearsal) run in evaluation mode: with BatchNorm their targets use the running statistics,
and those statistics do not move while they teach."""

from __future__ import annotations

import copy

import pytest
import torch

from lifelong import RunConfig
from lifelong.core.runner import build_strategy, resolve
from lifelong.core.strategy import Batch
from lifelong.data.scenarios import build_scenario
from tests.contract.fast_params import FAST_PARAMS

TEACHING = ["lwf", "icarl", "generative-replay", "pseudo-rehearsal"]


def _build(name: str):
    """A strategy on a BatchNorm model (reduced ResNet-18) on split-digits."""
    config = resolve(
        RunConfig.of(
            benchmark="split-digits",
            setting="class",
            strategy=name,
            model="resnet18",
            hidden=(4,),
            iterations=5,
            threads=1,
            strategy_params=FAST_PARAMS.get(name, {}),
        )
    )
    scenario = build_scenario("split-digits", "class", seed=0)
    return build_strategy(config, scenario, torch.device("cpu")), scenario


def _after_first_task(name: str):
    """The strategy whose teacher holds task 0's model, with running statistics moved away from
    their initial values."""
    strategy, scenario = _build(name)
    strategy.context.tasks_seen = 1
    strategy.train()
    first = scenario[0].train_indices[:64]
    with torch.no_grad():
        for _ in range(3):
            strategy.model(scenario.train_batch(torch.zeros_like(first), first)[0])
    strategy.after_task(scenario[0])
    strategy.context.tasks_seen = 2
    strategy.train()  # as the training loop does before every task
    return strategy, scenario


@pytest.mark.parametrize("name", TEACHING)
def test_teacher_targets_are_eval_mode_outputs_and_its_statistics_do_not_move(name):
    strategy, scenario = _after_first_task(name)
    teacher = strategy.teacher
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    reference = copy.deepcopy(teacher).eval()
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    teacher.register_forward_hook(lambda _m, args, out: calls.append((args[0], out)))
    idx = scenario[1].train_indices[:32]
    ids = torch.ones_like(idx)
    strategy.loss(Batch(*scenario.train_batch(ids, idx), ids))
    assert calls, "the teacher was not consulted"
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, before[key]), key  # running_mean / running_var / batch counts
    with torch.no_grad():
        for x, out in calls:
            assert torch.equal(out, reference(x))


def test_a_checkpoint_from_before_teachers_were_wrapped_still_loads():
    strategy, _ = _after_first_task("generative-replay")
    old_format = {
        k.replace("teacher.network.", "teacher.").replace("generator.network.", "generator."): v
        for k, v in strategy.state_dict().items()
    }
    assert "teacher.bn1.running_mean" in old_format and "old_generator.mu.weight" in old_format
    fresh, _ = _build("generative-replay")
    fresh.load_state_dict(old_format)
    loaded = fresh.state_dict()
    for key, value in strategy.state_dict().items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(loaded[key], value), key
