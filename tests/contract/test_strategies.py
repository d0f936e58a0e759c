"""The contract every built-in strategy must meet, run on tiny split-digits streams.

The checks live in :mod:`lifelong.testing` (the same kit plugin authors run on their strategies):
a valid accuracy matrix in every supported setting, bit-identical results for the same seed, a
checkpoint round trip with identical predictions, a run interrupted mid-task resumed to identical
metrics and state, a clear error for unsupported settings, training batches never mutated.
"""

from __future__ import annotations

import pytest

from lifelong import list_strategies
from lifelong.core.config import RunConfig
from lifelong.core.registry import plugin_module
from lifelong.core.runner import run
from lifelong.core.strategy import Strategy
from lifelong.errors import UnsupportedSettingError
from lifelong.testing import TINY_RUN, contract_checks
from tests.contract.fast_params import FAST_PARAMS

BUILT_IN = sorted(name for name, cls in list_strategies().items() if plugin_module(cls) is None)
CHECKS = [
    check for name in BUILT_IN for check in contract_checks(name, params=FAST_PARAMS.get(name))
]


# Online streams (issue 14): every strategy that runs on a single-pass stream passes the contract
# online (including a resume mid-stream): the task-free methods on a hidden-boundary stream, the
# others on a stream with known boundaries. The rest must refuse with a one-line error.
def single_pass(name: str) -> bool:
    """False for strategies that train on several tasks' data or in several phases per task."""
    cls = list_strategies()[name]
    return cls.training_tasks is Strategy.training_tasks and cls.phases is Strategy.phases


TASK_FREE = sorted(name for name in BUILT_IN if list_strategies()[name].task_free)
ONLINE = [(n, "hidden" if n in TASK_FREE else "known") for n in BUILT_IN if single_pass(n)]
ONLINE.append(("agem", "known"))  # per-task memories with boundaries, one reservoir without
ONLINE_CHECKS = [
    check
    for name, boundaries in ONLINE
    for check in contract_checks(
        name, params=FAST_PARAMS.get(name), online=True, boundaries=boundaries
    )
]
REFUSALS = [(n, "known") for n in BUILT_IN if not single_pass(n)] + [
    (n, "hidden") for n in BUILT_IN if single_pass(n) and n not in TASK_FREE
]


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_contract(check, tmp_path):
    check(tmp_path)


@pytest.mark.parametrize(
    "check", ONLINE_CHECKS, ids=lambda c: f"{c}-online-{c.case.overrides['boundaries']}"
)
def test_contract_online(check, tmp_path):
    check(tmp_path)


@pytest.mark.parametrize("name,boundaries", REFUSALS, ids=lambda v: str(v))
def test_online_refusal_is_a_clear_error(name, boundaries):
    settings = list_strategies()[name].settings
    config = RunConfig.of(
        **{**TINY_RUN, "iterations": None, "train_samples_per_task": 30, "batch_size": 10},
        strategy=name,
        strategy_params=FAST_PARAMS.get(name, {}),
        online=True,
        boundaries=boundaries,
        setting="class" if "class" in settings else sorted(settings)[0],
    )
    expected = "without --online" if boundaries == "known" else "needs task boundaries"
    with pytest.raises(UnsupportedSettingError, match=expected):
        run(config, write=False)
