"""Text streams: WordNet parsing, tokenization into tensors, the split-wordnet scenario, token
replay, a LoRA adapter under any strategy, the per-sample Fisher loop, language-model metrics."""

from __future__ import annotations

import gzip
import math

import pytest
import torch
from torch import nn

import lifelong
from lifelong import metrics as M
from lifelong.components.buffer import make_buffer
from lifelong.components.fisher import diagonal_fisher
from lifelong.data.scenarios import build_scenario
from lifelong.data.text import (
    WORDNET_SUPERSENSES,
    WordHashTokenizer,
    load_wordnet_text,
    read_synsets,
    tokenize,
)
from lifelong.errors import ConfigError
from lifelong.models.adapters import add_lora
from lifelong.models.hf import BagOfWords, mean_pool
from tests.conftest import require_module

LINES = [
    "  1 This software and database is being provided to you\n",
    "02084071 05 n 02 dog 0 domestic_dog 0 001 @ 02083346 n 0000 | a member of the genus Canis\n",
    '07746186 13 n 01 mango 0 000 | large oval tropical fruit; "a ripe mango"  \n',
]


def test_read_synsets_parses_lexfile_words_and_gloss(tmp_path):
    path = tmp_path / "data.noun.gz"
    with gzip.open(path, "wt") as handle:
        handle.writelines(LINES)
    assert read_synsets(path) == [
        (5, "dog, domestic dog: a member of the genus Canis"),
        (13, 'mango: large oval tropical fruit; "a ripe mango"'),
    ]


def test_word_hash_tokenizer_pads_truncates_and_is_deterministic():
    tokens = tokenize(["The cat, the CAT!", "one two three four five"], WordHashTokenizer(), 4)
    assert tokens.shape == (2, 2, 4) and tokens.dtype == torch.long
    ids, mask = tokens[:, 0], tokens[:, 1]
    assert ids[0, 0] == 1 and ids[0, 1] == ids[0, 3] != ids[0, 2]  # 1, the, cat, the
    assert mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]
    short = tokenize(["cat"], WordHashTokenizer(), 4)
    assert short[0, 0].tolist() == [1, int(ids[0, 2]), 0, 0] and short[0, 1].tolist() == [
        1,
        1,
        0,
        0,
    ]
    with pytest.raises(ConfigError, match="max_length"):
        tokenize(["x"], WordHashTokenizer(), 1)


def test_wordnet_text_is_balanced_disjoint_seeded_and_labelled(wordnet_data):
    data = load_wordnet_text(wordnet_data, train_per_class=7, test_per_class=3, seed=1)
    assert data.train_x.shape == (70, 2, 32) and data.test_x.shape == (30, 2, 32)
    assert torch.bincount(data.train_y).tolist() == [7] * 10
    assert torch.bincount(data.test_y).tolist() == [3] * 10
    train_texts, test_texts = data.texts
    assert not set(train_texts) & set(test_texts)
    assert data.class_names == WORDNET_SUPERSENSES
    # every text is a noun synset of the supersense it is labelled with
    from lifelong.data.wordnet import LEXICOGRAPHER_FILES, wordnet_files

    by_text = {t: n for n, t in read_synsets(wordnet_files(wordnet_data, check=False).data["noun"])}
    for text, label in zip(train_texts, data.train_y.tolist(), strict=True):
        assert LEXICOGRAPHER_FILES[by_text[text]] == WORDNET_SUPERSENSES[label]
    again = load_wordnet_text(wordnet_data, train_per_class=7, test_per_class=3, seed=1)
    other = load_wordnet_text(wordnet_data, train_per_class=7, test_per_class=3, seed=2)
    assert again.texts == data.texts and other.texts != data.texts


def test_split_wordnet_scenario_serves_token_batches(wordnet_data):
    scenario = build_scenario(
        "split-wordnet", "task", data_root=wordnet_data, samples_per_class=6, max_length=16
    )
    assert scenario.num_tasks == 5 and scenario.input_shape == (2, 16)
    assert [t.dataset_classes for t in scenario] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    task = scenario[2]
    x, y = scenario.train_batch(torch.full((4,), 2), task.train_indices[:4])
    assert x.dtype == torch.long
    assert torch.equal(x, scenario.dataset.train_x[task.train_indices[:4]])
    assert set(y.tolist()) <= {4, 5}
    assert scenario.describe()["class_names"][:2] == ["noun.animal", "noun.plant"]


