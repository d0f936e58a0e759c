"""Run many configurations in parallel worker processes, each pinned to a few torch threads.

A trial whose results folder already holds a ``metrics.json`` with the same fingerprint is skipped
and an interrupted one resumes from its checkpoint (a folder holding a run of another configuration
is refused, naming the differing keys: see :mod:`lifelong.core.rundir`); a trial that crashes or
diverges is recorded with its error and the others go on. Workers limit their torch threads so that
``jobs x threads`` never exceeds the cores: oversubscribed OpenMP threads slow small models by an
order of magnitude.

Workers are warm (:class:`WorkerPool`): each starts the interpreter and imports torch once, then
runs trial after trial, with the process-wide state a run may change restored between trials
(:func:`trial_scope`), so a trial's results equal those of a fresh process.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifelong.core.config import RunConfig, run_config_from_mapping
from lifelong.core.identity import run_identity, same_identity
from lifelong.core.rundir import recorded_identity
from lifelong.errors import LifelongError


@dataclass
class TrialOutcome:
    """The result of one run: ``status`` is 'done', 'cached' or 'failed'; ``extra`` holds the
    worker's process id (``worker``) or the failure's ``traceback``."""

    key: str
    status: str
    config: dict[str, Any]
    metrics: dict[str, Any] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("done", "cached")


def finished_metrics(config: RunConfig) -> dict[str, Any] | None:
    """The saved metrics of a completed run with the same configuration, if any."""
    if not config.out:
        return None
    path = Path(config.out) / "metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    try:
        saved = recorded_identity(metrics)
    except (KeyError, TypeError):
        return None
    return metrics if same_identity(saved, run_identity(config.to_dict())) else None


@contextlib.contextmanager
def trial_scope(threads: int) -> Iterator[None]:
    """Run one trial in a process that may run others before and after it (a warm worker).

    Sets the thread count, and restores on exit what a run, a strategy or a plugin may change for
    the whole process: torch's thread count, deterministic-algorithm flags, default dtype, grad
    mode and the global random generators (Python, NumPy, torch). A run seeds itself, so restoring
    is a safeguard: the next trial starts from the state a fresh worker has. Dataset caches stay
    (keyed by dataset and folder, never written to).
    """
    import random

    import numpy as np
    import torch

    saved = (
        os.environ.get("OMP_NUM_THREADS"),
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.get_default_dtype(),
        torch.is_grad_enabled(),
        random.getstate(),
        np.random.get_state(),
        torch.get_rng_state(),
    )
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        env, num_threads, deterministic, warn_only, dtype, grad, py_rng, np_rng, torch_rng = saved
        if env is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = env
        torch.set_num_threads(num_threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        random.setstate(py_rng)
        np.random.set_state(np_rng)
        torch.set_rng_state(torch_rng)


def run_trial(key: str, config_dict: dict[str, Any], threads: int) -> TrialOutcome:
    """Run one configuration (in a worker process, fresh or warm); never raises."""
    try:
        with trial_scope(threads):
            from lifelong.core.runner import resolve, run

            config = resolve(run_config_from_mapping(config_dict))
            worker = {"worker": os.getpid()}
            cached = finished_metrics(config)
            if cached is not None:
                return TrialOutcome(key, "cached", config.to_dict(), cached, extra=worker)
            result = run(config, resume=True)
            return TrialOutcome(key, "done", config.to_dict(), result.metrics, extra=worker)
    except KeyboardInterrupt:
        raise  # Ctrl-C stops the whole comparison or sweep, not just this trial
    except BaseException as err:  # noqa: BLE001 - a failed trial is a result, not a crash
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return TrialOutcome(
            key,
            "failed",
            config_dict,
            error=f"{type(err).__name__}: {message}",
            extra={"traceback": traceback.format_exc(limit=8)},
        )


def warm_up() -> None:
    """A worker's start: import torch, the runner and the built-in strategies once, before its
    first trial (each trial then pays only for its own work)."""
    import lifelong.core.runner  # noqa: F401 - the import is the point
    from lifelong.core.registry import get_strategy

    get_strategy("naive")


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Worker processes kept warm across batches of trials (a comparison, a sweep's stages).

    Each worker starts once (interpreter, torch, lifelong: :func:`warm_up`) and runs trial after
    trial in :func:`trial_scope`, so its results equal a fresh process's (tested). Workers are
    spawned, never forked, so they hold no copy of the parent's state. A worker only serves trials
    of one plugin list (a plugin's strategies stay registered in the process that imported it):
    trials loading other plugins than the pool's get new workers.

    Args:
        jobs: worker processes.
        threads: torch threads per trial.
        fresh: a new process for every trial (the reference for tests and benchmarks).
    """

    def __init__(self, jobs: int, threads: int, *, fresh: bool = False) -> None:
        self.jobs, self.threads, self.fresh = max(1, jobs), threads, fresh
        self._pool: ProcessPoolExecutor | None = None
        self._plugins: tuple[str, ...] | None = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self, plugins: Sequence[str] = ()) -> None:
        """Start the workers now (they warm up while the caller prepares the trials); a fresh pool
        starts a process per trial, so only then."""
        if self.fresh:
            return
        pool = self._executor(tuple(plugins))
        for _ in range(self.jobs):
            pool.submit(warm_up)

    def _executor(self, plugins: tuple[str, ...]) -> ProcessPoolExecutor:
        if self._pool is not None and plugins != self._plugins:
            self.close()
        if self._pool is None:
            options: dict[str, Any] = {}
            if self.fresh:
                if sys.version_info < (3, 11):
                    raise LifelongError("a process per trial needs Python 3.11 or later")
                options["max_tasks_per_child"] = 1
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=warm_up,
                **options,
            )
            self._plugins = plugins
        return self._pool

    def run(
        self,
        trials: Sequence[tuple[str, RunConfig]],
        on_result: Callable[[TrialOutcome], None] | None = None,
    ) -> list[TrialOutcome]:
        """Run ``trials`` (key, config); results in the input order."""
        results: dict[str, TrialOutcome] = {}
        groups: dict[tuple[str, ...], list[tuple[str, RunConfig]]] = {}
        for key, config in trials:
            groups.setdefault(tuple(config.plugins), []).append((key, config))
        for plugins, group in groups.items():
            pool = self._executor(plugins)
            futures = [
                pool.submit(run_trial, key, config.to_dict(), self.threads) for key, config in group
            ]
            for future in as_completed(futures):
                outcome = future.result()
                results[outcome.key] = outcome
                if on_result:
                    on_result(outcome)
        return [results[key] for key, _ in trials]


def run_local(
    trials: Sequence[tuple[str, RunConfig]],
    *,
    jobs: int | None = None,
    threads: int | None = None,
    on_result: Callable[[TrialOutcome], None] | None = None,
    pool: WorkerPool | None = None,
) -> list[TrialOutcome]:
    """Run ``trials`` (key, config) in up to ``jobs`` processes; results in the input order.

    Args:
        jobs: worker processes (default: the number of cores); one runs the trials in this process.
        threads: torch threads per worker (default: cores // jobs, at least 1).
        on_result: called in the parent as each trial finishes (progress, incremental saving).
        pool: warm workers to use (``jobs`` and ``threads`` are then the pool's).
    """
    if pool is not None:
        return pool.run(trials, on_result)
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs or default_jobs(), len(trials) or 1))
    threads = threads or max(1, cores // jobs)
    if jobs > 1:
        with WorkerPool(jobs, threads) as workers:
            return workers.run(trials, on_result)
    outcomes = []
    for key, config in trials:
        outcomes.append(run_trial(key, config.to_dict(), threads))
        if on_result:
            on_result(outcomes[-1])
    return outcomes
