"""The training step does not read tensors on the host (issue 15): losses are checked and reported in
groups, still in order, divergence still names its exact iteration, and bf16 autocast is optional."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.core import learner as learner_module
from lifelong.core.events import Observer
from lifelong.core.identity import fingerprint
from lifelong.errors import DivergenceError
from lifelong.strategies.naive import Naive

# Tensor methods that copy a value to the host (a synchronization on a GPU).
HOST_READS = ("item", "tolist", "__float__", "__int__", "__bool__", "cpu", "numpy")


class Recorder(Observer):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def iteration_done(self, task: int, iteration: int, global_iteration: int, loss: float) -> None:
        self.events.append(("loss", task, iteration, global_iteration, loss))

    def evaluated(self, global_iteration: int, task: int, accuracies: Any) -> None:
        self.events.append(("curve", global_iteration))

    def task_done(self, task: int, accuracies: Any) -> None:
        self.events.append(("task", task))


def test_losses_reach_observers_once_each_in_order_before_later_events(tiny_config):
    recorder = Recorder()
    run(tiny_config(iterations=120, eval_every=45), observers=[recorder], write=False)
    losses = [e for e in recorder.events if e[0] == "loss"]
    assert [e[3] for e in losses] == list(range(1, 5 * 120 + 1))
    assert [e[2] for e in losses[:120]] == list(range(1, 121))
    assert all(math.isfinite(e[4]) for e in losses)
    reported = 0
    for event in recorder.events:
        if event[0] == "loss":
            reported = event[3]
        elif event[0] == "curve":
            assert reported == event[1]  # every loss up to the curve point was reported before it
        else:
            assert reported == 120 * (event[1] + 1)  # and every loss of a task before its end


def test_divergence_names_the_exact_iteration_although_losses_are_read_in_groups(
    tiny_config, monkeypatch
):
    original = Naive.loss
    calls = [0]

    def loss(self, batch):  # type: ignore[no-untyped-def]
        calls[0] += 1
        value = original(self, batch)
        return value * float("nan") if calls[0] == 20 + 7 + 1 else value  # task 1, iteration 7

    monkeypatch.setattr(Naive, "loss", loss)
    with pytest.raises(DivergenceError, match=r"loss is nan at task 1, iteration 7;"):
        run(tiny_config(iterations=20), write=False)


def test_training_steps_do_not_read_tensors_on_the_host(tiny_config, monkeypatch):
    """Count host reads during training only (evaluation reads its counts, once per batch).

    Reads inside ``torch.optim`` are not counted: the optimizers keep their step counters on the
    host on purpose (``Adam(capturable=False)``), so those reads never wait for a GPU."""
    counts = {"reads": 0, "steps": 0}
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            caller = sys._getframe(1).f_code.co_filename
            if f"torch{os.sep}optim{os.sep}" not in caller:
                counts["reads"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    step = learner_module.Learner._train_step
    during_steps = [0]

    def counted_step(self, batch):  # type: ignore[no-untyped-def]
        before = counts["reads"]
        result = step(self, batch)
        during_steps[0] += counts["reads"] - before
        counts["steps"] += 1
        return result

    monkeypatch.setattr(learner_module.Learner, "_train_step", counted_step)
    run(tiny_config(iterations=200, tasks=2), write=False)
    assert counts["steps"] == 400
    assert during_steps[0] == 0
    # outside the steps: the grouped loss reads and the evaluations, far fewer than the steps
    assert counts["reads"] < 400 / 4


def test_bf16_autocast_trains_and_is_outside_the_fingerprint_at_fp32(tiny_config):
    fp32 = run(tiny_config(iterations=60), write=False)
    bf16 = run(tiny_config(iterations=60, precision="bf16"), write=False)
    assert bf16.accuracy_matrix[0][0] > 0.9  # task 0 (two digits) is learned under bf16 too
    weights = [
        (p.detach(), q.detach())
        for p, q in zip(fp32.model.parameters(), bf16.model.parameters(), strict=True)
    ]
    assert all(q.dtype == torch.float32 for _, q in weights)  # the weights stay in float32
    assert not all(torch.equal(p, q) for p, q in weights)  # but the computation differs
    base = RunConfig().to_dict()
    assert fingerprint(base) == fingerprint({k: v for k, v in base.items() if k != "precision"})
    assert fingerprint(base) != fingerprint({**base, "precision": "bf16"})


def test_curve_points_evaluate_the_tasks_trained_so_far_and_task_ends_all(tiny_config):
    curve = run(tiny_config(iterations=20, eval_every=5), write=False).metrics["curve"]
    assert len(curve["iterations"]) == 5 * 4  # 3 points within each task + its end
    for k, (iteration, row) in enumerate(zip(curve["iterations"], curve["accuracy"], strict=True)):
        task, at_end = divmod(k, 4)
        trained = 5 if at_end == 3 else task + 1
        assert iteration == 20 * task + 5 * (at_end + 1)
        assert all(v is not None for v in row[:trained]) and row[trained:] == [None] * (5 - trained)


def test_no_plot_skips_only_the_figure_and_keeps_the_identity(tiny_config, tmp_path):
    plotted = run(tiny_config(out=str(tmp_path / "a"))).metrics
    bare = run(tiny_config(out=str(tmp_path / "b"), plot=False)).metrics
    assert (tmp_path / "a" / "curves.png").is_file()
    assert not (tmp_path / "b" / "curves.png").exists()
    assert (tmp_path / "b" / "metrics.json").is_file() and (tmp_path / "b" / "log.csv").is_file()
    assert bare["fingerprint"] == plotted["fingerprint"]
    assert bare["accuracy_matrix"] == plotted["accuracy_matrix"]
