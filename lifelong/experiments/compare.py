"""Comparisons: every strategy x seed of one scenario, run in parallel, summarised in a leaderboard.

A comparison is described by :class:`CompareConfig`, equal in power to the ``lifelong compare``
flags and to a YAML file. Its top level holds the comparison's own keys (``strategies``, ``seeds``,
``strategy_params``, ``set``, ``jobs``, ``out``) and any :class:`~lifelong.core.config.RunConfig`
field shared by every run (``benchmark``, ``scenario``, ``iterations``, ``lr``, ...)::

    benchmark: split-digits
    scenario: class
    strategies: [naive, ewc, er]
    seeds: [0, 1, 2]
    strategy_params:
      ewc: {strength: 100}
    iterations: 200

Layout of the output folder::

    OUT/compare.yaml            the resolved comparison (``lifelong compare --config`` repeats it)
    OUT/outcomes.json           status of every run (done / cached / failed, with the error)
    OUT/runs/<strategy>-s<seed> one run folder each (metrics.json, config.yaml, checkpoint.pt, ...)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifelong.core.config import (
    RunConfig,
    flat_names,
    load_yaml,
    run_config_from_mapping,
    save_yaml,
)
from lifelong.core.fields import build_config, check, field
from lifelong.core.identity import describe_difference, run_identity, same_identity
from lifelong.core.io import atomic_write_json, atomic_write_text
from lifelong.core.results import COMPARE_FILE, OUTCOMES_FILE, run_name
from lifelong.core.rundir import RunFolderError, clear_run_files, locked, saved_identity
from lifelong.errors import ConfigError

if TYPE_CHECKING:
    from lifelong.experiments.executor import WorkerPool

# RunConfig fields a comparison sets per run, so they may not be given as shared settings.
PER_RUN = {"strategy": "strategies", "seed": "seeds", "out": "out"}


@dataclass(frozen=True)
class CompareConfig:
    """Which strategies and seeds to compare, and the run settings they share."""

    strategies: tuple[str, ...] = field(("naive",), "strategies to compare (lifelong list)")
    seeds: tuple[int, ...] = field((0, 1, 2), "seeds; every strategy runs once per seed")
    strategy_params: dict = field(None, "per-strategy hyperparameters: {strategy: {name: value}}")
    run: dict = field(None, "RunConfig settings shared by every run (benchmark, iterations, ...)")
    jobs: int | None = field(None, "parallel worker processes (default: the number of cores)")
    out: str | None = field(None, "output folder (default comparisons/<benchmark>-<scenario>)")

    def __post_init__(self) -> None:
        for name in ("strategy_params", "run"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, {})
        check(len(self.strategies) > 0, "strategies: give at least one strategy")
        check(len(self.seeds) > 0, "seeds: give at least one seed")
        check(len(set(self.strategies)) == len(self.strategies), "strategies: a name is repeated")
        check(len(set(self.seeds)) == len(self.seeds), "seeds: a seed is repeated")
        check(self.jobs is None or self.jobs >= 1, "jobs must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        """The flat YAML form (shared run settings at the top level)."""
        data: dict[str, Any] = dict(self.run)
        data.update(
            strategies=list(self.strategies),
            seeds=list(self.seeds),
            strategy_params={k: dict(v) for k, v in self.strategy_params.items()},
            jobs=self.jobs,
            out=self.out,
        )
        return data

    def run_config(self, strategy: str, seed: int) -> RunConfig:
        """The configuration of one run of the comparison."""
        assert self.out is not None, "resolve the comparison first"
        values = {
            **self.run,
            "strategy": strategy,
            "seed": seed,
            "strategy_params": dict(self.strategy_params.get(strategy, {})),
            "out": str(Path(self.out) / "runs" / run_name(strategy, seed)),
        }
        return run_config_from_mapping(values, where=f"{strategy} seed {seed}")


def _parse_set(items: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"ewc.strength": 100}`` to ``{"ewc": {"strength": 100}}``."""
    params: dict[str, dict[str, Any]] = {}
    for key, value in items.items():
        strategy, dot, name = str(key).partition(".")
        if not dot or not strategy or not name:
            raise ConfigError(f"set: expected STRATEGY.NAME=VALUE, got '{key}'")
        params.setdefault(strategy, {})[name] = value
    return params


