"""Hyperparameter sweeps whose selection never looks at the reported test data.

A sweep file (YAML) names a benchmark and setting, the strategies to tune, a search space per
strategy (a grid, or seeded random samples from distributions), common run settings, tuning and
evaluation seeds, and a selection protocol. :func:`run_sweep` then runs two stages:

1. **Tuning.** Every candidate configuration is trained once per *tuning seed* on data that the
   reported numbers never use, and scored with the protocol's metric (mean over tuning seeds):

   * ``validation``: each task's training data is split (stratified, ``validation_fraction``) into a
     training and a validation part; the tuning runs train on the first and are evaluated on the
     second (``RunConfig.evaluate_on = 'validation'``). No test sample is read.
   * ``first-tasks`` (Chaudhry et al. 2019, "Efficient Lifelong Learning with A-GEM", Sec. 5): the
     tuning runs see only the first ``k`` tasks of the stream (``RunConfig.first_tasks = k``: the
     same tasks, classes, permutations and output units as in the full stream, unlike a stream built
     with ``tasks=k``, which regroups a split benchmark's classes). They are evaluated on those
     ``k`` tasks' test sets (or on their validation split if ``validation_fraction`` > 0). All runs
     use one scenario seed, so the tuning tasks are exactly the first ``k`` tasks of the final
     stream. Those tasks are then excluded from every reported number: the final runs train on the
     whole stream and their metrics are recomputed with :mod:`lifelong.metrics` on the sub-matrix
     ``R[k:, k:]`` (rows: after training tasks k+1..T; columns: tasks k+1..T). Deviation from the
     paper, whose evaluation stream holds only the remaining T - k tasks: here tasks k+1..T are
     learned after the tuning tasks, in the benchmark's full stream, so the model they start from
     has already learned tasks 1..k.

2. **Evaluation.** The best candidate per strategy (ties: the first in the search order) is trained
   on fresh *evaluation seeds* (they must differ from the tuning seeds) with the test sets as the
   evaluation split; only these runs produce the leaderboard. Under ``validation`` the final runs
   train on the full training data (the validation part included) unless the common run settings
   give their own ``validation_fraction``.

Every trial is one ``lifelong run`` in ``OUT/tuning/...`` or ``OUT/evaluation/...``; finished
trials are skipped when a sweep is repeated (so an interrupted sweep resumes), failed trials are
recorded with their error and skipped too unless ``retry_failed``. Results: ``trials.csv`` and
``trials.md`` (every trial), ``leaderboard.md`` and ``results.json`` (protocol, chosen configuration
and test results per strategy), all written atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lifelong import metrics as M
from lifelong.core.config import RunConfig, load_yaml, run_config_from_mapping
from lifelong.core.errors import ConfigError
from lifelong.core.fields import build_config, check, field
from lifelong.core.io import atomic_write_json, atomic_write_text
from lifelong.experiments.executor import TrialOutcome, run_local

# Run settings a sweep decides itself (per stage or per trial); a sweep file may not set them.
_RESERVED = {
    "strategy",
    "strategy_params",
    "set",
    "seed",
    "out",
    "evaluate_on",
    "first_tasks",
    "threads",
}
# Settings that define the stream or the protocol: the same for every candidate.
_UNSEARCHABLE = _RESERVED | {
    "benchmark",
    "scenario",
    "tasks",
    "scenario_seed",
    "validation_fraction",
}
_DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int_uniform", "int_log_uniform")
_REPORTED = ("average_accuracy", "average_forgetting", "backward_transfer")
METRICS = (*_REPORTED, "max_forgetting", "forward_transfer")


@dataclass(frozen=True)
class Protocol:
    """How hyperparameters are selected without touching the reported test data."""

    name: Literal["validation", "first-tasks"] = field(
        "validation", "validation: held-out training data; first-tasks: tune on the first k tasks"
    )
    validation_fraction: float | None = field(
        None,
        "fraction of each task's training data held out (default 0.1 for validation, "
        "0 for first-tasks: evaluate on the tuning tasks' test sets)",
    )
    tasks: int | None = field(None, "first-tasks: k, the number of tuning tasks")
    metric: str = field("average_accuracy", "metrics.json key that scores a candidate")
    mode: Literal["max", "min"] | None = field(None, "max or min (default: min for forgetting)")

    def __post_init__(self) -> None:
        if self.validation_fraction is None:
            default = 0.1 if self.name == "validation" else 0.0
            object.__setattr__(self, "validation_fraction", default)
        if self.mode is None:
            object.__setattr__(self, "mode", "min" if "forgetting" in self.metric else "max")
        fraction = self.validation_fraction or 0.0
        check(self.metric in METRICS, f"protocol metric must be one of {', '.join(METRICS)}")
        check(0.0 <= fraction < 1.0, "protocol validation_fraction must be in [0, 1)")
        check(
            self.name != "validation" or fraction > 0,
            "the validation protocol needs a validation_fraction > 0",
        )
        check(
            self.name != "first-tasks" or (self.tasks is not None and self.tasks >= 1),
            "the first-tasks protocol needs tasks: k (>= 1)",
        )
        check(
            self.name == "first-tasks" or self.tasks is None,
            "protocol tasks is only used by the first-tasks protocol",
        )

    def tuning_split(self) -> str:
        """What the tuning runs are evaluated on, e.g. 'validation, tasks 1-2'."""
        split = "validation" if self.validation_fraction else "test"
        return f"{split}, tasks 1-{self.tasks}" if self.name == "first-tasks" else split

    def describe(self) -> str:
        """One sentence for the leaderboard."""
        split = (
            f"a validation split ({self.validation_fraction:g} of each task's training data)"
            if self.validation_fraction
            else "their test sets"
        )
        if self.name == "validation":
            return (
                f"Selection on {split}, scored by {self.metric} ({self.mode}); test sets used "
                "only by the final runs of the chosen configurations on the evaluation seeds."
            )
        return (
            f"Selection on the first {self.tasks} task(s) (Chaudhry et al. 2019), evaluated on "
            f"{split}, scored by {self.metric} ({self.mode}); reported metrics recomputed on the "
            f"accuracy sub-matrix of tasks {self.tasks + 1 if self.tasks else '?'}..T, so the "
            "tuning tasks never enter them."
        )


@dataclass(frozen=True)
class StrategySearch:
    """The search space of one strategy: ``space`` maps a key to a value list or a distribution."""

    strategy: str
    search: Literal["grid", "random"] = "grid"
    space: dict | None = None
    samples: int = 10
    seed: int = 0
    params: dict | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file."""

    name: str
    run: dict[str, Any]
    strategies: tuple[StrategySearch, ...]
    tuning_seeds: tuple[int, ...]
    evaluation_seeds: tuple[int, ...]
    protocol: Protocol
    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass
