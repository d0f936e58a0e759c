"""Vectorized Fisher / MAS importance against a plain per-sample loop, for every mode and method."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lifelong.components.fisher import diagonal_fisher, output_sensitivity


def _models():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.Tanh(), nn.Linear(7, 5))
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 2 * 1, 5))
    return {"mlp": mlp, "cnn": cnn}


def _data(n: int = 9):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, 4, 3, generator=generator)
    mask = torch.ones(n, 5, dtype=torch.bool)
    mask[:4, 3:] = False  # some samples may only predict units 0-2 (as a task's head)
    y = torch.randint(0, 3, (n,), generator=generator)
    return x, y, mask


def _loop(model, x, mask, weights_of) -> dict[str, torch.Tensor]:
    """1/N sum_n sum_c w(n, c, p) (d log p(c|x_n) / d theta)^2, one sample and class at a time."""
    total = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(len(x)):
        log_p = F.log_softmax(model(x[i : i + 1]).masked_fill(~mask[i : i + 1], -1e9), 1)[0]
        for c in range(log_p.numel()):
            w = weights_of(i, c, log_p.exp().detach())
            if w == 0:
                continue
            grads = torch.autograd.grad(log_p[c], list(model.parameters()), retain_graph=True)
            for (n, _), g in zip(model.named_parameters(), grads, strict=True):
                total[n] += w * g**2
    return {n: t / len(x) for n, t in total.items()}


@pytest.mark.parametrize("mode", ["empirical", "sampled", "predicted", "exact"])
@pytest.mark.parametrize(
    "model_name, method", [("mlp", "factored"), ("mlp", "vmap"), ("cnn", "vmap"), ("cnn", "auto")]
)
def test_vectorized_fisher_equals_per_sample_loop(mode, model_name, method):
    model = _models()[model_name]
    x, y, mask = _data()
    fisher = diagonal_fisher(
        model,
        x,
        y,
        mask,
        mode,
        generator=torch.Generator().manual_seed(5),
        method=method,
        chunk_size=4,
    )
    if mode == "sampled":  # the same draws: one label per sample from the model's distribution
        probs = F.softmax(model(x).masked_fill(~mask, -1e9), 1).detach()
        labels = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(5)).squeeze(1)
        assert mask[torch.arange(len(x)), labels].all()
    elif mode == "predicted":  # the most probable allowed unit
        labels = model(x).masked_fill(~mask, -1e9).argmax(1)
        assert not torch.equal(labels, y)  # a different case from empirical
    else:
        labels = y
    if mode == "exact":
        reference = _loop(model, x, mask, lambda i, c, p: p[c].item())
    else:
        reference = _loop(model, x, mask, lambda i, c, p: float(c == labels[i]))
    assert set(fisher) == set(reference)
    for n in reference:
        torch.testing.assert_close(fisher[n], reference[n], rtol=1e-4, atol=1e-7)
    assert sum(f.sum() for f in fisher.values()) > 0


@pytest.mark.parametrize("method", ["factored", "vmap"])
def test_predicted_and_exact_fisher_of_a_two_unit_head_by_hand(method):
    # Logits (log 9, 0): p = 0.9 for unit 0, the predicted one. d log p_c / d bias = e_c - p, so
    # the predicted label gives (1 - p)^2 = 0.01 per bias and the expectation over labels
    # p (1 - p)^2 + (1 - p) p^2 = p (1 - p) = 0.09: nine times more (p / (1 - p)).
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([math.log(9.0), 0.0]))
    x, y = torch.ones(1, 1), torch.tensor([1])
    mask = torch.ones(1, 2, dtype=torch.bool)
    predicted = diagonal_fisher(model, x, y, mask, "predicted", method=method)
    exact = diagonal_fisher(model, x, y, mask, "exact", method=method)
    torch.testing.assert_close(predicted["bias"], torch.tensor([0.01, 0.01]))
    torch.testing.assert_close(exact["bias"], torch.tensor([0.09, 0.09]))
    torch.testing.assert_close(predicted["weight"], torch.tensor([[0.01], [0.01]]))


def test_fisher_is_a_mean_of_squares_not_the_square_of_the_mean_gradient():
    model = _models()["mlp"]
    x, y, mask = _data()
    fisher = diagonal_fisher(model, x, y, mask, "empirical")
    log_p = F.log_softmax(model(x).masked_fill(~mask, -1e9), 1).gather(1, y[:, None]).mean()
    mean_grads = torch.autograd.grad(log_p, list(model.parameters()))
    squared_mean = sum(float((g**2).sum()) for g in mean_grads)
    assert sum(float(f.sum()) for f in fisher.values()) > 2 * squared_mean


@pytest.mark.parametrize(
    "model_name, method", [("mlp", "factored"), ("mlp", "vmap"), ("cnn", "vmap")]
)
def test_mas_importance_equals_per_sample_loop(model_name, method):
    model = _models()[model_name]
    x, _, mask = _data()
    omega = output_sensitivity(model, x, mask, method=method, chunk_size=4)
    for n, p in model.named_parameters():
        reference = torch.zeros_like(p)
        for i in range(len(x)):
            out = (model(x[i : i + 1]) * mask[i : i + 1]).pow(2).sum()
            reference += torch.autograd.grad(out, p)[0].abs()
        torch.testing.assert_close(omega[n], reference / len(x), rtol=1e-4, atol=1e-7)


def test_fisher_leaves_the_model_mode_and_parameters_unchanged():
    model = _models()["mlp"].train()
    before = [p.clone() for p in model.parameters()]
    x, y, mask = _data()
    diagonal_fisher(model, x, y, mask, "exact")
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())
