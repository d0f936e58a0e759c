"""Task-free MAS (issue 14): the plateau trigger, the running-average importance, the hard buffer,
and a task-free run that updates its importance on schedule."""

from __future__ import annotations

import warnings
from unittest import mock

import pytest
import torch
import torch.nn.functional as F

from lifelong.components.plateau import PlateauDetector
from lifelong.core.config import RunConfig
from lifelong.core.runner import build_run_scenario, build_strategy, resolve, run
from lifelong.core.strategy import Batch
from lifelong.errors import ConfigError, ConfigurationWarning
from lifelong.strategies.tf_mas import TFMASConfig

TINY = {
    "benchmark": "split-digits",
    "online": True,
    "batch_size": 10,
    "hidden": (16,),
    "train_samples_per_task": 40,
    "threads": 1,
    "anytime_every": 0,
    "strategy": "tf-mas",
    "boundaries": "hidden",
}


def test_plateau_is_detected_only_after_a_peak():
    detector = PlateauDetector(3, mean_threshold=0.5, variance_threshold=0.1)
    # the stream's start counts as a peak; high losses are no plateau
    assert [detector.observe(v) for v in (2.0, 2.0, 2.0, 0.3, 0.3)] == [False] * 5
    # window (0.3, 0.3, 0.3): mean 0.3 < 0.5, variance 0 < 0.1 -> update, remember mean 0.3, std 0
    assert detector.observe(0.3)
    assert (detector.last_mean, detector.last_std, detector.peak) == (0.3, 0.0, False)
    # still a plateau, but no new peak since the update: no second update
    assert not detector.observe(0.3)
    # window (0.3, 0.3, 0.6): mean 0.4 > 0.3 + 0 -> a peak; variance 0.02 and mean < 0.5 -> update
    assert detector.observe(0.6)
    assert detector.last_mean == pytest.approx(0.4)
    assert detector.last_std == pytest.approx(0.02**0.5)
    # (0.3, 0.6, 0.45): mean 0.45 > 0.4 + 0.1414? no -> no peak, no update
    assert not detector.observe(0.45)


def test_config_is_validated():
    with pytest.raises(ConfigError, match="window"):
        TFMASConfig(window=1)
    with pytest.raises(ConfigError, match="hard_buffer_size"):
        TFMASConfig(hard_buffer_size=0)


@pytest.fixture
def strategy():
    config = resolve(
        RunConfig.of(**{**TINY, "strategy_params": {"hard_buffer_size": 4, "strength": 1.0}})
    )
    scenario = build_run_scenario(config)
    return build_strategy(config, scenario, torch.device("cpu")), scenario


def test_importance_is_the_running_average_of_the_updates(strategy):
    strategy, _ = strategy
    strategy.hard.append(
        torch.rand(2, 1, 8, 8), torch.tensor([0, 1]), torch.zeros(2, dtype=torch.long)
    )
    params = dict(strategy.model.named_parameters())
    updates = [{n: torch.full_like(p, v) for n, p in params.items()} for v in (2.0, 4.0, 9.0)]
    with mock.patch("lifelong.strategies.tf_mas.output_sensitivity", side_effect=updates):
        for _ in updates:
            strategy._update_importance()
    name = next(iter(params))
    # (2 + 4 + 9) / 3
    assert torch.allclose(strategy.penalty.importance(name), torch.full_like(params[name], 5.0))
    assert torch.equal(strategy.penalty.anchor(name), params[name].detach())


def test_hard_buffer_keeps_the_highest_losses_of_buffer_and_batch(strategy):
    strategy, scenario = strategy
    strategy.observed_units[:] = True
    x, y = scenario.train_batch(torch.zeros(6, dtype=torch.long), scenario[0].train_indices[:6])
    first = Batch(x, y, torch.zeros(6, dtype=torch.long))
    strategy.loss(first)
    strategy.after_step(first)
    x2, y2 = scenario.train_batch(torch.ones(3, dtype=torch.long), scenario[1].train_indices[:3])
    second = Batch(x2, y2, torch.zeros(3, dtype=torch.long))
    with torch.no_grad():
        kept = strategy.hard.get(strategy.hard.indices())
        all_x = torch.cat([x2, kept.x])
        all_y = torch.cat([y2, kept.y])
        losses = F.cross_entropy(strategy.model(all_x), all_y, reduction="none")
    strategy.loss(second)
    strategy.after_step(second)
    hardest = set(torch.topk(losses, 4).indices.tolist())
    stored = strategy.hard.get(strategy.hard.indices())
    expected = {(int(all_y[i]), float(all_x[i].sum())) for i in hardest}
    assert {(int(t), float(s.sum())) for t, s in zip(stored.y, stored.x, strict=True)} == expected


def test_loss_weighs_every_example_of_batch_and_hard_buffer_alike(strategy):
    """The authors' code sums the recent and the hard buffer's losses: a stored example counts as
    much as an incoming one (a mean of each part would weigh 4 hard examples like 2 new ones)."""
    strategy, scenario = strategy
    strategy.observed_units[:] = True
    x, y = scenario.train_batch(torch.zeros(6, dtype=torch.long), scenario[0].train_indices[:6])
    first = Batch(x, y, torch.zeros(6, dtype=torch.long))
    strategy.loss(first)
    strategy.after_step(first)  # the hard buffer now holds 4 of them
    second = Batch(x[:2], y[:2], torch.zeros(2, dtype=torch.long))
    kept = strategy.hard.get(strategy.hard.indices())
    with torch.no_grad():
        union = Batch(
            torch.cat([second.x, kept.x]),
            torch.cat([second.y, kept.y]),
            torch.cat([second.task_ids, kept.task_ids]),
        )
        expected = strategy.classification_loss(union)
        assert len(kept.y) == 4
        assert torch.allclose(strategy.loss(second), expected)


def test_task_free_run_updates_importance_on_schedule():
    result = run(
        RunConfig.of(**{**TINY, "strategy_params": {"update_every": 5, "hard_buffer_size": 8}}),
        write=False,
    )
    # 5 tasks x 40 samples in batches of 10: 20 steps -> updates at steps 5, 10, 15, 20
    assert result.metrics["strategy_metrics"]["importance_updates"] == 4
    assert result.metrics["strategy_metrics"]["importance_sum"] > 0


@pytest.mark.parametrize(
    "params, warns",
    [
        ({"mean_threshold": 1e-9}, True),  # no window's mean loss is ever this low
        ({"update_every": 5}, False),  # a schedule, no plateau needed
    ],
)
def test_a_task_without_any_plateau_warns_that_nothing_is_protected(params, warns):
    config = RunConfig.of(
        **{**TINY, "online": False, "boundaries": "known", "epochs": 1, "strategy_params": params}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(config, write=False)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigurationWarning)]
    assert bool(messages) == warns
    if warns:
        assert len(messages) == 1 and "raise mean_threshold" in messages[0]
        assert result.metrics["strategy_metrics"]["importance_updates"] == 0
