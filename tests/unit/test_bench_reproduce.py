"""The reproduction harness (bench/reproduce.py): result files are reused only under the same
config, an interrupted run resumes from its checkpoint to the same result, and a grid whose best
value sits at its edge is widened."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest

import bench.reproduce as R
from bench.protocols import Method, Protocol, Published
from lifelong import run
from lifelong.core.identity import SOURCE


def tiny_protocol(**changes: Any) -> Protocol:
    fields: dict[str, Any] = dict(
        name="tiny",
        title="tiny",
        description="split-digits, for tests",
        base=dict(benchmark="split-digits", iterations=30, batch_size=32, hidden=(32,)),
        settings=("task",),
        seeds=(0,),
        checkpoint_every=10,
        methods=(Method("ewc", "ewc", params={"fisher_samples": 50}),),
    )
    fields.update(changes)
    return Protocol(**fields)


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(R, "CHECKPOINTS", tmp_path / "runs")
    return tmp_path


def job_of(protocol: Protocol, stage: str = "test") -> R.Job:
    return R.Job(protocol, "task", protocol.methods[0], (), 0, stage)


def test_result_file_is_reused_only_under_the_same_config(results, monkeypatch):
    protocol = tiny_protocol()
    job = job_of(protocol)
    first = R.ensure(job, train=True)
    assert first is not None and job.path.is_file()
    assert first["config"]["strategy_config"]["fisher_samples"] == 50  # resolved strategy config

    calls: list[R.Job] = []
    monkeypatch.setattr(R, "execute", lambda j: calls.append(j) or {"trained": True})
    assert R.ensure(job, train=True) == first  # same config: read, not trained
    assert calls == []

    changed = job_of(tiny_protocol(base={**protocol.base, "batch_size": 16}))
    assert changed.path == job.path  # same file name, different experiment
    assert R.ensure(changed, train=True) == {"trained": True}
    assert calls == [changed]


def test_a_result_of_a_strategy_revised_since_is_trained_again(results, monkeypatch):
    from lifelong import get_strategy

    job = job_of(tiny_protocol())
    first = R.ensure(job, train=True)
    assert first is not None and "code_revision" not in first["config"]
    monkeypatch.setattr(get_strategy("ewc"), "revision", 2)  # the method was fixed since
    calls: list[R.Job] = []
    monkeypatch.setattr(R, "execute", lambda j: calls.append(j) or {"trained": True})
    assert R.ensure(job, train=True) == {"trained": True}
    assert calls == [job]


def test_new_config_fields_match_only_at_their_default():
    defaults = {"lr": 0.001, "grad_clip": None, "strategy_config": {"temperature": 2.0}}
    stored = {"lr": 0.1, "strategy_config": {}}
    assert R.same_config(stored, {**stored, "grad_clip": None}, defaults)
    assert not R.same_config(stored, {**stored, "grad_clip": 1.0}, defaults)
    assert R.same_config(stored, {"lr": 0.1, "strategy_config": {"temperature": 2.0}}, defaults)
    assert not R.same_config(stored, {"lr": 0.1, "strategy_config": {"temperature": 4.0}}, defaults)
    assert not R.same_config(stored, {"lr": 0.2, "strategy_config": {}}, defaults)
    assert R.same_config({**stored, "removed": None}, stored, defaults)
    assert not R.same_config({**stored, "removed": 3}, stored, defaults)


def test_a_value_pinned_to_its_default_is_the_same_run():
    stored = {"strategy_params": {}, "strategy_config": {"buffer_policy": "reservoir"}}
    pinned = {
        "strategy_params": {"buffer_policy": "reservoir"},
        "strategy_config": {"buffer_policy": "reservoir"},
    }
    other = {
        "strategy_params": {"buffer_policy": "ring"},
        "strategy_config": {"buffer_policy": "ring"},
    }
    assert R.same_config(stored, pinned, {})
    assert not R.same_config(stored, other, {})


def test_lifelongs_tuned_defaults_never_reach_a_reproduction(monkeypatch):
    """A reproduction runs the paper's values: a hyperparameter the defaults table tunes for the
    stream and the protocol leaves unset takes the config class's default, not the tuned one."""
    import lifelong.core.tuned_defaults as T

    monkeypatch.setattr(T, "tuned_params", lambda *a: {"strength": 12345.0, "unknown": 1})
    protocol = tiny_protocol()
    config = job_of(protocol).config()
    from lifelong.strategies.ewc import EWCConfig

    assert config.strategy_params == {"fisher_samples": 50, "strength": EWCConfig().strength}
    given = job_of(
        tiny_protocol(methods=(Method("ewc", "ewc", params={"strength": 7.0}),))
    ).config()
    assert given.strategy_params == {"strength": 7.0}


