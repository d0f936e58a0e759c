"""The contract every built-in strategy must meet, run on tiny split-digits streams.

The checks live in :mod:`lifelong.testing` (the same kit plugin authors run on their strategies):
a valid accuracy matrix in every supported setting, bit-identical results for the same seed, a
checkpoint round trip with identical predictions, a run interrupted mid-task resumed to identical
metrics and state, a clear error for unsupported settings, training batches never mutated.
"""

from __future__ import annotations

import pytest

from lifelong import list_strategies
from lifelong.core.registry import plugin_module
from lifelong.testing import contract_checks
from tests.contract.fast_params import FAST_PARAMS

BUILT_IN = sorted(name for name, cls in list_strategies().items() if plugin_module(cls) is None)
CHECKS = [
    check for name in BUILT_IN for check in contract_checks(name, params=FAST_PARAMS.get(name))
]


# Online streams (issue 14): the task-free methods on a hidden-boundary stream, and the methods that
# need boundaries on a stream with known ones (a few: each online check is a few tiny runs).
TASK_FREE = sorted(name for name in BUILT_IN if list_strategies()[name].task_free)
ONLINE_CHECKS = [
    check
    for name, boundaries in [(n, "hidden") for n in TASK_FREE]
    + [("agem", "known"), ("ewc", "known")]
    for check in contract_checks(
        name, params=FAST_PARAMS.get(name), online=True, boundaries=boundaries
    )
]


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_contract(check, tmp_path):
    check(tmp_path)


@pytest.mark.parametrize(
    "check", ONLINE_CHECKS, ids=lambda c: f"{c}-online-{c.case.overrides['boundaries']}"
)
def test_contract_online(check, tmp_path):
    check(tmp_path)
