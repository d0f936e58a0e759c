"""``lifelong lora-vs-full``: the seed notebook's Part 5. Train a base network on task 0, then
fine-tune it on task 1 in full (``naive``) and with LoRA adapters of several ranks
(``lora-continual``); report how much of task 0 each forgets and how many parameters each trains.

Every arm is one 2-task run with the same seed, so the base (task 0 training) is identical in all
arms. Writes ``lora_vs_full.json``, ``lora_vs_full.csv`` and ``forgetting_vs_rank.png`` to
``--out``.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from lifelong.cli._common import add_run_flags, config_from_args, format_table

NAME = "lora-vs-full"
HELP = "fine-tune a base network on a second task in full and with LoRA of several ranks"
COLUMNS = [
    "method",
    "rank",
    "task0_before",
    "task0_after",
    "task1",
    "task0_forgetting",
    "trainable_parameters",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_flags(parser, strategy=False)
    parser.add_argument("--ranks", default="1,2,4,8,16", help="LoRA ranks, comma-separated")
    parser.add_argument(
        "--alpha",
        type=float,
        default=8.0,
        help="LoRA alpha (update scaled by alpha / rank; the seed uses 8)",
    )
    parser.set_defaults(benchmark="permuted-digits", hidden="256,256", out="runs/lora-vs-full")


def compare(config: Any, ranks: list[int], alpha: float) -> list[dict[str, Any]]:
    """One row per arm: full fine-tuning, then LoRA at each rank."""
    from lifelong.core.runner import run

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


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Task-0 forgetting against LoRA rank, with full fine-tuning as a horizontal line."""
    from lifelong.report.plots import plt

    lora = [r for r in rows if r["method"] == "lora"]
    full = next(r for r in rows if r["method"] == "full")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(
        [r["rank"] for r in lora],
        [r["task0_forgetting"] for r in lora],
        marker="o",
        label="LoRA fine-tuning",
    )
    ax.axhline(full["task0_forgetting"], color="C3", linestyle="--", label="full fine-tuning")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("LoRA rank r")
    ax.set_ylabel("task-0 forgetting (accuracy drop)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args: argparse.Namespace) -> int:
    from lifelong.core.io import atomic_write_json, atomic_write_text
    from lifelong.errors import ConfigError

    try:
        ranks = [int(r) for r in str(args.ranks).split(",") if r.strip()]
    except ValueError:
        raise ConfigError(f"--ranks expects integers like 1,2,4, got '{args.ranks}'") from None
    if not ranks or min(ranks) < 1:
        raise ConfigError("--ranks needs at least one rank >= 1")
    config = config_from_args(args)
    rows = compare(config, ranks, args.alpha)
    out = Path(config.out or "runs/lora-vs-full")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        out / "lora_vs_full.json", {"config": config.to_dict(), "alpha": args.alpha, "rows": rows}
    )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "lora_vs_full.csv", text.getvalue())
    plot(
        rows,
        out / "forgetting_vs_rank.png",
        f"{config.benchmark}: forgetting of task 0 after task 1",
    )
    print(
        f"\nFull fine-tuning vs LoRA on {config.benchmark} "
        f"(task 0, then task 1; seed {config.seed})\n"
    )
    print(
        format_table(
            [
                "method",
                "rank",
                "task 0 before",
                "task 0 after",
                "task 1",
                "task 0 forgetting",
                "trainable params",
            ],
            [
                [
                    r["method"],
                    r["rank"],
                    r["task0_before"],
                    r["task0_after"],
                    r["task1"],
                    r["task0_forgetting"],
                    r["trainable_parameters"],
                ]
                for r in rows
            ],
        )
    )
    print(f"\nresults: {out}/lora_vs_full.json, lora_vs_full.csv, forgetting_vs_rank.png")
    return 0