class Interrupt(Exception):
    pass


class StopAt:
    """An observer that stops training at a global iteration (a kill, as far as the run knows)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        if global_iteration == self.at:
            raise Interrupt


def test_interrupted_run_resumes_mid_task_to_the_same_result(results, tmp_path, monkeypatch):
    protocol = tiny_protocol()
    job = job_of(protocol)
    with pytest.raises(Interrupt):  # killed at task 1, iteration 15 (checkpoint at 40)
        run(job.config(), observers=[StopAt(45)])
    checkpoint = job.out / "checkpoint.pt"
    assert checkpoint.is_file()
    resumed = R.execute(job)
    assert resumed is not None and resumed["resumed"] is True
    assert not job.out.exists()  # the checkpoint folder is removed once the result is written

    monkeypatch.setattr(R, "RESULTS", tmp_path / "fresh-results")
    monkeypatch.setattr(R, "CHECKPOINTS", tmp_path / "fresh-runs")
    fresh = R.execute(job_of(protocol))
    assert fresh is not None and fresh["resumed"] is False
    assert resumed["metrics"]["accuracy_matrix"] == fresh["metrics"]["accuracy_matrix"]


def test_checkpoint_of_another_config_is_not_continued(results):
    protocol = tiny_protocol()
    job = job_of(protocol)
    with pytest.raises(Interrupt):
        run(job.config(), observers=[StopAt(45)])
    other = job_of(tiny_protocol(base={**protocol.base, "iterations": 20}))
    assert other.out == job.out
    record = R.execute(other)
    assert record is not None and record["resumed"] is False


def fake_scores(monkeypatch, accuracy) -> list[float]:
    """Make ``ensure`` answer with accuracy(strength) instead of training."""
    tried: list[float] = []

    def ensure(job: R.Job, *, train: bool) -> dict[str, Any]:
        strength = dict(job.values)["strength"]
        tried.append(strength)
        return {"metrics": {"average_accuracy": accuracy(strength)}}

    monkeypatch.setattr(R, "ensure", ensure)
    return tried


def test_grid_is_widened_until_the_best_value_is_inside(monkeypatch):
    method = Method("ewc", "ewc", grid={"strength": (1.0, 10.0)})
    fake_scores(monkeypatch, lambda s: 1 - abs(math.log10(s) - 3) / 10)  # peak at 1e3
    selection = R.select(tiny_protocol(), "task", method, train=False)
    assert selection.grid["strength"] == [1.0, 10.0, 100.0, 1000.0, 10000.0]
    assert selection.chosen == {"strength": 1000.0}
    assert selection.complete and selection.edges == []


def test_widening_stops_after_max_steps_and_reports_the_edge(monkeypatch):
    method = Method("ewc", "ewc", grid={"strength": (1.0, 10.0)})
    fake_scores(monkeypatch, lambda s: s / 1e9)  # always better further out
    selection = R.select(tiny_protocol(), "task", method, train=False)
    assert len(selection.grid["strength"]) == 2 + method.max_widen == 5  # 3 steps by default
    assert selection.chosen == {"strength": 1e4}
    assert selection.edges == ["strength"]
    further = Method("ewc", "ewc", grid={"strength": (1.0, 10.0)}, max_widen=5)  # a row's own
    selection = R.select(tiny_protocol(), "task", further, train=False)
    assert selection.chosen == {"strength": 1e6} and selection.edges == ["strength"]


def test_integer_axes_are_not_widened(monkeypatch):
    method = Method("er", "er", grid={"replay_batch_size": (10, 128)})

    def ensure(job: R.Job, *, train: bool) -> dict[str, Any]:
        return {"metrics": {"average_accuracy": dict(job.values)["replay_batch_size"] / 1000}}

    monkeypatch.setattr(R, "ensure", ensure)
    selection = R.select(tiny_protocol(), "task", method, train=False)
    assert selection.grid == {"replay_batch_size": [10, 128]}
    assert selection.chosen == {"replay_batch_size": 128}


def test_failed_runs_are_never_chosen(monkeypatch):
    method = Method("ewc", "ewc", grid={"strength": (1.0, 10.0, 100.0)})

    def ensure(job: R.Job, *, train: bool) -> dict[str, Any]:
        strength = dict(job.values)["strength"]
        if strength == 10.0:
            return {"failed": "training diverged"}
        return {"metrics": {"average_accuracy": {1.0: 0.5, 100.0: 0.6}.get(strength, 0.55)}}

    monkeypatch.setattr(R, "ensure", ensure)
    selection = R.select(tiny_protocol(), "task", method, train=False)
    assert math.isnan(selection.scores["strength=10"])
    assert selection.chosen == {"strength": 100.0}
    assert selection.grid["strength"] == [1.0, 10.0, 100.0, 1000.0]


def test_result_file_is_small_and_keeps_the_matrix(results):
    record = R.ensure(job_of(tiny_protocol()), train=True)
    assert record is not None
    text = job_of(tiny_protocol()).path.read_text()
    assert len(text) < 20_000
    data = json.loads(text)
    assert len(data["metrics"]["accuracy_matrix"]) == 5
    assert data["train_seconds"] > 0 and data["train_cpu_seconds"] > 0


def test_training_minutes_are_cpu_time_and_older_wall_times_are_marked():
    """The table's cost column: CPU minutes when every run recorded them; a row with a run
    stored before shows its wall minutes marked †, never mixed into a CPU figure."""
    from bench.reproduce_report import training_minutes

    timed = [{"train_seconds": 600.0, "train_cpu_seconds": 120.0}] * 2
    assert training_minutes(timed) == "2.0"
    older = [*timed, {"train_seconds": 900.0}]
    assert training_minutes(older) == f"{(600 + 600 + 900) / 3 / 60:.1f}†"


@pytest.mark.parametrize(
    "diagnosis, reference, chosen, changed",
    [  # the values lifelong's selection chose (docs/results.md)
        ("ewc-paper-fisher", "ewc", 1e7, {"fisher_mode", "fisher_samples"}),
        ("si-c50", "si", 1.0, {"strength"}),
    ],
)
def test_vandeven_diagnosis_rows_change_only_the_papers_hyperparameters(
    diagnosis, reference, chosen, changed
):
    # A diagnosis row is the reproduction's test run of the same seed with only the hyperparameters
    # the paper's code sets differently: every run setting (data order, network, optimizer, budget)
    # and every other strategy default is shared.
    from bench.protocols import PROTOCOLS

    ours, theirs = PROTOCOLS["vandeven-split"], PROTOCOLS["vandeven-diagnosis"]
    reference_job = R.Job(ours, "task", ours.method(reference), (("strength", chosen),), 2, "test")
    diagnosis_job = R.Job(theirs, "task", theirs.method(diagnosis), (), 2, "test")
    a, b = R.full_config(reference_job), R.full_config(diagnosis_job)
    assert {k for k in a if a[k] != b[k]} == {"strategy_params", "strategy_config"}
    differing = {k for k, v in a["strategy_config"].items() if b["strategy_config"][k] != v}
    assert differing == changed
    assert b["strategy_config"].get("fisher_mode", "predicted") == "predicted"
    if "fisher_samples" in changed:  # every training sample of a Split MNIST task (<= 13,007)
        assert b["strategy_config"]["fisher_samples"] >= 13_007


@pytest.mark.parametrize(
    "suffix, changed",
    [
        ("paper-args", set()),
        ("all-units", {"class_units"}),
        ("mammoth", {"class_units", "init"}),
    ],
)
def test_seq_mnist_diagnoses_differ_only_in_mammoths_conventions(suffix, changed):
    # Each Seq-MNIST diagnosis runs the paper code's hyperparameters; the all-units and mammoth
    # rows change nothing else than the run options named for them.
    from bench.protocols import PROTOCOLS

    protocol = PROTOCOLS["der-seq-mnist"]
    job = R.Job(protocol, "class", protocol.method(f"der-200-{suffix}"), (), 0, "test")
    config = R.full_config(job)
    assert config["lr"] == 0.03 and config["strategy_params"]["alpha"] == 0.2
    reference = R.full_config(
        R.Job(protocol, "class", protocol.method("der-200-paper-args"), (), 0, "test")
    )
    assert {k for k in config if config[k] != reference.get(k)} == changed


def test_a_cause_cites_another_rows_measured_accuracy(results, monkeypatch):
    import bench.reproduce_report as report

    protocol = tiny_protocol(
        methods=(Method("ewc", "ewc", params={"fisher_samples": 50}), Method("naive", "naive"))
    )
    monkeypatch.setitem(report.CAUSES, ("tiny", "task", "ewc"), "naive gives {row:naive}.")
    assert report.cause_text(protocol, "task", "ewc") == "naive gives pending."
    record = R.ensure(R.Job(protocol, "task", protocol.method("naive"), (), 0, "test"), train=True)
    accuracy = 100 * record["metrics"]["average_accuracy"]
    assert report.cause_text(protocol, "task", "ewc") == f"naive gives {accuracy:.2f}."
    published = Method("naive", "naive", published={"task": Published(accuracy + 3, 1.0, "x")})
    protocol = tiny_protocol(methods=(protocol.methods[0], published))
    assert report.cause_text(protocol, "task", "ewc") == (
        f"naive gives {accuracy:.2f} (2.00 past the error bars)."
    )
    other = tiny_protocol(name="other", methods=(Method("ewc", "ewc"),))
    monkeypatch.setitem(report.PROTOCOLS, "tiny", protocol)
    monkeypatch.setitem(report.CAUSES, ("other", "task", "ewc"), "there: {row:tiny/task/naive}.")
    assert report.cause_text(other, "task", "ewc") == (
        f"there: {accuracy:.2f} (2.00 past the error bars)."
    )
    with pytest.raises(ValueError, match="PROTOCOL/SETTING/LABEL"):  # a findings paragraph
        report.with_citations("{row:naive}", protocol, None)


def test_a_cause_cites_a_rows_projected_steps(results, monkeypatch):
    import bench.reproduce_report as report

    protocol = tiny_protocol(
        methods=(Method("naive", "naive"), Method("agem", "agem", params={"buffer_size": 50})),
        seeds=(0, 1),
    )
    monkeypatch.setitem(report.CAUSES, ("tiny", "task", "naive"), "{projections:agem} steps")
    assert report.cause_text(protocol, "task", "naive") == "pending steps"
    counts = [
        R.ensure(R.Job(protocol, "task", protocol.method("agem"), (), seed, "test"), train=True)[
            "metrics"
        ]["strategy_metrics"]["projections"]
        for seed in (0, 1)
    ]
    assert sum(counts) > 0  # A-GEM projects some steps of the later tasks
    mean = f"{round(sum(counts) / 2):,}"
    assert report.cause_text(protocol, "task", "naive") == f"{mean} (mean of 2 seeds) steps"
    with pytest.raises(ValueError, match="cannot cite projections"):  # a findings paragraph
        report.with_citations("{projections:agem}", protocol, None)


def test_the_summary_counts_each_row_by_where_it_stands(results, monkeypatch):
    import bench.reproduce_report as report

    record = R.ensure(
        R.Job(
            tiny_protocol(methods=(Method("naive", "naive"),)),
            "task",
            Method("naive", "naive"),
            (),
            0,
            "test",
        ),
        train=True,
    )
    accuracy = 100 * record["metrics"]["average_accuracy"]
    near, far = Published(accuracy + 0.5, 1.0, "x"), Published(accuracy + 5, 1.0, "x")
    rows = {
        "within": Method("within", "naive", published={"task": near}),
        "cause": Method("cause", "naive", published={"task": far}),
        "said-open": Method("said-open", "naive", published={"task": far}),
        "no-cause": Method("no-cause", "naive", published={"task": far}),
        "extra": Method("extra", "naive"),
        "partial": Method("partial", "naive", seeds=(0, 1)),
        "pending": Method("pending", "ewc", params={"fisher_samples": 50}),
    }
    protocol = tiny_protocol(methods=tuple(rows.values()))
    for label in ("within", "cause", "said-open", "no-cause", "extra", "partial"):
        R.ensure(R.Job(protocol, "task", rows[label], (), 0, "test"), train=True)
    monkeypatch.setitem(report.CAUSES, ("tiny", "task", "cause"), "measured: x")
    monkeypatch.setitem(report.CAUSES, ("tiny", "task", "said-open"), "open: not tested")
    status = {label: report.row_status(protocol, "task", m) for label, m in rows.items()}
    assert status == {
        "within": "within",
        "cause": "cause",
        "said-open": "open",
        "no-cause": "open",
        "extra": "extra",
        "partial": "partial",
        "pending": "pending",
    }
    monkeypatch.setattr(report, "PROTOCOLS", {"tiny": protocol})
    assert "| tiny (`tiny`) | 7 | 1 | 1 | 2 | 1 | 1 | 1 |" in report.summary_section()


def test_every_row_a_cause_cites_exists():
    import re

    import bench.reproduce_report as report
    from bench.protocols import PROTOCOLS

    for (name, setting, label), cause in report.CAUSES.items():
        protocol = PROTOCOLS[name]
        assert setting in protocol.settings_of(protocol.method(label)), (name, setting, label)
        for match in report.CITED_ROW.finditer(cause):
            cited, cited_setting, cited_label = report.cited_row(protocol, setting, match)
            method = cited.method(cited_label)  # KeyError names the protocol's rows
            assert cited_setting in cited.settings_of(method), match[0]
        for label in report.CITED_PROJECTIONS.findall(cause):
            assert setting in protocol.settings_of(protocol.method(label)), label
        for paper in re.findall(r"\{paper:([A-Za-z0-9-]+)\}", cause):
            assert list((R.RESULTS / "paper-code" / paper).glob("s*.json")), paper  # kept in git


@pytest.fixture
def cast_plugin(monkeypatch):
    """The registry as it was, and no trace of the bench plugin modules, once the test ends."""
    import sys

    from lifelong.core import registry

    registry._discover()  # the built-ins first: a copy taken before would stay without them
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    yield
    for plugin in ("mammoth_icarl_cast", "agem_code_ewc", "agem_code_gem", "vandeven_code_si"):
        sys.modules.pop(f"lifelong_plugin_{plugin}", None)


def plugin_context():
    """A strategy's context on split-digits domain, for plugin tests that drive hooks by hand."""
    import torch

    from lifelong.core.strategy import Context
    from lifelong.data.scenarios import build_scenario

    return Context(
        scenario=build_scenario("split-digits", "domain"),
        device=torch.device("cpu"),
        batch_size=8,
        rng=torch.Generator().manual_seed(0),
        tasks_seen=1,
    )