def compare_config_from_mapping(values: Mapping[str, Any], *, where: str = "") -> CompareConfig:
    """Build a CompareConfig from the flat YAML form; unknown keys and wrong types name the key."""
    prefix = f"{where}: " if where else ""
    values = dict(values)
    own = {f.name for f in dataclasses.fields(CompareConfig)} - {"run"}
    run_fields = flat_names(legacy=True) - set(PER_RUN) - {"strategy_params"}
    shared: dict[str, Any] = {}
    compare: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name in PER_RUN and name != "out":
            raise ConfigError(
                f"{prefix}'{key}' is set per run in a comparison; use '{PER_RUN[name]}'"
            )
        if name in own:
            compare[name] = value
        elif name == "set":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{prefix}set: expected a mapping of STRATEGY.NAME: VALUE")
            compare["set"] = value
        elif name in run_fields:
            shared[name] = value
        else:
            valid = ", ".join(sorted(own | {"set"} | run_fields))
            raise ConfigError(f"{prefix}unknown key '{key}'; valid: {valid}")
    params = compare.pop("strategy_params", None) or {}
    if not isinstance(params, Mapping) or not all(
        isinstance(v, Mapping) or v is None for v in params.values()
    ):
        raise ConfigError(f"{prefix}strategy_params: expected {{strategy: {{name: value}}}}")
    merged = {str(k): dict(v or {}) for k, v in params.items()}
    for strategy, extra in _parse_set(compare.pop("set", None) or {}).items():
        merged.setdefault(strategy, {}).update(extra)
    compare["strategy_params"] = merged
    # Shared settings are validated (and converted) as a RunConfig now, so a typo fails before any
    # run starts and compare.yaml holds typed values.
    converted = run_config_from_mapping(shared, where=where).to_dict()
    compare["run"] = {name: converted[name] for name in shared}
    return build_config(CompareConfig, compare, where=where)


def load_compare_config(path: str | Path) -> CompareConfig:
    return compare_config_from_mapping(load_yaml(path), where=str(path))


def resolve_comparison(config: CompareConfig) -> CompareConfig:
    """Fill defaults and validate every strategy, its hyperparameters and the setting up front."""
    from lifelong.core.registry import get_strategy, load_plugins
    from lifelong.core.runner import build_run_scenario, resolve
    from lifelong.data.scenarios import SETTINGS
    from lifelong.errors import unknown_name

    probe = resolve(run_config_from_mapping({**config.run, "out": "-"}))
    load_plugins(probe.plugins)  # workers import them again from each run's config
    if probe.data.setting not in SETTINGS:
        raise unknown_name("setting", str(probe.data.setting), SETTINGS)
    # Data present, tasks splittable, subsets valid: checked here, before any worker starts.
    build_run_scenario(probe)
    for strategy, params in config.strategy_params.items():
        if strategy not in config.strategies:
            raise ConfigError(
                f"strategy_params: '{strategy}' is not among the compared strategies "
                f"({', '.join(config.strategies)})"
            )
        build_config(get_strategy(strategy).config_class, params, where=f"strategy '{strategy}'")
    for strategy in config.strategies:
        cls = get_strategy(strategy)
        if probe.data.setting not in cls.settings:
            raise ConfigError(
                f"strategy '{strategy}' does not support the {probe.data.setting}-incremental "
                f"setting; supported: {', '.join(sorted(cls.settings))}"
            )
    run = {**config.run, "benchmark": probe.data.benchmark, "setting": probe.data.setting}
    out = config.out or str(Path("comparisons") / f"{probe.data.benchmark}-{probe.data.setting}")
    return dataclasses.replace(config, run=run, out=out)


