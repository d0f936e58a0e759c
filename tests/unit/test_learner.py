"""The training loop: divergence stops with task and iteration, results are complete and atomic,
budgets and curves follow the configuration, class-incremental masking matches its definition."""

from __future__ import annotations

import json

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.core.config import run_config_from_mapping
from lifelong.errors import ConfigError, DivergenceError


def test_nan_loss_stops_naming_task_and_iteration(tiny_config):
    with pytest.raises(DivergenceError, match=r"task 0, iteration \d+"):
        run(tiny_config(lr=1e30, optimizer="sgd", iterations=50), write=False)


def test_run_writes_complete_results(tiny_config, tmp_path):
    out = tmp_path / "run"
    result = run(tiny_config(out=str(out), eval_every=5))
    metrics = json.loads((out / "metrics.json").read_text())
    for key in [
        "accuracy_matrix",
        "average_accuracy",
        "average_forgetting",
        "max_forgetting",
        "backward_transfer",
        "forward_transfer",
        "train_seconds",
        "config",
    ]:
        assert key in metrics
    assert metrics["accuracy_matrix"] == result.accuracy_matrix
    assert (out / "accuracy_matrix.csv").read_text().count("\n") == 6
    assert (out / "curves.png").stat().st_size > 1000
    assert (out / "config.yaml").is_file() and (out / "log.csv").is_file()
    # no temporary files are left behind by atomic writes
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    # 20 iterations per task, evaluated every 5 (3 intermediate points) + one at each task end
    assert len(metrics["curve"]["iterations"]) == 5 * 4
    assert metrics["curve"]["task_starts"] == [0, 20, 40, 60, 80]


