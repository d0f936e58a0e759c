"""Data-parallel training under torchrun (two CPU processes, gloo on 127.0.0.1): the same steps as
one process on the same global batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lifelong import RunConfig, run
from lifelong.core.distributed import from_environment
from lifelong.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
FLAGS = {
    "benchmark": "split-digits",
    "setting": "class",
    "tasks": 2,
    "hidden": "32",
    "iterations": 10,
    "batch_size": 33,  # slices of 17 and 16 samples: unequal shares are weighted
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "eval_every": 0,
    "threads": 1,
}


def test_two_process_naive_run_takes_the_single_process_steps(tmp_path):
    out = tmp_path / "ddp"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in FLAGS.items()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    # --standalone: a rendezvous on a free port of this machine (localhost)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    process = subprocess.Popen(
        [*command, "-m", "lifelong", "run", *flags, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the launcher and both ranks are stopped together on a timeout
    )
    try:
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr[-2000:]
    config = RunConfig.of(**{**FLAGS, "hidden": (32,)})
    single = run(config.replace(out=str(tmp_path / "one")))
    parallel = torch.load(out / "checkpoint.pt", weights_only=False)["strategy"]
    reference = single.strategy.state_dict()
    assert set(parallel) == set(reference) and any(k.startswith("model.") for k in reference)
    for name, value in reference.items():
        torch.testing.assert_close(parallel[name], value, rtol=1e-4, atol=1e-5)
    import json

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy_matrix"] == single.accuracy_matrix
    assert metrics["fingerprint"] == single.metrics["fingerprint"]


def test_unsupported_strategies_are_refused_before_joining_a_group(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="'si' does not support data-parallel training"):
        from_environment(torch.device("cpu"), RunConfig.of(strategy="si"))
    with pytest.raises(ConfigError, match="grad-accumulation"):
        from_environment(torch.device("cpu"), RunConfig.of(grad_accumulation=2))