def plan_threads(jobs: int | None, threads: int | None = None) -> tuple[int, int]:
    """(jobs, threads per job) with ``jobs x threads`` at most the number of cores."""
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    jobs = max(1, min(jobs or cores, cores))
    limit = max(1, cores // jobs)
    return jobs, min(threads or limit, limit)


def run_comparison(
    config: CompareConfig,
    *,
    on_result: Callable[[Any], None] | None = None,
    overwrite: bool = False,
    lock: bool = True,
) -> list[dict[str, Any]]:
    """Run (or skip, when finished) every strategy x seed; returns and saves the outcome records.

    Args:
        on_result: called in this process as each run finishes.
        overwrite: discard the runs the output folder holds and run every one again. Without it,
            a finished run of the same configuration is reused, an interrupted one resumes, and a
            run folder holding another configuration stops the comparison before anything runs.
        lock: hold the output folder's writer lock (off: the caller holds it, e.g. to also write
            the report under it).
    """
    from lifelong.experiments.executor import WorkerPool

    jobs, threads = plan_threads(config.jobs, config.run.get("threads"))
    jobs = min(jobs, len(config.strategies) * len(config.seeds))
    # The workers start (interpreter, torch) while this process validates and loads the data.
    with WorkerPool(jobs, threads) as pool:
        if jobs > 1:
            pool.start(config.run.get("plugins") or ())
        config = resolve_comparison(config)
        out = Path(config.out)  # type: ignore[arg-type]
        if not lock:
            return _run_locked(config, out, on_result, overwrite, pool if jobs > 1 else None)
        with locked(out, "lifelong compare"):
            return _run_locked(config, out, on_result, overwrite, pool if jobs > 1 else None)


def _run_locked(
    config: CompareConfig,
    out: Path,
    on_result: Callable[[Any], None] | None,
    overwrite: bool,
    pool: WorkerPool | None,
) -> list[dict[str, Any]]:
    from lifelong.core.runner import resolve
    from lifelong.experiments.executor import run_local

    jobs, threads = plan_threads(config.jobs, config.run.get("threads"))
    keys = {}
    trials = []
    for strategy in config.strategies:
        for seed in config.seeds:
            run_config = resolve(config.run_config(strategy, seed).replace(threads=threads))
            keys[run_name(strategy, seed)] = (strategy, seed)
            trials.append((run_name(strategy, seed), run_config))
    if overwrite:
        for _, run_config in trials:
            clear_run_files(Path(run_config.out))  # type: ignore[arg-type]
    else:
        check_run_folders(trials)
    save_yaml(config.to_dict(), out / COMPARE_FILE)
    outcomes = run_local(trials, jobs=jobs, threads=threads, on_result=on_result, pool=pool)
    records = [
        {
            "run": o.key,
            "strategy": keys[o.key][0],
            "seed": keys[o.key][1],
            "status": o.status,
            "error": o.error,
            "folder": f"runs/{o.key}",
        }
        for o in outcomes
    ]
    atomic_write_json(out / OUTCOMES_FILE, {"runs": records})
    for o in outcomes:
        text = o.extra.get("traceback")
        if not o.ok and text:
            atomic_write_text(out / "runs" / o.key / "error.txt", text)
    return records


def check_run_folders(trials: list[tuple[str, RunConfig]]) -> None:
    """Refuse, before any run starts, run folders that hold a run of another configuration."""
    for _, run_config in trials:
        found = saved_identity(Path(run_config.out))  # type: ignore[arg-type]
        wanted = run_identity(run_config.to_dict())
        if found is not None and not same_identity(found[1], wanted):
            raise RunFolderError(
                f"{run_config.out} holds a {found[0]} of another configuration "
                f"({describe_difference(found[1], wanted)}); use another --out, or --overwrite "
                "to run the comparison again from scratch"
            )


def is_comparison(folder: Path) -> bool:
    return (folder / COMPARE_FILE).is_file()
