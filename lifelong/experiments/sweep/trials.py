"""The trials of a sweep: one run of a candidate configuration of a strategy at one seed, in the
tuning or the evaluation stage, with its run configuration and results folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lifelong.core.config import RunConfig, run_config_from_mapping
from lifelong.core.fields import check
from lifelong.core.identity import fingerprint
from lifelong.experiments.sweep.space import candidates, split_params
from lifelong.experiments.sweep.spec import StrategySearch, SweepSpec


@dataclass
class Trial:
    """One run of a sweep: a candidate configuration of a strategy at one seed, in one stage."""

    stage: Literal["tuning", "evaluation"]
    strategy: str
    candidate: int
    params: dict[str, Any]
    seed: int
    config: RunConfig


def config_hash(config: RunConfig | dict[str, Any]) -> str:
    """The first 8 hex digits of the run's fingerprint (:mod:`lifelong.core.identity`: output
    folder, threads, device and other settings that do not change results excluded), so a moved
    results folder is still recognised."""
    values = config.to_dict() if isinstance(config, RunConfig) else config
    return fingerprint(values)[:8]


def _make_config(
    spec: SweepSpec,
    search: StrategySearch,
    params: dict[str, Any],
    seed: int,
    stage: str,
    threads: int,
) -> RunConfig:
    from lifelong.core.runner import resolve

    run, strategy = split_params(search, params, spec.name)
    values: dict[str, Any] = {
        **spec.run,
        **run,
        "strategy": search.strategy,
        "strategy_params": strategy,
        "seed": seed,
        "threads": threads,
    }
    protocol = spec.protocol
    if protocol.name == "first-tasks":
        # One scenario for every run, so the tuning tasks are the first k tasks of the final stream.
        values["scenario_seed"] = spec.run.get("scenario_seed", 0)
    if stage == "tuning":
        if protocol.validation_fraction:
            values["validation_fraction"] = protocol.validation_fraction
            values["evaluate_on"] = "validation"
        if protocol.name == "first-tasks":
            values["first_tasks"] = protocol.tasks
    else:
        values["evaluate_on"] = "test"
    values["out"] = "pending"
    config = resolve(run_config_from_mapping(values, where=spec.name))
    if (
        protocol.name == "first-tasks"
        and protocol.tasks is not None
        and config.data.tasks is not None
    ):
        check(
            protocol.tasks < config.data.tasks,
            f"first-tasks protocol: k={protocol.tasks} leaves no task to report out of "
            f"{config.data.tasks}",
        )
    return config


def tuning_trials(spec: SweepSpec, out: Path, threads: int) -> list[Trial]:
    """Every candidate of every strategy at every tuning seed."""
    return [
        _trial(spec, search, index, params, seed, "tuning", threads, out)
        for search in spec.strategies
        for index, params in enumerate(candidates(search))
        for seed in spec.tuning_seeds
    ]


def evaluation_trials(
    spec: SweepSpec, out: Path, threads: int, chosen: dict[str, tuple[int, dict[str, Any]]]
) -> list[Trial]:
    """The chosen candidate of each strategy at every evaluation seed."""
    trials = []
    for search in spec.strategies:
        if search.strategy in chosen:
            index, params = chosen[search.strategy]
            trials += [
                _trial(spec, search, index, params, seed, "evaluation", threads, out)
                for seed in spec.evaluation_seeds
            ]
    return trials


def _trial(
    spec: SweepSpec,
    search: StrategySearch,
    index: int,
    params: dict[str, Any],
    seed: int,
    stage: Literal["tuning", "evaluation"],
    threads: int,
    out: Path,
) -> Trial:
    """A trial whose runs go to ``out/STAGE/STRATEGY/INDEX-HASH/sSEED``."""
    config = _make_config(spec, search, params, seed, stage, threads)
    folder = out / stage / search.strategy / f"{index:03d}-{config_hash(config)}"
    return Trial(
        stage, search.strategy, index, params, seed, config.replace(out=str(folder / f"s{seed}"))
    )


def trial_key(trial: Trial) -> str:
    """The key that identifies a trial to a backend: its results folder."""
    return str(trial.config.out)
