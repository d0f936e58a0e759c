"""Language-modelling streams through the library's loop: text domains, next-token loss, a loss
matrix (lower is better), the strategies that support it, results, reports and identities."""

from __future__ import annotations

import json

import pytest
import torch

from lifelong import metrics as M
from lifelong.core.config import RunConfig
from lifelong.core.evaluation import task_losses
from lifelong.core.results import load_metrics
from lifelong.core.runner import resolve, run
from lifelong.data.scenarios import build_scenario
from lifelong.errors import ConfigError, LifelongError, UnsupportedSettingError
from tests.conftest import require_module

require_module("transformers", "hf", module_level=True)

LM_STRATEGIES = ("naive", "joint", "cumulative", "er", "ewc", "online-ewc", "si", "mas", "lwf")
SMALL_PARAMS = {
    "er": {"buffer_size": 8},
    "ewc": {"fisher_samples": 4},
    "online-ewc": {"fisher_samples": 4},
    "mas": {"importance_samples": 4},
}


def tiny(root, **changes) -> RunConfig:
    """Two WordNet domains, a one-layer GPT-2 of width 16, three iterations per domain."""
    values = dict(
        benchmark="wordnet-domains",
        model="gpt-tiny",
        hidden=[16, 1],
        max_length=12,
        samples_per_class=8,
        first_tasks=2,
        iterations=3,
        batch_size=8,
        data_root=str(root),
        plot=False,
    )
    return resolve(RunConfig.of(**{**values, **changes}))


def test_wordnet_domains_are_balanced_text_domains(wordnet_data):
    scenario = build_scenario(
        "wordnet-domains", data_root=wordnet_data, model="gpt-tiny", samples_per_class=10
    )
    assert scenario.objective == "lm" and scenario.setting == "domain"
    assert scenario.num_tasks == 5 and scenario.dataset.vocab_size == 4096
    described = scenario.describe()
    assert described["objective"] == "lm"
    assert described["train_sizes"] == [20] * 5 and described["eval_sizes"] == [40] * 5
    assert [scenario.dataset.class_names[c] for c in scenario[0].dataset_classes] == [
        "noun.animal",
        "noun.plant",
    ]
    x = scenario.dataset.train_x
    assert x.dtype == torch.long and x.shape[1:] == (2, 32)
    assert bool((x[:, 0, 0] == 1).all())  # every text starts with the start id
    with pytest.raises(ConfigError, match="no class-incremental setting"):
        build_scenario("wordnet-domains", "class", data_root=wordnet_data, samples_per_class=10)


def test_models_match_the_objective(wordnet_data):
    with pytest.raises(LifelongError, match="needs a causal language model, not bow"):
        run(tiny(wordnet_data, model="bow"), write=False)
    with pytest.raises(ConfigError, match="gpt-tiny model is a language model"):
        run(
            resolve(
                RunConfig.of(
                    benchmark="split-wordnet",
                    model="gpt-tiny",
                    iterations=1,
                    data_root=str(wordnet_data),
                    samples_per_class=4,
                )
            ),
            write=False,
        )


def test_the_matrix_below_covers_every_strategy_that_declares_lm():
    from lifelong import list_strategies

    declared = {name for name, cls in list_strategies().items() if "lm" in cls.objectives}
    assert declared == set(LM_STRATEGIES)


@pytest.mark.parametrize("strategy", LM_STRATEGIES)
def test_every_lm_strategy_fills_a_loss_matrix(wordnet_data, strategy):
    config = tiny(wordnet_data, strategy=strategy, strategy_params=SMALL_PARAMS.get(strategy, {}))
    result = run(config, write=False)
    L = result.loss_matrix
    assert len(L) == 2 and all(len(row) == 2 for row in L)
    assert all(0 < v < 12 for row in L for v in row)  # nats per token; ln(4096) = 8.3 untrained
    m = result.metrics
    assert m["objective"] == "lm" and "lower is better" in m["direction"]
    assert "accuracy_matrix" not in m and len(m["initial_loss"]) == 2
    assert m["perplexity_matrix"][1][0] == pytest.approx(torch.tensor(L[1][0]).exp().item())
    assert m["average_loss_forgetting"] == pytest.approx(M.average_loss_forgetting(L))
    assert m["curve"]["loss"][-1] == L[-1]
    with pytest.raises(LifelongError, match="no accuracy matrix"):
        _ = result.accuracy_matrix


