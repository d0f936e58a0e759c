"""Checkpoints for real: a `lifelong run` killed with SIGKILL mid-task resumes to the metrics of an
uninterrupted run; a saved config repeats a run exactly; a crafted pickle is refused (not run)."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import torch

from lifelong.cli import main
from lifelong.core.config import load_yaml, run_config_from_mapping
from lifelong.core.runner import load_checkpoint, run
from lifelong.errors import LifelongError

SAME = [
    "accuracy_matrix",
    "average_accuracy",
    "average_forgetting",
    "max_forgetting",
    "backward_transfer",
    "forward_transfer",
    "forgetting_per_task",
    "initial_accuracy",
    "curve",
    "parameters_per_task",
    "strategy_metrics",
]
ARGS = [
    "run",
    "--benchmark",
    "permuted-digits",
    "--tasks",
    "3",
    "--iterations",
    "60",
    "--batch-size",
    "32",
    "--hidden",
    "32",
    "--eval-every",
    "20",
    "--checkpoint-every",
    "5",
    "--threads",
    "1",
    "--quiet",
]


def lifelong(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "lifelong", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_mid_task(out, deadline_seconds: float = 240.0) -> dict:
    """Start a run, SIGKILL it once a checkpoint inside task 2 exists; return that checkpoint."""
    process = lifelong(*ARGS, "--out", str(out))
    checkpoint = out / "checkpoint.pt"
    deadline = time.monotonic() + deadline_seconds
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.exists():
                progress = load_checkpoint(checkpoint)["progress"]
                if progress["task"] >= 1 and progress["iteration"] > 0:
                    process.send_signal(signal.SIGKILL)
                    process.wait(30)
                    return progress
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    raise AssertionError(f"no mid-task checkpoint before the run ended: {process.stderr.read()}")


def test_killed_run_resumes_to_the_uninterrupted_metrics(tmp_path):
    out = tmp_path / "run"
    seen = kill_mid_task(out)
    assert not (out / "metrics.json").exists()  # it really died before the end
    assert 1 <= seen["task"] < 3 and seen["iteration"] > 0

    resumed = lifelong("run", "--resume", str(out), "--quiet")
    assert resumed.wait(300) == 0, resumed.stderr.read()
    metrics = json.loads((out / "metrics.json").read_text())

    config = run_config_from_mapping(load_yaml(out / "config.yaml"))
    reference = run(config.replace(out=None, checkpoint_every=0), write=False).metrics
    for key in SAME:
        assert metrics[key] == reference[key], key
    # The log holds every iteration exactly once, although some ran twice (before the kill and
    # after the resume).
    loss_rows = [
        line.split(",")
        for line in (out / "log.csv").read_text().splitlines()
        if line.startswith("loss,")
    ]
    assert [int(r[3]) for r in loss_rows] == list(range(1, 3 * 60 + 1))

    # The saved configuration repeats the run exactly.
    again = tmp_path / "again"
    assert main(["run", "--quiet", "--config", str(out / "config.yaml"), "--out", str(again)]) == 0
    repeated = json.loads((again / "metrics.json").read_text())
    for key in SAME:
        assert repeated[key] == metrics[key], key


class _Payload:
    """Unpickling this runs ``open(marker, "w")``: a stand-in for arbitrary code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_crafted_pickle_in_a_checkpoint_is_refused_and_not_executed(tmp_path, tiny_config, capsys):
    out = tmp_path / "run"
    run(tiny_config(iterations=2, out=str(out)))
    marker = tmp_path / "code-ran"
    for write in ("torch", "pickle"):
        payload = {"format": 1, "progress": _Payload(str(marker))}
        if write == "torch":
            torch.save(payload, out / "checkpoint.pt")
        else:
            (out / "checkpoint.pt").write_bytes(pickle.dumps(payload))
        try:
            load_checkpoint(out / "checkpoint.pt")
            raise AssertionError("the crafted checkpoint was loaded")
        except LifelongError as err:
            assert "refused to load" in str(err) or "not a valid lifelong checkpoint" in str(err)
        assert main(["run", "--resume", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("lifelong: error: ") and err.count("\n") == 1, err
        assert "checkpoint.pt" in err and "Traceback" not in err
        assert not marker.exists()
    torch.save({"format": 1, "progress": _Payload(str(marker))}, out / "checkpoint.pt")
    main(["run", "--resume", str(out), "--quiet"])
    assert "refused to load" in capsys.readouterr().err  # names the problem: unsafe content
    assert not marker.exists()


def test_resume_of_a_missing_or_corrupt_folder_is_one_line(tmp_path, tiny_config, capsys):
    assert main(["run", "--resume", str(tmp_path / "nope")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    out = tmp_path / "run"
    run(tiny_config(iterations=2, out=str(out)))
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not a valid lifelong checkpoint" in err and err.count("\n") == 1
