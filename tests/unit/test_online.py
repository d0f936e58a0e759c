"""Online streams (issue 14): stream order, what the learner is told, metrics, compute counts, the
greedy balanced memory, the asymmetric cross-entropy, MIR's retrieval and the command line."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from unittest import mock

import pytest
import torch

from lifelong import metrics as M
from lifelong.cli import main
from lifelong.components.buffer import ReplayBuffer
from lifelong.core.config import RunConfig
from lifelong.core.evaluation import class_counts, task_accuracies
from lifelong.core.identity import identity
from lifelong.core.runner import build_run_scenario, resolve, run
from lifelong.core.strategy import Batch
from lifelong.data.online import OnlineStream
from lifelong.errors import ConfigError, UnsupportedSettingError
from lifelong.strategies.er_ace import present_class_logits
from lifelong.strategies.naive import Naive

TINY = {
    "benchmark": "split-digits",
    "online": True,
    "batch_size": 10,
    "hidden": (16,),
    "train_samples_per_task": 40,
    "threads": 1,
    "anytime_every": 20,
}


@pytest.fixture(scope="module")
def scenario():
    return build_run_scenario(resolve(RunConfig.of(benchmark="split-digits")))


# ------------------------------------------------------------------------------------ streams
def test_known_stream_is_task_by_task_and_batches_never_straddle_tasks(scenario):
    stream = OnlineStream(scenario, 32, boundaries="known", seed=3)
    sizes = [len(t.train_indices) for t in scenario]
    assert stream.samples == sum(sizes)
    assert stream.task_ids.tolist() == sum(([t] * n for t, n in enumerate(sizes)), [])
    for b in range(stream.num_batches):
        ids, _ = next(stream.batches(b))
        assert len(ids.unique()) == 1
    # every training sample exactly once
    for task in scenario:
        got = stream.indices[stream.task_ids == task.index].sort().values
        assert torch.equal(got, task.train_indices.sort().values)


def test_hidden_stream_has_the_known_order_cut_regardless_of_tasks(scenario):
    known = OnlineStream(scenario, 32, boundaries="known", seed=3)
    hidden = OnlineStream(scenario, 32, boundaries="hidden", seed=3)
    assert torch.equal(known.indices, hidden.indices)
    assert all(start % 32 == 0 for start in hidden.starts[:-1])
    assert any(len(ids.unique()) == 2 for ids, _ in hidden.batches())


def test_blurry_stream_mixes_neighbouring_tasks_by_the_stated_amount(scenario):
    stream = OnlineStream(scenario, 10, boundaries="blurry", blurriness=0.4, seed=0)
    ids = stream.task_ids
    n0 = len(scenario[0].train_indices)
    # task 1 spans stream time [1 - b/2, 2 + b/2] uniformly: a fraction (b/2)/(1+b) = 1/7 of it
    # lies before time 1, i.e. among the first n0 positions
    early = int((ids[:n0] == 1).sum())
    expected = len(scenario[1].train_indices) / 7
    assert abs(early - expected) < 4 * math.sqrt(expected)
    # only neighbours mix: no task 2 sample before the window around the 0|1 boundary closes
    assert int((ids[: n0 // 2] >= 2).sum()) == 0
    assert stream.tasks_appeared(1) == 1 and stream.tasks_appeared(stream.samples) == 5


class _Sizes(list):
    """A stand-in scenario with only what OnlineStream reads: tasks' training indices, a device."""

    device = torch.device("cpu")


def _sized_scenario(*sizes: int) -> _Sizes:
    return _Sizes(SimpleNamespace(train_indices=torch.arange(n)) for n in sizes)