def test_replay_buffer_keeps_token_ids_exactly(wordnet_data):
    scenario = build_scenario("split-wordnet", data_root=wordnet_data, samples_per_class=4)
    buffer = make_buffer(8, scenario)
    idx = scenario[0].train_indices
    x, y = scenario.train_batch(torch.zeros(len(idx), dtype=torch.long), idx)
    buffer.add_reservoir(x, y, torch.zeros_like(y), torch.Generator().manual_seed(0))
    replay = buffer.get(torch.arange(len(buffer)))
    assert replay.x.dtype == torch.long and torch.equal(replay.x, x[: len(buffer)])
    with pytest.raises(ConfigError, match="token ids"):
        make_buffer(8, scenario, "float16")


@pytest.mark.parametrize(
    ("strategy", "params"), [("er", {"buffer_size": 20}), ("ewc", {"fisher_samples": 8})]
)
def test_bag_of_words_runs_on_split_wordnet(wordnet_data, strategy, params):
    config = lifelong.RunConfig.of(
        benchmark="split-wordnet",
        strategy=strategy,
        strategy_params=params,
        model="bow",
        samples_per_class=8,
        iterations=3,
        batch_size=8,
        data_root=str(wordnet_data),
        eval_every=0,
        seed=0,
    )
    result = lifelong.run(config, write=False)
    R = result.accuracy_matrix
    assert len(R) == 5 and all(0.0 <= a <= 1.0 for row in R for a in row)
    assert result.metrics["scenario"]["input_shape"] == [2, 32]
    assert lifelong.run(config, write=False).accuracy_matrix == R  # same seed, same numbers


def test_image_model_on_text_is_a_clear_error(wordnet_data):
    config = lifelong.RunConfig.of(
        benchmark="split-wordnet", model="mlp", data_root=str(wordnet_data), iterations=1
    )
    with pytest.raises(ConfigError, match="does not read text"):
        lifelong.run(config, write=False)


def test_lora_rank_freezes_the_base_and_trains_adapter_and_head():
    config = lifelong.RunConfig.of(
        benchmark="split-digits",
        strategy="ewc",
        strategy_params={"fisher_samples": 20},
        lora_rank=2,
        hidden=(16,),
        iterations=5,
        tasks=2,
        eval_every=0,
    )
    initial = lifelong.run(config.replace(iterations=1, lr=1e-12), write=False).model
    result = lifelong.run(config, write=False)
    names = {n for n, p in result.model.named_parameters() if p.requires_grad}
    assert names == {
        "body.1.lora_A.default.weight",
        "body.1.lora_B.default.weight",
        "head.weight",
        "head.bias",
    }
    before, after = initial.state_dict(), result.model.state_dict()
    assert torch.equal(before["body.1.base_layer.weight"], after["body.1.base_layer.weight"])
    assert after["body.1.lora_B.default.weight"].abs().sum() > 0  # B starts at zero
    assert set(result.strategy.penalty.names) == names  # EWC on the trainable parameters only
    counts = result.metrics["parameters"]
    assert counts["trainable"] == 2 * (64 + 16) + 16 * 10 + 10 < counts["total"]


def test_lora_rank_refuses_adapter_strategies_and_unknown_targets():
    base = lifelong.RunConfig.of(benchmark="split-digits", lora_rank=2, iterations=1, tasks=2)
    with pytest.raises(ConfigError, match="adds its own adapters"):
        lifelong.run(base.replace(strategy="lora", scenario="task"), write=False)
    with pytest.raises(ConfigError, match="no layer 'nope'"):
        lifelong.run(base.replace(lora_targets=["nope"]), write=False)
    with pytest.raises(ConfigError, match="output layer"):
        add_lora(nn.Sequential(nn.Linear(2, 2)), "0", rank=1, alpha=1.0, targets=["0"])


def test_fisher_loop_equals_vmap_on_a_text_model():
    torch.manual_seed(0)
    model = BagOfWords(50, 4, dim=6, hidden=5)
    x = torch.stack([torch.randint(0, 50, (7, 5)), torch.randint(0, 2, (7, 5))], 1)
    y = torch.randint(0, 4, (7,))
    mask = torch.ones(7, 4, dtype=torch.bool)
    mask[:, 3] = False
    for mode in ("exact", "empirical"):
        loop = diagonal_fisher(model, x, y, mask, mode, method="loop")
        vmap = diagonal_fisher(model, x, y, mask, mode, method="vmap")
        for name in vmap:
            torch.testing.assert_close(loop[name], vmap[name], rtol=1e-4, atol=1e-7)