def test_same_seed_gives_the_same_loss_matrix(wordnet_data):
    config = tiny(wordnet_data, strategy="ewc", strategy_params={"fisher_samples": 4})
    assert run(config, write=False).loss_matrix == run(config, write=False).loss_matrix


@pytest.mark.parametrize("strategy", ["naive", "ewc"])
def test_lora_on_a_causal_lm_trains_only_the_adapter(wordnet_data, strategy):
    params = {"fisher_samples": 4, "fisher_mode": "empirical"} if strategy == "ewc" else {}
    with pytest.warns(UserWarning, match="fan_in_fan_out"):
        result = run(
            tiny(wordnet_data, strategy=strategy, strategy_params=params, lora_rank=2),
            write=False,
        )
    trainable = [n for n, p in result.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)  # the tied vocabulary stays frozen
    assert result.metrics["parameters"]["trainable"] == 128  # 1 layer: c_attn 16 -> 48, rank 2
    assert result.loss_matrix[1] != result.metrics["initial_loss"]


@pytest.mark.parametrize("strategy", ["icarl", "gem", "agem", "der", "packnet", "lora"])
def test_strategies_that_need_labels_refuse_an_lm_stream(wordnet_data, strategy):
    with pytest.raises(UnsupportedSettingError) as err:
        run(tiny(wordnet_data, strategy=strategy), write=False)
    message = str(err.value)
    assert f"strategy '{strategy}' cannot train on a language-modelling stream" in message
    assert "naive" in message and "ewc" in message and "er," in message
    assert "\n" not in message


def test_online_lm_streams_are_refused(wordnet_data):
    with pytest.raises(ConfigError, match="online streams"):
        run(tiny(wordnet_data, iterations=None, online=True), write=False)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_task_losses_are_mean_text_losses(batch_size):
    """Hand-computed: a 'model' whose loss of a text is its number of tokens (start id + words)."""
    from lifelong.data.custom_text import scenario_from_text_domains

    scenario = scenario_from_text_domains(
        ["a", "b"], ["x", "y"], test=(["a", "a b c", "a b", "a b c d e"], ["x", "x", "y", "y"])
    )
    sets = [t.eval_indices for t in scenario]
    losses = task_losses(lambda x: x[:, 1].sum(1).float(), scenario, [0, 1], sets, batch_size)
    assert losses == [pytest.approx((2 + 4) / 2), pytest.approx((3 + 6) / 2)]


def test_text_fisher_empirical_is_the_squared_gradient_of_each_text_loss():
    """Brute force: one backward pass per text of its own next-token loss."""
    from lifelong.components.fisher import text_fisher
    from lifelong.models.hf import tiny_gpt

    torch.manual_seed(0)
    model = tiny_gpt(50, 6, width=8, layers=1)
    ids = torch.randint(2, 50, (3, 6))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    x = torch.stack([ids * mask, mask], 1)
    fisher = text_fisher(model, x, "empirical")
    expected = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(3):
        model.zero_grad()
        model.token_loss(x[i : i + 1]).sum().backward()
        for n, p in model.named_parameters():
            expected[n] += p.grad**2 / 3
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-9)


def test_text_fisher_predicted_uses_the_most_probable_next_tokens():
    """fisher_mode=predicted (van de Ven & Tolias's label choice) on text: the gradient of the
    log-probability of the model's most probable token at each position, given the true prefix."""
    from lifelong.components.fisher import text_fisher
    from lifelong.models.hf import tiny_gpt

    torch.manual_seed(1)
    model = tiny_gpt(40, 5, width=8, layers=1)
    ids = torch.randint(2, 40, (2, 5))
    x = torch.stack([ids, torch.ones_like(ids)], 1)
    fisher = text_fisher(model, x, "predicted")
    with torch.no_grad():
        best = model(x)[:, :-1].argmax(-1)
    expected = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(2):
        model.zero_grad()
        log_probs = torch.log_softmax(model(x[i : i + 1])[0, :-1], -1)
        log_probs.gather(1, best[i].unsqueeze(1)).mean().backward()
        for n, p in model.named_parameters():
            expected[n] += p.grad**2 / 2
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-9)