@pytest.mark.parametrize("width", [1.0, 0.4])
def test_gradual_stream_ramps_the_next_task_linearly(width):
    n = 40_000
    stream = OnlineStream(_sized_scenario(n, n, n), 10, boundaries="gradual", drift=width, seed=1)
    ids = stream.task_ids
    # the ramp around the 0|1 boundary spans stream positions n(1 - w/2) .. n(1 + w/2); in its
    # quarters task 1's share should be 1/8, 3/8, 5/8, 7/8 (P = 1/2 + s/w, linear in s)
    start, quarter = int(n * (1 - width / 2)), int(n * width / 4)
    shares = [
        float((ids[start + k * quarter : start + (k + 1) * quarter] == 1).float().mean())
        for k in range(4)
    ]
    assert shares == pytest.approx([0.125, 0.375, 0.625, 0.875], abs=0.03)
    # outside the window the stream is pure (w < 1) and tasks never skip a neighbour
    if width < 1:
        assert int((ids[: start - quarter] != 0).sum()) == 0
    assert int((ids[: int(n * 1.4)] == 2).sum()) == 0
    # every sample exactly once
    assert torch.bincount(ids).tolist() == [n, n, n]


def test_gradual_stream_needs_a_drift_width():
    with pytest.raises(ConfigError, match="drift width"):
        OnlineStream(_sized_scenario(10, 10), 2, boundaries="gradual", drift=0.0)
    with pytest.raises(ConfigError, match="--boundaries gradual together with --drift"):
        RunConfig.of(online=True, boundaries="gradual")
    with pytest.raises(ConfigError, match="needs --online"):
        RunConfig.of(boundaries="gradual", drift=0.5)


def test_stream_options_are_validated():
    with pytest.raises(ConfigError, match="needs --online"):
        RunConfig.of(boundaries="hidden")
    with pytest.raises(ConfigError, match="--boundaries blurry together with --blurry"):
        RunConfig.of(online=True, boundaries="blurry")
    with pytest.raises(ConfigError, match="single pass"):
        RunConfig.of(online=True, epochs=2)


def test_online_settings_leave_existing_fingerprints_unchanged():
    plain = RunConfig.of(benchmark="split-mnist", strategy="er").to_dict()
    assert not {"online", "boundaries", "blurry", "anytime_every", "prequential"} & set(
        identity(plain)
    )
    assert identity({**plain, "online": True})["online"] is True


# ------------------------------------------------------------------------------------ what the learner is told
def _spy_run(boundaries: str, **changes):
    calls: dict[str, list] = {"before": [], "after": [], "ids": [], "seen": [], "mask": []}
    original_loss = Naive.loss

    def loss(self, batch):
        calls["ids"].append(batch.task_ids.clone())
        calls["seen"].append(self.context.tasks_seen)
        mask = self.output_mask(None)
        calls["mask"].append(None if mask is None else mask.clone())
        return original_loss(self, batch)

    with (
        mock.patch.object(Naive, "before_task", lambda s, t: calls["before"].append(t)),
        mock.patch.object(Naive, "after_task", lambda s, t: calls["after"].append(t.index)),
        mock.patch.object(Naive, "loss", loss),
    ):
        config = RunConfig.of(**{**TINY, "strategy": "naive", "boundaries": boundaries, **changes})
        result = run(config, write=False)
    return calls, result


@pytest.mark.parametrize("boundaries", ["hidden", "blurry", "gradual"])
def test_task_free_learner_is_told_no_task_id_and_no_boundary(boundaries):
    blur = 0.5 if boundaries == "blurry" else 0.0
    drift = 1.0 if boundaries == "gradual" else 0.0
    calls, result = _spy_run(boundaries, blurry=blur, drift=drift)
    assert len(calls["before"]) == 1
    assert calls["before"][0].classes == () and len(calls["before"][0].train_indices) == 0
    assert calls["after"] == []
    assert all(int(ids.abs().sum()) == 0 for ids in calls["ids"])
    assert set(calls["seen"]) == {1}
    # the class mask grows with the labels observed, never ahead of them
    masks = torch.stack(calls["mask"]).int()
    assert (masks[1:] >= masks[:-1]).all() and masks[-1].all()
    assert len(result.accuracy_matrix) == 5  # the evaluator still records rows


def test_gradual_drift_on_permuted_digits_leaks_no_task_to_the_learner():
    # domain-incremental: batches mixing two permutations are transformed per sample
    calls, result = _spy_run(
        "gradual", drift=1.0, benchmark="permuted-digits", setting="domain", tasks=3
    )
    assert len(calls["before"]) == 1 and calls["after"] == []
    assert all(int(ids.abs().sum()) == 0 for ids in calls["ids"]) and set(calls["seen"]) == {1}
    assert len(result.accuracy_matrix) == 3
    tested = result.metrics["online"]["online_tested"]
    assert tested == result.metrics["online"]["samples"] == 120


