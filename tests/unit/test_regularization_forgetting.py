"""Each regularization / distillation strategy forgets less than naive fine-tuning on a real stream.

Permuted Digits (scikit-learn's 8x8 digits, a pixel permutation per task), domain-incremental,
5 tasks, fixed seed. Naive fine-tuning forgets about 45 points here; each method must forget less
than half as much (with a strength of 0 they would match naive, so the assertion can fail).
"""

from __future__ import annotations

import pytest

from lifelong import RunConfig, run

PARAMS = {
    "ewc": {"strength": 1e3, "fisher_samples": 200},
    "online-ewc": {"strength": 1e3, "fisher_samples": 200},
    "si": {"strength": 100.0},
    "mas": {"strength": 1.0, "importance_samples": 200},
    "lwf": {"strength": 5.0},
}


def _forgetting(strategy: str, params: dict) -> float:
    config = RunConfig.of(
        benchmark="permuted-digits",
        setting="domain",
        strategy=strategy,
        strategy_params=params,
        tasks=5,
        iterations=150,
        batch_size=32,
        hidden=(100,),
        lr=1e-3,
        eval_every=0,
        seed=0,
        threads=1,
    )
    return run(config, write=False).metrics["average_forgetting"]


@pytest.fixture(scope="module")
def naive_forgetting() -> float:
    value = _forgetting("naive", {})
    assert value > 0.2  # the stream must show real forgetting for the comparison to mean anything
    return value


@pytest.mark.parametrize("strategy", sorted(PARAMS))
def test_strategy_forgets_less_than_naive(strategy, naive_forgetting):
    assert _forgetting(strategy, PARAMS[strategy]) < 0.5 * naive_forgetting