def test_replay_and_ewc_forget_less_than_naive_on_wordnet_glosses(wordnet_data):
    """Animal/plant glosses, then food/artifact glosses: the rise of the first domain's test
    loss is at least halved by EWC (empirical Fisher of the LM loss) and by replay."""
    common = dict(
        hidden=[32, 1],
        max_length=16,
        samples_per_class=24,
        iterations=40,
        batch_size=16,
        lr=4e-3,
        eval_every=0,
    )
    forgetting = {}
    for strategy, params in (
        ("naive", {}),
        ("ewc", {"fisher_samples": 32, "fisher_mode": "empirical", "strength": 100.0}),
        ("er", {"buffer_size": 32, "replay_batch_size": 16}),
    ):
        config = tiny(wordnet_data, strategy=strategy, strategy_params=params, **common)
        forgetting[strategy] = run(config, write=False).metrics["average_loss_forgetting"]
    assert forgetting["naive"] > 0.1
    assert forgetting["ewc"] < forgetting["naive"] / 2
    assert forgetting["er"] < forgetting["naive"] / 2


def test_lm_results_on_disk_reports_and_comparisons(wordnet_data, tmp_path):
    from lifelong.report.build import collect, write_comparison_report, write_run_report

    folders = {}
    for strategy in ("naive", "er"):
        folders[strategy] = tmp_path / strategy
        params = {"buffer_size": 8} if strategy == "er" else {}
        config = tiny(wordnet_data, strategy=strategy, strategy_params=params, plot=True)
        result = run(config.replace(out=str(folders[strategy])), write=True)
    out = folders["er"]
    assert (out / "loss_matrix.csv").read_text().splitlines()[0] == "trained_on,task_0,task_1"
    assert not (out / "accuracy_matrix.csv").exists() and (out / "curves.png").is_file()
    kinds = {line.split(",")[0] for line in (out / "log.csv").read_text().splitlines()[1:]}
    assert kinds == {"loss", "test_loss"}
    loaded = load_metrics(out)
    assert loaded["loss_matrix"] == result.loss_matrix
    write_run_report(out, loaded)
    page = (out / "report.html").read_text()
    assert "Loss matrix" in page and "lower is better" in page and (out / "heatmap.png").is_file()

    entries = write_comparison_report(collect(list(folders.values())), tmp_path / "cmp")
    losses = [e.stats["average_loss"].mean for e in entries]
    assert losses == sorted(losses)  # ranked by the lowest average loss
    board = (tmp_path / "cmp" / "leaderboard.md").read_text()
    assert "avg loss" in board and "loss forgetting" in board and "lower is better" in board
    assert "avg accuracy" not in board and (tmp_path / "cmp" / "heatmaps.png").is_file()

    classification = tmp_path / "classifier"
    run(
        resolve(
            RunConfig.of(
                benchmark="split-digits", iterations=1, out=str(classification), plot=False
            )
        )
    )
    with pytest.raises(LifelongError, match="cannot compare language-modelling runs"):
        collect([out, classification])
    broken = dict(loaded)
    del broken["average_loss"]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text(json.dumps(broken))
    with pytest.raises(LifelongError, match="missing 'average_loss'"):
        load_metrics(tmp_path / "broken")


def test_text_domains_from_a_csv_file(tmp_path):
    import lifelong

    path = tmp_path / "notes.csv"
    rows = ["text,domain"] + [f"cats purr {i},pets" for i in range(6)]
    rows += [f"stocks fell {i},news" for i in range(6)]
    path.write_text("\n".join(rows) + "\n")
    texts, domains, _ = lifelong.read_texts(path, text="text", label="domain")
    scenario = lifelong.scenario_from_text_domains(texts, domains, test_fraction=0.5)
    assert scenario.objective == "lm" and scenario.num_tasks == 2
    assert scenario.dataset.class_names == ("pets", "news")  # order of first appearance
    assert scenario.describe()["eval_sizes"] == [3, 3]
    result = lifelong.run(
        RunConfig.of(model="gpt-tiny", hidden=[8, 1], strategy="naive", iterations=2, batch_size=4),
        scenario=scenario,
        write=False,
    )
    assert len(result.loss_matrix) == 2
    with pytest.raises(ConfigError, match="text domains are the tasks"):
        lifelong.scenario_from_text_domains(texts, domains, num_tasks=1)


