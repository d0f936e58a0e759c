"""Architecture strategies: zero forgetting (Progressive, PackNet, LoRA per task), PackNet's masks,
DEN's expansion rule, LoRA adapter routing / frozen base / save-load."""

from __future__ import annotations

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.core.events import Observer
from lifelong.core.learner import Learner
from lifelong.core.runner import build_strategy, resolve
from lifelong.data.scenarios import build_scenario


def config(strategy: str, **changes) -> RunConfig:
    base = dict(
        benchmark="split-digits",
        setting="task",
        strategy=strategy,
        tasks=5,
        iterations=30,
        batch_size=32,
        hidden=(32, 32),
        eval_every=0,
        seed=0,
        threads=1,
    )
    base.update(changes)
    return resolve(RunConfig.of(**base))


class Snapshots(Observer):
    """After every task: the strategy's scores on 100 evaluation samples of every task."""

    def __init__(self, strategy, scenario) -> None:
        self.strategy, self.scenario, self.after = strategy, scenario, []
        self.batches = [scenario.eval_batch(t.index, t.eval_indices[:100])[0] for t in scenario]

    def task_done(self, task, accuracies) -> None:
        self.strategy.eval()
        with torch.no_grad():
            self.after.append(
                [
                    self.strategy.predict(x, torch.full((len(x),), j))
                    for j, x in enumerate(self.batches)
                ]
            )
        self.strategy.train()


def train(cfg: RunConfig, *, spy: type[Observer] = Snapshots):
    scenario = build_scenario(
        cfg.data.benchmark,
        cfg.data.setting,
        num_tasks=cfg.data.tasks,
        seed=cfg.resolved_scenario_seed,
    )
    strategy = build_strategy(cfg, scenario, torch.device("cpu"))
    observer = spy(strategy, scenario)
    Learner.from_config(strategy, cfg, observers=[observer]).fit()
    return strategy, scenario, observer


@pytest.mark.parametrize("name", ["progressive", "packnet", "lora"])
def test_earlier_tasks_predictions_are_bit_identical_after_later_training(name):
    strategy, _, snaps = train(config(name))
    for j in range(4):
        for later in range(j + 1, 5):
            assert torch.equal(snaps.after[later][j], snaps.after[j][j]), (j, later)
    naive_strategy, _, naive = train(config("naive"))  # the check can fail: naive drifts
    assert not torch.equal(naive.after[4][0], naive.after[0][0])


def test_packnet_masks_are_disjoint_cover_the_pruned_fractions_and_frozen_weights_never_move():
    class Watch(Snapshots):
        def __init__(self, strategy, scenario) -> None:
            super().__init__(strategy, scenario)
            self.owners, self.weights = [], []

        def task_done(self, task, accuracies) -> None:
            layers = self.strategy._layers()
            self.owners.append([o.clone() for _, o, _ in layers])
            self.weights.append([w.detach().clone() for w, _, _ in layers])

    cfg = config("packnet", strategy_params={"prune_fraction": 0.6})
    strategy, _, watch = train(cfg, spy=Watch)
    for t in range(5):
        for layer, owner in enumerate(watch.owners[t]):
            free_before = (watch.owners[t - 1][layer] == 0).sum() if t else owner.numel()
            assert int((owner == t + 1).sum()) == round(0.4 * int(free_before))
            # ownership once given is never changed (disjoint masks, one owner per weight)
            for later in range(t, 5):
                owned = owner > 0
                assert torch.equal(watch.owners[later][layer][owned], owner[owned])
                assert torch.equal(
                    watch.weights[later][layer][owned], watch.weights[t][layer][owned]
                )
    per_task = strategy.extra_metrics()["weights_per_task"]
    assert per_task[0] > per_task[1] > per_task[4] > 0


def test_packnet_prunes_only_the_trunk_and_each_task_owns_its_output_units():
    class Heads(Snapshots):
        def __init__(self, strategy, scenario) -> None:
            super().__init__(strategy, scenario)
            self.heads = [self.head()]  # before training

        def head(self) -> tuple[torch.Tensor, torch.Tensor]:
            head = self.strategy.model.head
            return head.weight.detach().clone(), head.bias.detach().clone()

        def task_done(self, task, accuracies) -> None:
            self.heads.append(self.head())

    strategy, scenario, watch = train(config("packnet"), spy=Heads)
    assert not any(n.startswith("head.") for n in strategy.pruned)
    for t, task in enumerate(scenario):
        units = list(task.classes)
        rows = [(w[units], b[units]) for w, b in watch.heads]  # after 0, 1, ..., 5 tasks
        # untouched (not pruned, not trained) before task t, trained during it, fixed after it
        for w, b in rows[: t + 1]:
            assert torch.equal(w, rows[0][0]) and torch.equal(b, rows[0][1]), t
        (w, b), (w_before, b_before) = rows[t + 1], rows[t]
        assert (w != w_before).any(1).all() and (b != b_before).all(), t  # every unit trains
        for w, b in rows[t + 1 :]:
            assert torch.equal(w, rows[t + 1][0]) and torch.equal(b, rows[t + 1][1]), t


