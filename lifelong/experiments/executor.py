"""Run many configurations in parallel worker processes, each pinned to a few torch threads.

A trial whose results folder already holds a ``metrics.json`` with the same fingerprint is skipped
and an interrupted one resumes from its checkpoint (a folder holding a run of another configuration
is refused, naming the differing keys: see :mod:`lifelong.core.rundir`); a trial that crashes or diverges is recorded with its
error and the others go on. Workers limit their torch threads so that ``jobs x threads`` never exceeds
the cores: oversubscribed OpenMP threads slow small models by an order of magnitude.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifelong.core.config import RunConfig, run_config_from_mapping
from lifelong.core.identity import identity


@dataclass
class TrialOutcome:
    """The result of one run: ``status`` is 'done', 'cached' or 'failed'."""

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
        saved = identity(metrics["config"], metrics.get("inputs"))
    except (KeyError, TypeError):
        return None
    return metrics if saved == identity(config.to_dict()) else None


def run_trial(key: str, config_dict: dict[str, Any], threads: int) -> TrialOutcome:
    """Run one configuration (in a worker process); never raises."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
        from lifelong.core.runner import resolve, run

        config = resolve(run_config_from_mapping(config_dict))
        cached = finished_metrics(config)
        if cached is not None:
            return TrialOutcome(key, "cached", config.to_dict(), cached)
        result = run(config, resume=True)
        return TrialOutcome(key, "done", config.to_dict(), result.metrics)
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


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_local(
    trials: Sequence[tuple[str, RunConfig]],
    *,
    jobs: int | None = None,
    threads: int | None = None,
    on_result: Callable[[TrialOutcome], None] | None = None,
) -> list[TrialOutcome]:
    """Run ``trials`` (key, config) in up to ``jobs`` processes; results in the input order.

    Args:
        jobs: worker processes (default: the number of cores).
        threads: torch threads per worker (default: cores // jobs, at least 1).
        on_result: called in the parent as each trial finishes (progress, incremental saving).
    """
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs or default_jobs(), len(trials) or 1))
    threads = threads or max(1, cores // jobs)
    results: dict[str, TrialOutcome] = {}
    if jobs == 1:
        for key, config in trials:
            outcome = run_trial(key, config.to_dict(), threads)
            results[key] = outcome
            if on_result:
                on_result(outcome)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {
                pool.submit(run_trial, key, config.to_dict(), threads): key
                for key, config in trials
            }
            for future in as_completed(futures):
                outcome = future.result()
                results[outcome.key] = outcome
                if on_result:
                    on_result(outcome)
    return [results[key] for key, _ in trials]