def test_mammoth_cast_rows_differ_from_the_main_row_only_in_the_plugin(cast_plugin):
    from bench.protocols import PROTOCOLS

    protocol = PROTOCOLS["der-seq-mnist"]
    values = (("lr", 0.3),)
    main = R.full_config(R.Job(protocol, "class", protocol.method("icarl-200"), values, 0, "test"))
    cast = R.full_config(
        R.Job(protocol, "class", protocol.method("icarl-200-mammoth-cast"), values, 0, "test")
    )
    differing = {k for k in main.keys() | cast.keys() if main.get(k) != cast.get(k)}
    assert differing == {"strategy", "plugins", SOURCE}  # the plugin's source digest is recorded
    assert cast["strategy"] == "icarl-mammoth-cast"
    defaults = R.field_defaults("icarl-mammoth-cast")
    before = {k: v for k, v in cast.items() if k != SOURCE}  # written before digests were
    assert R.same_config(before, cast, defaults)
    assert not R.same_config({**cast, SOURCE: "0" * 64}, cast, defaults)  # the plugin changed


def test_mammoth_cast_trains_on_nearly_blank_exemplars(cast_plugin, monkeypatch):
    # Mammoth casts MNIST exemplars in [0, 1] to uint8 and its loader divides by 255: a pixel is
    # 1/255 where it was exactly 1, else 0. The stored exemplars themselves are untouched.
    import torch

    from lifelong import get_strategy, load_plugins
    from lifelong.components.buffer import Replay
    from lifelong.strategies.icarl import ICaRL

    load_plugins(["bench/plugins/mammoth_icarl_cast.py"])
    cls = get_strategy("icarl-mammoth-cast")
    stored = torch.tensor([[0.0, 0.5, 0.999, 1.0]])
    exemplars = Replay(x=stored, y=torch.tensor([3]), task_ids=torch.tensor([1]))
    monkeypatch.setattr(ICaRL, "exemplar_batch", lambda self: exemplars)
    cast = cls.exemplar_batch(object.__new__(cls))
    assert torch.equal(cast.x, torch.tensor([[0.0, 0.0, 0.0, 1 / 255]]))
    assert torch.equal(cast.y, exemplars.y) and torch.equal(stored[0, 3], torch.tensor(1.0))


