"""Search spaces: the candidate assignments of a strategy's search (a grid, or seeded random draws
from distributions), how an assignment splits into run settings and strategy hyperparameters, and
how it is written in tables and progress lines."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from lifelong.core.config import flat_names
from lifelong.core.fields import build_config, check
from lifelong.errors import ConfigError

if TYPE_CHECKING:
    from lifelong.experiments.sweep.spec import StrategySearch

# Run settings a sweep decides itself (per stage or per trial); a sweep file may not set them.
RESERVED = {
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
UNSEARCHABLE = RESERVED | {
    "benchmark",
    "setting",
    "scenario",
    "tasks",
    "scenario_seed",
    "validation_fraction",
    "plugins",
}
DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int_uniform", "int_log_uniform")
# Candidates per strategy beyond which a search is refused before anything is built or run.
MAX_CANDIDATES = 10_000


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
        size = math.prod(len(axis) for axis in axes)
        check(
            size <= MAX_CANDIDATES,
            f"{where}: the grid has {size:,} points (more than {MAX_CANDIDATES:,}); "
            "shrink it or use search: random with samples",
        )
        return [dict(combo) for combo in itertools.product(*axes)]
    check(search.samples >= 1, f"{where}: samples must be >= 1")
    check(
        search.samples <= MAX_CANDIDATES,
        f"{where}: {search.samples:,} samples is more than {MAX_CANDIDATES:,}",
    )
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
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
        raise ConfigError(f"{where}: expected one of {', '.join(DISTRIBUTIONS)}, got '{value}'")
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


def split_params(
    search: StrategySearch, params: dict[str, Any], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run settings, strategy hyperparameters) of an assignment; both validated.

    A key that is a RunConfig field (lr, batch_size, ...) is a run setting; ``strategy.NAME`` forces
    a strategy hyperparameter; any other key is a hyperparameter of the strategy.
    """
    from lifelong.core.registry import get_strategy

    run_keys = flat_names(legacy=True)
    run: dict[str, Any] = {}
    strategy: dict[str, Any] = dict(search.params or {})
    for key, value in params.items():
        if key.startswith("strategy."):
            strategy[key.removeprefix("strategy.")] = value
        elif key.replace("-", "_") in run_keys:
            if key.replace("-", "_") in UNSEARCHABLE:
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


def format_params(params: dict[str, Any] | None) -> str:
    """``key=value, ...`` for tables and progress lines ('-' when empty)."""
    if not params:
        return "-"
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items())


def format_value(value: Any) -> str:
    """A setting's value: floats with up to 6 significant digits (4 in scientific notation)."""
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4)
            else f"{value:.6g}"
        )
    if value is None:
        return "-"
    return str(value)
