"""Every fault a user can cause gets one line and a non-zero exit, never a traceback, and leaves no
half-written result."""

from __future__ import annotations

import errno
import warnings

import pytest
import torch

from lifelong.cli import main

TINY = ["--tasks", "2", "--iterations", "5", "--batch-size", "32", "--hidden", "16"]
TINY += ["--eval-every", "0", "--threads", "1"]


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return code, err


def test_out_that_is_a_file_or_under_a_file(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    code, err = run_cli(capsys, "run", "--quiet", *TINY, "--out", str(target))
    assert code == 1 and str(target) in err
    code, err = run_cli(capsys, "run", "--quiet", *TINY, "--out", str(target / "below"))
    assert code == 1 and "Not a directory" in err
    assert target.read_text() == "not a folder"


def test_full_disk_is_one_line_and_leaves_no_partial_result(tmp_path, capsys, monkeypatch):
    from lifelong.core import io

    real = io.os.replace

    def full(src, dst):
        if str(dst).endswith("metrics.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(io.os, "replace", full)
    code, err = run_cli(capsys, "run", "--quiet", *TINY, "--out", str(tmp_path / "r"))
    assert code == 1 and "No space left on device" in err
    assert not (tmp_path / "r" / "metrics.json").exists()
    assert not list((tmp_path / "r").glob("*.tmp"))


def test_config_that_is_a_folder_not_utf8_or_has_duplicate_keys(tmp_path, capsys):
    code, err = run_cli(capsys, "run", "--config", str(tmp_path))
    assert code == 2 and "is a folder" in err
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("benchmark: split-digits  # caf\xe9\n".encode("latin-1"))
    code, err = run_cli(capsys, "run", "--config", str(latin))
    assert code == 2 and "not UTF-8" in err
    twice = tmp_path / "twice.yaml"
    twice.write_text("lr: 0.1\niterations: 5\nlr: 0.01\n")
    code, err = run_cli(capsys, "run", "--config", str(twice))
    assert code == 2 and "line 3: key 'lr' is given twice" in err


def _finished_run(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--quiet", *TINY, "--checkpoint-every", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    (out / "metrics.json").unlink()
    return out


def test_checkpoint_with_missing_keys_is_a_clear_error(tmp_path, capsys):
    out = _finished_run(tmp_path, capsys)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    del state["progress"]
    torch.save(state, out / "checkpoint.pt")
    code, err = run_cli(capsys, "run", "--resume", str(out))
    assert code == 2 and "incomplete checkpoint (missing progress)" in err


def test_checkpoint_for_another_model_shape_is_a_clear_error(tmp_path, capsys):
    out = _finished_run(tmp_path, capsys)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    name = next(k for k in state["strategy"] if k.endswith("weight"))
    state["strategy"][name] = torch.zeros(3, 3)
    torch.save(state, out / "checkpoint.pt")
    code, err = run_cli(capsys, "run", "--resume", str(out))
    assert code == 2 and "does not fit this run's model" in err and "size mismatch" in err


def test_a_model_too_large_to_allocate(tmp_path, capsys):
    args = ["run", "--quiet", "--tasks", "2", "--iterations", "1", "--threads", "1"]
    code, err = run_cli(capsys, *args, "--hidden", "2000000,2000000", "--out", str(tmp_path / "r"))
    assert code == 1 and "out of memory" in err


def test_sweep_grid_beyond_the_limit_is_refused_up_front(tmp_path, capsys):
    spec = tmp_path / "big.yaml"
    values = ", ".join(str(v) for v in range(1, 101))
    spec.write_text(
        "benchmark: split-digits\nscenario: task\nrun: {iterations: 5}\n"
        "strategies:\n  ewc:\n    space:\n"
        f"      strength: [{values}]\n      fisher_samples: [{values}]\n      lr: [{values}]\n"
    )
    code, err = run_cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "s"))
    assert code == 2 and "1,000,000 points (more than 10,000)" in err
    assert not (tmp_path / "s").exists()


def test_sweep_whose_every_trial_fails_exits_non_zero(tmp_path, capsys):
    spec = tmp_path / "diverge.yaml"
    spec.write_text(
        "benchmark: split-digits\nscenario: task\n"
        "run: {iterations: 5, batch_size: 32, hidden: [8], eval_every: 0, lr: 1.0e+30}\n"
        "seeds: {tuning: [0], evaluation: [1]}\n"
        "strategies:\n  naive: {}\n"
    )
    code = main(["sweep", str(spec), "--out", str(tmp_path / "s"), "--jobs", "1", "--quiet"])
    assert code == 1
    assert "every trial of the sweep failed" in capsys.readouterr().err


def test_compare_validates_data_before_starting_workers(tmp_path, capsys):
    args = ["compare", "--benchmark", "split-mnist", "--strategies", "naive", "--seeds", "0"]
    code, err = run_cli(capsys, *args, "--data-root", str(tmp_path / "empty"))
    assert code == 2 and "mnist" in err
    assert not (tmp_path / "comparisons").exists()


def test_a_loss_that_grows_by_orders_of_magnitude_warns(tiny_config):
    from lifelong.core.learner import Learner
    from lifelong.core.runner import build_run_scenario, build_strategy, resolve
    from lifelong.errors import LossGrowthWarning

    config = resolve(tiny_config(tasks=2))
    strategy = build_strategy(config, build_run_scenario(config), torch.device("cpu"))
    learner = Learner.from_config(strategy, config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for iteration, value in enumerate([2.3, 5.0, 40.0, 900.0]):
            learner._check_loss_growth(value, 0, iteration)
        assert not caught  # 900 < 1000 x 2.3
        learner._check_loss_growth(2400.0, 0, 4)
        learner._check_loss_growth(9000.0, 0, 5)  # warned once per task
    assert len(caught) == 1 and issubclass(caught[0].category, LossGrowthWarning)
    assert "task 0, iteration 4" in str(caught[0].message)


@pytest.mark.parametrize("flag", ["--overwrite"])
def test_resume_and_overwrite_together_are_refused(tmp_path, capsys, flag):
    code, err = run_cli(capsys, "run", "--resume", str(tmp_path), flag)
    assert code == 2 and "contradict" in err