def test_lm_fingerprint_differs_from_the_same_texts_classified():
    from lifelong.data.custom_text import scenario_from_text_domains, scenario_from_texts

    texts, domains = ["a b", "c d", "e f", "g h"], ["x", "x", "y", "y"]
    lm = scenario_from_text_domains(texts, domains, test_fraction=0.5)
    classified = scenario_from_texts(
        texts,
        domains,
        test_fraction=0.5,
        model="gpt-tiny",
        setting="domain",
        classes_per_task=1,
        class_names=["x", "y"],
        name="text-domains",
    )
    assert lm._copy(objective="classify").fingerprint() == classified.fingerprint()
    assert lm.fingerprint() != classified.fingerprint()


def test_hf_path_loads_a_causal_lm_and_its_padless_tokenizer(wordnet_data, tmp_path):
    """``--model hf:PATH`` on a language-modelling stream: AutoModelForCausalLM and its tokenizer
    (a GPT-2-like one without a padding token pads with end-of-text), from a local folder."""
    import tokenizers
    import transformers

    from lifelong.models.hf import HFCausalLM

    words = ["<unk>", "<s>"] + [
        "a",
        "the",
        "of",
        "and",
        "animal",
        "plant",
        "food",
        "large",
        "small",
    ]
    tokenizer = tokenizers.Tokenizer(
        tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>")
    )
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="<s>"
    )
    assert fast.pad_token is None
    fast.save_pretrained(tmp_path)
    config = transformers.GPT2Config(
        vocab_size=len(words), n_positions=16, n_embd=8, n_layer=1, n_head=2, eos_token_id=1
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path)
    result = run(
        tiny(wordnet_data, model=f"hf:{tmp_path}", hidden=None, max_length=16), write=False
    )
    assert isinstance(result.model, HFCausalLM)
    assert type(result.model.lm).__name__ == "GPT2LMHeadModel"
    assert result.strategy.context.scenario.dataset.vocab_size == len(words)
    assert len(result.loss_matrix) == 2


def test_text_benchmarks_default_to_a_model_that_reads_them(wordnet_data):
    """`lifelong run -b NAME` with no model: each text benchmark takes its own (the generic mlp
    cannot read token ids), and its own budget; an explicit mlp is still a clear error."""
    domains = resolve(RunConfig.of(benchmark="wordnet-domains", data_root=str(wordnet_data)))
    assert (domains.model.name, domains.model.hidden, domains.training.epochs) == (
        "gpt-tiny",
        (64, 2),
        5,
    )
    words = resolve(RunConfig.of(benchmark="split-wordnet", data_root=str(wordnet_data)))
    assert (words.model.name, words.model.hidden, words.training.epochs) == ("bow", (64,), 20)
    images = resolve(RunConfig.of(benchmark="split-digits"))
    assert (images.model.name, images.training.epochs) == ("mlp", 40)
    assert resolve(RunConfig.of(benchmark="split-mnist")).training.epochs == 1
    result = run(
        resolve(
            RunConfig.of(
                benchmark="wordnet-domains",
                data_root=str(wordnet_data),
                samples_per_class=4,
                first_tasks=2,
                iterations=2,
                max_length=12,
            )
        ),
        write=False,
    )
    assert len(result.loss_matrix) == 2
    explicit = RunConfig.of(benchmark="split-wordnet", model="mlp", data_root=str(wordnet_data))
    with pytest.raises(ConfigError, match="does not read text"):
        run(resolve(explicit.replace(iterations=1)), write=False)


def test_compare_names_a_language_modelling_stream(wordnet_data, tmp_path, capsys):
    from lifelong.cli import main

    args = ["compare", "--benchmark", "wordnet-domains", "--strategies", "naive", "--seeds", "0"]
    args += ["--first-tasks", "2"]
    args += ["--iterations", "2", "--samples-per-class", "4", "--max-length", "12", "--jobs", "1"]
    args += ["--data-root", str(wordnet_data), "--out", str(tmp_path / "cmp"), "--threads", "1"]
    assert main(args) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "(language modelling, a domain per task)" in header and "incremental" not in header
