"""The knowledge-distillation loss (hand-computed) and LwF's teacher and distilled outputs."""

from __future__ import annotations

import math

import pytest
import torch

from lifelong import RunConfig
from lifelong.components.distillation import distillation_loss
from lifelong.core.runner import build_strategy, resolve
from lifelong.core.strategy import Batch
from lifelong.data.scenarios import build_scenario
from lifelong.errors import ConfigError


def test_distillation_loss_matches_a_hand_computed_value_and_gradient():
    student = torch.tensor([[1.0, 0.0, -1.0]], requires_grad=True)
    teacher = torch.tensor([[0.0, 2.0, 0.0]])
    T = 2.0
    q = [math.exp(v / T) for v in (0.0, 2.0, 0.0)]
    q = [v / sum(q) for v in q]
    z = sum(math.exp(v / T) for v in (1.0, 0.0, -1.0))
    log_q_hat = [v / T - math.log(z) for v in (1.0, 0.0, -1.0)]
    expected = -(T**2) * sum(qi * li for qi, li in zip(q, log_q_hat, strict=True))
    loss = distillation_loss(student, teacher, T)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    (grad,) = torch.autograd.grad(loss, student)
    q_hat = torch.tensor(log_q_hat).exp()
    torch.testing.assert_close(grad[0], T * (q_hat - torch.tensor(q)))  # d/ds = T (q^ - q)


def test_distillation_loss_averages_over_samples_and_heads():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 3, 2), torch.randn(4, 3, 2)
    rows = [
        distillation_loss(student[i, k], teacher[i, k], 1.5) for i in range(4) for k in range(3)
    ]
    torch.testing.assert_close(distillation_loss(student, teacher, 1.5), torch.stack(rows).mean())


def _lwf(setting: str):
    config = resolve(
        RunConfig.of(
            benchmark="split-digits",
            scenario=setting,
            strategy="lwf",
            strategy_params={"strength": 0.5},
            hidden=(8,),
            iterations=5,
            threads=1,
        )
    )
    scenario = build_scenario("split-digits", setting, num_tasks=5, seed=0)
    return build_strategy(config, scenario, torch.device("cpu")), scenario


def _lwf_learning(setting: str, task: int):
    """LwF learning ``task`` (an index), its teacher from the end of the task before, the student
    drifted from it; and a batch of four of the task's examples."""
    strategy, scenario = _lwf(setting)
    strategy.context.tasks_seen = task
    strategy.after_task(scenario[task - 1])  # teacher = the model now
    with torch.no_grad():
        for p in strategy.model.parameters():
            p.add_(0.3 * torch.randn_like(p))  # the student drifts from its teacher
    strategy.context.tasks_seen = task + 1
    idx = scenario[task].train_indices[:4]
    ids = torch.full_like(idx, task)
    return strategy, Batch(*scenario.train_batch(ids, idx), ids)


def _loss_and_rows(strategy, batch) -> tuple[float, list]:
    """The strategy's loss on the batch and, per example, (student logits, teacher logits, label)
    as Python floats for a hand computation."""
    with torch.no_grad():
        loss = strategy.loss(batch).item()
        student, teacher = strategy.model(batch.x).double(), strategy.teacher(batch.x).double()
    return loss, list(zip(student.tolist(), teacher.tolist(), batch.y.tolist(), strict=True))


def test_lwf_teacher_is_a_frozen_submodule_in_the_state_dict():
    strategy, scenario = _lwf("class")
    assert strategy.teacher is None
    strategy.context.tasks_seen = 1
    strategy.after_task(scenario[0])
    assert any(k.startswith("teacher.") for k in strategy.state_dict())
    assert all(not p.requires_grad for p in strategy.teacher.parameters())
    trainable = {id(p) for p in strategy.trainable_parameters()}
    assert trainable == {id(p) for p in strategy.model.parameters()}
    strategy.train()
    assert not strategy.teacher.training


def test_lwf_loss_is_cross_entropy_plus_strength_times_t_squared_distillation():
    strategy, batch = _lwf_learning("task", 1)
    loss, rows = _loss_and_rows(strategy, batch)
    T, expected = 2.0, 0.0
    for s, z, label in rows:
        new, old, old_teacher = s[2:4], s[0:2], z[0:2]  # task 1's head; task 0's head distilled
        ce = math.log(sum(math.exp(v) for v in new)) - new[label - 2]
        q = [math.exp(v / T) / sum(math.exp(u / T) for u in old_teacher) for v in old_teacher]
        log_q_hat = [v / T - math.log(sum(math.exp(u / T) for u in old)) for v in old]
        l_old = -sum(qi * li for qi, li in zip(q, log_q_hat, strict=True))  # Li & Hoiem's L_old
        expected += (ce + 0.5 * T**2 * l_old) / len(rows)  # strength 0.5: lambda_o = 0.5 * T^2 = 2
    assert loss == pytest.approx(float(expected), rel=1e-5)


def test_lifelong_list_says_how_lwf_strength_relates_to_the_papers_lambda(capsys):
    from lifelong.cli import main

    assert main(["list", "strategies"]) == 0
    lwf = capsys.readouterr().out.split("\nlwf  [")[1].split("\nmas  [")[0]
    assert "lambda_o = strength * T^2" in lwf and "lambda_o = 4" in lwf