class Trial:
    """One run of a sweep: a candidate configuration of a strategy at one seed, in one stage."""

    stage: Literal["tuning", "evaluation"]
    strategy: str
    candidate: int
    params: dict[str, Any]
    seed: int
    config: RunConfig


# ---------------------------------------------------------------------------------- sweep files
def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (see :func:`sweep_from_mapping`)."""
    data = load_yaml(path)
    data.setdefault("name", Path(path).stem)
    return sweep_from_mapping(data, where=str(path))


def sweep_from_mapping(data: dict[str, Any], *, where: str = "sweep") -> SweepSpec:
    """Validate a sweep mapping: top-level keys name, benchmark, scenario, run, strategies, seeds,
    protocol, resources. Every candidate's run and strategy configuration is checked here, so a typo
    fails before any training."""
    data = dict(data)
    known = {"name", "benchmark", "scenario", "run", "strategies", "seeds", "protocol", "resources"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'; valid: {', '.join(sorted(known))}")
    run = dict(_mapping(data.get("run"), f"{where}: run"))
    for key in ("benchmark", "scenario"):
        if data.get(key) is not None:
            run[key] = data[key]
    bad = sorted(_RESERVED & set(run))
    if bad:
        raise ConfigError(
            f"{where}: run setting '{bad[0]}' is chosen by the sweep and cannot be set"
        )
    run_config_from_mapping(run, where=f"{where}: run")  # validates the common settings
    seeds = _mapping(data.get("seeds"), f"{where}: seeds")
    tuning = _seeds(seeds.get("tuning", [0]), f"{where}: seeds.tuning")
    evaluation = _seeds(seeds.get("evaluation", [1, 2, 3]), f"{where}: seeds.evaluation")
    shared = sorted(set(tuning) & set(evaluation))
    if shared:
        raise ConfigError(
            f"{where}: seed {shared[0]} is both a tuning and an evaluation seed; "
            "evaluation seeds must be fresh"
        )
    protocol = build_config(
        Protocol, _mapping(data.get("protocol"), "protocol"), where=f"{where}: protocol"
    )
    resources = _mapping(data.get("resources"), f"{where}: resources")
    extra = sorted(set(resources) - {"num_cpus", "num_gpus"})
    if extra:
        raise ConfigError(f"{where}: unknown resource '{extra[0]}'; valid: num_cpus, num_gpus")
    strategies = data.get("strategies")
    if not isinstance(strategies, dict) or not strategies:
        raise ConfigError(f"{where}: strategies must map at least one strategy name to its search")
    searches = []
    for name, body in strategies.items():
        body = dict(_mapping(body, f"{where}: strategies.{name}"))
        body.setdefault("search", "random" if "samples" in body else "grid")
        searches.append(
            build_config(
                StrategySearch, {**body, "strategy": str(name)}, where=f"{where}: strategies.{name}"
            )
        )
    spec = SweepSpec(
        name=str(data.get("name") or "sweep"),
        run=run,
        strategies=tuple(searches),
        tuning_seeds=tuning,
        evaluation_seeds=evaluation,
        protocol=protocol,
        num_cpus=float(resources.get("num_cpus", 1)),
        num_gpus=float(resources.get("num_gpus", 0)),
    )
    check(spec.num_cpus > 0 and spec.num_gpus >= 0, "num_cpus must be > 0 and num_gpus >= 0")
    for search in spec.strategies:
        for params in candidates(search):
            _split_params(search, params, where)
    return spec


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got '{value}'")
    return value


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ConfigError(f"{where}: expected a list of integer seeds, got '{value}'")
    if len(set(values)) != len(values):
        raise ConfigError(f"{where}: repeated seed")
    return tuple(values)


# ---------------------------------------------------------------------------------- search spaces
def candidates(search: StrategySearch) -> list[dict[str, Any]]:
    """The candidate assignments of a search, in a fixed order.

    Grid: the cartesian product of the value lists (scalars are fixed values), last key fastest.
    Random: ``samples`` draws from ``numpy.random.default_rng(seed)``; a list is a uniform choice;
    ``{log_uniform: [low, high]}``, ``{uniform: [low, high]}``, ``{int_uniform: [low, high]}``
    (inclusive), ``{int_log_uniform: [low, high]}`` and ``{choice: [...]}`` are distributions.
    Sampled floats are rounded to 6 significant digits so the tables reproduce them exactly.
    """
    where = f"strategies.{search.strategy}"
    space = dict(search.space or {})
    if search.search == "grid":
        axes = []
        for key, value in space.items():
            if isinstance(value, dict):
                if set(value) != {"choice"}:
                    raise ConfigError(
                        f"{where}.space.{key}: a grid takes a list of values; "
                        "distributions need search: random"
                    )
                value = value["choice"]
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ConfigError(f"{where}.space.{key}: empty list of values")
            axes.append([(key, v) for v in values])
        return [dict(combo) for combo in itertools.product(*axes)]
    check(search.samples >= 1, f"{where}: samples must be >= 1")
    rng = np.random.default_rng(search.seed)
    return [
        {key: _draw(value, rng, f"{where}.space.{key}") for key, value in space.items()}
        for _ in range(search.samples)
    ]


def _draw(value: Any, rng: np.random.Generator, where: str) -> Any:
    if isinstance(value, list):
        value = {"choice": value}
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or next(iter(value)) not in _DISTRIBUTIONS:
        raise ConfigError(f"{where}: expected one of {', '.join(_DISTRIBUTIONS)}, got '{value}'")
    kind, arg = next(iter(value.items()))
    if kind == "choice":
        if not isinstance(arg, list) or not arg:
            raise ConfigError(f"{where}: choice needs a non-empty list")
        return arg[int(rng.integers(len(arg)))]
    if (
        not isinstance(arg, list)
        or len(arg) != 2
        or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in arg)
        or not arg[0] <= arg[1]
    ):
        raise ConfigError(f"{where}: {kind} needs [low, high] with low <= high, got '{arg}'")
    low, high = float(arg[0]), float(arg[1])
    if kind.endswith("log_uniform") and low <= 0:
        raise ConfigError(f"{where}: {kind} needs low > 0, got {arg[0]}")
    if kind == "uniform":
        return float(f"{rng.uniform(low, high):.6g}")
    if kind == "log_uniform":
        return float(f"{math.exp(rng.uniform(math.log(low), math.log(high))):.6g}")
    if kind == "int_uniform":
        return int(rng.integers(int(low), int(high) + 1))
    # int_log_uniform: floor of a log-uniform draw on [low, high + 1), so each integer is reachable.
    return int(min(high, math.floor(math.exp(rng.uniform(math.log(low), math.log(high + 1))))))


def _split_params(
    search: StrategySearch, params: dict[str, Any], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run settings, strategy hyperparameters) of an assignment; both validated.

    A key that is a RunConfig field (lr, batch_size, ...) is a run setting; ``strategy.NAME`` forces
    a strategy hyperparameter; any other key is a hyperparameter of the strategy.
    """
    from lifelong.core.registry import get_strategy

    run_keys = set(RunConfig.__dataclass_fields__)
    run: dict[str, Any] = {}
    strategy: dict[str, Any] = dict(search.params or {})
    for key, value in params.items():
        if key.startswith("strategy."):
            strategy[key.removeprefix("strategy.")] = value
        elif key.replace("-", "_") in run_keys:
            if key.replace("-", "_") in _UNSEARCHABLE:
                raise ConfigError(
                    f"{where}: strategies.{search.strategy}: '{key}' cannot be searched"
                )
            run[key.replace("-", "_")] = value
        else:
            strategy[key] = value
    strategy_class = get_strategy(search.strategy)
    build_config(
        strategy_class.config_class, strategy, where=f"{where}: strategy '{search.strategy}'"
    )
    return run, strategy


