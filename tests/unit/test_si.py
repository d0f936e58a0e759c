"""SI's path integral and importance on a quadratic loss whose SGD path is known in closed form."""

from __future__ import annotations

import torch

from lifelong import RunConfig
from lifelong.core.runner import build_strategy, resolve
from lifelong.data.scenarios import build_scenario

LR, STEPS, XI = 0.1, 15, 0.1


def _si(strength: float):
    config = resolve(
        RunConfig.of(
            benchmark="split-digits",
            setting="class",
            strategy="si",
            strategy_params={"strength": strength, "damping": XI},
            hidden=(4,),
            iterations=5,
            threads=1,
        )
    )
    scenario = build_scenario("split-digits", "class", num_tasks=5, seed=0)
    return build_strategy(config, scenario, torch.device("cpu")), scenario


def _train_task(strategy, scenario, index, a, b, penalty_weight):
    """SGD on L = 1/2 sum a (theta - b)^2 (+ the SI surrogate), driving the strategy's hooks."""
    params = list(strategy.model.parameters())
    optimizer = torch.optim.SGD(params, lr=LR)
    strategy.context.tasks_seen = index + 1
    strategy.before_task(scenario[index])
    for _ in range(STEPS):
        loss = sum(0.5 * (ai * (p - bi) ** 2).sum() for p, ai, bi in zip(params, a, b, strict=True))
        if strategy.penalty.active:
            loss = loss + penalty_weight * strategy.penalty(strategy.model.named_parameters())
        optimizer.zero_grad()
        loss.backward()
        strategy.after_backward(None)
        optimizer.step()
        strategy.after_step(None)
    strategy.after_task(scenario[index])


def test_si_importance_on_a_quadratic_matches_the_closed_form():
    strategy, scenario = _si(strength=0.0)
    torch.manual_seed(0)
    params = list(strategy.model.parameters())
    theta0 = [p.detach().clone().double() for p in params]
    a = [torch.rand_like(p) + 0.5 for p in params]
    b = [torch.randn_like(p) for p in params]
    _train_task(strategy, scenario, 0, a, b, 0.0)
    for name, t0, ai, bi in zip(strategy.names, theta0, a, b, strict=True):
        ai, bi = ai.double(), bi.double()
        r = 1 - LR * ai  # theta_k - b = r^k (theta_0 - b);  g_k = a r^k (theta_0 - b)
        # W = sum_k -g_k (theta_k+1 - theta_k) = sum_k LR g_k^2 = LR a^2 (theta_0 - b)^2 sum r^2k
        W = LR * ai**2 * (t0 - bi) ** 2 * (1 - r ** (2 * STEPS)) / (1 - r**2)
        delta = (r**STEPS - 1) * (t0 - bi)
        omega = W / (delta**2 + XI)
        torch.testing.assert_close(
            strategy.penalty.importance(name).double(), omega, rtol=1e-4, atol=1e-7
        )
        torch.testing.assert_close(
            strategy.penalty.anchor(name).double(), bi + r**STEPS * (t0 - bi), rtol=1e-5, atol=1e-6
        )


def test_si_path_integral_uses_the_task_gradient_without_the_penalty_and_accumulates():
    c = 0.7
    strategy, scenario = _si(strength=c)
    torch.manual_seed(1)
    params = list(strategy.model.parameters())
    a = [torch.rand_like(p) + 0.5 for p in params]
    b = [torch.randn_like(p) for p in params]
    _train_task(strategy, scenario, 0, a, b, c)
    omega1 = [strategy.penalty.importance(n).double().clone() for n in strategy.names]
    anchor = [p.detach().double().clone() for p in params]
    a2 = [torch.rand_like(p) + 0.5 for p in params]
    b2 = [torch.randn_like(p) for p in params]
    _train_task(strategy, scenario, 1, a2, b2, c)
    for name, om, th_star, ai, bi in zip(strategy.names, omega1, anchor, a2, b2, strict=True):
        ai, bi = ai.double(), bi.double()
        theta, W = th_star.clone(), torch.zeros_like(th_star)
        for _ in range(STEPS):  # the same SGD path, simulated element-wise in float64
            g_task = ai * (theta - bi)
            step = -LR * (g_task + 2 * c * om * (theta - th_star))
            W += -g_task * step
            theta = theta + step
        expected = om + W / ((theta - th_star) ** 2 + XI)
        torch.testing.assert_close(
            strategy.penalty.importance(name).double(), expected, rtol=1e-3, atol=1e-6
        )