def test_known_boundaries_are_told_at_each_task():
    calls, _ = _spy_run("known")
    assert [t.index for t in calls["before"]] == [0, 1, 2, 3, 4]
    assert calls["after"] == [0, 1, 2, 3, 4]
    assert sorted({int(ids[0]) for ids in calls["ids"]}) == [0, 1, 2, 3, 4]
    assert calls["seen"] == [t for t in range(1, 6) for _ in range(4)]


def test_strategies_needing_boundaries_refuse_task_free_streams():
    with pytest.raises(UnsupportedSettingError, match="'ewc' needs task boundaries"):
        run(RunConfig.of(**{**TINY, "strategy": "ewc", "boundaries": "hidden"}), write=False)
    with pytest.raises(UnsupportedSettingError, match="'joint'"):
        run(RunConfig.of(**{**TINY, "strategy": "joint"}), write=False)
    with pytest.raises(ConfigError, match="task-incremental"):
        run(
            RunConfig.of(**{**TINY, "strategy": "er", "boundaries": "hidden", "setting": "task"}),
            write=False,
        )


# ------------------------------------------------------------------------------------ metrics
def test_anytime_metrics_hand_computed():
    A = [[0.8, 0.0, 0.0], [0.6, 0.9, 0.1], [0.5, 0.7, 0.9]]
    appeared = [1, 2, 3]
    assert M.anytime_accuracy(A, appeared) == pytest.approx([0.8, 0.75, 0.7])
    # (0.8 * 100 + 0.75 * 100 + 0.7 * 200) / 400
    assert M.area_under_anytime_curve([100, 200, 400], [0.8, 0.75, 0.7]) == pytest.approx(0.7375)
    # task 0: best 0.8 -> 0.5; task 1: best 0.9 -> 0.7 (points where it has appeared)
    assert M.anytime_forgetting(A, appeared) == pytest.approx([0.3, 0.2])
    assert M.online_accuracy(3, 4) == 0.75 and M.online_accuracy(0, 0) is None
    cost = M.compute_cost(samples=100, seconds=4.0, forward=300, backward=200)
    assert cost == {
        "samples_per_second": 25.0,
        "forward_per_sample": 3.0,
        "backward_per_sample": 2.0,
    }
    with pytest.raises(ValueError):
        M.area_under_anytime_curve([200, 100], [0.5, 0.5])


def test_class_forgetting_hand_computed():
    # 3 points, 4 classes; classes 2, 3 come with the second (last) task at point 2
    C = [[0.9, 0.7, None, None], [0.6, 0.8, None, None], [0.5, 0.8, 1.0, 0.4]]
    assert M.anytime_class_forgetting(C) == pytest.approx([0.4, 0.0, 0.0, 0.0])
    # the classes of the last task (2, 3) are left out of the mean: (0.4 + 0.0) / 2
    assert M.average_class_forgetting(C, [1, 1, 2], 2) == pytest.approx(0.2)
    assert M.anytime_class_forgetting([[0.5, None]]) == [0.0, None]
    assert M.average_class_forgetting([[0.5]], [1], 1) is None


def test_class_counts_add_up_to_task_accuracies(scenario):
    def predict(x, ids):  # predicts unit 0 or 1 from the first pixel: right on some samples
        return torch.stack([x.flatten(1)[:, 0], 0.5 * torch.ones(len(x))], 1)

    tasks = [0, 1]
    sets = [scenario[t].eval_indices[:50] for t in tasks]
    correct, total = class_counts(predict, scenario, tasks, sets, 16)
    accuracies = task_accuracies(predict, scenario, tasks, sets, 16)
    assert correct.shape == total.shape == (2, scenario.num_outputs)
    assert total.sum(1).tolist() == [50, 50]
    assert (correct.sum(1) / 50).tolist() == pytest.approx(accuracies)
    # only units 0 and 1 are ever predicted, so only their classes can be right
    assert int(correct[:, 2:].sum()) == 0 and int(correct.sum()) > 0
    _, y = next(scenario.eval_batches([(0, sets[0])]))
    assert total[0].tolist() == torch.bincount(y, minlength=scenario.num_outputs).tolist()


