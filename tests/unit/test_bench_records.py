"""Benchmark result files (bench/_records.py): a stored run is reused only as a run of the same
configuration and of today's strategy code; anything else trains again."""

from __future__ import annotations

import json
from typing import Any

import pytest

import lifelong
from bench._records import current_record, save_record, stored_run
from lifelong import RunConfig


class FakeRun:
    """Stands in for :func:`lifelong.run`: counts the runs and returns fixed metrics."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, config: Any, write: bool = False) -> Any:
        self.calls += 1
        metrics = {
            "average_accuracy": 0.5,
            "average_forgetting": 0.1,
            "accuracy_matrix": [[0.5]],
            "train_seconds": 1.0,
            "parameters_per_task": [{"total": 3}],
        }
        return type("Result", (), {"metrics": metrics})()


@pytest.fixture
def fake_run(monkeypatch) -> FakeRun:
    fake = FakeRun()
    monkeypatch.setattr(lifelong, "run", fake)
    return fake


def config(**changes: Any) -> RunConfig:
    return RunConfig.of(benchmark="split-digits", strategy="ewc", seed=0, **changes)


def test_a_stored_run_is_reused_under_its_own_configuration_only(tmp_path, fake_run):
    path = tmp_path / "ewc-s0.json"
    first = stored_run(config(), path, tmp_path)
    assert stored_run(config(), path, tmp_path) == first and fake_run.calls == 1
    assert current_record(config(threads=2), path) == first  # speed settings are not identity
    changed = config(strategy_params={"strength": 123.0})
    assert current_record(changed, path) is None
    stored_run(changed, path, tmp_path)
    assert fake_run.calls == 2
    assert json.loads(path.read_text())["hyperparameters"]["strength"] == 123.0


def test_a_record_without_a_fingerprint_or_with_other_hyperparameters_is_not_reused(
    tmp_path, fake_run
):
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps({"average_accuracy": 0.9, "config": config().to_dict()}))
    assert current_record(config(), path) is None
    record = save_record(config(), path, {"average_accuracy": 0.9})
    assert current_record(config(), path) == record
    record["hyperparameters"]["strength"] = -1.0  # written by code with another default
    path.write_text(json.dumps(record))
    assert current_record(config(), path) is None
    assert fake_run.calls == 0


def test_a_record_missing_a_kept_metric_trains_again(tmp_path, fake_run):
    path = tmp_path / "ewc-s0.json"
    stored_run(config(), path, tmp_path)
    record = stored_run(config(), path, tmp_path, keep=("parameters_per_task",))
    assert fake_run.calls == 2 and record["parameters_per_task"] == [{"total": 3}]


def test_a_gathered_record_counts_only_as_a_run_of_its_own_configuration_today(tmp_path, fake_run):
    from bench._records import current_file

    path = tmp_path / "ewc-s0.json"
    record = stored_run(config(), path, tmp_path)
    assert current_file(path) == record
    record["hyperparameters"]["code_revision"] = 99  # a revision this code never had
    path.write_text(json.dumps(record))
    assert current_file(path) is None
    path.write_text(json.dumps({**record, "config": {"benchmark": "split-digits", "gone": 1}}))
    assert current_file(path) is None  # a setting today's code does not accept
    assert current_file(tmp_path / "missing.json") is None
