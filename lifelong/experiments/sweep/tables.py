"""The files a sweep writes: the trial table (CSV and markdown), the leaderboard (markdown) and
``results.json``, all atomically."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from lifelong.core.io import atomic_write_json, atomic_write_text
from lifelong.experiments.sweep.results import SweepResult
from lifelong.experiments.sweep.space import format_params, format_value
from lifelong.experiments.sweep.spec import REPORTED, SweepSpec

TRIAL_COLUMNS = (
    "stage",
    "strategy",
    "candidate",
    "params",
    "seed",
    "evaluated_on",
    "status",
    "score",
    *REPORTED,
    "train_seconds",
    "error",
    "folder",
)


def trials_csv(rows: list[dict[str, Any]]) -> str:
    """The trial table as CSV (empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TRIAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in TRIAL_COLUMNS})
    return buffer.getvalue()


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table: floats with 4 decimals, None as '-', '|' escaped."""

    def cell(value: Any) -> str:
        text = (
            f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))
        )
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def trials_markdown(rows: list[dict[str, Any]]) -> str:
    """The trial table as markdown (without the folder column)."""
    columns = [c for c in TRIAL_COLUMNS if c not in ("folder",)]
    return markdown_table(columns, [[r[c] for c in columns] for r in rows])


def leaderboard_markdown(result: SweepResult, spec: SweepSpec) -> str:
    """The leaderboard table with mean ± standard error over the evaluation seeds."""
    rows = []
    for entry in result.leaderboard:

        def pm(key: str, e: dict[str, Any] = entry) -> str:
            stat = e[key]
            return "-" if stat["mean"] is None else f"{stat['mean']:.4f} ± {stat['sem']:.4f}"

        rows.append(
            [
                entry["strategy"],
                format_params(entry["params"]),
                entry["tuning_score"],
                pm("average_accuracy"),
                pm("average_forgetting"),
                pm("backward_transfer"),
                len(entry["evaluation_seeds"]),
                f"{entry['candidates'] - entry['failed_candidates']}/{entry['candidates']}",
            ]
        )
    headers = [
        "strategy",
        "chosen",
        f"tuning {spec.protocol.metric} ({spec.protocol.tuning_split()})",
        "test accuracy",
        "test forgetting",
        "test BWT",
        "seeds",
        "candidates ok",
    ]
    return markdown_table(headers, rows)


def protocol_record(spec: SweepSpec) -> dict[str, Any]:
    """The protocol and seeds as written to ``results.json``."""
    protocol = spec.protocol
    return {
        "name": protocol.name,
        "description": protocol.describe(),
        "validation_fraction": protocol.validation_fraction,
        "tuning_tasks": protocol.tasks,
        "metric": protocol.metric,
        "mode": protocol.mode,
        "tuning_seeds": list(spec.tuning_seeds),
        "evaluation_seeds": list(spec.evaluation_seeds),
    }


def write_results(result: SweepResult, spec: SweepSpec) -> None:
    """trials.csv, trials.md, leaderboard.md and results.json in ``result.out`` (atomically)."""
    out = result.out
    atomic_write_text(out / "trials.csv", trials_csv(result.rows))
    atomic_write_text(
        out / "trials.md",
        f"# Trials of sweep '{spec.name}'\n\n" + trials_markdown(result.rows) + "\n",
    )
    settings = ", ".join(f"{k}={format_value(v)}" for k, v in spec.run.items())
    text = (
        f"# Sweep '{spec.name}'\n\n**Protocol: {spec.protocol.name}.** "
        f"{spec.protocol.describe()}\n\nTuning seeds: {list(spec.tuning_seeds)}; evaluation "
        f"seeds: {list(spec.evaluation_seeds)}. Common run settings: {settings or '-'}.\n\n"
        "Test results: mean ± standard error over the evaluation seeds.\n\n"
        + leaderboard_markdown(result, spec)
        + "\n"
    )
    atomic_write_text(out / "leaderboard.md", text)
    atomic_write_json(
        out / "results.json",
        {
            "name": spec.name,
            "protocol": protocol_record(spec),
            "run": spec.run,
            "leaderboard": result.leaderboard,
            "trials": result.rows,
        },
    )