def test_agem_code_ewc_keeps_a_running_normalised_fisher_of_batch_gradients(cast_plugin):
    # The A-GEM code's EWC (bench/plugins/agem_code_ewc.py) by hand: update_after 2, decay 0.5.
    import torch
    from torch import nn

    from lifelong import get_strategy, load_plugins

    load_plugins(["bench/plugins/agem_code_ewc.py"])
    cls = get_strategy("ewc-agem-code")
    context = plugin_context()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    strategy = cls(model, cls.config_class(strength=3.0, ema_decay=0.5, update_after=2), context)
    weight, bias = model[1].weight, model[1].bias
    grads = [(torch.full_like(weight, 1.0), torch.tensor([2.0, 0.0]))]
    grads.append((torch.full_like(weight, 3.0), torch.tensor([4.0, 1.0])))
    for g_weight, g_bias in grads:
        weight.grad, bias.grad = g_weight, g_bias
        strategy.after_backward(None)
    # step 1 updates F with the squares of step 0 only: F = 0.5 * S / 2, then S = step 1's squares
    running = strategy.state_of("running")
    assert torch.equal(running["1.bias"], torch.tensor([1.0, 0.0]))  # 0.25 * [4, 0]
    assert torch.equal(running["1.weight"], torch.full_like(weight, 0.25))
    strategy.after_task(None)
    assert torch.equal(strategy.penalty.importance("1.bias"), torch.tensor([1.0, 0.0]))
    assert torch.equal(strategy.penalty.importance("1.weight"), torch.full_like(weight, 0.25))
    assert strategy.task_step == 0 and not strategy.state_of("squares")["1.weight"].any()
    with torch.no_grad():
        bias += 1.0
    # the penalty's gradient 2 * 3 * F^ * (theta - theta*) is removed before squaring
    weight.grad, bias.grad = torch.zeros_like(weight), torch.tensor([0.5 + 6.0, 0.5])
    strategy.after_backward(None)
    assert torch.equal(strategy.state_of("squares")["1.bias"], torch.tensor([0.25, 0.25]))
    penalty = strategy.penalty(model.named_parameters())
    assert torch.isclose(penalty, torch.tensor(1.0))  # 1 * 1^2 + 0 * 1^2 (weights unchanged)


