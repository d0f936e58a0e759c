"""The strategy contract on a transformer: every built-in strategy on a tiny randomly initialised
BERT encoder (Hugging Face ``transformers``) with lifelong's head, over a small text stream.

The same checks as :mod:`tests.contract.test_strategies` (:mod:`lifelong.testing`), with the model
and scenario replaced: texts tokenized once into (N, 2, L) token tensors, an encoder with attention
masks, mean pooling and a linear head. Strategies that grow or mask an MLP's units (Progressive,
DEN) and those that generate inputs (generative replay, pseudo-rehearsal: images, not token
ids) cannot run on it; the test checks that they refuse with a one-line error naming what they need.
"""

from __future__ import annotations

import random

import pytest

from lifelong import list_strategies, scenario_from_texts
from lifelong.core.registry import plugin_module
from lifelong.errors import LifelongError
from lifelong.testing import contract_checks
from tests.conftest import require
from tests.contract.fast_params import FAST_PARAMS

try:
    import transformers
except ImportError:  # the `hf` extra
    transformers = None

BUILT_IN = sorted(name for name, cls in list_strategies().items() if plugin_module(cls) is None)
NEEDS_AN_MLP = {"den", "progressive"}
GENERATES_INPUTS = {"generative-replay", "pseudo-rehearsal"}
ON_A_TRANSFORMER = [n for n in BUILT_IN if n not in NEEDS_AN_MLP | GENERATES_INPUTS]

# Four topics of made-up sentences: each class has its own words, plus words all classes share.
TOPICS = {
    "animal": "lion tiger wolf horse eagle shark",
    "food": "bread cheese apple soup rice butter",
    "tool": "hammer saw drill wrench chisel pliers",
    "place": "city river valley harbour village island",
}
SHARED = ["the", "a", "of", "with", "and", "very", "small", "large", "old", "new"]
MAX_LENGTH = 8
# per-sample gradients loop over samples on a transformer: estimate importances on a few
TEXT_PARAMS = {
    "ewc": {"fisher_samples": 12},
    "online-ewc": {"fisher_samples": 12},
    "mas": {"importance_samples": 12},
}
TINY_TEXT_RUN = {"batch_size": 16, "iterations": 6, "hidden": None}


def _texts(per_class: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for topic, words in TOPICS.items():
        own = words.split()
        for _ in range(per_class):
            sentence = rng.sample(own, 2) + rng.sample(SHARED, 3)
            rng.shuffle(sentence)
            texts.append(" ".join(sentence))
            labels.append(topic)
    return texts, labels


def tiny_bert(vocab_size: int):
    """A one-layer BERT (hidden 16, 2 heads) with lifelong's mean-pooling head; random weights."""
    from lifelong.models.hf import HFClassifier

    config = transformers.BertConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=MAX_LENGTH,
    )
    return HFClassifier(transformers.BertModel(config), num_outputs=len(TOPICS))


def text_scenario(setting: str):
    """4 topics in 2 tasks of 2, 24 training and 8 test sentences per topic (word-hash tokens)."""
    train, test = _texts(24, seed=0), _texts(8, seed=1)
    return scenario_from_texts(
        *train, test=test, max_length=MAX_LENGTH, classes_per_task=2, setting=setting
    )


def _checks(name: str):
    setting = "class" if "class" in list_strategies()[name].settings else "task"
    scenario = text_scenario(setting)
    vocab = scenario.dataset.vocab_size
    return contract_checks(
        name,
        params={**FAST_PARAMS.get(name, {}), **TEXT_PARAMS.get(name, {})},
        model=lambda: tiny_bert(vocab),
        scenario=scenario,
        **TINY_TEXT_RUN,
    )


def _cases():
    if transformers is None:  # collected as one skip/failure per strategy below
        return [pytest.param(name, None, id=name) for name in ON_A_TRANSFORMER]
    return [pytest.param(name, c, id=str(c)) for name in ON_A_TRANSFORMER for c in _checks(name)]


def _require_transformers() -> None:
    require(
        transformers is not None,
        "needs Hugging Face transformers: pip install -e '.[hf]'",
    )


@pytest.mark.parametrize(("name", "check"), _cases())
def test_contract_on_a_transformer(name, check, tmp_path):
    _require_transformers()
    check(tmp_path)


@pytest.mark.parametrize("name", sorted(NEEDS_AN_MLP | GENERATES_INPUTS))
def test_mlp_only_strategies_refuse_a_transformer(name, tmp_path):
    _require_transformers()
    setting = sorted(list_strategies()[name].settings)[-1]
    scenario = text_scenario(setting)
    vocab = scenario.dataset.vocab_size
    checks = contract_checks(
        name,
        params={**FAST_PARAMS.get(name, {}), **TEXT_PARAMS.get(name, {})},
        model=lambda: tiny_bert(vocab),
        scenario=scenario,
        **TINY_TEXT_RUN,
    )
    valid = next(c for c in checks if c.name == "valid-accuracy-matrix")
    with pytest.raises(LifelongError) as refused:
        valid(tmp_path)
    message = str(refused.value)
    assert name in message and "\n" not in message


# The seed's combinations: a strategy over a peft LoRA adapter (--lora-rank) on the same encoder.
UNDER_LORA = ["naive", "ewc", "er", "si"]


def _lora_cases():
    if transformers is None:
        return [pytest.param(name, None, id=f"lora-{name}") for name in UNDER_LORA]
    cases = []
    for name in UNDER_LORA:
        scenario = text_scenario("class")
        vocab = scenario.dataset.vocab_size
        for check in contract_checks(
            name,
            params={**FAST_PARAMS.get(name, {}), **TEXT_PARAMS.get(name, {})},
            model=lambda vocab=vocab: tiny_bert(vocab),
            scenario=scenario,
            lora_rank=2,
            **TINY_TEXT_RUN,
        ):
            cases.append(pytest.param(name, check, id=f"lora-{check}"))
    return cases


@pytest.mark.parametrize(("name", "check"), _lora_cases())
def test_contract_under_a_lora_adapter(name, check, tmp_path):
    _require_transformers()
    check(tmp_path)