# ---------------------------------------------------------------------------------- trials
def config_hash(config: RunConfig | dict[str, Any]) -> str:
    """8 hex digits identifying a configuration (output folder, threads and device excluded), so a
    moved results folder is still recognised."""
    values = config.to_dict() if isinstance(config, RunConfig) else config
    data = {k: v for k, v in values.items() if k not in ("out", "threads", "device")}
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _make_config(
    spec: SweepSpec,
    search: StrategySearch,
    params: dict[str, Any],
    seed: int,
    stage: str,
    threads: int,
) -> RunConfig:
    from lifelong.core.runner import resolve

    run, strategy = _split_params(search, params, spec.name)
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
    if protocol.name == "first-tasks" and protocol.tasks is not None and config.tasks is not None:
        check(
            protocol.tasks < config.tasks,
            f"first-tasks protocol: k={protocol.tasks} leaves no task to report out of "
            f"{config.tasks}",
        )
    return config


def tuning_trials(spec: SweepSpec, out: Path, threads: int) -> list[Trial]:
    """Every candidate of every strategy at every tuning seed."""
    trials = []
    for search in spec.strategies:
        for index, params in enumerate(candidates(search)):
            for seed in spec.tuning_seeds:
                config = _make_config(spec, search, params, seed, "tuning", threads)
                folder = out / "tuning" / search.strategy / f"{index:03d}-{config_hash(config)}"
                trials.append(
                    Trial(
                        "tuning",
                        search.strategy,
                        index,
                        params,
                        seed,
                        config.replace(out=str(folder / f"s{seed}")),
                    )
                )
    return trials


