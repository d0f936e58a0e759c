"""GEM and A-GEM gradient projections against hand-computed and brute-force solutions."""

from __future__ import annotations

import itertools

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.components.projection import agem_project, gem_project
from lifelong.strategies.gem import memory_gradients


def brute_force_projection(g: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Closest z to g with G z >= 0: the best feasible projection onto the faces {G_S z = 0}."""
    best = None
    for k in range(len(G) + 1):
        for active in itertools.combinations(range(len(G)), k):
            z = g.clone()
            if active:
                A = G[list(active)]
                z = g - A.T @ torch.linalg.solve(A @ A.T, A @ g)
            if bool((G @ z >= -1e-9).all()) and (
                best is None or (z - g).norm() < (best - g).norm()
            ):
                best = z
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(5))
def test_gem_projection_satisfies_constraints_and_is_the_closest(seed):
    generator = torch.Generator().manual_seed(seed)
    G = torch.randn(3, 6, generator=generator, dtype=torch.float64)
    g = -G.sum(0) + 0.3 * torch.randn(6, generator=generator, dtype=torch.float64)  # violates
    assert bool((G @ g < 0).any())
    z = gem_project(g, G, margin=0.0, eps=1e-12)
    assert bool((G @ z >= -1e-8).all())
    torch.testing.assert_close(z, brute_force_projection(g, G), atol=1e-6, rtol=1e-6)


def test_gem_margin_matches_the_hand_solved_dual():
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    g = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    exact = gem_project(g, G, margin=0.0, eps=1e-12)
    torch.testing.assert_close(exact, torch.tensor([0.0, 2.0], dtype=torch.float64))
    # dual: min 1/2 |v|^2 + (-1, 2) . v with v >= 0.5 -> v = (1, 0.5), z = v + g = (0, 2.5): the
    # margin also moves the update along the memory gradients whose constraint was not violated
    biased = gem_project(g, G, margin=0.5, eps=1e-12)
    torch.testing.assert_close(biased, torch.tensor([0.0, 2.5], dtype=torch.float64))


def test_agem_projection_matches_its_closed_form():
    g, ref = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 1.0, 1.0])
    dot = 1.0 * 0 + -2.0 * 1 + 0.5 * 1  # -1.5
    expected = g - dot / 2.0 * ref  # [1, -1.25, 1.25]
    torch.testing.assert_close(agem_project(g, ref), expected)
    assert abs(float(agem_project(g, ref) @ ref)) < 1e-6
    assert torch.equal(agem_project(-g, ref), -g)  # no conflict: unchanged


def tiny_gem_config() -> RunConfig:
    """GEM on class-incremental split-digits, small enough for a unit test."""
    return RunConfig.of(
        benchmark="split-digits",
        setting="class",
        strategy="gem",
        iterations=5,
        batch_size=16,
        hidden=(16,),
        eval_every=0,
        tasks=5,
        threads=1,
        strategy_params={"buffer_size": 50},
    )


def test_memory_gradients_are_the_per_task_gradients():
    config = tiny_gem_config()
    gem = run(config, write=False).strategy
    params = gem.trainable_parameters()
    rows = memory_gradients(gem, 3)
    assert rows.shape == (3, sum(p.numel() for p in params))
    for task in range(3):
        memory = gem.buffer.get(gem.buffer.indices(3))
        chosen = memory.task_ids == task
        logits = gem.masked_logits(gem(memory.x[chosen]), None)
        loss = torch.nn.functional.cross_entropy(logits, memory.y[chosen])
        grads = torch.autograd.grad(loss, params)
        torch.testing.assert_close(rows[task], torch.cat([g.reshape(-1) for g in grads]))


def test_gem_falls_back_and_counts_when_the_qp_fails(monkeypatch):
    def failing(*args, **kwargs):
        raise ValueError("constraints are inconsistent, no solution")

    monkeypatch.setattr("lifelong.strategies.gem.gem_project", failing)
    config = tiny_gem_config()
    result = run(config, write=False)
    extra = result.metrics["strategy_metrics"]
    assert extra["projections"] > 0 and extra["qp_fallbacks"] == extra["projections"]
