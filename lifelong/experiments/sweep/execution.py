"""Executing trials with a backend (local worker processes, Ray, ...), skipping the trials an
earlier attempt finished or recorded as failed, and recording outcomes in the trials' folders."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from lifelong.core.config import RunConfig
from lifelong.core.io import atomic_write_json
from lifelong.experiments.executor import (
    TrialOutcome,
    WorkerPool,
    default_jobs,
    finished_metrics,
    run_local,
)
from lifelong.experiments.sweep.space import format_params
from lifelong.experiments.sweep.trials import Trial, config_hash, trial_key

Backend = Callable[
    [Sequence[tuple[str, RunConfig]], Callable[[TrialOutcome], None]], list[TrialOutcome]
]


class LocalBackend:
    """Worker processes on this machine, kept warm from one batch of trials to the next (a sweep's
    tuning and evaluation stages share them; :class:`lifelong.experiments.executor.WorkerPool`).
    One job runs the trials in this process. ``close()`` (or a ``with`` block) stops the workers."""

    def __init__(self, jobs: int | None, threads: int) -> None:
        self.jobs, self.threads = jobs or default_jobs(), threads
        self.pool = WorkerPool(self.jobs, threads) if self.jobs > 1 else None

    def __call__(
        self, trials: Sequence[tuple[str, RunConfig]], on_result: Callable[[TrialOutcome], None]
    ) -> list[TrialOutcome]:
        return run_local(
            trials, jobs=self.jobs, threads=self.threads, on_result=on_result, pool=self.pool
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def local_backend(jobs: int | None, threads: int) -> LocalBackend:
    """Worker processes on this machine (see :class:`LocalBackend`)."""
    return LocalBackend(jobs, threads)


def execute_trials(
    trials: list[Trial],
    backend: Backend,
    *,
    retry_failed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, TrialOutcome]:
    """Run ``trials`` (skipping recorded ones); returns outcomes by trial key.

    The driver writes ``failure.json`` for a failed trial and ``metrics.json`` when a remote worker
    could not (its folder is not on a shared filesystem), so a repeated sweep skips both.
    """
    outcomes: dict[str, TrialOutcome] = {}
    pending = []
    for trial in trials:
        recorded = _recorded(trial, retry_failed)
        if recorded is not None:
            outcomes[recorded.key] = recorded
        else:
            pending.append(trial)
    by_key = {trial_key(t): t for t in trials}
    done = [len(outcomes)]

    def on_result(outcome: TrialOutcome) -> None:
        trial = by_key[outcome.key]
        folder = Path(trial.config.out or "")
        if outcome.ok and outcome.metrics is not None and not (folder / "metrics.json").is_file():
            atomic_write_json(folder / "metrics.json", outcome.metrics)
        if not outcome.ok:
            atomic_write_json(
                folder / "failure.json",
                {
                    "error": outcome.error,
                    "config_hash": config_hash(trial.config),
                    "traceback": outcome.extra.get("traceback"),
                },
            )
        done[0] += 1
        if progress:
            status = "ok" if outcome.ok else f"FAILED ({outcome.error})"
            progress(
                f"[{done[0]}/{len(trials)}] {trial.stage} {trial.strategy} "
                f"#{trial.candidate} {format_params(trial.params)} seed {trial.seed}: {status}"
            )

    if progress and len(outcomes):
        progress(f"{len(outcomes)} of {len(trials)} {trials[0].stage} trials already recorded")
    if pending:
        for outcome in backend([(trial_key(t), t.config) for t in pending], on_result):
            outcomes[outcome.key] = outcome
    return outcomes


def _recorded(trial: Trial, retry_failed: bool) -> TrialOutcome | None:
    """The outcome of an earlier attempt at this trial: finished, or failed (unless retrying)."""
    folder = Path(trial.config.out or "")
    metrics = finished_metrics(trial.config)
    if metrics is not None:
        return TrialOutcome(trial_key(trial), "cached", trial.config.to_dict(), metrics)
    failure = folder / "failure.json"
    if retry_failed or not failure.is_file():
        return None
    try:
        record = json.loads(failure.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("config_hash") != config_hash(trial.config):
        return None
    return TrialOutcome(trial_key(trial), "failed", trial.config.to_dict(), error=record["error"])