def test_iteration_and_epoch_budgets(tiny_config):
    by_iter = run(tiny_config(iterations=7), write=False).metrics
    assert by_iter["curve"]["task_starts"] == [0, 7, 14, 21, 28]
    by_epoch = run(tiny_config(iterations=None, epochs=2, batch_size=50), write=False).metrics
    sizes = by_epoch["scenario"]["train_sizes"]
    expected = [0]
    for size in sizes[:-1]:
        expected.append(expected[-1] + 2 * -(-size // 50))
    assert by_epoch["curve"]["task_starts"] == expected


def test_cumulative_budget_scales_with_the_data_or_stays_fixed(tiny_config):
    """scaled: task t takes (t+1) tasks' worth; fixed (van de Ven & Tolias' offline): one task's
    worth of steps, in iteration and epoch budgets alike."""
    scaled = run(tiny_config(strategy="cumulative", iterations=7), write=False).metrics
    assert scaled["curve"]["task_starts"] == [0, 7, 21, 42, 70]
    fixed = run(
        tiny_config(strategy="cumulative", iterations=7, strategy_params={"budget": "fixed"}),
        write=False,
    ).metrics
    assert fixed["curve"]["task_starts"] == [0, 7, 14, 21, 28]
    by_epoch = run(
        tiny_config(
            strategy="cumulative",
            iterations=None,
            epochs=2,
            batch_size=50,
            strategy_params={"budget": "fixed"},
        ),
        write=False,
    ).metrics
    naive = run(tiny_config(iterations=None, epochs=2, batch_size=50), write=False).metrics
    assert by_epoch["curve"]["task_starts"] == naive["curve"]["task_starts"]


def test_class_incremental_naive_forgets_and_task_incremental_does_not_predict_other_heads(
    tiny_config,
):
    cls = run(tiny_config(iterations=60, hidden=(64,)), write=False).metrics
    assert cls["average_forgetting"] > 0.8  # naive overwrites earlier classes
    task = run(tiny_config(setting="task", iterations=60, hidden=(64,)), write=False).metrics
    # with the task id, chance is 1/2 per task, and the binary heads stay far above it
    assert task["average_accuracy"] > 0.8


def test_unknown_run_key_and_wrong_type_name_the_key():
    with pytest.raises(ConfigError, match="unknown key 'epoch'"):
        run_config_from_mapping({"epoch": 3})
    with pytest.raises(ConfigError, match="lr: expected a number"):
        run_config_from_mapping({"lr": "fast"})
    with pytest.raises(ConfigError, match="lr: expected a number"):
        run_config_from_mapping({"training": {"lr": "fast"}})
    with pytest.raises(ConfigError, match="epochs or iterations"):
        RunConfig.of(epochs=1, iterations=3)


def test_unknown_strategy_hyperparameter_is_rejected(tiny_config):
    with pytest.raises(ConfigError, match="strategy 'naive': unknown key 'strength'"):
        run(tiny_config(strategy_params={"strength": 1}), write=False)


def test_forward_transfer_uses_random_init_baseline(tiny_config):
    metrics = run(tiny_config(setting="task"), write=False).metrics
    R, b = metrics["accuracy_matrix"], metrics["initial_accuracy"]
    expected = sum(R[j - 1][j] - b[j] for j in range(1, 5)) / 4
    assert metrics["forward_transfer"] == pytest.approx(expected)
    assert all(0.0 <= v <= 1.0 for v in b)


def test_threads_option_is_applied(tiny_config):
    before = torch.get_num_threads()
    try:
        run(tiny_config(threads=1, iterations=2), write=False)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_training_seconds_count_retraining_and_exclude_evaluation(
    tiny_config, monkeypatch, tmp_path
):
    """GDumb learns only in its retraining before each evaluation: that is training time, and
    the evaluations are not (fake clocks: each retraining costs 100 s of wall time and 30 s of
    CPU time, as when another job shares the cores; each evaluation 1000 s and 400 s)."""
    import types

    from lifelong.core import learner as learner_module
    from lifelong.strategies.gdumb import GDumb

    clock, cpu = [0.0], [0.0]
    fake_time = types.SimpleNamespace(perf_counter=lambda: clock[0], process_time=lambda: cpu[0])
    monkeypatch.setattr(learner_module, "time", fake_time)
    retrainings = []
    original_retraining = GDumb.retraining

    def costly_retraining(self):
        for i, batch in enumerate(original_retraining(self)):
            if i == 0:
                clock[0] += 100.0
                cpu[0] += 30.0
                retrainings.append(1)
            yield batch

    original_evaluated = learner_module.Learner._evaluated

    def costly_evaluated(self, predictor, tasks_seen, subsets, tasks, measure):
        def slow_measure(*args):
            clock[0] += 1000.0
            cpu[0] += 400.0
            return measure(*args)

        return original_evaluated(self, predictor, tasks_seen, subsets, tasks, slow_measure)

    monkeypatch.setattr(GDumb, "retraining", costly_retraining)
    monkeypatch.setattr(learner_module.Learner, "_evaluated", costly_evaluated)
    config = tiny_config(
        strategy="gdumb",
        set={"epochs": 1, "buffer_size": 50},
        eval_every=10,
        out=str(tmp_path / "run"),
    )
    result = run(config)
    # per task: before the curve point at iteration 10 and before the task's evaluation (asked
    # twice there, trained once); the evaluations' 1000 s each are left out
    assert len(retrainings) == 10
    assert result.metrics["train_seconds"] == pytest.approx(1000.0)
    assert result.metrics["train_cpu_seconds"] == pytest.approx(300.0)


def test_cpu_seconds_are_unknown_after_resuming_a_checkpoint_that_did_not_count_them(
    tiny_config, tmp_path
):
    """A checkpoint written before offline runs counted CPU time holds none: the resumed run
    reports ``train_cpu_seconds`` as null, not the part after the resume as the whole."""
    from lifelong.core.checkpoint import load_checkpoint

    out = tmp_path / "run"
    config = tiny_config(out=str(out), tasks=2, checkpoint_every=10)
    assert run(config).metrics["train_cpu_seconds"] > 0
    (out / "metrics.json").unlink()
    state = load_checkpoint(out / "checkpoint.pt")
    state["progress"] = {
        k: v for k, v in state["progress"].items() if k not in ("cpu_counted", "train_cpu_seconds")
    }
    torch.save(state, out / "checkpoint.pt")
    assert run(config, resume=True).metrics["train_cpu_seconds"] is None
