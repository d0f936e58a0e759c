"""The comparison configuration: YAML and flags, validation that names the key."""

from __future__ import annotations

import pytest

from lifelong.errors import ConfigError, LifelongError
from lifelong.experiments.compare import (
    compare_config_from_mapping,
    plan_threads,
    resolve_comparison,
)


def test_flat_yaml_form_splits_shared_run_settings_and_per_strategy_params():
    config = compare_config_from_mapping(
        {
            "benchmark": "split-digits",
            "strategies": ["naive", "ewc"],
            "seeds": [1, 2],
            "iterations": "5",
            "hidden": [16],
            "strategy_params": {"ewc": {"strength": 5}},
            "set": {"ewc.fisher_samples": 10},
            "jobs": 1,
            "out": "x",
        }
    )
    assert config.strategies == ("naive", "ewc") and config.seeds == (1, 2)
    assert config.run == {"benchmark": "split-digits", "iterations": 5, "hidden": [16]}
    assert config.strategy_params == {"ewc": {"strength": 5, "fisher_samples": 10}}
    run = config.run_config("ewc", 2)
    assert (run.strategy, run.seed, run.training.iterations) == ("ewc", 2, 5)
    assert run.strategy_params == {"strength": 5, "fisher_samples": 10}
    assert run.out.endswith("runs/ewc-s2")
    # The saved form reads back to the same configuration.
    assert compare_config_from_mapping(config.to_dict()) == config


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"strategies": ["naive"], "iteratons": 5}, "unknown key 'iteratons'"),
        ({"strategies": ["naive"], "seeds": ["a"]}, "seeds: expected an integer, got 'a'"),
        ({"strategies": ["naive"], "iterations": "many"}, "iterations: expected an integer"),
        (
            {"strategies": ["naive"], "seed": 3},
            "'seed' is set per run in a comparison; use 'seeds'",
        ),
        ({"strategies": ["naive"], "strategy": "ewc"}, "use 'strategies'"),
        ({"strategies": ["naive"], "set": {"strength": 1}}, "expected STRATEGY.NAME=VALUE"),
        ({"strategies": [], "seeds": [0]}, "give at least one strategy"),
        ({"strategies": ["naive"], "jobs": 0}, "jobs must be >= 1"),
    ],
)
def test_bad_values_name_the_key(values, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        compare_config_from_mapping(values, where="c.yaml")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"strategies": ["naive", "nope"]}, "unknown strategy 'nope'"),
        (
            {"strategies": ["ewc"], "set": {"ewc.strenght": 1}},
            "strategy 'ewc': unknown key 'strenght'",
        ),
        ({"strategies": ["naive"], "set": {"ewc.strength": 1}}, "'ewc' is not among the compared"),
        ({"strategies": ["naive"], "benchmark": "nope"}, "unknown benchmark 'nope'"),
    ],
)
def test_names_and_hyperparameters_are_checked_before_anything_runs(values, message):
    with pytest.raises(LifelongError, match=message):
        resolve_comparison(compare_config_from_mapping(values))


def test_jobs_times_threads_never_exceeds_the_cores():
    import os

    cores = len(os.sched_getaffinity(0))
    for jobs in (None, 1, 2, 3, 64):
        for threads in (None, 1, 8):
            j, t = plan_threads(jobs, threads)
            assert j >= 1 and t >= 1 and j * t <= cores
    assert plan_threads(1, None) == (1, cores)
