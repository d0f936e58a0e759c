"""The contract every registered strategy must meet, run on tiny split-digits streams.

- a run fills a valid accuracy matrix in every supported setting;
- the same seed gives bit-identical results;
- a checkpoint round trip gives identical predictions;
- a run interrupted mid-task and resumed from its checkpoint ends with the same metrics;
- an unsupported setting raises a clear error;
- training never mutates the input batch.
"""

from __future__ import annotations

import pytest
import torch

from lifelong import RunConfig, list_strategies, run
from lifelong.core.errors import UnsupportedSettingError
from lifelong.core.events import Observer
from lifelong.core.runner import build_strategy, load_checkpoint, resolve
from lifelong.data.scenarios import SETTINGS, build_scenario
from tests.contract.fast_params import FAST_PARAMS

STRATEGIES = sorted(list_strategies())


def config_for(name: str, setting: str | None = None, **changes) -> RunConfig:
    cls = list_strategies()[name]
    if setting is None:
        setting = "class" if "class" in cls.settings else sorted(cls.settings)[0]
    base = dict(
        benchmark="split-digits",
        scenario=setting,
        strategy=name,
        iterations=20,
        batch_size=32,
        hidden=(32,),
        eval_every=0,
        seed=0,
        tasks=5,
        threads=1,
        strategy_params=FAST_PARAMS.get(name, {}),
    )
    base.update(changes)
    return RunConfig(**base)


@pytest.mark.parametrize("name", STRATEGIES)
def test_fills_valid_accuracy_matrix_in_every_supported_setting(name):
    for setting in sorted(list_strategies()[name].settings):
        result = run(config_for(name, setting), write=False)
        R = torch.tensor(result.accuracy_matrix)
        assert R.shape == (5, 5), setting
        assert ((R >= 0) & (R <= 1)).all(), setting
        assert torch.isfinite(R).all()
        assert result.metrics["average_accuracy"] == pytest.approx(R[-1].mean().item())


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_seed_gives_identical_results(name):
    first = run(config_for(name), write=False).metrics
    second = run(config_for(name), write=False).metrics
    assert first["accuracy_matrix"] == second["accuracy_matrix"]
    assert first["curve"] == second["curve"]


@pytest.mark.parametrize("name", STRATEGIES)
def test_checkpoint_round_trip_gives_identical_predictions(name, tmp_path):
    config = resolve(config_for(name, out=str(tmp_path / name)))
    result = run(config)
    state = load_checkpoint(tmp_path / name / "checkpoint.pt")
    scenario = build_scenario(
        config.benchmark,
        config.scenario,
        num_tasks=config.tasks,
        seed=config.resolved_scenario_seed,
    )
    fresh = build_strategy(config.replace(seed=config.seed + 1), scenario, torch.device("cpu"))
    fresh.load_state_dict(state["strategy"])
    fresh.context.tasks_seen = result.strategy.context.tasks_seen
    fresh.eval(), result.strategy.eval()
    for task in scenario:
        x, _ = scenario.eval_batch(task.index, task.eval_indices[:64])
        ids = torch.full((len(x),), task.index) if config.scenario == "task" else None
        with torch.no_grad():
            assert torch.equal(fresh.predict(x, ids), result.strategy.predict(x, ids))


class _Interrupt(Observer):
    def __init__(self, at: int) -> None:
        self.at = at

    def iteration_done(self, task, iteration, global_iteration, loss):
        if global_iteration == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("name", STRATEGIES)
def test_interrupted_run_resumes_to_identical_metrics(name, tmp_path):
    reference = run(config_for(name), write=False).metrics
    config = config_for(name, out=str(tmp_path / "run"), checkpoint_every=7)
    with pytest.raises(KeyboardInterrupt):
        run(config, observers=[_Interrupt(at=66)])  # mid-task: last checkpoint at iteration 63
    resumed = run(config, resume=True).metrics
    assert resumed["accuracy_matrix"] == reference["accuracy_matrix"]


@pytest.mark.parametrize("name", STRATEGIES)
def test_unsupported_setting_raises(name):
    unsupported = [s for s in SETTINGS if s not in list_strategies()[name].settings]
    for setting in unsupported:
        with pytest.raises(UnsupportedSettingError, match=name):
            run(config_for(name, setting), write=False)


class _Spy(Observer):
    pass


@pytest.mark.parametrize("name", STRATEGIES)
def test_training_does_not_mutate_inputs(name, monkeypatch):
    from lifelong.core import learner as learner_module

    original = learner_module.Learner._train_step
    seen = []

    def checked(self, batch, task, iteration):
        x, y, ids = batch.x.clone(), batch.y.clone(), batch.task_ids.clone()
        value = original(self, batch, task, iteration)
        seen.append(
            torch.equal(x, batch.x) and torch.equal(y, batch.y) and torch.equal(ids, batch.task_ids)
        )
        return value

    monkeypatch.setattr(learner_module.Learner, "_train_step", checked)
    run(config_for(name), write=False)
    assert seen and all(seen)
