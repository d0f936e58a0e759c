"""Selection: scoring candidates on the tuning runs, choosing the best per strategy, and the metrics
of a final run that may be reported (under ``first-tasks``, those of the sub-matrix without the
tuning tasks)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lifelong import metrics as M
from lifelong.experiments.executor import TrialOutcome
from lifelong.experiments.sweep.spec import REPORTED, Protocol
from lifelong.experiments.sweep.trials import Trial, trial_key


def reported_metrics(metrics: dict[str, Any], protocol: Protocol) -> dict[str, Any]:
    """The metrics of a final run that may be reported: under ``first-tasks`` those of the
    sub-matrix ``R[k:, k:]`` (the tuning tasks excluded), else the run's own."""
    if protocol.name != "first-tasks":
        return {key: metrics.get(key) for key in (*REPORTED, "forward_transfer")}
    k = protocol.tasks or 0
    R = np.asarray(metrics["accuracy_matrix"], dtype=float)[k:, k:]
    baseline = metrics.get("initial_accuracy")
    summary = M.summarize(R, baseline[k:] if baseline is not None else None)
    return {key: summary[key] for key in (*REPORTED, "forward_transfer")}


def select(
    trials: list[Trial], outcomes: dict[str, TrialOutcome], protocol: Protocol
) -> dict[str, dict[str, Any]]:
    """Score candidates (mean over tuning seeds; any failed seed fails the candidate) and pick the
    best per strategy. Returns per strategy: candidate, params, score, candidates, failed."""
    scores: dict[tuple[str, int], list[float]] = {}
    params: dict[tuple[str, int], dict[str, Any]] = {}
    for trial in trials:
        outcome = outcomes[trial_key(trial)]
        value = tuning_score(outcome, protocol)
        scores.setdefault((trial.strategy, trial.candidate), []).append(value)
        params[(trial.strategy, trial.candidate)] = trial.params
    chosen: dict[str, dict[str, Any]] = {}
    sign = 1.0 if protocol.mode == "max" else -1.0
    for (strategy, index), values in scores.items():
        entry = chosen.setdefault(
            strategy,
            {"candidate": None, "params": None, "score": None, "candidates": 0, "failed": 0},
        )
        entry["candidates"] += 1
        if any(math.isnan(v) for v in values):
            entry["failed"] += 1
            continue
        score = float(np.mean(values))
        if entry["score"] is None or sign * score > sign * entry["score"]:
            entry.update(candidate=index, params=params[(strategy, index)], score=score)
    return chosen


def tuning_score(outcome: TrialOutcome, protocol: Protocol) -> float:
    """The protocol metric of a finished tuning run; NaN when it failed or cannot be ranked."""
    if not outcome.ok or outcome.metrics is None:
        return math.nan
    value = outcome.metrics.get(protocol.metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return math.nan  # e.g. forward transfer without a baseline: the candidate cannot be ranked
    return float(value)
