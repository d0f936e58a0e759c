"""Users' own networks: output layer, resizing, features, copies, resume, and strategies that need
more than an output layer."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from lifelong import LifelongError, RunConfig, UserModel, evaluate, resume_run, run
from lifelong.errors import ConfigError
from lifelong.models import MLP
from lifelong.models.user import find_output_layer, fit_output_layer, penultimate
from lifelong.testing import contract_checks


class TinyCNN(nn.Module):
    """A user CNN for 8x8 digits: conv -> pool -> a two-layer classifier named ``classifier``."""

    def __init__(self, outputs: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.conv(x))


class TwoHeads(nn.Module):
    """The output layer is not the last Linear registered: it must be named."""

    def __init__(self) -> None:
        super().__init__()
        self.out = nn.Linear(8, 10)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU())
        self.auxiliary = nn.Linear(8, 3)  # registered last, not used for the logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


def tiny(**changes) -> RunConfig:
    values = dict(
        benchmark="split-digits",
        setting="class",
        iterations=15,
        batch_size=32,
        eval_every=0,
        seed=0,
        tasks=5,
        threads=1,
    )
    values.update(changes)
    return RunConfig.of(**values)


# ------------------------------------------------------------------------------ the output layer
def test_output_layer_is_the_last_linear_or_the_named_one():
    assert find_output_layer(TinyCNN()) == "classifier.3"
    assert find_output_layer(TwoHeads()) == "auxiliary"
    assert find_output_layer(TwoHeads(), "out") == "out"
    with pytest.raises(ConfigError, match="no layer 'head'"):
        find_output_layer(TwoHeads(), "head")
    with pytest.raises(ConfigError, match="'body' of model TwoHeads is a Sequential"):
        find_output_layer(TwoHeads(), "body")
    with pytest.raises(ConfigError, match="has no nn.Linear layer"):
        find_output_layer(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()))


def test_a_wrong_number_of_outputs_is_replaced_with_a_warning():
    net = TinyCNN(outputs=7)
    kept = net.classifier[1].weight.detach().clone()
    with pytest.warns(UserWarning, match=r"'classifier.3'.*7 outputs.*2 output units"):
        fit_output_layer(net, "classifier.3", 2)
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 2)
    assert torch.equal(net.classifier[1].weight, kept)  # only the output layer is new
    same = TinyCNN()
    layer = same.classifier[3]
    fit_output_layer(same, "classifier.3", 10)
    assert same.classifier[3] is layer


def test_features_are_the_input_of_the_output_layer():
    torch.manual_seed(0)
    net = TinyCNN().eval()
    x = torch.rand(5, 1, 8, 8)
    expected = net.classifier[2](net.classifier[1](net.classifier[0](net.conv(x))))
    assert torch.equal(penultimate(net, "classifier.3", x), expected)


# ------------------------------------------------------------------------------ runs
def test_a_module_is_copied_never_trained_in_place_and_recorded_in_the_config(tmp_path):
    net = TinyCNN()
    initial = copy.deepcopy(net.state_dict())
    result = run(tiny(strategy="naive", out=str(tmp_path / "r")), model=net)
    assert all(torch.equal(initial[k], v) for k, v in net.state_dict().items())
    assert isinstance(result.model, TinyCNN) and result.model is not net
    assert not torch.equal(result.model.conv[0].weight.cpu(), net.conv[0].weight)
    config = result.metrics["config"]
    assert config["model"] == "user:TinyCNN" and config["hidden"] is None
    again = run(tiny(strategy="naive"), model=net, write=False)  # same initial weights
    assert again.accuracy_matrix == result.accuracy_matrix


def test_a_factory_is_called_after_seeding_so_runs_repeat():
    first = run(tiny(strategy="naive"), model=TinyCNN, write=False)
    second = run(tiny(strategy="naive"), model=lambda: TinyCNN(), write=False)
    other_seed = run(tiny(strategy="naive", seed=1), model=TinyCNN, write=False)
    assert first.accuracy_matrix == second.accuracy_matrix
    assert first.model.conv[0].weight.tolist() == second.model.conv[0].weight.tolist()
    assert first.model.conv[0].weight.tolist() != other_seed.model.conv[0].weight.tolist()


def test_a_named_output_layer_is_used():
    result = run(
        tiny(strategy="icarl", strategy_params={"buffer_size": 40}),
        model=UserModel(TwoHeads, output_layer="out"),
        write=False,
    )
    assert result.strategy.context.output_layer == "out"
    assert result.strategy.class_means.shape == (10, 8)  # features: the input of "out"
    assert result.metrics["average_accuracy"] > 0.3  # nearest-mean on learned features


def test_resuming_a_user_model_run_needs_the_model_never_a_default(tmp_path):
    out = tmp_path / "r"
    run(tiny(strategy="lwf", out=str(out)), model=TinyCNN)
    with pytest.raises(LifelongError, match=r"your own model \(TinyCNN\).*model=\.\.\."):
        resume_run(out)
    assert resume_run(out, model=TinyCNN).metrics["config"]["model"] == "user:TinyCNN"


@pytest.mark.parametrize("strategy", ["lwf", "pseudo-rehearsal"])
def test_copy_using_strategies_resume_mid_task_with_a_user_cnn(strategy, tmp_path):
    params = {"replay_batch_size": 16} if strategy == "pseudo-rehearsal" else {}
    (check,) = [
        c
        for c in contract_checks(strategy, params=params, model=TinyCNN, hidden=None)
        if c.name == "resume-mid-task"
    ]
    check(tmp_path)  # identical accuracy matrix and final state_dict


def test_a_user_cnn_meets_the_checkpoint_contract_with_packnet(tmp_path):
    (check,) = [
        c
        for c in contract_checks("packnet", model=TinyCNN, hidden=None)
        if c.name == "checkpoint-round-trip"
    ]
    check(tmp_path)


@pytest.mark.parametrize("strategy", ["progressive", "den"])
def test_architecture_strategies_say_what_the_model_must_provide(strategy):
    with pytest.raises(
        ConfigError,
        match=rf"{strategy} needs lifelong's fully connected model.*"
        "got TinyCNN",
    ):
        run(tiny(strategy=strategy, setting="task"), model=TinyCNN, write=False)
    mlp = run(
        tiny(strategy=strategy, setting="task", iterations=5),
        model=lambda: MLP(64, [16], 10),
        write=False,
    )
    assert len(mlp.accuracy_matrix) == 5


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_matches_the_run_and_a_hand_computed_masked_accuracy():
    result = run(tiny(strategy="naive"), model=TinyCNN, write=False)
    scenario = result.strategy.context.scenario
    assert evaluate(result.strategy, scenario) == result.accuracy_matrix[-1]
    net = result.model
    # class-incremental after 2 tasks: only the first 4 classes may be predicted
    task = scenario[1]
    x, y = scenario.eval_batch(1, task.eval_indices)
    with torch.no_grad():
        logits = net.eval()(x)
    logits[:, 4:] = -float("inf")
    by_hand = (logits.argmax(1) == y).float().mean().item()
    assert evaluate(net, scenario, tasks=[1], tasks_seen=2) == [pytest.approx(by_hand)]
    assert net.training is False  # evaluate restores the mode it found
    with pytest.raises(LifelongError, match="no task 7"):
        evaluate(net, scenario, tasks=[7])


def test_evaluate_gives_task_ids_only_in_the_task_setting():
    result = run(tiny(strategy="naive", setting="task", iterations=5), model=TinyCNN, write=False)
    scenario = result.strategy.context.scenario
    net = result.model.eval()
    x, y = scenario.eval_batch(3, scenario[3].eval_indices)
    with torch.no_grad():
        logits = net(x)
    own = list(scenario[3].classes)
    by_hand = (torch.tensor(own)[logits[:, own].argmax(1)] == y).float().mean().item()
    assert evaluate(net, scenario, tasks=[3]) == [pytest.approx(by_hand)]
    with pytest.raises(LifelongError, match=r"expected \(batch, 10\) logits"):
        evaluate(nn.Sequential(nn.Flatten(), nn.Linear(64, 3)), scenario)


class HeadTwice(nn.Module):
    """Applies its output layer twice: its features are ambiguous."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
        self.head = nn.Linear(10, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head(self.body(x)))


def test_models_without_what_a_strategy_needs_get_a_clear_error():
    with pytest.raises(ConfigError, match="output layer 'head' of HeadTwice must be applied once"):
        run(
            tiny(strategy="icarl", strategy_params={"buffer_size": 40}),
            model=HeadTwice,
            write=False,
        )
    with pytest.raises(
        ConfigError,
        match="factored method needs every trainable parameter of TinyCNN in an nn.Linear",
    ):
        run(
            tiny(strategy="ewc", strategy_params={"fisher_method": "factored"}),
            model=TinyCNN,
            write=False,
        )
    with pytest.raises(ConfigError, match="lora: unknown target layer 'fc'; valid: conv.0, "):
        run(
            tiny(strategy="lora", setting="task", strategy_params={"targets": "fc"}),
            model=TinyCNN,
            write=False,
        )