def test_vandeven_code_si_integrates_the_total_loss_gradient(cast_plugin):
    # The paper code's SI (bench/plugins/vandeven_code_si.py) keeps the penalty's gradient in its
    # path integral; lifelong's SI removes it (2 c Omega (theta - theta*)). By hand, one weight.
    import torch
    from torch import nn

    from lifelong import get_strategy, load_plugins

    load_plugins(["bench/plugins/vandeven_code_si.py"])
    context = plugin_context()
    integrals = {}
    for name in ("si", "si-vandeven-code"):
        cls = get_strategy(name)
        model = nn.Linear(1, 1, bias=False)
        strategy = cls(model, cls.config_class(strength=2.0, damping=1.0), context)
        with torch.no_grad():
            model.weight.fill_(1.0)
        strategy.before_task(None)
        with torch.no_grad():
            model.weight.fill_(2.0)  # Delta = 1, W = 0: omega = 0 / (1 + 1)
        strategy.path_integral_0.fill_(4.0)  # W = 4: omega = 4 / (1 + 1) = 2, theta* = 2
        strategy.after_task(None)
        strategy.before_task(None)
        with torch.no_grad():
            model.weight.fill_(3.0)  # theta - theta* = 1: the penalty's gradient is 2 * 2 * 2 * 1
        model.weight.grad = torch.full_like(model.weight, 10.0)  # task loss 2 + penalty 8
        strategy.after_backward(None)
        with torch.no_grad():
            model.weight.fill_(2.5)  # the step: after - before = -0.5
        strategy.after_step(None)
        integrals[name] = float(strategy.path_integral_0)
    assert integrals == {"si": 2.0 * 0.5, "si-vandeven-code": 10.0 * 0.5}