def test_online_run_writes_metrics_and_counts_passes(tmp_path):
    config = RunConfig.of(**{**TINY, "strategy": "naive", "out": str(tmp_path / "run")})
    run(config)
    online = json.loads((tmp_path / "run" / "metrics.json").read_text())["online"]
    assert online["samples"] == 200 and online["online_tested"] == 200
    # plain fine-tuning: one forward and one backward per sample (prequential tests are not counted)
    assert online["forward_per_sample"] == 1.0 and online["backward_per_sample"] == 1.0
    assert online["anytime"]["samples"] == list(range(20, 201, 20))
    assert online["anytime_auc"] == pytest.approx(
        M.area_under_anytime_curve(online["anytime"]["samples"], online["anytime"]["average"])
    )
    assert 0 <= online["online_accuracy"] <= 1
    classes = online["anytime"]["class_accuracy"]
    assert len(classes) == len(online["anytime"]["samples"])
    # class-incremental split-digits: classes 2k, 2k+1 come with task k (two points per task)
    assert [sum(v is not None for v in row) for row in classes] == [2, 2, 4, 4, 6, 6, 8, 8, 10, 10]
    assert online["class_forgetting"] == pytest.approx(M.anytime_class_forgetting(classes))
    assert online["average_class_forgetting"] == pytest.approx(
        sum(online["class_forgetting"][:8]) / 8
    )
    er = run(
        config.replace(
            strategy="er", strategy_params={"buffer_size": 100, "replay_batch_size": 5}, out=None
        ),
        write=False,
    ).metrics["online"]
    # 20 batches of 10, each with 5 replayed examples except the first (empty memory)
    assert er["forward_per_sample"] == pytest.approx((200 + 19 * 5) / 200)


# ------------------------------------------------------------------------------------ methods
def test_greedy_balanced_memory_follows_gdumb_rule():
    buffer = ReplayBuffer(4, (1,), 3)
    g = torch.Generator().manual_seed(0)

    def add(labels):
        y = torch.tensor(labels)
        buffer.add_greedy_balanced(y[:, None].float(), y, torch.zeros_like(y), g)
        return sorted(buffer.y[: len(buffer)].tolist())

    assert add([0, 0, 0, 0]) == [0, 0, 0, 0]
    assert add([1, 1]) == [0, 0, 1, 1]  # quota 4/2: class 1 enters, evicting the largest class
    assert add([2, 2, 2]) == [0, 1, 2, 2]  # quota 4/3: two enter, one from each largest class
    assert add([0, 0]) == [0, 0, 1, 2]  # one 0 enters (1 < 4/3), the second not (2 >= 4/3)
    assert len(buffer) == 4


def test_greedy_memory_keyed_by_task_and_class_admits_later_domains():
    """On a domain stream (every class in every task) the paper's class-balanced memory keeps only
    the first task; keyed by (task, class) it keeps capacity / (tasks seen x classes) of each."""

    def stream(task_stride: int) -> list[tuple[int, int]]:
        buffer = ReplayBuffer(8, (1,), 2, num_keys=2 * 2)
        g = torch.Generator().manual_seed(0)
        for task in (0, 1):
            y = torch.tensor([0, 1] * 6)
            buffer.add_greedy_balanced(
                y[:, None].float(), y, torch.full_like(y, task), g, task_stride
            )
        stored = len(buffer)
        pairs = zip(buffer.task_ids[:stored].tolist(), buffer.y[:stored].tolist(), strict=True)
        return sorted(pairs)

    assert stream(0) == [(0, 0)] * 4 + [(0, 1)] * 4  # the paper's rule: task 1 never enters
    assert stream(2) == [(0, 0)] * 2 + [(0, 1)] * 2 + [(1, 0)] * 2 + [(1, 1)] * 2


def test_gdumb_task_class_balance_refuses_a_task_free_stream(tmp_path):
    config = RunConfig.of(
        benchmark="permuted-digits",
        tasks=2,
        strategy="gdumb",
        strategy_params={"balance": "task-class", "buffer_size": 50, "epochs": 1},
        online=True,
        boundaries="hidden",
        out=str(tmp_path / "run"),
        threads=1,
    )
    with pytest.raises(ConfigError, match="balance=task-class needs task ids"):
        run(config, write=False)


