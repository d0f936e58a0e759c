"""The sweep file format: the selection protocol, each strategy's search, the parsed sweep, and
reading and validating a sweep file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lifelong.core.config import LEGACY_NAMES, load_yaml, run_config_from_mapping
from lifelong.core.fields import build_config, check, field
from lifelong.data.benchmarks import BENCHMARKS
from lifelong.errors import ConfigError
from lifelong.experiments.sweep.space import RESERVED, candidates, split_params

# Metrics a final run reports (means and standard errors over the evaluation seeds).
REPORTED = ("average_accuracy", "average_forgetting", "backward_transfer")
# Metrics that may score a candidate (keys of metrics.json).
METRICS = (*REPORTED, "max_forgetting", "forward_transfer")


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


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (see :func:`sweep_from_mapping`)."""
    data = load_yaml(path)
    data.setdefault("name", Path(path).stem)
    return sweep_from_mapping(data, where=str(path))


def sweep_from_mapping(data: dict[str, Any], *, where: str = "sweep") -> SweepSpec:
    """Validate a sweep mapping: top-level keys name, benchmark, setting, plugins, run, strategies,
    seeds, protocol, resources (``scenario`` is accepted for ``setting``). Every candidate's run and
    strategy configuration is checked here, so a typo fails before any training."""
    from lifelong.core.registry import load_plugins

    data = {LEGACY_NAMES.get(key, key): value for key, value in data.items()}
    known = {
        "name",
        "benchmark",
        "setting",
        "plugins",
        "run",
        "strategies",
        "seeds",
        "protocol",
        "resources",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'; valid: {', '.join(sorted(known))}")
    run = dict(_mapping(data.get("run"), f"{where}: run"))
    for key in ("benchmark", "setting", "plugins"):
        if data.get(key) is not None:
            run[key] = data[key]
    bad = sorted(RESERVED & set(run))
    if bad:
        raise ConfigError(
            f"{where}: run setting '{bad[0]}' is chosen by the sweep and cannot be set"
        )
    common = run_config_from_mapping(run, where=f"{where}: run")  # validates the common settings
    stream = BENCHMARKS.get(common.data.benchmark)
    if stream is not None and stream.objective == "lm":
        # Selection and the reported metrics are accuracies; a loss matrix has none to rank by.
        raise ConfigError(
            f"{where}: {common.data.benchmark} is a language-modelling stream and lifelong sweep "
            "ranks candidates by accuracy; compare values with lifelong compare --set NAME=VALUE "
            "(its leaderboard ranks by average loss)"
        )
    load_plugins(common.plugins)  # so plugin strategies are known below
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
            split_params(search, params, where)
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