def test_agem_code_gem_drops_the_batch_gradient_on_a_violation(cast_plugin):
    # The A-GEM code's GEM (bench/plugins/agem_code_gem.py) solves the QP for a zero gradient.
    # By hand, g = (-1, 1) against orthogonal memory gradients g1 = (1, 0) and g2 = (0, 2), margin
    # 0.5, quadprog's P = diag(|g_k|^2 + 1e-3): with q = 0 the duals sit at the margin, z = 0.5 g1
    # + 0.5 g2; with q = -G g = (1, -2), lifelong's GEM keeps g: v = (1 / 1.001, 0.5).
    import torch
    from torch import nn

    from lifelong import get_strategy, load_plugins

    load_plugins(["bench/plugins/agem_code_gem.py"])
    g = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    G = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    projected = {}
    for name in ("gem", "gem-agem-code"):
        cls = get_strategy(name)
        config = cls.config_class(memory_strength=0.5)
        projected[name] = cls(nn.Linear(64, 2), config, plugin_context()).project(g, G)
    assert torch.allclose(projected["gem-agem-code"], torch.tensor([0.5, 1.0], dtype=g.dtype))
    expected = torch.tensor([-1.0 + 1.0 / 1.001, 1.0 + 0.5 * 2.0], dtype=g.dtype)
    assert torch.allclose(projected["gem"], expected)


