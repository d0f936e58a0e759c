"""`lifelong run` and `lifelong list` through the command line, including bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lifelong.cli import main


def lifelong(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lifelong", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_default_run_works_offline_and_prints_matrix_and_forgetting(tmp_path):
    done = lifelong("run", "--threads", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Accuracy matrix" in done.stdout and "average forgetting" in done.stdout
    metrics = json.loads(
        (tmp_path / "runs" / "split-digits-class-naive-s0" / "metrics.json").read_text()
    )
    assert metrics["average_forgetting"] > 0.5  # naive class-incremental forgets
    assert (tmp_path / "runs" / "split-digits-class-naive-s0" / "curves.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "nope"], "unknown strategy 'nope'; valid: "),
        (["--benchmark", "nope"], "unknown benchmark 'nope'; valid: "),
        (["--setting", "nope"], "setting: 'nope' is not one of task, domain, class"),
        (["--set", "nope=1"], "unknown key 'nope'"),
        (["--lr", "-1"], "lr must be > 0"),
        (["--benchmark", "split-mnist", "--tasks", "7"], "cannot be split evenly into 7 tasks"),
        (["--model", "nope"], "unknown model 'nope'"),
        (["--optimizer", "nope"], "optimizer: 'nope' is not one of adam, sgd"),
    ],
)
def test_bad_input_gives_one_clear_line(args, message, capsys, tmp_path, request):
    if "split-mnist" in args:  # the split is checked against the real dataset's classes
        args = [*args, "--data-root", str(request.getfixturevalue("shared_data"))]
    code = main(["run", "--quiet", "--iterations", "1", "--out", str(tmp_path / "r"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_missing_dataset_says_which_files_and_how_to_get_them(capsys, tmp_path):
    code = main(["run", "--benchmark", "split-mnist", "--data-root", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 2
    assert "train-images-idx3-ubyte.gz" in err and "--download" in err


def test_list_shows_every_strategy_with_hyperparameters(capsys):
    from lifelong import list_strategies

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in list_strategies():
        assert f"\n{name}  [" in out
    assert "split-mnist" in out and "class-incremental" in out


def test_config_file_and_flags_override(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        "benchmark: split-digits\nstrategy: naive\niterations: 3\nseed: 4\nhidden: [16]\n"
    )
    out = tmp_path / "r"
    assert main(["run", "--quiet", "--config", str(config), "--seed", "5", "--out", str(out)]) == 0
    saved = json.loads((out / "metrics.json").read_text())["config"]
    assert saved["seed"] == 5 and saved["iterations"] == 3 and saved["hidden"] == [16]
    config.write_text("benchmark: split-digits\nepochz: 3\n")
    assert main(["run", "--config", str(config)]) == 2
    assert "unknown key 'epochz'" in capsys.readouterr().err


def test_every_run_config_field_has_a_flag_generated_from_it():
    import dataclasses

    from lifelong.cli import build_parser
    from lifelong.cli._common import NOT_FLAGS, config_from_args
    from lifelong.core.config import PARTS, RunConfig

    parser = build_parser()
    names = [f.name for f in dataclasses.fields(RunConfig) if f.name not in PARTS]
    for part in PARTS.values():
        names += [f.name for f in dataclasses.fields(part)]
    names = ["model" if n == "name" else n for n in names]
    assert len(names) == 39  # 34 + the online-stream settings (issue 14)
    for name in names:
        if name in NOT_FLAGS:
            continue
        flag = "--" + name.replace("_", "-")
        assert flag in _run_help(parser), name
    args = parser.parse_args(
        ["run", "--curve-samples", "7", "--no-reset-optimizer", "--hidden", "8,4", "-b", "x"]
    )
    config = config_from_args(args)
    assert config.evaluation.curve_samples == 7 and config.training.reset_optimizer is False
    assert config.model.hidden == (8, 4) and config.data.benchmark == "x"


def _run_help(parser) -> str:
    import argparse

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["run"].format_help()


def test_a_wrongly_typed_flag_names_the_field(capsys, tmp_path):
    code = main(["run", "--quiet", "--iterations", "many", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "iterations" in err and err.count("\n") == 1
