"""Run trials as Ray tasks, locally or on an existing Ray cluster (``pip install lifelong[ray]``).

Each trial is one Ray task executing :func:`lifelong.experiments.executor.run_trial` (the same
function the local executor runs), with ``num_cpus`` / ``num_gpus`` reserved for it; Ray schedules
as many at once as the cluster's resources allow. The torch thread count of a trial is the same as
in the local backend, so both compute bit-identical results for the same seeds. Ray keeps its
worker processes and runs task after task in them (its default for tasks without GPUs; GPU tasks
get a new process each, ``max_calls=1``, to release the device's memory), so trials are warm here
too, and ``run_trial`` restores the process state between them as in the local pool.

On a multi-node cluster, every node needs lifelong installed and the dataset files (set
``data_root`` in the run settings, or ``LIFELONG_DATA``, which is forwarded to the workers).
Workers write their run folders where they run; results also travel back to the driver, which
records them in its own results folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from lifelong.core.config import RunConfig
from lifelong.errors import LifelongError
from lifelong.experiments.executor import TrialOutcome, run_trial


def import_ray() -> Any:
    """The ``ray`` module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise LifelongError(
            "the ray backend needs Ray: pip install 'lifelong[ray]' (or use --backend local)"
        ) from None
    return ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to the cluster at ``address``, or start a local instance with ``num_cpus`` CPUs.

    Returns True when this call started the connection (the caller should shut it down), False when
    Ray was already initialised in this process (it is reused as is).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
    try:
        if address:
            # A local instance inherits this environment; a cluster's workers get the data path.
            env = {k: v for k, v in os.environ.items() if k == "LIFELONG_DATA"}
            ray.init(address=address, runtime_env={"env_vars": env} if env else None, **options)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **options)
    except ConnectionError as err:
        raise LifelongError(f"cannot join the Ray cluster at '{address}': {err}") from None
    return True


def run_ray(
    trials: Sequence[tuple[str, RunConfig]],
    *,
    threads: int = 1,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    address: str | None = None,
    cluster_cpus: int | None = None,
    on_result: Callable[[TrialOutcome], None] | None = None,
) -> list[TrialOutcome]:
    """Run ``trials`` (key, config) as Ray tasks; results in the input order.

    Args:
        threads: torch threads per trial (equal to the local backend's: identical results).
        num_cpus, num_gpus: resources reserved per trial (fractions allowed).
        address: an existing cluster (``ray://host:10001``, ``host:6379`` or ``auto``); without it a
            local instance with ``cluster_cpus`` CPUs is started (default: all cores).
        on_result: called in the driver as each trial finishes.
    """
    ray = import_ray()
    started = ensure_ray(address, cluster_cpus)
    try:
        task = ray.remote(run_trial).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0)
        refs = {
            task.remote(key, config.to_dict(), threads): (key, config) for key, config in trials
        }
        results: dict[str, TrialOutcome] = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                key, config = refs[ref]
                try:
                    outcome = ray.get(ref)
                except Exception as err:  # noqa: BLE001 - a lost worker fails its trial only
                    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                    outcome = TrialOutcome(
                        key,
                        "failed",
                        config.to_dict(),
                        error=f"{type(err).__name__}: {first[:300]}",
                    )
                results[key] = outcome
                if on_result:
                    on_result(outcome)
    finally:
        if started:
            ray.shutdown()
    return [results[key] for key, _ in trials]


def ray_backend(
    *, threads: int, num_cpus: float, num_gpus: float, address: str | None, cluster_cpus: int | None
):  # type: ignore[no-untyped-def]
    """A sweep backend (see :func:`lifelong.experiments.sweep.run_sweep`) running Ray tasks."""
    import_ray()

    def execute(
        trials: Sequence[tuple[str, RunConfig]], on_result: Callable[[TrialOutcome], None]
    ) -> list[TrialOutcome]:
        return run_ray(
            trials,
            threads=threads,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            address=address,
            cluster_cpus=cluster_cpus,
            on_result=on_result,
        )

    return execute