def test_den_expands_only_above_its_loss_threshold_and_reports_units():
    never = run(config("den", strategy_params={"loss_threshold": 1e9}), write=False)
    always = run(
        config(
            "den",
            strategy_params={
                "loss_threshold": 0.0,
                "expand_units": 3,
                "group_l1": 0.0,
                "split_threshold": 1e9,
            },
        ),
        write=False,
    )
    assert never.metrics["strategy_metrics"]["added"] == [0, 0, 0, 0]
    assert never.metrics["strategy_metrics"]["hidden_units"] == [32, 32]
    record = always.metrics["strategy_metrics"]
    losses = record["loss_before_expansion"]
    assert all(loss > 0 for loss in losses) and record["added"] == [6, 6, 6, 6]
    model = always.strategy.model
    assert [w.shape[0] for w in model.weights[:-1]] == record["hidden_units"]
    assert record["hidden_units"] == [32 + 4 * 3] * 2 and record["dropped"] == [0] * 4
    assert record["units"][-1] == record["hidden_units"]
    grown = always.metrics["parameters_per_task"]
    assert (
        grown[-1]["total"] > grown[0]["total"] == never.metrics["parameters_per_task"][-1]["total"]
    )


def test_den_split_duplicates_drifted_units_and_restores_the_originals():
    params = {"split_threshold": 0.0, "loss_threshold": 1e9, "max_split": 0}  # no limit
    result = run(config("den", strategy_params=params), write=False)
    record = result.metrics["strategy_metrics"]
    assert all(s > 0 for s in record["split"]) and record["added"] == [0] * 4
    assert sum(record["hidden_units"]) == 64 + sum(record["split"])  # originals stay, plus copies
    R = result.accuracy_matrix  # every drifted unit went back to its old weights: no forgetting
    assert all(R[i][j] == R[j][j] for j in range(5) for i in range(j, 5))


def test_den_splits_at_most_max_split_units_per_layer_and_task():
    params = {"split_threshold": 0.0, "loss_threshold": 1e9, "max_split": 2}
    record = run(config("den", strategy_params=params), write=False).metrics["strategy_metrics"]
    assert record["split"] == [2 * 2] * 4  # every unit drifted; two per hidden layer split
    assert record["hidden_units"] == [32 + 4 * 2] * 2


def test_lora_switching_task_id_switches_outputs_and_base_never_changes_after_task_0(tmp_path):
    class Base(Snapshots):
        def task_done(self, task, accuracies) -> None:
            super().task_done(task, accuracies)
            base = self.strategy.model
            base = base.get_base_model() if hasattr(base, "get_base_model") else base
            self.base = getattr(self, "base", []) + [
                {k: v.clone() for k, v in base.state_dict().items() if "lora" not in k}
            ]

    strategy, scenario, snaps = train(config("lora", strategy_params={"rank": 2}), spy=Base)
    first = {k.replace(".base_layer", ""): v for k, v in snaps.base[1].items()}
    assert set(first) == set(snaps.base[0])
    for later in snaps.base[1:]:
        assert all(torch.equal(v, later[k]) for k, v in snaps.base[1].items())
    assert all(torch.equal(v, first[k]) for k, v in snaps.base[0].items())
    x = snaps.batches[0]
    strategy.eval()
    with torch.no_grad():
        outputs = [strategy(x, torch.full((len(x),), t)) for t in range(5)]
        mixed = strategy(x[:6], torch.tensor([0, 1, 2, 3, 4, 0]))
    assert all(not torch.equal(outputs[0], outputs[t]) for t in range(1, 5))
    assert torch.allclose(mixed[1], outputs[1][1]) and torch.allclose(mixed[4], outputs[4][4])
    # saving and loading the adapters restores the same predictions in a fresh strategy
    names = strategy.save_adapters(tmp_path / "adapters")
    assert names == [f"task_{t}" for t in range(1, 5)]
    cfg = config("lora", strategy_params={"rank": 2})
    fresh = build_strategy(cfg, scenario, torch.device("cpu"))
    base = {
        k: v for k, v in strategy.model.get_base_model().state_dict().items() if "lora" not in k
    }
    fresh.before_task(scenario[1])
    fresh.model.get_base_model().load_state_dict(base, strict=False)
    fresh.load_adapters(tmp_path / "adapters")
    fresh.context.tasks_seen = 5
    fresh.eval()
    with torch.no_grad():
        for t in range(5):
            assert torch.equal(fresh(x, torch.full((len(x),), t)), outputs[t])


def test_lora_continual_trains_few_parameters_and_forgets_less_than_full_fine_tuning():
    cfg = dict(
        benchmark="permuted-digits",
        setting="domain",
        tasks=2,
        iterations=150,
        hidden=(64, 64),
        batch_size=64,
    )
    full = run(config("naive", **cfg), write=False).metrics
    lora = run(config("lora-continual", strategy_params={"rank": 2}, **cfg), write=False).metrics
    assert full["accuracy_matrix"][0] == lora["accuracy_matrix"][0]  # same base after task 0
    assert (
        lora["parameters_per_task"][1]["trainable"]
        < full["parameters_per_task"][1]["trainable"] / 10
    )
    assert lora["average_forgetting"] < full["average_forgetting"]


def test_progressive_reports_one_column_per_task_and_rejects_other_models():
    result = run(config("progressive"), write=False)
    counts = result.metrics["parameters_per_task"]
    assert [c["columns"] for c in counts] == [1, 2, 3, 4, 5]
    assert all(a["total"] < b["total"] for a, b in zip(counts, counts[1:], strict=False))
    newest = result.strategy.model.columns[-1]  # only the newest column (with its adapters) trains
    assert counts[-1]["trainable"] == sum(p.numel() for p in newest.parameters())
    from lifelong.errors import ConfigError

    with pytest.raises(ConfigError, match="mlp"):
        run(config("progressive", model="cnn"), write=False)