def test_mean_pool_ignores_padding():
    states = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert mean_pool(states, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 3.0]]


def test_language_model_metrics_by_hand():
    L = [[2.0, 5.0, 6.0], [2.5, 1.0, 6.0], [3.0, 1.5, 0.5]]
    # domain 0: best before the end 2.0 -> final 3.0 (+1.0); domain 1: best 1.0 -> 1.5 (+0.5)
    assert M.loss_forgetting_per_task(L) == [1.0, 0.5]
    assert M.average_loss_forgetting(L) == 0.75
    assert M.average_loss(L) == pytest.approx(5.0 / 3)
    assert M.loss_backward_transfer(L) == pytest.approx(((2.0 - 3.0) + (1.0 - 1.5)) / 2)
    assert M.perplexity_matrix(L)[2][2] == pytest.approx(math.exp(0.5))
    summary = M.summarize_losses(L)
    assert summary["average_perplexity"] == pytest.approx(math.exp(5.0 / 3))
    assert M.average_loss_forgetting([[1.0]]) == 0.0


def test_own_texts_from_csv_and_jsonl_become_a_token_scenario(tmp_path):
    rows = [(f"a {kind} number {i} {kind}", kind) for i in range(10) for kind in "abcd"]
    (tmp_path / "t.csv").write_text(
        "text,label\n" + "".join(f"{t},{k}\n" for t, k in rows), encoding="utf-8"
    )
    import json

    (tmp_path / "t.jsonl").write_text(
        "".join(
            json.dumps({"body": t, "kind": k, "task": "abcd".index(k) // 2}) + "\n" for t, k in rows
        )
    )
    texts, labels, tasks = lifelong.read_texts(tmp_path / "t.csv")
    assert texts[:2] == ["a a number 0 a", "a b number 0 b"] and tasks is None
    scenario = lifelong.scenario_from_texts(texts, labels, num_tasks=2, max_length=8)
    assert scenario.dataset.class_names == ("a", "b", "c", "d")
    assert [t.dataset_classes for t in scenario] == [(0, 1), (2, 3)]
    assert scenario.input_shape == (2, 8) and scenario.dataset.train_x.dtype == torch.long
    held = len(scenario[0].eval_indices) + len(scenario[1].eval_indices)
    assert held == 8  # a stratified 20% of 40 texts
    # every training input is the tokenization of the text with that label
    tokens = tokenize(texts, WordHashTokenizer(), 8)
    for row, label in zip(scenario.dataset.train_x, scenario.dataset.train_y, strict=True):
        match = (tokens == row).flatten(1).all(1).nonzero().flatten().tolist()
        assert {labels[i] for i in match} == {"abcd"[int(label)]}
    texts, labels, tasks = lifelong.read_texts(
        tmp_path / "t.jsonl", text="body", label="kind", task="task"
    )
    by_task = lifelong.scenario_from_texts(texts, labels, task_labels=tasks, setting="task")
    config = lifelong.RunConfig.of(
        strategy="er", model="bow", iterations=2, batch_size=4, eval_every=0
    )
    assert len(lifelong.run(config, scenario=by_task, write=False).accuracy_matrix) == 2
    with pytest.raises(lifelong.LifelongError, match="no column 'txt'"):
        lifelong.read_texts(tmp_path / "t.csv", text="txt")


def test_own_texts_from_a_datasets_folder_by_column_names(tmp_path):
    datasets = require_module("datasets", "datasets")
    names = ["world", "sports", "business", "science"]
    features = datasets.Features(
        {
            "body": datasets.Value("string"),
            "topic": datasets.ClassLabel(names=names),
            "stage": datasets.Value("int64"),
        }
    )

    def split(n: int) -> dict:
        rows = [(f"{names[k]} story {i} {names[k]}", k) for i in range(n) for k in range(4)]
        return {
            "body": [t for t, _ in rows],
            "topic": [k for _, k in rows],
            "stage": [k // 2 for _, k in rows],
        }

    data = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(split(6), features=features),
            "test": datasets.Dataset.from_dict(split(2), features=features),
        }
    )
    data.save_to_disk(str(tmp_path / "news"))
    texts, labels, tasks = lifelong.read_texts(
        tmp_path / "news", text="body", label="topic", task="stage"
    )
    assert (texts[1], labels[1], tasks[1]) == ("sports story 0 sports", "sports", 0)
    assert len(texts) == 24 and tasks[-1] == 1
    test_texts, test_labels, test_tasks = lifelong.read_texts(
        tmp_path / "news", text="body", label="topic", task="stage", split="test"
    )
    assert len(test_texts) == 8 and test_labels[:4] == names
    scenario = lifelong.scenario_from_texts(
        texts,
        labels,
        task_labels=tasks,
        test=(test_texts, test_labels),
        test_task_labels=test_tasks,
        class_names=names,
        max_length=8,
    )
    assert [t.dataset_classes for t in scenario] == [(0, 1), (2, 3)]
    assert [len(t.eval_indices) for t in scenario] == [4, 4]
    # a single Dataset (no splits), integer labels kept as integers
    plain = datasets.Dataset.from_dict({"text": ["a b", "c d", "e f"], "label": [0, 1, 1]})
    plain.save_to_disk(str(tmp_path / "plain"))
    assert lifelong.read_texts(tmp_path / "plain") == (["a b", "c d", "e f"], [0, 1, 1], None)
    for kwargs, message in [
        ({}, "no column 'text'; columns: body, topic, stage"),
        ({"text": "body", "split": "validation"}, "no split 'validation'; splits: train, test"),
    ]:
        with pytest.raises(lifelong.LifelongError, match=message):
            lifelong.read_texts(tmp_path / "news", **kwargs)
    with pytest.raises(lifelong.LifelongError, match="without splits; drop split='test'"):
        lifelong.read_texts(tmp_path / "plain", split="test")
    (tmp_path / "empty").mkdir()
    with pytest.raises(lifelong.LifelongError, match="not a Hugging Face datasets folder"):
        lifelong.read_texts(tmp_path / "empty")


def test_freeze_stops_training_the_named_modules():
    config = lifelong.RunConfig.of(
        benchmark="split-digits", hidden=(16,), iterations=3, tasks=2, eval_every=0, freeze=["body"]
    )
    first = lifelong.run(config.replace(iterations=1), write=False).model.state_dict()
    result = lifelong.run(config, write=False)
    after = result.model.state_dict()
    assert torch.equal(first["body.1.weight"], after["body.1.weight"])  # frozen from the start
    assert not torch.equal(first["head.weight"], after["head.weight"])
    assert result.metrics["parameters"]["trainable"] == 16 * 10 + 10
    with pytest.raises(ConfigError, match="no module 'nope'"):
        lifelong.run(config.replace(freeze=["nope"]), write=False)
    with pytest.raises(ConfigError, match="holds the output layer"):
        lifelong.run(config.replace(freeze=["head"]), write=False)


@pytest.mark.parametrize("strategy", ["generative-replay", "pseudo-rehearsal"])
def test_strategies_that_generate_inputs_refuse_text(wordnet_data, strategy):
    config = lifelong.RunConfig.of(
        benchmark="split-wordnet",
        strategy=strategy,
        model="bow",
        samples_per_class=2,
        iterations=1,
        data_root=str(wordnet_data),
    )
    with pytest.raises(ConfigError, match="text"):
        lifelong.run(config, write=False)


def _text_contract_checks() -> list:
    from lifelong.data.wordnet import FILES, FOLDER
    from lifelong.testing import contract_checks
    from tests.conftest import SHARED_DATA, find_data

    root = find_data({FOLDER: FILES}) or SHARED_DATA  # missing data: the fixture skips or fails

    checks = contract_checks(
        "er",
        params={"buffer_size": 12, "replay_batch_size": 4},
        model=lambda: BagOfWords(16384, 10, dim=8, hidden=8),  # the word-hash vocabulary
        benchmark="split-wordnet",
        samples_per_class=4,
        iterations=3,
        batch_size=4,
        lora_rank=2,
        data_root=str(root),
    )
    return [c for c in checks if c.name != "valid-accuracy-matrix"]  # bow runs are checked above


@pytest.mark.parametrize("check", _text_contract_checks(), ids=str)
def test_lora_replay_on_text_keeps_the_strategy_contract(check, wordnet_data, tmp_path):
    """LoRA + replay on token inputs (class-incremental): deterministic, checkpoints round trip, a
    run resumed mid-task ends identical, training batches are not edited in place."""
    check(tmp_path)
