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
from lifelong.data.custom import scenario_from_dataset, scenario_from_folder, scenario_from_tensors
from lifelong.data.scenarios import Scenario, Task, build_scenario, list_benchmarks
from lifelong.errors import ConfigError, LifelongError, UnsupportedSettingError
from lifelong.models.user import UserModel

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
]
__version__ = "0.1.0"
