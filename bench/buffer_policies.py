"""Replay memory policies (issue 15): ER, DER++ and A-GEM with every ``buffer_policy``, chosen on
validation, reported on test.

Protocol: Permuted MNIST (domain-incremental) and Split MNIST (class-incremental), 5 tasks each,
MLP 2x100, Adam lr 1e-3, batch 128, 50 iterations per task (``--iterations``; 6,400 examples,
about 0.6 epoch of a Split MNIST task, an eighth of a Permuted MNIST one: a budget that fits a
shared 2-core machine), a memory of 500 examples, the other
hyperparameters at their defaults, 10% of each task's training data held out. Every (setting,
strategy, policy, seed) trains twice on the same training data: once evaluated on the held-out
validation split (``evaluate_on=validation``: what the choice looks at) and once on the test set
(what is reported). The policy with the best mean final validation accuracy is the evidence for a
default per (setting, strategy).

Two commands, resumable (one JSON file per finished run under ``bench/results/buffer-policies/``,
kept in git, skipped when a run of the same fingerprint is stored)::

    OMP_NUM_THREADS=1 nice -n 5 python bench/buffer_policies.py run [--shard 0/2]
    python bench/buffer_policies.py report      # the docs/benchmarks.md section, no training
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import ROOT, mean_sem, update_section  # noqa: E402
from bench._records import current_record, stored_run  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "buffer-policies"
SECTION = "memory-policies"
SETTINGS = (("permuted-mnist", "domain"), ("split-mnist", "class"))
STRATEGIES = ("er", "derpp", "agem")
POLICIES = ("reservoir", "task-reservoir", "ring", "task-balanced", "class-balanced")
SPLITS = ("validation", "test")
COMMAND = "OMP_NUM_THREADS=1 nice -n 5 python bench/buffer_policies.py run"


def config_of(
    args: argparse.Namespace,
    benchmark: str,
    setting: str,
    strategy: str,
    policy: str,
    seed: int,
    split: str,
) -> Any:
    from lifelong import RunConfig

    return RunConfig.of(
        benchmark=benchmark,
        setting=setting,
        tasks=5,
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


def path_of(
    benchmark: str, setting: str, strategy: str, policy: str, seed: int, split: str
) -> Path:
    return RESULTS / f"{benchmark}-{setting}" / strategy / f"{policy}-s{seed}-{split}.json"


def run_once(config: Any, path: Path) -> dict[str, Any]:
    """Train ``config`` unless ``path`` holds a run of the same fingerprint; returns the record."""
    return stored_run(config, path, RESULTS)


def stored(args: argparse.Namespace, *job: Any) -> dict[str, Any] | None:
    """The stored record of a run, if it is a run of this protocol as today's code runs it (same
    fingerprint and resolved hyperparameters)."""
    return current_record(config_of(args, *job), path_of(*job))


def jobs(args: argparse.Namespace) -> list[tuple[str, str, str, str, int, str]]:
    """Every run, seed by seed (an interrupted run still covers whole seeds)."""
    return [
        (benchmark, setting, strategy, policy, seed, split)
        for seed in args.seeds
        for benchmark, setting in SETTINGS
        for strategy in STRATEGIES
        for policy in POLICIES
        for split in SPLITS
    ]


def command_run(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(1)
    index, count = (int(n) for n in args.shard.split("/"))
    for number, job in enumerate(jobs(args)):
        if number % count == index:
            run_once(config_of(args, *job), path_of(*job))


def command_report(args: argparse.Namespace) -> None:
    from lifelong.core.registry import get_strategy

    lines = [
        "## Replay memory policies",
        "",
        "ER, DER++ and A-GEM with each `buffer_policy` on Permuted MNIST (domain-incremental) and "
        f"Split MNIST (class-incremental): 5 tasks, MLP {args.hidden}, Adam lr 1e-3, batch 128, "
        f"{args.iterations} iterations per task, a memory of {args.buffer_size} examples, other "
        "hyperparameters at their defaults, 10% of each task's training data held out. Each run "
        "trains twice on the same data: evaluated on the held-out validation split (the choice "
        "looks only at it) and on the test set (reported). Final average accuracy and average "
        f"forgetting in %, mean +- standard error over the seeds finished (column seeds; the "
        f"protocol: {','.join(map(str, args.seeds))}). "
        "**Bold**: the best validation accuracy of a strategy in a setting; *class default*: the "
        "strategy's config-class default. Policies: `reservoir` (over the stream, during training), `task-reservoir` (a "
        "reservoir per task), `ring` (per class, first-in first-out; Chaudhry et al. 2019), "
        "`task-balanced` / `class-balanced` (past tasks only, filled at task end); see "
        "`lifelong/components/memory.py`.",
        "",
    ]
    picks = []
    for benchmark, setting in SETTINGS:
        lines += [
            f"**{benchmark}, {setting}-incremental**",
            "",
            "| strategy | buffer_policy | seeds | validation accuracy | test accuracy | "
            "test forgetting |",
            "|---|---|---|---|---|---|",
        ]
        for strategy in STRATEGIES:
            current = get_strategy(strategy).config_class().buffer_policy  # type: ignore[attr-defined]
            rows = []
            for policy in POLICIES:
                found: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
                for seed in args.seeds:
                    for split in SPLITS:
                        record = stored(args, benchmark, setting, strategy, policy, seed, split)
                        if record is not None:
                            found[split].append(record)
                rows.append((policy, found))
            # The choice compares the policies on the seeds every one of them has finished.
            common = set(args.seeds)
            for _, found in rows:
                common &= {r["config"]["seed"] for r in found["validation"]}
            scores = (
                [
                    (
                        statistics.fmean(
                            r["average_accuracy"]
                            for r in f["validation"]
                            if r["config"]["seed"] in common
                        ),
                        p,
                    )
                    for p, f in rows
                ]
                if common
                else []
            )
            best = max(scores)[1] if scores else None
            if best is not None:
                picks.append((benchmark, setting, strategy, best, current, sorted(common)))
            for policy, found in rows:
                cells = [str(min(len(found["validation"]), len(found["test"])))]
                for split, key in (
                    ("validation", "average_accuracy"),
                    ("test", "average_accuracy"),
                    ("test", "average_forgetting"),
                ):
                    values = [100 * r[key] for r in found[split]]
                    if values:
                        mean, sem = mean_sem(values)
                        cells.append(f"{mean:.1f} +- {sem:.1f}")
                    else:
                        cells.append("-")
                if policy == best:
                    cells[1] = f"**{cells[1]}**"
                label = f"`{policy}`" + (" *class default*" if policy == current else "")
                lines.append(f"| {strategy} | {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "Chosen on validation (best mean final validation accuracy over the seeds every policy "
        "has finished):"
    )
    lines.append("")
    for benchmark, setting, strategy, best, current, seeds in picks:
        verdict = "the class default" if best == current else f"the class default is `{current}`"
        lines.append(
            f"* {benchmark} {setting}-incremental, {strategy}: `{best}` ({verdict}; seeds "
            f"{','.join(map(str, seeds))})"
        )
    lines += ["", *in_force(), ""]
    lines += [
        f"Command: `{COMMAND}` (resumable; `--shard K/N` splits it over N processes), "
        "then `python bench/buffer_policies.py report`.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("docs/benchmarks.md", SECTION, text)


def in_force() -> list[str]:
    """The buffer policy each strategy now runs with by default on these streams: the entry of
    ``lifelong/core/tuned_defaults.json`` (chosen by ``bench/defaults.py select`` at the
    benchmark's default budget), else the class default."""
    from lifelong.core.registry import get_strategy
    from lifelong.core.tuned_defaults import entry_for

    lines = [
        "The defaults in force (`lifelong run` without `--set buffer_policy`; `lifelong list "
        "strategies` shows them) are not taken from this reduced-budget table: each is chosen by "
        "`bench/defaults.py select` over the policies at the benchmark's own default budget "
        "(1 epoch per task, MLP 400-400, the strategy's default memory), on the validation split, "
        "and stored with that provenance in `lifelong/core/tuned_defaults.json` (a run records "
        "the value in its configuration, so runs stored under the class default keep their "
        "identity):",
        "",
    ]
    for benchmark, setting in SETTINGS:
        for strategy in STRATEGIES:
            entry = entry_for(strategy, benchmark, setting)
            default = get_strategy(strategy).config_class().buffer_policy  # type: ignore[attr-defined]
            if entry is None or entry.inherit or "buffer_policy" not in entry.params:
                lines.append(
                    f"* {benchmark} {setting}-incremental, {strategy}: `{default}` (class default; "
                    "not selected at the default budget)"
                )
                continue
            prov = entry.provenance
            scores = ", ".join(
                f"{k.split('=', 1)[1]} {v:.2f}" for k, v in prov.get("scores", {}).items()
            )
            lines.append(
                f"* {benchmark} {setting}-incremental, {strategy}: `{entry.params['buffer_policy']}`"
                f" (selected on {prov.get('benchmark')}, seeds "
                f"{','.join(map(str, prov.get('seeds', [])))}; validation %: {scores})"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--buffer-size", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--hidden", default="100,100")
    parser.add_argument("--shard", default="0/1", help="K/N: run every N-th run from the K-th")
    parser.add_argument("--data-root", default=os.environ.get("LIFELONG_DATA", "/work/shared/data"))
    parser.add_argument("--no-write", action="store_true", help="report: print only")
    args = parser.parse_args()
    {"run": command_run, "report": command_report}[args.command](args)


if __name__ == "__main__":
    main()
