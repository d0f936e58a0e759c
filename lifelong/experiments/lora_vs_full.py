"""Full fine-tuning vs LoRA (the seed notebook's Part 5): train a base network on task 0, then
fine-tune it on task 1 in full (``naive``) and with LoRA adapters of several ranks
(``lora-continual``); measure how much of task 0 each forgets and how many parameters each trains.

Every arm is one 2-task run with the same seed, so the base (task 0 training) is identical in all
arms. Used by ``lifelong lora-vs-full`` and ``lifelong demo``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from lifelong.core.config import RunConfig
from lifelong.core.io import atomic_write_json, atomic_write_text
from lifelong.core.runner import run

COLUMNS = [
    "method",
    "rank",
    "task0_before",
    "task0_after",
    "task1",
    "task0_forgetting",
    "trainable_parameters",
]


def compare(config: RunConfig, ranks: list[int], alpha: float) -> list[dict[str, Any]]:
    """One row per arm: full fine-tuning, then LoRA at each rank."""
    arms: list[tuple[str, int | None, str, dict[str, Any]]] = [("full", None, "naive", {})] + [
        ("lora", r, "lora-continual", {"rank": r, "alpha": alpha}) for r in ranks
    ]
    rows = []
    for method, rank, strategy, params in arms:
        metrics = run(
            config.replace(strategy=strategy, strategy_params=params, tasks=2), write=False
        ).metrics
        R = metrics["accuracy_matrix"]
        rows.append(
            {
                "method": method,
                "rank": rank,
                "task0_before": R[0][0],
                "task0_after": R[1][0],
                "task1": R[1][1],
                "task0_forgetting": R[0][0] - R[1][0],
                "trainable_parameters": metrics["parameters_per_task"][1]["trainable"],
            }
        )
    return rows


def write_rows(out: Path, config: RunConfig, alpha: float, rows: list[dict[str, Any]]) -> None:
    """``lora_vs_full.json`` (configuration and rows) and ``lora_vs_full.csv`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        out / "lora_vs_full.json", {"config": config.to_dict(), "alpha": alpha, "rows": rows}
    )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "lora_vs_full.csv", text.getvalue())
