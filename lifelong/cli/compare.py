"""``lifelong compare``: every strategy x seed on one scenario; a leaderboard, plots, a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lifelong.cli._common import add_run_flags, format_table, parse_set

NAME = "compare"
HELP = "run several strategies over several seeds; write a leaderboard, plots and report.html"
S = argparse.SUPPRESS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_flags(parser, strategy=False)
    g = parser.add_argument_group("comparison")
    g.add_argument(
        "--strategies", "-s", default=S, help="comma-separated strategies, e.g. naive,ewc,er"
    )
    g.add_argument("--seeds", default=S, help="comma-separated seeds (default 0,1,2)")
    g.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=S,
        help="parallel worker processes (default: the number of cores)",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="discard the runs --out holds and run every one again",
    )
    parser.epilog = (
        "In a comparison --set takes STRATEGY.NAME=VALUE (e.g. --set ewc.strength=100); "
        "--config takes a comparison YAML (see docs/reports.md). Finished runs of the same "
        "configuration in --out are reused, interrupted ones resume from their checkpoints; a run "
        "folder holding another configuration is refused (--overwrite starts again)."
    )


def compare_values(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison mapping: --config file first, then the flags given."""
    from lifelong.core.config import flat_names, load_yaml
    from lifelong.errors import ConfigError

    values: dict[str, Any] = dict(load_yaml(args.config)) if getattr(args, "config", None) else {}
    given = vars(args)
    if "seed" in given:
        raise ConfigError("--seed: a comparison runs several seeds; use --seeds 0,1,2")
    for name in set(given) & (flat_names() | {"jobs"}):
        values[name] = given[name]
    for name in ("strategies", "seeds"):
        if name in given:
            values[name] = [v.strip() for v in given[name].split(",") if v.strip()]
    if given.get("set"):
        file_set = values.get("set") or {}
        if not isinstance(file_set, dict):
            raise ConfigError("set: expected a mapping of STRATEGY.NAME: VALUE")
        values["set"] = {**file_set, **parse_set(given["set"])}
    return values


def main(args: argparse.Namespace) -> int:
    from lifelong.core.rundir import locked
    from lifelong.data.benchmarks import BENCHMARKS
    from lifelong.experiments.compare import (
        compare_config_from_mapping,
        plan_threads,
        resolve_comparison,
        run_comparison,
    )
    from lifelong.report.build import collect, write_comparison_report
    from lifelong.report.leaderboard import headings, is_language_model, table_rows

    config = resolve_comparison(
        compare_config_from_mapping(compare_values(args), where=getattr(args, "config", None) or "")
    )
    total = len(config.strategies) * len(config.seeds)
    jobs, threads = plan_threads(config.jobs, config.run.get("threads"))
    spec = BENCHMARKS.get(config.run["benchmark"])
    stream = (
        "language modelling, a domain per task"
        if spec is not None and spec.objective == "lm"
        else f"{config.run['setting']}-incremental"
    )
    print(
        f"comparing {', '.join(config.strategies)} on {config.run['benchmark']} "
        f"({stream}), seeds {', '.join(map(str, config.seeds))}: "
        f"{total} runs, {jobs} in parallel x {threads} thread(s)",
        flush=True,
    )
    finished = [0]

    def report(outcome: Any) -> None:
        finished[0] += 1
        if outcome.ok:
            m = outcome.metrics
            note = (
                f"average loss {m['average_loss']:.4f}, loss forgetting "
                f"{m['average_loss_forgetting']:.4f} (lower is better), {m['train_seconds']:.1f} s"
                if m.get("objective") == "lm"
                else f"average accuracy {m['average_accuracy']:.4f}, forgetting "
                f"{m['average_forgetting']:.4f}, {m['train_seconds']:.1f} s"
            )
            state = "done" if outcome.status == "done" else "already finished (skipped)"
        else:
            state, note = "FAILED", outcome.error
        print(f"[{finished[0]}/{total}] {outcome.key}: {state}: {note}", flush=True)

    out = Path(config.out)  # type: ignore[arg-type]
    with locked(out, "lifelong compare"):
        records = run_comparison(config, on_result=report, overwrite=args.overwrite, lock=False)
        entries = write_comparison_report(collect([out]), out)
    print("\nLeaderboard (mean ± std over seeds)\n")
    print(format_table(headings(entries), table_rows(entries)))
    print(
        f"\nresults: {out}/leaderboard.csv, leaderboard.md, report.html, curves.png, "
        "heatmaps.png, bars.png" + ("" if is_language_model(entries) else ", cost.png")
    )
    failed = [r for r in records if r["status"] == "failed"]
    if failed:
        print(
            f"lifelong: {len(failed)} of {total} runs failed (see the leaderboard's status column)",
            file=sys.stderr,
        )
        return 1
    return 0
