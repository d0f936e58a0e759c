"""A sweep's results: one row per trial (the trial table) and one leaderboard entry per strategy
(the chosen configuration and its test metrics over the evaluation seeds)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifelong.core.results import Stat
from lifelong.experiments.executor import TrialOutcome
from lifelong.experiments.sweep.selection import reported_metrics, tuning_score
from lifelong.experiments.sweep.space import format_params
from lifelong.experiments.sweep.spec import REPORTED, Protocol, SweepSpec
from lifelong.experiments.sweep.trials import Trial


@dataclass
class SweepResult:
    """What a sweep produced (also written to ``out``)."""

    out: Path
    leaderboard: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    protocol: Protocol


def trial_row(trial: Trial, outcome: TrialOutcome, protocol: Protocol, out: Path) -> dict[str, Any]:
    """One row of the trial table (the columns of :data:`tables.TRIAL_COLUMNS`)."""
    metrics: dict[str, Any] = {}
    if outcome.ok and outcome.metrics is not None:
        metrics = (
            reported_metrics(outcome.metrics, protocol)
            if trial.stage == "evaluation"
            else {key: outcome.metrics.get(key) for key in REPORTED}
        )
    if trial.stage == "tuning":
        split = "validation" if trial.config.data.evaluate_on == "validation" else "test"
        tasks = (
            f"tasks 1-{trial.config.data.first_tasks}"
            if trial.config.data.first_tasks
            else "all tasks"
        )
    else:
        split = "test"
        first = (protocol.tasks or 0) + 1 if protocol.name == "first-tasks" else 1
        tasks = f"tasks {first}-{trial.config.data.tasks}"
    score = tuning_score(outcome, protocol) if trial.stage == "tuning" and outcome.ok else None
    return {
        "stage": trial.stage,
        "strategy": trial.strategy,
        "candidate": trial.candidate,
        "params": format_params(trial.params),
        "seed": trial.seed,
        "evaluated_on": f"{split} ({tasks})",
        "status": "ok" if outcome.ok else "failed",
        "score": score,
        **{key: metrics.get(key) for key in REPORTED},
        "train_seconds": (outcome.metrics or {}).get("train_seconds") if outcome.ok else None,
        "error": outcome.error,
        "folder": os.path.relpath(trial.config.out or "", out),
    }


def leaderboard_entries(
    spec: SweepSpec, chosen: dict[str, dict[str, Any]], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per strategy: the chosen configuration (from :func:`select`) and, for each reported metric,
    mean, standard error (0 for one seed) and per-seed values over the finished evaluation runs."""
    board = []
    for search in spec.strategies:
        pick = chosen.get(search.strategy, {})
        finals = [
            r for r in rows if r["stage"] == "evaluation" and r["strategy"] == search.strategy
        ]
        ok = [r for r in finals if r["status"] == "ok"]
        entry: dict[str, Any] = {
            "strategy": search.strategy,
            "params": pick.get("params"),
            "fixed_params": dict(search.params or {}),
            "tuning_score": pick.get("score"),
            "candidates": pick.get("candidates", 0),
            "failed_candidates": pick.get("failed", 0),
            "evaluation_seeds": [r["seed"] for r in ok],
            "failed_evaluation_seeds": [r["seed"] for r in finals if r["status"] != "ok"],
        }
        for key in REPORTED:
            values = [r[key] for r in ok]
            stat = Stat.of(values)
            entry[key] = {
                "mean": stat.mean,
                "sem": (stat.sem or 0.0) if values else None,
                "per_seed": values,
            }
        board.append(entry)
    return board