def test_a_row_with_its_own_seeds_is_queued_and_reported_over_them(results, monkeypatch):
    import bench.reproduce_report as report

    naive = Method("naive", "naive", seeds=(0, 1))
    protocol = tiny_protocol(methods=(Method("ewc", "ewc", params={"fisher_samples": 50}), naive))
    monkeypatch.setitem(R.PROTOCOLS, "tiny", protocol)
    first, rest = R.Phase("tiny", slice(0, 1)), R.Phase("tiny", slice(1, None))
    queued = [(s.method.label, s.seeds) for s in R.steps((first, rest))]
    assert queued == [("ewc", (0,)), ("naive", (0,)), ("ewc", ()), ("naive", (1,))]
    R.ensure(R.Job(protocol, "task", naive, (), 0, "test"), train=True)
    assert report.measured(protocol, "task", "naive").endswith("(1/2 seeds)")
    R.ensure(R.Job(protocol, "task", naive, (), 1, "test"), train=True)
    assert "seeds" not in report.measured(protocol, "task", "naive")
    assert len(report.test_records(protocol, "task", naive, {})) == 2


def test_status_lists_result_files_no_table_reads(results, monkeypatch):
    naive = Method("naive", "naive")
    protocol = tiny_protocol(methods=(naive,))
    monkeypatch.setitem(R.PROTOCOLS, "tiny", protocol)
    kept = R.Job(protocol, "task", naive, (), 0, "test")
    R.ensure(kept, train=True)
    assert kept.path.exists() and R.unused_results() == []
    changed = tiny_protocol(methods=(Method("naive", "naive", config={"lr": 0.5}),))
    monkeypatch.setitem(R.PROTOCOLS, "tiny", changed)  # the row's config changed since
    assert R.unused_results() == [kept.path]


