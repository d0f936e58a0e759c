"""Replay memory policies compared (issue 15): ER (and others) with each ``buffer_policy``.

Protocol: Split MNIST, class-incremental, 5 tasks, MLP 2x400, Adam lr 1e-3, batch 128, 100
iterations per task (``--iterations``; about one epoch of a task's ~11,000 training images), a small
memory (``--buffer-size``, default 200 examples), 10% of each task's training data held out as a
validation split. Every (strategy, policy, seed) trains twice on the same training data: once
evaluated on the validation split (what a choice of default may look at) and once on the test set
(what is reported). Table: mean +- standard error over seeds of the final average accuracy and
average forgetting.

    OMP_NUM_THREADS=1 nice python bench/memory_policies.py [--seeds 0,1,2] [--strategies er]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import mean_sem, update_section  # noqa: E402
from lifelong import RunConfig, run  # noqa: E402
from lifelong.components.memory import POLICIES  # noqa: E402

SECTION = "memory-policies"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="er")
    parser.add_argument("--benchmark", default="split-mnist")
    parser.add_argument("--setting", default="class")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--buffer-size", type=int, default=200)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--hidden", default="400,400")
    parser.add_argument("--splits", default="validation,test", help="evaluation splits to run")
    parser.add_argument("--data-root", default=os.environ.get("LIFELONG_DATA", "/work/shared/data"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    started = time.perf_counter()
    for strategy in args.strategies.split(","):
        for policy in args.policies.split(","):
            results: dict[str, list[tuple[float, float]]] = {s: [] for s in args.splits.split(",")}
            for seed in seeds:
                for split in results:
                    config = RunConfig.of(
                        benchmark=args.benchmark,
                        scenario=args.setting,
                        strategy=strategy,
                        strategy_params={"buffer_size": args.buffer_size, "buffer_policy": policy},
                        seed=seed,
                        validation_fraction=0.1,
                        evaluate_on=split,
                        iterations=args.iterations,
                        hidden=args.hidden,
                        eval_every=0,
                        threads=1,
                        device="cpu",
                        data_root=args.data_root,
                    )
                    metrics = run(config, write=False).metrics
                    results[split].append(
                        (metrics["average_accuracy"], metrics["average_forgetting"])
                    )
                    print(
                        f"{strategy} {policy} seed {seed} {split}: "
                        f"acc {metrics['average_accuracy']:.4f} "
                        f"forgetting {metrics['average_forgetting']:.4f}",
                        flush=True,
                    )
            rows.append((strategy, policy, results))
    minutes = (time.perf_counter() - started) / 60
    lines = [
        "## Replay memory policies",
        "",
        f"{args.benchmark}, {args.setting}-incremental, MLP {args.hidden}, Adam lr 1e-3, batch 128, "
        f"{args.iterations} iterations per task, memory of {args.buffer_size} examples, 10% of "
        "each task's training data held "
        f"out for validation, seeds {args.seeds} (mean +- sem). Validation columns: the same runs "
        "evaluated on the held-out split, to choose from; test columns: to report. Policies: "
        "`reservoir` (over the stream, during training), `task-reservoir` (a reservoir per task, "
        "buffer / tasks slots each), `ring` (per class, first-in first-out; Chaudhry et al. 2019), "
        "`task-balanced` / `class-balanced` (past tasks only, filled at task end; see "
        "`lifelong/components/memory.py`).",
        "",
        "| strategy | buffer_policy | validation accuracy | test accuracy | test forgetting |",
        "|---|---|---|---|---|",
    ]
    for strategy, policy, results in rows:
        cells = []
        for split, index in (("validation", 0), ("test", 0), ("test", 1)):
            mean, sem = mean_sem([r[index] for r in results.get(split, [])] or [float("nan")])
            cells.append(f"{100 * mean:.1f} +- {100 * sem:.1f}" if split in results else "-")
        lines.append(f"| {strategy} | `{policy}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Command: `OMP_NUM_THREADS=1 nice python bench/memory_policies.py --strategies "
        f"{args.strategies} --seeds {args.seeds} --buffer-size {args.buffer_size} "
        f"--iterations {args.iterations} --hidden {args.hidden} --splits {args.splits}` "
        f"({minutes:.0f} min on the shared 2-core machine; torch {torch.__version__}).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("docs/benchmarks.md", SECTION, text)


if __name__ == "__main__":
    main()
