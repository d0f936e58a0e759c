"""lifelong: continual learning for PyTorch.

Scenarios (streams of tasks) from real data, strategies faithful to their papers, forgetting metrics
computed from the accuracy matrix, and reports. Typical use::

    from lifelong import RunConfig, run
    result = run(RunConfig(benchmark="split-mnist", scenario="class", strategy="ewc"))
    print(result.metrics["average_accuracy"])

Your own data becomes a scenario with :func:`scenario_from_tensors`, :func:`scenario_from_dataset`
or :func:`scenario_from_folder`, run with ``run(config, scenario=scenario)``.
"""

from lifelong.core.config import RunConfig
from lifelong.core.errors import LifelongError
from lifelong.core.registry import get_strategy, list_strategies
from lifelong.core.runner import RunResult, run
from lifelong.core.strategy import Batch, Strategy
from lifelong.data.custom import scenario_from_dataset, scenario_from_folder, scenario_from_tensors
from lifelong.data.scenarios import Scenario, build_scenario, list_benchmarks

__all__ = [
    "Batch",
    "LifelongError",
    "RunConfig",
    "RunResult",
    "Scenario",
    "Strategy",
    "build_scenario",
    "get_strategy",
    "list_benchmarks",
    "list_strategies",
    "run",
    "scenario_from_dataset",
    "scenario_from_folder",
    "scenario_from_tensors",
]
__version__ = "0.1.0"