def test_asymmetric_cross_entropy_normalises_over_present_classes():
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    masked = present_class_logits(logits, torch.tensor([1, 3]))
    loss = torch.nn.functional.cross_entropy(masked, torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + math.exp(4))))


def test_mir_replays_the_most_interfered_candidates():
    config = resolve(
        RunConfig.of(
            **{**TINY, "strategy": "mir", "setting": "class"},
            strategy_params={"buffer_size": 30, "replay_batch_size": 4, "candidates": 30},
        )
    )
    from lifelong.core.runner import build_run_scenario as scenario_of
    from lifelong.core.runner import build_strategy

    scenario = scenario_of(config)
    mir = build_strategy(config, scenario, torch.device("cpu"))
    mir.context.tasks_seen = 2
    for t in (0, 1):
        idx = scenario[t].train_indices[:15]
        x, y = scenario.train_batch(torch.full_like(idx, t), idx)
        mir.buffer.append(x, y, torch.full_like(y, t))
    idx = scenario[1].train_indices[20:30]
    ids = torch.ones_like(idx)
    x, y = scenario.train_batch(ids, idx)
    batch = Batch(x, y, ids)
    chosen = {}
    original = mir.classification_loss

    def spy(b):
        if len(b) == 4:
            chosen["x"] = b.x
        return original(b)

    mir.classification_loss = spy  # type: ignore[method-assign]
    mir.loss(batch)
    # brute force: the loss increase of every stored example after the virtual SGD step
    memory = mir.buffer.get(torch.arange(30))
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(
            mir.masked_logits(mir(memory.x), None), memory.y, reduction="none"
        )
    params = [p for p in mir.model.parameters()]
    grads = torch.autograd.grad(original(batch), params)
    with torch.no_grad():
        for p, g_ in zip(params, grads, strict=True):
            p -= 0.1 * g_
        after = torch.nn.functional.cross_entropy(
            mir.masked_logits(mir(memory.x), None), memory.y, reduction="none"
        )
    top = torch.topk(after - before, 4).indices
    expected = memory.x[top]
    assert sorted(map(tuple, chosen["x"].flatten(1).tolist())) == sorted(
        map(tuple, expected.flatten(1).tolist())
    )


# ------------------------------------------------------------------------------------ command line
def test_cli_runs_a_blurry_task_free_stream(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        ["run", "-b", "split-digits", "--online", "--batch-size", "10", "--boundaries", "blurry",
         "--blurry", "0.1", "-s", "er-ace", "--hidden", "16", "--train-samples-per-task", "30",
         "--threads", "1", "--quiet", "-o", str(out)]
    )  # fmt: skip
    assert code in (0, None)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["boundaries"] == "blurry" and metrics["online"]["samples"] == 150
    assert main(["run", "--boundaries", "hidden", "--quiet"]) == 2
    assert "needs --online" in capsys.readouterr().err


def test_comparison_report_plots_online_runs_with_seed_bands(tmp_path):
    from lifelong.report.build import _online_figures

    def record(strategy, curve, auc):
        online = {
            "anytime": {"samples": [10, 20, 30], "average": curve},
            "anytime_auc": auc,
            "forward_per_sample": 2.0,
            "backward_per_sample": 2.0,
        }
        return {"strategy": strategy, "metrics": {"online": online}}

    finished = [
        record("er", [0.9, 0.6, 0.5], 0.66),
        record("er", [0.7, 0.6, 0.5], 0.6),
        {"strategy": "ewc", "metrics": {"average_accuracy": 0.5}},  # an offline run: not plotted
    ]
    figures = _online_figures(finished, ["er", "ewc"], tmp_path)
    assert [p.name for p, _ in figures] == ["anytime.png", "online_cost.png"]
    assert all(p.stat().st_size > 0 for p, _ in figures)
    assert _online_figures(finished[2:], ["ewc"], tmp_path) == []
    assert not (tmp_path / "anytime.png").exists()  # stale figures are removed
