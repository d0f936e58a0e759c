"""The run configuration in parts: flat names, YAML sections, the renamed setting, stable identity."""

from __future__ import annotations

import pytest

from lifelong import DataConfig, RunConfig, TrainingConfig
from lifelong.core.config import flat_names, run_config_from_mapping
from lifelong.core.identity import fingerprint
from lifelong.errors import ConfigError


def test_flat_names_go_to_their_parts_and_back():
    config = RunConfig.of(benchmark="split-mnist", setting="class", lr="0.01", model="cnn")
    assert config.data.benchmark == "split-mnist" and config.data.setting == "class"
    assert config.training.lr == 0.01 and config.model.name == "cnn"
    flat = config.to_dict()
    assert set(flat) == flat_names() and flat["model"] == "cnn" and flat["lr"] == 0.01
    assert run_config_from_mapping(flat) == config


def test_parts_sections_and_flat_keys_build_the_same_config():
    from_parts = RunConfig(
        data=DataConfig(benchmark="permuted-digits", tasks=3),
        training=TrainingConfig(iterations=7, lr=0.5),
        strategy="ewc",
    )
    from_sections = run_config_from_mapping(
        {
            "data": {"benchmark": "permuted-digits", "tasks": 3},
            "training": {"iterations": 7, "lr": 0.5},
            "strategy": "ewc",
        }
    )
    from_flat = RunConfig.of(
        benchmark="permuted-digits", tasks=3, iterations=7, lr=0.5, strategy="ewc"
    )
    assert from_parts == from_sections == from_flat
    assert from_flat.replace(lr=0.1).training == TrainingConfig(iterations=7, lr=0.1)


def test_each_part_validates_its_own_fields():
    with pytest.raises(ConfigError, match="epochs or iterations"):
        RunConfig.of(epochs=1, iterations=3)
    with pytest.raises(ConfigError, match="validation_fraction must be in"):
        RunConfig.of(validation_fraction=1.5)
    with pytest.raises(ConfigError, match="unknown key 'epoch'; valid: benchmark, setting"):
        RunConfig.of(epoch=3)


def test_the_old_name_of_the_setting_is_accepted_and_keeps_the_fingerprint():
    old = {"benchmark": "split-mnist", "scenario": "task", "strategy": "ewc", "iterations": 5}
    config = run_config_from_mapping(old)
    assert config.data.setting == "task"
    # A run saved before the rename (its config says "scenario") keeps its identity.
    saved = {**config.to_dict(), "scenario": "task"}
    del saved["setting"]
    assert fingerprint(saved) == fingerprint(config.to_dict())
    assert fingerprint(config.replace(setting="class").to_dict()) != fingerprint(config.to_dict())


def test_yaml_sections_and_the_old_flag_work_on_the_command_line(tmp_path):
    from lifelong.cli import build_parser
    from lifelong.cli._common import config_from_args

    path = tmp_path / "run.yaml"
    path.write_text("data:\n  benchmark: split-digits\n  setting: task\ntraining:\n  lr: 0.02\n")
    args = build_parser().parse_args(["run", "--config", str(path), "--batch-size", "16"])
    config = config_from_args(args)
    assert (config.data.setting, config.training.lr, config.training.batch_size) == (
        "task",
        0.02,
        16,
    )
    old_flag = build_parser().parse_args(["run", "--scenario", "domain"])
    assert config_from_args(old_flag).data.setting == "domain"