@pytest.mark.parametrize(
    "setting, student_units, teacher_units",
    [
        # every class seen so far; the teacher gives the current task's classes zero probability
        ("class", [[0, 1, 2, 3, 4, 5]], [[0, 1, 2, 3, -math.inf, -math.inf]]),
        ("task", [[0, 1], [2, 3]], [[0, 1], [2, 3]]),  # each old task's head
        ("domain", [[0, 1]], [[0, 1]]),  # every output unit
    ],
)
def test_lwf_distils_the_outputs_of_the_setting(setting, student_units, teacher_units):
    strategy, scenario = _lwf(setting)
    logits = torch.arange(scenario.num_outputs, dtype=torch.float).repeat(3, 1)
    student, teacher = strategy.distilled(logits, logits.clone(), task=2)
    for got, expected in ((student, student_units), (teacher, teacher_units)):
        expected = torch.tensor(expected, dtype=torch.float)
        assert torch.equal(got[0].reshape(expected.shape), expected)


def test_lwf_class_incremental_loss_matches_van_de_ven_s_zero_padded_distillation():
    """Class-IL (van de Ven & Tolias 2019, ``loss_fn_kd``): CE over the classes seen so far plus
    T^2 times the cross-entropy between the teacher's softmax over the old classes, padded with
    zeros for the current task's, and the student's softmax over all classes seen so far."""
    strategy, batch = _lwf_learning("class", 1)
    loss, rows = _loss_and_rows(strategy, batch)
    T, expected = 2.0, 0.0
    for s, z, label in rows:
        seen, old_teacher = s[0:4], z[0:2]  # tasks 0 and 1 seen; task 0's classes are old
        ce = math.log(sum(math.exp(v) for v in seen)) - seen[label]
        q = [math.exp(v / T) / sum(math.exp(u / T) for u in old_teacher) for v in old_teacher]
        q += [0.0, 0.0]  # the current task's classes
        log_q_hat = [v / T - math.log(sum(math.exp(u / T) for u in seen)) for v in seen]
        l_old = -sum(qi * li for qi, li in zip(q, log_q_hat, strict=True))
        expected += (ce + 0.5 * T**2 * l_old) / len(rows)
    assert loss == pytest.approx(float(expected), rel=1e-5)


def test_invalid_hyperparameters_are_rejected_with_the_field_name():
    from lifelong.core.fields import build_config
    from lifelong.core.registry import get_strategy

    for name, params, field in [
        ("lwf", {"temperature": 0}, "temperature"),
        ("ewc", {"strength": -1}, "strength"),
        ("ewc", {"fisher_mode": "true"}, "fisher_mode"),
        ("online-ewc", {"decay": 1.5}, "decay"),
        ("si", {"damping": 0}, "damping"),
        ("mas", {"importance_samples": 0}, "importance_samples"),
    ]:
        with pytest.raises(ConfigError, match=field):
            build_config(get_strategy(name).config_class, params)


def _class_lwf_loss_at_task_3():
    """A class-incremental LwF learning task 3 (index 2) with a teacher that differs from it, and
    the loss of one batch under given hyperparameters."""
    strategy, batch = _lwf_learning("class", 2)

    def loss_with(**params) -> float:
        strategy.config = type(strategy.config)(**{"strength": 0.5, **params})
        with torch.no_grad():
            return strategy.loss(batch).item()

    return loss_with


def test_lwf_by_tasks_weighting_is_van_de_ven_s_one_over_t():
    """weighting=by-tasks: (1/t) CE + (1 - 1/t) strength * KD at task t (here t = 3)."""
    loss_with = _class_lwf_loss_at_task_3()
    ce, constant = loss_with(strength=0.0), loss_with()
    kd_term = constant - ce  # strength * KD
    by_tasks = loss_with(weighting="by-tasks")
    assert by_tasks == pytest.approx(ce / 3 + (2 / 3) * kd_term, rel=1e-5)


def test_lwf_average_units_divides_the_distillation_by_the_distilled_units():
    """average_units (van de Ven & Tolias' code before 26f00db): L_KD / units, here 6 units (the
    classes of tasks 0-2, class-incremental, at task 3)."""
    loss_with = _class_lwf_loss_at_task_3()
    ce, summed = loss_with(strength=0.0), loss_with()
    assert loss_with(average_units=True) == pytest.approx(ce + (summed - ce) / 6, rel=1e-5)


def test_generative_replay_average_units_divides_the_replayed_distillation(monkeypatch):
    """average_units (the paper code before 26f00db): the soft replay loss over the units an
    example is classified over (class-IL at task 3: the 6 classes seen so far)."""
    import lifelong.strategies.generative_replay as G

    config = resolve(
        RunConfig.of(
            benchmark="split-digits",
            setting="class",
            strategy="generative-replay",
            strategy_params={"labels": "soft", "average_units": True},
            hidden=(8,),
            iterations=5,
            threads=1,
        )
    )
    scenario = build_scenario("split-digits", "class", num_tasks=5, seed=0)
    strategy = build_strategy(config, scenario, torch.device("cpu"))
    strategy.context.tasks_seen = 3
    strategy.has_teacher.fill_(True)
    monkeypatch.setattr(G, "replayed_loss", lambda *a, **k: torch.tensor(6.0))
    monkeypatch.setattr(strategy.generator, "loss", lambda *a, **k: torch.tensor(0.0))
    monkeypatch.setattr(strategy, "classification_loss", lambda batch: torch.tensor(0.0))
    idx = scenario[2].train_indices[:4]
    ids = torch.full_like(idx, 2)
    batch = Batch(*scenario.train_batch(ids, idx), ids)
    assert strategy.loss(batch).item() == pytest.approx((2 / 3) * 6.0 / 6)
    strategy.config = type(strategy.config)(labels="soft")
    assert strategy.loss(batch).item() == pytest.approx((2 / 3) * 6.0)
