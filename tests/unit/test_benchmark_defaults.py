"""Every built-in benchmark runs with its defaults (`lifelong run -b NAME` and nothing else): its
default setting, model and strategy build, train and evaluate. Only the budget is cut, to a few
steps on the first task. CIFAR is not here: its files are not in the shared data (test_data_files.py
loads synthetic CIFAR archives, and test_online_cifar.py runs split-cifar10 end to end from one)."""

from __future__ import annotations

import pytest

from lifelong import RunConfig, run
from lifelong.core.runner import resolve
from lifelong.data.benchmarks import BENCHMARKS

DATASETS_HERE = {"digits": None, "mnist": "shared_data", "fashion-mnist": "shared_data"}
DATASETS_HERE["wordnet"] = "wordnet_data"
LOCAL = sorted(name for name, spec in BENCHMARKS.items() if spec.dataset in DATASETS_HERE)


def test_every_benchmark_but_cifar_is_covered():
    assert {BENCHMARKS[n].dataset for n in set(BENCHMARKS) - set(LOCAL)} == {"cifar10", "cifar100"}


@pytest.mark.parametrize("name", LOCAL)
def test_a_benchmark_runs_with_its_defaults(name, request):
    spec = BENCHMARKS[name]
    fixture = DATASETS_HERE[spec.dataset]
    root = request.getfixturevalue(fixture) if fixture else None
    config = resolve(RunConfig.of(benchmark=name, data_root=str(root) if root else None))
    assert config.data.setting == spec.default_setting
    assert config.model.name == spec.default_model
    assert config.training.epochs == spec.default_epochs
    small = (
        {"train_samples_per_task": 64} if spec.dataset != "wordnet" else {"samples_per_class": 8}
    )
    quick = config.replace(epochs=None, iterations=2, first_tasks=1, eval_every=0, **small)
    result = run(resolve(quick), write=False)
    rows = result.loss_matrix if spec.objective == "lm" else result.accuracy_matrix
    assert len(rows) == 1 and len(rows[0]) == 1
