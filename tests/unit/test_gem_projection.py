"""GEM and A-GEM gradient projections against hand-computed and brute-force solutions."""

from __future__ import annotations

import itertools

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.components.projection import agem_project, gem_project, stacked_gradients


def brute_force_projection(g: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Closest z to g with G z >= 0: the best feasible projection onto the faces {G_S z = 0}."""
    best = None
    for k in range(len(G) + 1):
        for active in itertools.combinations(range(len(G)), k):
            z = g.clone()
            if active:
                A = G[list(active)]
                z = g - A.T @ torch.linalg.solve(A @ A.T, A @ g)
            if bool((G @ z >= -1e-9).all()) and (best is None or (z - g).norm() < (best - g).norm()):
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
    # dual: min 1/2 |v|^2 + (-1, 2) . v with v >= 0.5 -> v = (1, 0.5), z = v + g = (0, 2.5): the margin
    # also moves the update along the memory gradients whose constraint was not violated
    biased = gem_project(g, G, margin=0.5, eps=1e-12)
    torch.testing.assert_close(biased, torch.tensor([0.0, 2.5], dtype=torch.float64))


def test_agem_projection_matches_its_closed_form():
    g, ref = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.0, 1.0, 1.0])
    dot = 1.0 * 0 + -2.0 * 1 + 0.5 * 1  # -1.5
    expected = g - dot / 2.0 * ref  # [1, -1.25, 1.25]
    torch.testing.assert_close(agem_project(g, ref), expected)
    assert abs(float(agem_project(g, ref) @ ref)) < 1e-6
    assert torch.equal(agem_project(-g, ref), -g)  # no conflict: unchanged


def test_stacked_gradients_match_separate_backward_passes():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    params = list(model.parameters())
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    per_sample = torch.nn.functional.cross_entropy(model(x), y, reduction="none")
    losses = torch.stack([per_sample[:2].mean(), per_sample[2:].mean()])
    rows = stacked_gradients(losses, params)
    for k in range(2):
        grads = torch.autograd.grad(losses[k], params, retain_graph=True)
        torch.testing.assert_close(rows[k], torch.cat([g.reshape(-1) for g in grads]))


def test_gem_falls_back_and_counts_when_the_qp_fails(monkeypatch):
    def failing(*args, **kwargs):
        raise ValueError("constraints are inconsistent, no solution")

    monkeypatch.setattr("lifelong.strategies.gem.gem_project", failing)
    config = RunConfig(benchmark="split-digits", scenario="class", strategy="gem", iterations=5,
                       batch_size=16, hidden=(16,), eval_every=0, tasks=5, threads=1,
                       strategy_params={"buffer_size": 50})
    result = run(config, write=False)
    extra = result.metrics["strategy_metrics"]
    assert extra["projections"] > 0 and extra["qp_fallbacks"] == extra["projections"]
