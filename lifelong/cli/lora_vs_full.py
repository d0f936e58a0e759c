"""``lifelong lora-vs-full``: the seed notebook's Part 5 (see
:mod:`lifelong.experiments.lora_vs_full`). Writes ``lora_vs_full.json``, ``lora_vs_full.csv``
and ``forgetting_vs_rank.png`` to
``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lifelong.cli._common import add_run_flags, config_from_args, format_table

NAME = "lora-vs-full"
HELP = "fine-tune a base network on a second task in full and with LoRA of several ranks"


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


def main(args: argparse.Namespace) -> int:
    from lifelong.errors import ConfigError
    from lifelong.experiments.lora_vs_full import compare, write_rows
    from lifelong.report.plots import plot_forgetting_vs_rank

    try:
        ranks = [int(r) for r in str(args.ranks).split(",") if r.strip()]
    except ValueError:
        raise ConfigError(f"--ranks expects integers like 1,2,4, got '{args.ranks}'") from None
    if not ranks or min(ranks) < 1:
        raise ConfigError("--ranks needs at least one rank >= 1")
    config = config_from_args(args)
    rows = compare(config, ranks, args.alpha)
    out = Path(config.out or "runs/lora-vs-full")
    write_rows(out, config, args.alpha, rows)
    plot_forgetting_vs_rank(
        rows,
        out / "forgetting_vs_rank.png",
        f"{config.data.benchmark}: forgetting of task 0 after task 1",
    )
    print(
        f"\nFull fine-tuning vs LoRA on {config.data.benchmark} "
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
