"""Run identity: a folder's results are only ever reused, resumed or reported under their own
configuration; one writer per folder; config.yaml written with the results; user-umask files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lifelong.cli import main
from lifelong.core.identity import describe_difference, fingerprint, identity
from lifelong.core.rundir import FolderBusyError, locked

TINY = [
    "--benchmark",
    "split-digits",
    "--tasks",
    "2",
    "--iterations",
    "10",
    "--batch-size",
    "32",
    "--hidden",
    "16",
    "--eval-every",
    "0",
    "--threads",
    "1",
]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_fingerprint_ignores_where_and_how_fast_but_not_what(tiny_config):
    base = tiny_config().to_dict()
    assert fingerprint(base) == fingerprint({**base, "out": "x", "threads": 2, "device": "cpu"})
    assert fingerprint(base) != fingerprint({**base, "iterations": 21})
    changed = {**base, "strategy_params": {"strength": 10}}
    assert fingerprint(base) != fingerprint(changed)
    assert "strategy_params.strength: (unset) -> 10" in describe_difference(
        identity(base), identity(changed)
    )


def test_run_into_a_finished_run_refuses_unless_overwrite(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["run", "--quiet", *TINY, "--out", out]) == 0
    first = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert first["fingerprint"] == fingerprint(first["config"])
    capsys.readouterr()
    assert main(["run", "--quiet", *TINY, "--out", out]) == 2
    assert "holds a finished run of this configuration" in one_line_error(capsys)
    assert main(["run", "--quiet", *TINY, "--lr", "0.01", "--out", out]) == 2
    assert "another configuration (lr: 0.001 -> 0.01)" in one_line_error(capsys)
    assert main(["run", "--quiet", *TINY, "--lr", "0.01", "--out", out, "--overwrite"]) == 0
    saved = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert saved["config"]["lr"] == 0.01
    assert "lr: 0.01" in (tmp_path / "r" / "config.yaml").read_text()


def test_resume_refuses_a_checkpoint_of_another_configuration(tmp_path, tiny_config):
    from lifelong import run
    from lifelong.errors import LifelongError

    out = tmp_path / "r"
    config = tiny_config(out=str(out), tasks=2)
    run(config)
    (out / "metrics.json").unlink()  # now only the checkpoint tells which run this is
    (out / "config.yaml").unlink()
    with pytest.raises(LifelongError, match=r"interrupted run of another configuration \(iter"):
        run(config.replace(iterations=30), resume=True)
    with pytest.raises(LifelongError, match="strategy_params.strength"):
        run(config.replace(strategy="ewc", strategy_params={"strength": 5.0}), resume=True)
    resumed = run(config, resume=True)  # the same configuration resumes
    assert resumed.metrics["config"]["iterations"] == 20


def test_resume_with_flags_that_change_the_run_is_refused(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["run", "--quiet", *TINY, "--out", out]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", out, "--iterations", "50"]) == 2
    assert "remove --iterations" in one_line_error(capsys)
    assert main(["run", "--resume", out, "--threads", "1", "--quiet"]) == 0


def test_config_yaml_is_written_with_the_results_not_before(tmp_path, tiny_config):
    from lifelong import run
    from lifelong.core.events import Observer

    out = tmp_path / "r"
    seen = []

    class Look(Observer):
        def task_done(self, task, accuracies):
            seen.append((out / "config.yaml").exists())

    run(tiny_config(out=str(out), tasks=2), observers=[Look()])
    assert seen == [False, False]
    assert (out / "config.yaml").is_file()


def test_compare_rerun_with_changed_settings_is_refused_not_reported(tmp_path, capsys):
    out = str(tmp_path / "c")
    args = ["compare", *TINY, "--strategies", "naive", "--seeds", "0", "--jobs", "1", "--out", out]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--iterations", "12"]) == 2
    err = one_line_error(capsys)
    assert "another configuration (iterations: 10 -> 12)" in err
    assert main([*args]) == 0  # the same comparison reuses its finished run
    assert "already finished" in capsys.readouterr().out
    assert main([*args, "--iterations", "12", "--overwrite"]) == 0
    metrics = json.loads((tmp_path / "c" / "runs" / "naive-s0" / "metrics.json").read_text())
    assert metrics["config"]["iterations"] == 12


def test_a_second_writer_of_a_folder_stops_naming_the_holder(tmp_path, capsys):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from lifelong.core.rundir import locked
                with locked({str(tmp_path / "r")!r}, "test holder"):
                    print("locked", flush=True)
                    time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code = main(["run", "--quiet", *TINY, "--out", str(tmp_path / "r")])
        err = one_line_error(capsys)
        assert code == 2
        assert f"is in use by pid {holder.pid} (test holder" in err
        assert not (tmp_path / "r" / "log.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    with locked(tmp_path / "r", "after"):  # the lock went with its holder
        pass


def test_lock_is_exclusive_within_a_process_too(tmp_path):
    with (
        locked(tmp_path, "first"),
        pytest.raises(FolderBusyError, match="first"),
        locked(tmp_path, "second"),
    ):
        pass


def test_stale_temporaries_are_removed_and_results_follow_the_umask(tmp_path, tiny_config):
    from lifelong import run

    out = tmp_path / "r"
    out.mkdir()
    stale = out / ".metrics.json.abc123.tmp"
    stale.write_text("half")
    old = os.umask(0o022)
    try:
        run(tiny_config(out=str(out), tasks=2))
    finally:
        os.umask(old)
    assert not stale.exists()
    for name in ("metrics.json", "config.yaml", "accuracy_matrix.csv", "checkpoint.pt"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name


def test_two_concurrent_compares_on_one_folder_leave_one_intact_result(tmp_path):
    out = tmp_path / "c"
    command = [
        sys.executable,
        "-m",
        "lifelong",
        "compare",
        *TINY,
        "--strategies",
        "naive",
        "--seeds",
        "0",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.05)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = [p.communicate(timeout=300) for p in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    if codes == [0, 0]:  # the second started after the first had finished: it reused the run
        assert b"already finished" in results[1][0] or b"already finished" in results[0][0]
    else:
        assert codes == [0, 2]
        loser = results[0] if first.returncode == 2 else results[1]
        assert b"is in use by pid" in loser[1]
    log = (out / "runs" / "naive-s0" / "log.csv").read_bytes()
    assert b"\x00" not in log
    metrics = json.loads((out / "runs" / "naive-s0" / "metrics.json").read_text())
    assert len(metrics["accuracy_matrix"]) == 2
    assert not list(Path(out).rglob("*.tmp"))


def test_a_users_data_and_model_are_part_of_the_identity(tmp_path):
    import torch
    from torch import nn

    import lifelong
    from lifelong.errors import LifelongError

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(240, 6, generator=generator)
    y = torch.arange(240) % 4

    def scenario(shift: float = 0.0):
        return lifelong.scenario_from_tensors(x + shift, y, classes_per_task=2, test_fraction=0.25)

    def model(width: int = 8) -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(6, width), nn.ReLU(), nn.Linear(width, 4))

    config = lifelong.RunConfig.of(
        iterations=5, batch_size=16, eval_every=0, out=str(tmp_path / "r")
    )
    first = lifelong.run(config, scenario=scenario(), model=model())
    assert set(first.metrics["inputs"]) == {"scenario", "model"}
    with pytest.raises(LifelongError, match=r"another configuration \(inputs.scenario"):
        lifelong.run(config, scenario=scenario(shift=1.0), model=model(), resume=True)
    with pytest.raises(LifelongError, match=r"another configuration \(inputs.model"):
        lifelong.run(config, scenario=scenario(), model=model(width=9), resume=True)
    again = lifelong.run(config, scenario=scenario(), model=model(), resume=True)
    assert again.metrics["accuracy_matrix"] == first.metrics["accuracy_matrix"]


def test_a_run_under_changed_strategy_defaults_is_never_reused(tmp_path, tiny_config, capsys):
    """The fingerprint names only the hyperparameters given; the run records all of them, so a
    folder trained under other defaults (an older version's) is refused, not reused or resumed."""
    import torch

    from lifelong import run
    from lifelong.core.checkpoint import load_checkpoint
    from lifelong.core.runner import resolve
    from lifelong.errors import LifelongError
    from lifelong.experiments.executor import finished_metrics

    out = tmp_path / "r"
    config = resolve(tiny_config(out=str(out), tasks=2, strategy="ewc"))
    first = run(config).metrics
    default = first["hyperparameters"]["fisher_samples"]  # not given: the default, recorded
    assert "fisher_samples" not in first["config"]["strategy_params"] and default > 0
    assert run(config, resume=True).metrics["fingerprint"] == first["fingerprint"]  # reused
    assert finished_metrics(config) is not None

    older = {
        **first,
        "hyperparameters": {**first["hyperparameters"], "fisher_samples": default * 3},
    }
    (out / "metrics.json").write_text(json.dumps(older))
    with pytest.raises(
        LifelongError, match=rf"hyperparameters.fisher_samples: {default * 3} -> {default}"
    ):
        run(config, resume=True)
    assert finished_metrics(config) is None  # a comparison or sweep trains it again

    legacy = {k: v for k, v in first.items() if k != "hyperparameters"}  # written before recording
    (out / "metrics.json").write_text(json.dumps(legacy))
    assert finished_metrics(config) is not None and run(config, resume=True).metrics

    (out / "metrics.json").unlink()  # an interrupted run: the checkpoint records them too
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["hyperparameters"] == first["hyperparameters"]
    state["hyperparameters"] = {**state["hyperparameters"], "fisher_samples": default + 1}
    torch.save(state, out / "checkpoint.pt")
    with pytest.raises(LifelongError, match="interrupted run of another configuration"):
        run(config, resume=True)


def test_a_run_of_a_strategy_revised_since_is_never_reused(tmp_path, tiny_config, monkeypatch):
    """A strategy whose computation changed (``revision`` raised) records its revision with its
    hyperparameters: the older code's folders, with or without a hyperparameters record, are
    refused; unrevised strategies record nothing new (older folders stay valid)."""
    from lifelong import get_strategy, run
    from lifelong.core.identity import REVISION
    from lifelong.core.runner import resolve
    from lifelong.errors import LifelongError
    from lifelong.experiments.executor import finished_metrics

    out = tmp_path / "r"
    config = resolve(tiny_config(out=str(out), tasks=2, strategy="mas"))
    first = run(config).metrics
    assert REVISION not in first["hyperparameters"]

    monkeypatch.setattr(get_strategy("mas"), "revision", 2)  # the method was fixed since
    assert finished_metrics(config) is None
    with pytest.raises(LifelongError, match=rf"hyperparameters.{REVISION}: \(unset\) -> 2"):
        run(config, resume=True)
    legacy = {k: v for k, v in first.items() if k != "hyperparameters"}
    (out / "metrics.json").write_text(json.dumps(legacy))
    assert finished_metrics(config) is None
    with pytest.raises(LifelongError, match="another configuration"):
        run(config, resume=True)
    again = run(config, overwrite=True).metrics
    assert again["hyperparameters"][REVISION] == 2
    assert finished_metrics(config) is not None


def test_a_field_added_to_a_strategy_since_a_run_counts_at_its_default(tmp_path, tiny_config):
    """Records written before a hyperparameter existed stay valid while it is at its default (a
    new field's default keeps the old behaviour); at another value they are another run."""
    from lifelong import run
    from lifelong.core.identity import same_hyperparameters
    from lifelong.core.runner import resolve
    from lifelong.experiments.executor import finished_metrics

    out = tmp_path / "r"
    config = resolve(tiny_config(out=str(out), tasks=2, strategy="lwf"))
    first = run(config).metrics
    recorded = first["hyperparameters"]
    older = {k: v for k, v in recorded.items() if k != "average_units"}  # before it was added
    (out / "metrics.json").write_text(json.dumps({**first, "hyperparameters": older}))
    assert finished_metrics(config) is not None
    assert run(config, resume=True).metrics["fingerprint"] == first["fingerprint"]
    assert same_hyperparameters(older, recorded, "lwf")
    assert not same_hyperparameters(older, {**recorded, "average_units": True}, "lwf")
    assert not same_hyperparameters(recorded, {**recorded, "strength": 2.0}, "lwf")
