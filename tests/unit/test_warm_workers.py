"""Warm worker processes: a trial's results do not depend on what its worker ran before."""

from __future__ import annotations

import json
import random

import numpy as np
import torch

from lifelong import RunConfig
from lifelong.experiments.executor import WorkerPool, trial_scope
from lifelong.experiments.sweep import local_backend, run_sweep, sweep_from_mapping

TINY = {"iterations": 15, "batch_size": 32, "hidden": [16], "eval_every": 0, "plot": False}
# Fields of metrics.json that measure time or memory, not the run's outcome.
MEASURED = ("seconds", "per_cpu_second", "memory", "bytes")


def outcome_of(folder) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    return {
        key: value
        for key, value in metrics.items()
        if key != "config" and not any(word in key for word in MEASURED)
    }


def test_trial_scope_sets_threads_and_restores_process_state():
    torch.manual_seed(5)
    before = (torch.get_num_threads(), torch.get_default_dtype(), torch.get_rng_state())
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with trial_scope(2):
        assert torch.get_num_threads() == 2
        torch.use_deterministic_algorithms(True)
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        torch.manual_seed(123)
        random.seed(123)
        np.random.seed(123)
    assert torch.get_num_threads() == before[0]
    assert torch.get_default_dtype() == before[1] == torch.float32
    assert torch.equal(torch.get_rng_state(), before[2])
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.is_grad_enabled()
    assert random.getstate() == python_state
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])


def test_warm_worker_gives_a_fresh_process_results(tmp_path):
    """A then B in one warm worker, and A, B each in a fresh process: identical metrics."""

    def trials(root):
        a = RunConfig.of(benchmark="permuted-digits", strategy="er", seed=3, out=str(root / "a"))
        b = RunConfig.of(benchmark="split-digits", setting="class", strategy="ewc", seed=0)
        return [
            ("a", a.replace(**TINY)),
            ("b", b.replace(**TINY, out=str(root / "b"))),
        ]

    with WorkerPool(1, 1) as pool:
        warm = pool.run(trials(tmp_path / "warm"))
    with WorkerPool(1, 1, fresh=True) as pool:
        fresh = pool.run(trials(tmp_path / "fresh"))
    assert [o.status for o in warm + fresh] == ["done"] * 4
    assert warm[0].extra["worker"] == warm[1].extra["worker"]  # B ran after A in one process
    assert fresh[0].extra["worker"] != fresh[1].extra["worker"]
    for name in ("a", "b"):
        assert outcome_of(tmp_path / "warm" / name) == outcome_of(tmp_path / "fresh" / name)
    assert outcome_of(tmp_path / "warm" / "a") != outcome_of(tmp_path / "warm" / "b")


def test_sweep_stages_share_warm_workers(tmp_path):
    spec = sweep_from_mapping(
        {
            "name": "tiny",
            "benchmark": "split-digits",
            "setting": "class",
            "run": {k: v for k, v in TINY.items() if k != "plot"},
            "seeds": {"tuning": [0], "evaluation": [1]},
            "protocol": {"name": "validation", "validation_fraction": 0.2},
            "strategies": {"naive": {"space": {"lr": [0.001, 0.01]}}},
        }
    )
    workers: list[set[int]] = []
    with local_backend(2, 1) as backend:

        def recording(trials, on_result):
            outcomes = backend(trials, on_result)
            workers.append({o.extra["worker"] for o in outcomes})
            return outcomes

        result = run_sweep(spec, tmp_path, backend=recording, threads=1)
    assert all(row["status"] == "ok" for row in result.rows)
    tuning, evaluation = workers
    assert evaluation <= tuning  # the evaluation stage ran in the tuning stage's processes
