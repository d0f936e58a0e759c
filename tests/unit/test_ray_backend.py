"""The Ray backend: same trial table as the local backend for the same seeds; failures captured."""

from __future__ import annotations

import csv
import sys

import pytest

from lifelong.errors import LifelongError
from lifelong.experiments.sweep import local_backend, run_sweep, sweep_from_mapping

SPEC = {
    "name": "ray-vs-local",
    "benchmark": "split-digits",
    "setting": "class",
    "run": {"iterations": 20, "batch_size": 32, "hidden": [32], "eval_every": 0},
    "seeds": {"tuning": [0], "evaluation": [1, 2]},
    "protocol": {"name": "validation", "validation_fraction": 0.2},
    "strategies": {"naive": {"space": {"optimizer": "sgd", "lr": [1e12, 0.1]}}},
}


@pytest.fixture(scope="module")
def ray_cluster():
    """One local 2-CPU Ray instance for the module (ray.init takes seconds)."""
    import ray

    from lifelong.experiments.ray_backend import ensure_ray

    started = ensure_ray(num_cpus=2)
    yield ray
    if started:
        ray.shutdown()


def table(path):
    return [
        {k: v for k, v in row.items() if k != "train_seconds"}
        for row in csv.DictReader(path.open())
    ]


def test_ray_and_local_backends_give_the_same_trial_table(ray_cluster, tmp_path):
    from lifelong.experiments.ray_backend import ray_backend

    spec = sweep_from_mapping(SPEC)
    run_sweep(spec, tmp_path / "local", backend=local_backend(1, 1), threads=1)
    backend = ray_backend(threads=1, num_cpus=1, num_gpus=0, address=None, cluster_cpus=None)
    result = run_sweep(spec, tmp_path / "ray", backend=backend, threads=1)
    rows = table(tmp_path / "ray" / "trials.csv")
    assert rows == table(tmp_path / "local" / "trials.csv")
    assert len(rows) == 4 and [r["status"] for r in rows] == ["failed", "ok", "ok", "ok"]
    assert "diverged" in rows[0]["error"]
    assert result.leaderboard[0]["params"] == {"optimizer": "sgd", "lr": 0.1}
    assert (tmp_path / "ray" / rows[0]["folder"] / "failure.json").is_file()


def test_missing_ray_gives_a_clear_error(monkeypatch):
    from lifelong.experiments.ray_backend import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(LifelongError, match=r"pip install 'lifelong\[ray\]'"):
        import_ray()
