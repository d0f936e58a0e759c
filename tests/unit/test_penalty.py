"""The quadratic anchor penalty and EWC's use of it: values and gradients against their formulas."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lifelong import RunConfig
from lifelong.components.fisher import task_samples
from lifelong.components.penalty import QuadraticPenalty
from lifelong.core.runner import build_strategy, resolve
from lifelong.core.strategy import Batch
from lifelong.data.scenarios import build_scenario


def _ewc(strategy: str = "ewc", **params):
    config = resolve(
        RunConfig.of(
            benchmark="split-digits",
            setting="class",
            strategy=strategy,
            strategy_params=params,
            hidden=(16,),
            iterations=5,
            threads=1,
        )
    )
    scenario = build_scenario("split-digits", "class", num_tasks=5, seed=0)
    return build_strategy(config, scenario, torch.device("cpu")), scenario


def _loop_fisher(model: nn.Module, x, mask) -> dict[str, torch.Tensor]:
    """Exact Fisher by a plain per-sample, per-class loop (the reference)."""
    total = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(len(x)):
        log_p = F.log_softmax(model(x[i : i + 1]).masked_fill(~mask[i : i + 1], -1e9), 1)[0]
        for c in mask[i].nonzero().flatten().tolist():
            grads = torch.autograd.grad(log_p[c], list(model.parameters()), retain_graph=True)
            for (n, _), g in zip(model.named_parameters(), grads, strict=True):
                total[n] += log_p[c].exp().detach() * g**2
    return {n: t / len(x) for n, t in total.items()}


def test_ewc_penalty_is_nonzero_after_first_task_and_its_gradient_is_lambda_f_delta():
    strength = 250.0
    strategy, scenario = _ewc(strength=strength, fisher_samples=40)
    task = scenario[0]
    strategy.context.tasks_seen = 1
    batch = Batch(
        *scenario.train_batch(torch.zeros(8, dtype=torch.long), task.train_indices[:8]),
        torch.zeros(8, dtype=torch.long),
    )
    assert torch.equal(strategy.loss(batch), strategy.classification_loss(batch))  # no penalty yet
    state = strategy.context.rng.get_state()
    x, _, mask = task_samples(strategy, task, 40)  # the samples after_task will draw
    strategy.context.rng.set_state(state)
    assert mask.sum(1).eq(2).all()  # first task, class-incremental: its two units only
    fisher = _loop_fisher(strategy.model, x, mask)
    anchor = {n: p.detach().clone() for n, p in strategy.model.named_parameters()}
    strategy.after_task(task)
    with torch.no_grad():
        for p in strategy.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    params = dict(strategy.model.named_parameters())
    penalty = strategy.loss(batch) - strategy.classification_loss(batch)
    expected = strength / 2 * sum((fisher[n] * (params[n] - anchor[n]) ** 2).sum() for n in params)
    assert penalty.item() > 1e-6
    torch.testing.assert_close(penalty, expected, rtol=1e-4, atol=1e-7)
    grads = torch.autograd.grad(penalty, list(params.values()))
    for (n, p), g in zip(params.items(), grads, strict=True):
        torch.testing.assert_close(g, strength * fisher[n] * (p - anchor[n]), rtol=1e-4, atol=1e-7)


def test_merged_penalty_equals_the_sum_of_separate_per_task_penalties():
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    penalty = QuadraticPenalty(model.named_parameters())
    terms = []
    for _ in range(3):
        importance = {
            n: torch.rand_like(p) * (torch.rand_like(p) > 0.3) for n, p in model.named_parameters()
        }
        anchor = {n: torch.randn_like(p) for n, p in model.named_parameters()}
        penalty.consolidate(importance, anchor)
        terms.append((importance, anchor))
    params = dict(model.named_parameters())
    value = penalty(params.items())
    separate = sum((imp[n] * (params[n] - anc[n]) ** 2).sum() for imp, anc in terms for n in params)
    torch.testing.assert_close(value, separate, rtol=1e-5, atol=1e-6)
    got = torch.autograd.grad(value, list(params.values()))
    want = torch.autograd.grad(separate, list(params.values()))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


def test_online_update_decays_importance_and_moves_the_anchor():
    model = nn.Linear(2, 1, bias=False)
    penalty = QuadraticPenalty(model.named_parameters())
    penalty.update(
        {"weight": torch.tensor([[1.0, 2.0]])}, {"weight": torch.tensor([[0.0, 1.0]])}, decay=0.5
    )
    penalty.update(
        {"weight": torch.tensor([[4.0, 0.0]])}, {"weight": torch.tensor([[3.0, 3.0]])}, decay=0.5
    )
    assert torch.equal(penalty.importance("weight"), torch.tensor([[4.5, 1.0]]))
    assert torch.equal(penalty.anchor("weight"), torch.tensor([[3.0, 3.0]]))
    theta = torch.tensor([[1.0, 1.0]])
    assert penalty([("weight", theta)]).item() == 4.5 * 4 + 1.0 * 4


def test_online_ewc_running_fisher_is_gamma_times_old_plus_new():
    strategy, scenario = _ewc("online-ewc", strength=1.0, decay=0.5, fisher_samples=50)
    strategy.context.tasks_seen = 1
    strategy.after_task(scenario[0])
    first = {n: strategy.penalty.importance(n).clone() for n in strategy.penalty.names}
    strategy.context.tasks_seen = 2
    generator_state = strategy.context.rng.get_state()
    new = strategy.fisher(scenario[1])
    strategy.context.rng.set_state(generator_state)
    strategy.after_task(scenario[1])
    for n in strategy.penalty.names:
        torch.testing.assert_close(strategy.penalty.importance(n), 0.5 * first[n] + new[n])
        assert torch.equal(
            strategy.penalty.anchor(n), dict(strategy.model.named_parameters())[n].detach()
        )
