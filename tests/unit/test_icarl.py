"""iCaRL: nearest-mean-of-exemplars prediction and exemplar budget."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lifelong import RunConfig, run
from lifelong.core.strategy import Context
from lifelong.data.scenarios import build_scenario
from lifelong.strategies.icarl import ICaRL, ICaRLConfig


class FirstTwoPixels(nn.Module):
    """features(x) = the first two input values; a head that would predict class 9 for
    everything."""

    feature_dim = 2

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(2, 10)
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.copy_(torch.arange(10.0))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _context_after_two_tasks() -> Context:
    """split-digits class-incremental, learning its second task (two tasks seen)."""
    return Context(
        scenario=build_scenario("split-digits", "class"),
        device=torch.device("cpu"),
        batch_size=8,
        rng=torch.Generator().manual_seed(0),
        tasks_seen=2,
    )


def test_nme_predicts_the_nearest_normalised_class_mean_among_seen_classes():
    context = _context_after_two_tasks()
    icarl = ICaRL(FirstTwoPixels(), ICaRLConfig(buffer_size=20), context).eval()
    means = torch.zeros(10, 2)
    means[:4] = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    means[4] = torch.tensor([3.0, 1.0]) / math.sqrt(10)  # class 4 (task 2): not seen yet
    icarl.class_means.copy_(means)
    icarl.has_mean[:5] = True
    x = torch.zeros(4, 1, 8, 8)
    x.view(4, -1)[:, :2] = torch.tensor([[3.0, 1.0], [-1.0, 2.0], [-2.0, -0.1], [0.1, -5.0]])
    # normalised: (0.95, 0.32) -> class 0 (class 4 would be exact but is not seen), (-0.45, 0.89) ->
    # 1, (-1.0, -0.05) -> 2, (0.02, -1.0) -> 3
    with torch.no_grad():
        assert icarl.predict(x).argmax(1).tolist() == [0, 1, 2, 3]
        assert icarl.predictors()["head"](x, None).argmax(1).tolist() == [3, 3, 3, 3]
        scores = icarl.predict(x)
    expected = -torch.cdist(nn.functional.normalize(x.view(4, -1)[:, :2], dim=1), means[:4])
    torch.testing.assert_close(scores[:, :4], expected)


def test_exemplar_sets_share_the_fixed_budget():
    config = RunConfig.of(
        benchmark="split-digits",
        setting="class",
        strategy="icarl",
        iterations=10,
        batch_size=16,
        hidden=(16,),
        eval_every=0,
        tasks=5,
        threads=1,
        strategy_params={"buffer_size": 55, "replay_batch_size": 8},
    )
    result = run(config, write=False)
    buffer = result.strategy.buffer
    assert torch.bincount(buffer.y[: len(buffer)].long(), minlength=10).tolist() == [5] * 10
    assert result.metrics["extra_accuracy_matrices"]["head"]["accuracy_matrix"]
    assert result.metrics["strategy_metrics"]["exemplars_per_class"] == 5


def test_loss_is_binary_cross_entropy_with_the_teachers_softened_sigmoids_on_old_classes():
    """L = -sum_{y seen} [d_y log s(g_y) + (1 - d_y) log(1 - s(g_y))], d_y = s(g*_y / T) on the
    old classes (T = 2 here, as in van de Ven & Tolias' code) and one-hot on the new ones."""
    from lifelong.core.strategy import Batch

    context = _context_after_two_tasks()
    icarl = ICaRL(FirstTwoPixels(), ICaRLConfig(buffer_size=20, temperature=2.0), context)
    icarl.teacher.copy_from(icarl.model)
    icarl.has_teacher.fill_(True)
    with torch.no_grad():
        icarl.model.head.weight.fill_(0.5)  # the student drifts from its teacher
    x = torch.zeros(2, 1, 8, 8)
    x.view(2, -1)[:, :2] = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    y = torch.tensor([2, 3])  # task 1's classes; task 0's (0, 1) are old
    with torch.no_grad():
        loss = icarl.loss(Batch(x, y, None)).item()
        student, teacher = icarl.model(x), icarl.teacher(x)
    expected = 0.0
    for s, z, label in zip(student.tolist(), teacher.tolist(), y.tolist(), strict=True):
        for unit in range(4):  # the classes seen so far
            d = 1 / (1 + math.exp(-z[unit] / 2)) if unit < 2 else float(unit == label)
            p = 1 / (1 + math.exp(-s[unit]))
            expected -= (d * math.log(p) + (1 - d) * math.log(1 - p)) / 2
    assert loss == pytest.approx(expected, rel=1e-5)
