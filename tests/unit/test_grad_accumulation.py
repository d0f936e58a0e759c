"""Gradient accumulation (``--grad-accumulation N``): a batch backpropagated as N micro-batches
takes the same optimizer step as the whole batch, with penalties and replay per micro-batch."""

from __future__ import annotations

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.core.identity import fingerprint
from lifelong.errors import ConfigError


def parameters(result):
    return [p.detach().clone() for p in result.model.parameters()]


def close(a, b):
    return all(torch.allclose(p, q, rtol=1e-4, atol=1e-6) for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("strategy", "params"),
    [("naive", {}), ("ewc", {"strength": 100.0})],
)
def test_batch_16_as_2_micro_batches_of_8_takes_the_same_steps(tiny_config, strategy, params):
    # SGD with momentum and Adam-free: any difference in a step's gradient would compound
    config = tiny_config(
        strategy=strategy,
        strategy_params=params,
        batch_size=16,
        iterations=15,
        tasks=2,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
    )
    whole = run(config, write=False)
    micro = run(config.replace(grad_accumulation=2), write=False)
    assert close(parameters(whole), parameters(micro))
    assert whole.accuracy_matrix == micro.accuracy_matrix
    # a batch of 16 in 3 unequal parts (6, 5, 5), each loss weighted by its share, is the same too
    thirds = run(config.replace(grad_accumulation=3), write=False)
    assert close(parameters(whole), parameters(thirds))


def test_micro_batches_go_through_the_strategy_loss_one_at_a_time(tiny_config, monkeypatch):
    from lifelong.strategies.er import ER

    sizes = []
    original = ER.classification_loss

    def recorded(self, batch):  # type: ignore[no-untyped-def]
        sizes.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(ER, "classification_loss", recorded)
    # batch 10 in 4 parts (3, 3, 2, 2); once the memory holds the first batch (stored after the
    # step), ER joins 4 replayed examples to every part
    params = {"buffer_size": 50, "replay_batch_size": 4}
    config = tiny_config(strategy="er", strategy_params=params, batch_size=10, iterations=3)
    run(config.replace(tasks=2, grad_accumulation=4), write=False)
    assert sizes == [3, 3, 2, 2] + [7, 7, 6, 6] * 5


def test_accumulation_is_validated_and_outside_the_fingerprint_at_1():
    base = RunConfig().to_dict()
    assert fingerprint(base) == fingerprint(
        {k: v for k, v in base.items() if k != "grad_accumulation"}
    )
    assert fingerprint(base) != fingerprint({**base, "grad_accumulation": 2})
    with pytest.raises(ConfigError, match="grad_accumulation must be >= 1"):
        RunConfig.of(grad_accumulation=0)
    with pytest.raises(ConfigError, match="grad_accumulation must be <= batch_size"):
        RunConfig.of(grad_accumulation=9, batch_size=8)