def evaluation_trials(
    spec: SweepSpec, out: Path, threads: int, chosen: dict[str, tuple[int, dict[str, Any]]]
) -> list[Trial]:
    """The chosen candidate of each strategy at every evaluation seed."""
    trials = []
    for search in spec.strategies:
        if search.strategy not in chosen:
            continue
        index, params = chosen[search.strategy]
        for seed in spec.evaluation_seeds:
            config = _make_config(spec, search, params, seed, "evaluation", threads)
            folder = out / "evaluation" / search.strategy / f"{index:03d}-{config_hash(config)}"
            trials.append(
                Trial(
                    "evaluation",
                    search.strategy,
                    index,
                    params,
                    seed,
                    config.replace(out=str(folder / f"s{seed}")),
                )
            )
    return trials


def _trial_key(trial: Trial) -> str:
    return str(trial.config.out)


def _recorded(trial: Trial, retry_failed: bool) -> TrialOutcome | None:
    """The outcome of an earlier attempt at this trial: finished, or failed (unless retrying)."""
    folder = Path(trial.config.out or "")
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        metrics = None
    if metrics is not None and config_hash(metrics.get("config", {})) == config_hash(trial.config):
        return TrialOutcome(_trial_key(trial), "cached", trial.config.to_dict(), metrics)
    failure = folder / "failure.json"
    if retry_failed or not failure.is_file():
        return None
    try:
        record = json.loads(failure.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("config_hash") != config_hash(trial.config):
        return None
    return TrialOutcome(_trial_key(trial), "failed", trial.config.to_dict(), error=record["error"])


Backend = Callable[
    [Sequence[tuple[str, RunConfig]], Callable[[TrialOutcome], None]], list[TrialOutcome]
]


def local_backend(jobs: int | None, threads: int) -> Backend:
    """Worker processes on this machine (:func:`lifelong.experiments.executor.run_local`)."""

    def execute(
        trials: Sequence[tuple[str, RunConfig]], on_result: Callable[[TrialOutcome], None]
    ) -> list[TrialOutcome]:
        return run_local(trials, jobs=jobs, threads=threads, on_result=on_result)

    return execute


def execute_trials(
    trials: list[Trial],
    backend: Backend,
    *,
    retry_failed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, TrialOutcome]:
    """Run ``trials`` (skipping recorded ones); returns outcomes by trial key.

    The driver writes ``failure.json`` for a failed trial and ``metrics.json`` when a remote worker
    could not (its folder is not on a shared filesystem), so a repeated sweep skips both.
    """
    outcomes: dict[str, TrialOutcome] = {}
    pending = []
    for trial in trials:
        recorded = _recorded(trial, retry_failed)
        if recorded is not None:
            outcomes[recorded.key] = recorded
        else:
            pending.append(trial)
    by_key = {_trial_key(t): t for t in trials}
    done = [len(outcomes)]

    def on_result(outcome: TrialOutcome) -> None:
        trial = by_key[outcome.key]
        folder = Path(trial.config.out or "")
        if outcome.ok and outcome.metrics is not None and not (folder / "metrics.json").is_file():
            atomic_write_json(folder / "metrics.json", outcome.metrics)
        if not outcome.ok:
            atomic_write_json(
                folder / "failure.json",
                {
                    "error": outcome.error,
                    "config_hash": config_hash(trial.config),
                    "traceback": outcome.extra.get("traceback"),
                },
            )
        done[0] += 1
        if progress:
            status = "ok" if outcome.ok else f"FAILED ({outcome.error})"
            progress(
                f"[{done[0]}/{len(trials)}] {trial.stage} {trial.strategy} "
                f"#{trial.candidate} {_format_params(trial.params)} seed {trial.seed}: {status}"
            )

    if progress and len(outcomes):
        progress(f"{len(outcomes)} of {len(trials)} {trials[0].stage} trials already recorded")
    if pending:
        for outcome in backend([(_trial_key(t), t.config) for t in pending], on_result):
            outcomes[outcome.key] = outcome
    return outcomes


# ---------------------------------------------------------------------------------- selection
def reported_metrics(metrics: dict[str, Any], protocol: Protocol) -> dict[str, Any]:
    """The metrics of a final run that may be reported: under ``first-tasks`` those of the
    sub-matrix ``R[k:, k:]`` (the tuning tasks excluded), else the run's own."""
    if protocol.name != "first-tasks":
        return {key: metrics.get(key) for key in (*_REPORTED, "forward_transfer")}
    k = protocol.tasks or 0
    R = np.asarray(metrics["accuracy_matrix"], dtype=float)[k:, k:]
    baseline = metrics.get("initial_accuracy")
    summary = M.summarize(R, baseline[k:] if baseline is not None else None)
    return {key: summary[key] for key in (*_REPORTED, "forward_transfer")}


def select(
    trials: list[Trial], outcomes: dict[str, TrialOutcome], protocol: Protocol
) -> dict[str, dict[str, Any]]:
    """Score candidates (mean over tuning seeds; any failed seed fails the candidate) and pick the
    best per strategy. Returns per strategy: candidate, params, score, candidates, failed."""
    scores: dict[tuple[str, int], list[float]] = {}
    params: dict[tuple[str, int], dict[str, Any]] = {}
    for trial in trials:
        outcome = outcomes[_trial_key(trial)]
        value = _score(outcome, protocol)
        scores.setdefault((trial.strategy, trial.candidate), []).append(value)
        params[(trial.strategy, trial.candidate)] = trial.params
    chosen: dict[str, dict[str, Any]] = {}
    sign = 1.0 if protocol.mode == "max" else -1.0
    for (strategy, index), values in scores.items():
        entry = chosen.setdefault(
            strategy,
            {"candidate": None, "params": None, "score": None, "candidates": 0, "failed": 0},
        )
        entry["candidates"] += 1
        if any(math.isnan(v) for v in values):
            entry["failed"] += 1
            continue
        score = float(np.mean(values))
        if entry["score"] is None or sign * score > sign * entry["score"]:
            entry.update(candidate=index, params=params[(strategy, index)], score=score)
    return chosen


def _score(outcome: TrialOutcome, protocol: Protocol) -> float:
    if not outcome.ok or outcome.metrics is None:
        return math.nan
    value = outcome.metrics.get(protocol.metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return math.nan  # e.g. forward transfer without a baseline: the candidate cannot be ranked
    return float(value)


# ---------------------------------------------------------------------------------- the sweep
@dataclass
class SweepResult:
    """What a sweep produced (also written to ``out``)."""

    out: Path
    leaderboard: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    protocol: Protocol


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    backend: Backend | None = None,
    threads: int | None = None,
    retry_failed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Tune every strategy of ``spec``, evaluate the chosen configurations, write the results.

    Args:
        spec: the parsed sweep file.
        out: results folder (trial runs in ``out/tuning`` and ``out/evaluation``).
        backend: runs a batch of (key, config) trials; default: local worker processes.
        threads: torch threads per trial (default: ``spec.num_cpus``); fixed so every backend
            computes bit-identical results.
        retry_failed: run again the trials recorded as failed.
        progress: called with one line per finished trial.
    """
    out = Path(out).absolute()
    threads = threads or max(1, int(spec.num_cpus))
    backend = backend or local_backend(None, threads)
    tuning = tuning_trials(spec, out, threads)
    tuning_outcomes = execute_trials(tuning, backend, retry_failed=retry_failed, progress=progress)
    chosen = select(tuning, tuning_outcomes, spec.protocol)
    picks = {
        s: (c["candidate"], c["params"]) for s, c in chosen.items() if c["candidate"] is not None
    }
    evaluation = evaluation_trials(spec, out, threads, picks)
    eval_outcomes = execute_trials(
        evaluation, backend, retry_failed=retry_failed, progress=progress
    )
    rows = [_row(t, tuning_outcomes[_trial_key(t)], spec.protocol, out) for t in tuning]
    rows += [_row(t, eval_outcomes[_trial_key(t)], spec.protocol, out) for t in evaluation]
    leaderboard = _leaderboard(spec, chosen, rows)
    result = SweepResult(out, leaderboard, rows, spec.protocol)
    write_results(result, spec)
    return result


def _row(trial: Trial, outcome: TrialOutcome, protocol: Protocol, out: Path) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    if outcome.ok and outcome.metrics is not None:
        metrics = (
            reported_metrics(outcome.metrics, protocol)
            if trial.stage == "evaluation"
            else {key: outcome.metrics.get(key) for key in _REPORTED}
        )
    if trial.stage == "tuning":
        split = "validation" if trial.config.evaluate_on == "validation" else "test"
        tasks = f"tasks 1-{trial.config.first_tasks}" if trial.config.first_tasks else "all tasks"
    else:
        split = "test"
        first = (protocol.tasks or 0) + 1 if protocol.name == "first-tasks" else 1
        tasks = f"tasks {first}-{trial.config.tasks}"
    return {
        "stage": trial.stage,
        "strategy": trial.strategy,
        "candidate": trial.candidate,
        "params": _format_params(trial.params),
        "seed": trial.seed,
        "evaluated_on": f"{split} ({tasks})",
        "status": "ok" if outcome.ok else "failed",
        "score": _score(outcome, protocol) if trial.stage == "tuning" and outcome.ok else None,
        **{key: metrics.get(key) for key in _REPORTED},
        "train_seconds": (outcome.metrics or {}).get("train_seconds") if outcome.ok else None,
        "error": outcome.error,
        "folder": os.path.relpath(trial.config.out or "", out),
    }


def _leaderboard(
    spec: SweepSpec, chosen: dict[str, dict[str, Any]], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    board = []
    for search in spec.strategies:
        pick = chosen.get(search.strategy, {})
        finals = [
            r for r in rows if r["stage"] == "evaluation" and r["strategy"] == search.strategy
        ]
        ok = [r for r in finals if r["status"] == "ok"]
        entry: dict[str, Any] = {
            "strategy": search.strategy,
            "params": pick.get("params"),
            "fixed_params": dict(search.params or {}),
            "tuning_score": pick.get("score"),
            "candidates": pick.get("candidates", 0),
            "failed_candidates": pick.get("failed", 0),
            "evaluation_seeds": [r["seed"] for r in ok],
            "failed_evaluation_seeds": [r["seed"] for r in finals if r["status"] != "ok"],
        }
        for key in _REPORTED:
            values = [r[key] for r in ok]
            entry[key] = {
                "mean": float(np.mean(values)) if values else None,
                "sem": _sem(values) if values else None,
                "per_seed": values,
            }
        board.append(entry)
    return board


def _sem(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))


def _format_params(params: dict[str, Any] | None) -> str:
    if not params:
        return "-"
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4)
            else f"{value:.6g}"
        )
    if value is None:
        return "-"
    return str(value)


# ---------------------------------------------------------------------------------- results files
TRIAL_COLUMNS = (
    "stage",
    "strategy",
    "candidate",
    "params",
    "seed",
    "evaluated_on",
    "status",
    "score",
    *_REPORTED,
    "train_seconds",
    "error",
    "folder",
)


def trials_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TRIAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in TRIAL_COLUMNS})
    return buffer.getvalue()


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        text = (
            f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))
        )
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def trials_markdown(rows: list[dict[str, Any]]) -> str:
    columns = [c for c in TRIAL_COLUMNS if c not in ("folder",)]
    return markdown_table(columns, [[r[c] for c in columns] for r in rows])


def leaderboard_markdown(result: SweepResult, spec: SweepSpec) -> str:
    """The leaderboard table with mean ± standard error over the evaluation seeds."""
    rows = []
    for entry in result.leaderboard:

        def pm(key: str, e: dict[str, Any] = entry) -> str:
            stat = e[key]
            return "-" if stat["mean"] is None else f"{stat['mean']:.4f} ± {stat['sem']:.4f}"

        rows.append(
            [
                entry["strategy"],
                _format_params(entry["params"]),
                entry["tuning_score"],
                pm("average_accuracy"),
                pm("average_forgetting"),
                pm("backward_transfer"),
                len(entry["evaluation_seeds"]),
                f"{entry['candidates'] - entry['failed_candidates']}/{entry['candidates']}",
            ]
        )
    headers = [
        "strategy",
        "chosen",
        f"tuning {spec.protocol.metric} ({spec.protocol.tuning_split()})",
        "test accuracy",
        "test forgetting",
        "test BWT",
        "seeds",
        "candidates ok",
    ]
    return markdown_table(headers, rows)


def protocol_record(spec: SweepSpec) -> dict[str, Any]:
    protocol = spec.protocol
    return {
        "name": protocol.name,
        "description": protocol.describe(),
        "validation_fraction": protocol.validation_fraction,
        "tuning_tasks": protocol.tasks,
        "metric": protocol.metric,
        "mode": protocol.mode,
        "tuning_seeds": list(spec.tuning_seeds),
        "evaluation_seeds": list(spec.evaluation_seeds),
    }


def write_results(result: SweepResult, spec: SweepSpec) -> None:
    """trials.csv, trials.md, leaderboard.md and results.json in ``result.out`` (atomically)."""
    out = result.out
    atomic_write_text(out / "trials.csv", trials_csv(result.rows))
    atomic_write_text(
        out / "trials.md",
        f"# Trials of sweep '{spec.name}'\n\n" + trials_markdown(result.rows) + "\n",
    )
    settings = ", ".join(f"{k}={_fmt(v)}" for k, v in spec.run.items())
    text = (
        f"# Sweep '{spec.name}'\n\n**Protocol: {spec.protocol.name}.** "
        f"{spec.protocol.describe()}\n\nTuning seeds: {list(spec.tuning_seeds)}; evaluation "
        f"seeds: {list(spec.evaluation_seeds)}. Common run settings: {settings or '-'}.\n\n"
        "Test results: mean ± standard error over the evaluation seeds.\n\n"
        + leaderboard_markdown(result, spec)
        + "\n"
    )
    atomic_write_text(out / "leaderboard.md", text)
    atomic_write_json(
        out / "results.json",
        {
            "name": spec.name,
            "protocol": protocol_record(spec),
            "run": spec.run,
            "leaderboard": result.leaderboard,
            "trials": result.rows,
        },
    )
