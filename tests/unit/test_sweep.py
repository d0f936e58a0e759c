"""Sweeps: search spaces, the leak-free selection protocols, failure capture, resume."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from lifelong import metrics as M
from lifelong.errors import ConfigError, LifelongError
from lifelong.experiments.sweep import (
    StrategySearch,
    candidates,
    evaluation_trials,
    local_backend,
    reported_metrics,
    run_sweep,
    select,
    sweep_from_mapping,
    tuning_trials,
)

TINY_RUN = {"iterations": 20, "batch_size": 32, "hidden": [32], "eval_every": 0}


def tiny_sweep(**changes):
    data = {
        "name": "tiny",
        "benchmark": "split-digits",
        "setting": "class",
        "run": dict(TINY_RUN),
        "seeds": {"tuning": [0], "evaluation": [1, 2]},
        "protocol": {"name": "validation", "validation_fraction": 0.2},
        "strategies": {"naive": {"space": {"lr": [0.001, 0.01]}}},
    }
    data.update(changes)
    return sweep_from_mapping(data)


class CountingBackend:
    """The local backend in this process (jobs=1), remembering which trials it was asked to run."""

    def __init__(self):
        self.inner = local_backend(1, 1)
        self.keys: list[str] = []

    def __call__(self, trials, on_result):
        self.keys += [key for key, _ in trials]
        return self.inner(trials, on_result)


# ----------------------------------------------------------------------------- search spaces
def test_grid_is_the_cartesian_product_in_order():
    search = StrategySearch("naive", "grid", {"lr": [0.1, 0.01], "batch_size": [16, 32], "x": 3})
    assert candidates(search) == [
        {"lr": 0.1, "batch_size": 16, "x": 3},
        {"lr": 0.1, "batch_size": 32, "x": 3},
        {"lr": 0.01, "batch_size": 16, "x": 3},
        {"lr": 0.01, "batch_size": 32, "x": 3},
    ]


def test_random_search_is_seeded_and_respects_distributions():
    space = {
        "lr": {"log_uniform": [1e-4, 1e-1]},
        "batch_size": {"int_uniform": [8, 12]},
        "optimizer": ["adam", "sgd"],
        "m": {"uniform": [0.0, 0.5]},
        "n": {"int_log_uniform": [1, 1000]},
    }
    first = candidates(StrategySearch("naive", "random", space, samples=200, seed=5))
    assert first == candidates(StrategySearch("naive", "random", space, samples=200, seed=5))
    assert first != candidates(StrategySearch("naive", "random", space, samples=200, seed=6))
    lrs = np.array([c["lr"] for c in first])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    # log-uniform: about a third of the draws in each decade
    assert 40 < np.sum(lrs < 1e-3) < 95 and 40 < np.sum(lrs > 1e-2) < 95
    assert {c["batch_size"] for c in first} == {8, 9, 10, 11, 12}
    assert {c["optimizer"] for c in first} == {"adam", "sgd"}
    assert all(0.0 <= c["m"] <= 0.5 for c in first)
    ns = [c["n"] for c in first]
    assert all(isinstance(n, int) and 1 <= n <= 1000 for n in ns) and min(ns) < 10 < 100 < max(ns)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"seeds": {"tuning": [0, 1], "evaluation": [1, 2]}},
            "both a tuning and an evaluation seed",
        ),
        ({"strategies": {"naive": {"space": {"strength": [1.0]}}}}, "unknown key 'strength'"),
        ({"strategies": {"nope": {"space": {}}}}, "unknown strategy 'nope'"),
        ({"strategies": {"naive": {"space": {"seed": [1, 2]}}}}, "'seed' cannot be searched"),
        (
            {"strategies": {"naive": {"space": {"lr": {"log_uniform": [0, 1]}}, "samples": 2}}},
            "needs low > 0",
        ),
        (
            {"strategies": {"naive": {"space": {"lr": {"gauss": [0, 1]}}, "samples": 2}}},
            "expected one of",
        ),
        (
            {"strategies": {"naive": {"space": {"lr": {"uniform": [0.1, 1]}}}}},
            "need search: random",
        ),
        ({"strategies": {"naive": {"space": {"lr": ["fast"]}}}}, "lr: expected a number"),
        ({"protocol": {"name": "first-tasks"}}, "needs tasks"),
        ({"protocol": {"name": "first-tasks", "tasks": 5}}, "leaves no task to report"),
        ({"run": {**TINY_RUN, "seed": 3}}, "'seed' is chosen by the sweep"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"protocol": {"metric": "speed"}}, "metric must be one of"),
        ({"benchmark": "wordnet-domains"}, "language-modelling stream and lifelong sweep ranks"),
    ],
)
def test_bad_sweep_files_fail_before_training(change, message, tmp_path):
    with pytest.raises(LifelongError, match=message):
        spec = tiny_sweep(**change)
        tuning_trials(spec, tmp_path, 1)


# ----------------------------------------------------------------------------- protocols
def test_validation_protocol_tunes_on_validation_and_evaluates_on_fresh_seeds(tmp_path):
    spec = tiny_sweep()
    tuning = tuning_trials(spec, tmp_path, 1)
    assert [(t.config.data.evaluate_on, t.config.data.validation_fraction) for t in tuning] == [
        ("validation", 0.2)
    ] * 2
    assert [t.config.training.lr for t in tuning] == [0.001, 0.01]
    final = evaluation_trials(spec, tmp_path, 1, {"naive": (1, {"lr": 0.01})})
    assert [(t.config.data.evaluate_on, t.config.seed, t.config.training.lr) for t in final] == [
        ("test", 1, 0.01),
        ("test", 2, 0.01),
    ]
    assert {t.config.seed for t in tuning}.isdisjoint({t.config.seed for t in final})


def test_first_tasks_protocol_tunes_on_the_prefix_of_the_same_stream(tmp_path):
    spec = tiny_sweep(protocol={"name": "first-tasks", "tasks": 2})
    tuning = tuning_trials(spec, tmp_path, 1)
    final = evaluation_trials(spec, tmp_path, 1, {"naive": (0, {"lr": 0.001})})
    assert all(
        t.config.data.first_tasks == 2 and t.config.data.evaluate_on == "test" for t in tuning
    )
    assert all(t.config.data.first_tasks is None and t.config.data.tasks == 5 for t in final)
    # one scenario seed everywhere: the tuning tasks are the first tasks of every final stream
    assert {t.config.resolved_scenario_seed for t in tuning + final} == {0}


def test_first_tasks_metrics_use_only_the_remaining_tasks():
    R = [[0.9, 0.1, 0.0], [0.5, 0.8, 0.2], [0.4, 0.6, 0.7]]
    metrics = {"accuracy_matrix": R, "initial_accuracy": [0.1, 0.2, 0.3]}
    protocol = tiny_sweep(protocol={"name": "first-tasks", "tasks": 1}).protocol
    got = reported_metrics(metrics, protocol)
    assert got["average_accuracy"] == pytest.approx((0.6 + 0.7) / 2)
    assert got["average_forgetting"] == pytest.approx(0.8 - 0.6)
    assert got["backward_transfer"] == pytest.approx(0.6 - 0.8)
    assert got["forward_transfer"] == pytest.approx(0.2 - 0.3)  # R[1][2] - b[2]
    assert got["average_accuracy"] != pytest.approx(M.average_accuracy(R))


def test_selection_skips_failed_candidates_and_averages_tuning_seeds(tmp_path):
    from lifelong.experiments.executor import TrialOutcome

    spec = tiny_sweep(
        seeds={"tuning": [0, 5], "evaluation": [1]},
        strategies={"naive": {"space": {"lr": [0.001, 0.01, 0.1]}}},
    )
    trials = tuning_trials(spec, tmp_path, 1)
    scores = {(0, 0): 0.5, (0, 5): 0.7, (1, 0): 0.9, (1, 5): None, (2, 0): 0.62, (2, 5): 0.61}
    outcomes = {}
    for t in trials:
        value = scores[(t.candidate, t.seed)]
        status = "failed" if value is None else "done"
        metrics = None if value is None else {"average_accuracy": value}
        outcomes[t.config.out] = TrialOutcome(t.config.out, status, {}, metrics, error="boom")
    chosen = select(trials, outcomes, spec.protocol)["naive"]
    assert chosen["candidate"] == 2 and chosen["score"] == pytest.approx(0.615)
    assert chosen["failed"] == 1 and chosen["candidates"] == 3
    minimise = replace(spec.protocol, metric="average_accuracy", mode="min")
    assert select(trials, outcomes, minimise)["naive"]["candidate"] == 0


def test_first_tasks_run_trains_exactly_the_prefix(tiny_config):
    from lifelong.core.runner import run
    from lifelong.data.scenarios import build_scenario

    full = build_scenario("split-digits", "task", num_tasks=5, seed=0)
    prefix = full.first(2)
    assert [t.dataset_classes for t in prefix] == [(0, 1), (2, 3)]
    assert prefix.num_outputs == full.num_outputs
    assert all(
        a.train_indices.equal(b.train_indices) for a, b in zip(prefix, full[:2], strict=True)
    )
    result = run(tiny_config(setting="task", first_tasks=2), write=False)
    assert np.asarray(result.accuracy_matrix).shape == (2, 2)
    assert result.metrics["scenario"]["classes"] == [[0, 1], [2, 3]]
    with pytest.raises(ConfigError, match="between 1 and 5"):
        full.first(6)


# ----------------------------------------------------------------------------- end to end
def test_twenty_trial_sweep_records_failures_and_resumes(tmp_path):
    """9 candidates x 2 tuning seeds + 2 evaluation seeds = 20 trials; one candidate diverges."""
    spec = tiny_sweep(
        seeds={"tuning": [0, 1], "evaluation": [10, 11]},
        strategies={
            "naive": {
                "space": {"optimizer": "sgd", "lr": [1e12, 0.01, 0.1], "batch_size": [8, 16, 64]}
            }
        },
    )
    first = CountingBackend()
    result = run_sweep(spec, tmp_path, backend=first)
    assert len(first.keys) == 9 * 2 + 2
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert len(rows) == 20 and len({r["folder"] for r in rows}) == 20
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 6 and all("diverged" in r["error"] for r in failed)
    assert {r["params"].split(", ")[1] for r in failed} == {"lr=1e+12"}
    board = json.loads((tmp_path / "results.json").read_text())
    assert board["protocol"]["name"] == "validation"
    entry = board["leaderboard"][0]
    assert entry["params"]["lr"] != 1e12 and entry["evaluation_seeds"] == [10, 11]
    tuning_rows = [r for r in rows if r["stage"] == "tuning" and r["status"] == "ok"]
    best = max(tuning_rows, key=lambda r: float(r["score"]))
    assert entry["params"]["lr"] == pytest.approx(
        float(best["params"].split("lr=")[1].split(",")[0])
    )
    leaderboard = (tmp_path / "leaderboard.md").read_text()
    assert "Protocol: validation" in leaderboard and "| naive |" in leaderboard

    # a repeated sweep runs nothing (failures included) and writes the same table
    again = CountingBackend()
    run_sweep(spec, tmp_path, backend=again)
    assert again.keys == []
    assert list(csv.DictReader((tmp_path / "trials.csv").open())) == rows

    # an interrupted sweep: two trials never finished; only they run again
    lost = [tmp_path / r["folder"] / "metrics.json" for r in tuning_rows[:1] + rows[-1:]]
    for path in lost:
        path.unlink()
    third = CountingBackend()
    run_sweep(spec, tmp_path, backend=third)
    assert sorted(third.keys) == sorted(str(p.parent) for p in lost)
    assert [r["average_accuracy"] for r in csv.DictReader((tmp_path / "trials.csv").open())] == [
        r["average_accuracy"] for r in rows
    ]
    assert result.leaderboard[0]["params"] == entry["params"]

    # --retry-failed runs exactly the recorded failures again
    fourth = CountingBackend()
    run_sweep(spec, tmp_path, backend=fourth, retry_failed=True)
    assert sorted(fourth.keys) == sorted(str(tmp_path / r["folder"]) for r in failed)

    # a moved results folder is still recognised (the configuration hash ignores the folder)
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    tmp_path.rename(moved)
    fifth = CountingBackend()
    run_sweep(spec, moved, backend=fifth)
    assert fifth.keys == []