def test_status_lists_pending_steps_and_counts_finished_ones(results, monkeypatch, capsys):
    import argparse

    protocol = tiny_protocol(methods=(Method("naive", "naive"),))
    monkeypatch.setitem(R.PROTOCOLS, "tiny", protocol)
    monkeypatch.setattr(R, "QUEUE", (R.Phase("tiny", slice(None)),))
    R.command_status(argparse.Namespace(all=False))
    assert "\ntiny " in capsys.readouterr().out  # pending: listed
    R.ensure(R.Job(protocol, "task", protocol.methods[0], (), 0, "test"), train=True)
    R.command_status(argparse.Namespace(all=False))
    out = capsys.readouterr().out
    assert "nothing pending" in out and "(1 finished queue steps not shown" in out
    R.command_status(argparse.Namespace(all=True))
    assert "\ntiny " in capsys.readouterr().out


def test_status_shows_how_far_the_running_job_has_got(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    rows = ["kind,task,iteration,global_iteration,values"]
    rows += [f"loss,{t},{i},{t * 500 + i},0.5" for t in range(3) for i in range(1, 501)]
    (out / "log.csv").write_text("\n".join(rows[:-200]) + "\n")
    current = {"job": "p/domain/ewc test defaults-s0", "pid": os.getpid(), "out": str(out)}
    line = R.describe_current({**current, "tasks": 10, "iterations_per_task": 500})
    pid = os.getpid()
    expected = f"running now: p/domain/ewc test defaults-s0 (pid {pid}): task 3 of 10, iteration 300 of 500"
    assert line == expected
    epochs = R.describe_current({**current, "tasks": 10, "iterations_per_task": None})
    assert epochs.endswith("task 3 of 10, iteration 300 (earlier tasks took 500 on average)")
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone = R.describe_current({**current, "pid": int(finished.stdout)})
    assert gone.startswith("interrupted: p/domain/ewc test defaults-s0") and "resumes" in gone
