"""lifelong: continual learning for PyTorch.

Scenarios (streams of tasks) from real data, strategies faithful to their papers, forgetting metrics
computed from the accuracy matrix, and reports. Typical use::

    from lifelong import RunConfig, run
    result = run(RunConfig.of(benchmark="split-mnist", setting="class", strategy="ewc"))
    print(result.metrics["average_accuracy"])

Your own data becomes a scenario with :func:`scenario_from_tensors`, :func:`scenario_from_dataset`
or :func:`scenario_from_folder`, run with ``run(config, scenario=scenario)``; your own network with
``run(config, model=...)``.

The names exported here, :mod:`lifelong.metrics`, :mod:`lifelong.testing` and the networks of
:mod:`lifelong.models` are the public API; other modules are internal and may change.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifelong.core.config import (
        DataConfig,
        EvaluationConfig,
        ModelConfig,
        RunConfig,
        TrainingConfig,
    )
    from lifelong.core.evaluation import evaluate
    from lifelong.core.fields import check, field
    from lifelong.core.registry import get_strategy, list_strategies, load_plugins, register
    from lifelong.core.runner import RunResult, resume_run, run
    from lifelong.core.strategy import Batch, Context, Phase, Strategy, StrategyConfig
    from lifelong.data.benchmarks import list_benchmarks
    from lifelong.data.custom import (
        scenario_from_dataset,
        scenario_from_folder,
        scenario_from_tensors,
    )
    from lifelong.data.custom_text import scenario_from_text_domains, scenario_from_texts
    from lifelong.data.scenarios import Scenario, Task, build_scenario
    from lifelong.data.text import read_texts
    from lifelong.errors import ConfigError, LifelongError, UnsupportedSettingError
    from lifelong.models.user import UserModel

# The public names and the module defining each. They are imported on first use (PEP 562), so the
# command line starts without importing torch for ``lifelong --help`` and importing ``lifelong``
# costs only what is used.
_EXPORTS = {
    "DataConfig": "lifelong.core.config",
    "EvaluationConfig": "lifelong.core.config",
    "ModelConfig": "lifelong.core.config",
    "RunConfig": "lifelong.core.config",
    "TrainingConfig": "lifelong.core.config",
    "evaluate": "lifelong.core.evaluation",
    "check": "lifelong.core.fields",
    "field": "lifelong.core.fields",
    "get_strategy": "lifelong.core.registry",
    "list_strategies": "lifelong.core.registry",
    "load_plugins": "lifelong.core.registry",
    "register": "lifelong.core.registry",
    "RunResult": "lifelong.core.runner",
    "resume_run": "lifelong.core.runner",
    "run": "lifelong.core.runner",
    "Batch": "lifelong.core.strategy",
    "Context": "lifelong.core.strategy",
    "Phase": "lifelong.core.strategy",
    "Strategy": "lifelong.core.strategy",
    "StrategyConfig": "lifelong.core.strategy",
    "scenario_from_dataset": "lifelong.data.custom",
    "scenario_from_folder": "lifelong.data.custom",
    "scenario_from_tensors": "lifelong.data.custom",
    "scenario_from_texts": "lifelong.data.custom_text",
    "scenario_from_text_domains": "lifelong.data.custom_text",
    "read_texts": "lifelong.data.text",
    "Scenario": "lifelong.data.scenarios",
    "Task": "lifelong.data.scenarios",
    "build_scenario": "lifelong.data.scenarios",
    "list_benchmarks": "lifelong.data.benchmarks",
    "ConfigError": "lifelong.errors",
    "LifelongError": "lifelong.errors",
    "UnsupportedSettingError": "lifelong.errors",
    "UserModel": "lifelong.models.user",
}
# Subpackages reachable as attributes after ``import lifelong`` (``lifelong.metrics.forgetting``).
_SUBMODULES = {"cli", "components", "core", "data", "errors", "experiments", "metrics", "models"}
_SUBMODULES |= {"report", "strategies", "testing"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'lifelong' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})


__all__ = [
    "Batch",
    "ConfigError",
    "Context",
    "DataConfig",
    "EvaluationConfig",
    "LifelongError",
    "ModelConfig",
    "Phase",
    "RunConfig",
    "RunResult",
    "Scenario",
    "Strategy",
    "StrategyConfig",
    "Task",
    "TrainingConfig",
    "UnsupportedSettingError",
    "UserModel",
    "build_scenario",
    "check",
    "evaluate",
    "field",
    "get_strategy",
    "list_benchmarks",
    "list_strategies",
    "load_plugins",
    "register",
    "resume_run",
    "run",
    "scenario_from_dataset",
    "scenario_from_folder",
    "scenario_from_tensors",
    "scenario_from_texts",
    "scenario_from_text_domains",
    "read_texts",
]
__version__ = "0.1.0"
