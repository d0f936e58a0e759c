"""``lifelong run``: train one strategy on one scenario and report accuracy and forgetting."""

from __future__ import annotations

import argparse
from typing import Any

from lifelong.cli._common import add_run_flags, config_from_args, format_table

NAME = "run"
HELP = "train one strategy on a scenario; print the accuracy matrix and forgetting"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_flags(parser)
    parser.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the interrupted run in DIR with its own configuration (only --threads, "
        "--device, --data-root and --quiet may be given with it)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a run that --out already holds"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--tensorboard", action="store_true", help="also write TensorBoard events")


def print_lm_summary(metrics: dict[str, Any]) -> None:
    """The loss matrix and language-modelling metrics of a run (lower is better)."""
    L = metrics["loss_matrix"]
    config = metrics["config"]
    print(
        f"\n{config['strategy']} on {config['benchmark']} (language modelling, "
        f"{len(L)} domains), seed {config['seed']}"
    )
    print("\nLoss matrix, nats/token (row i: after training domain i; column j: domain j)")
    print(
        format_table(
            ["after"] + [f"domain {j + 1}" for j in range(len(L))],
            [[f"domain {i + 1}"] + list(row) for i, row in enumerate(L)],
        )
    )
    forgetting = metrics["loss_forgetting_per_task"]
    rows = [
        ["average loss (lower is better)", metrics["average_loss"]],
        ["average perplexity", metrics["average_perplexity"]],
        ["average loss forgetting (rise; lower is better)", metrics["average_loss_forgetting"]],
        [
            "loss backward transfer (positive: later domains helped)",
            metrics["loss_backward_transfer"],
        ],
        ["loss forgetting per domain", " ".join(f"{f:.3f}" for f in forgetting) or "-"],
        ["training seconds", metrics["train_seconds"]],
        ["parameters", (metrics.get("parameters") or {}).get("total")],
    ]
    print()
    print(format_table(["metric", "value"], rows))


def print_summary(metrics: dict[str, Any]) -> None:
    if metrics.get("objective") == "lm":
        print_lm_summary(metrics)
        return
    R = metrics["accuracy_matrix"]
    T = len(R)
    config = metrics["config"]
    print(
        f"\n{config['strategy']} on {config['benchmark']} ({config['setting']}-incremental), "
        f"seed {config['seed']}"
        + (
            f", online ({config['boundaries']} boundaries, batch {config['batch_size']})"
            if config.get("online")
            else ""
        )
    )
    print("\nAccuracy matrix (row i: after training task i; column j: task j)")
    print(
        format_table(
            ["after"] + [f"task {j + 1}" for j in range(T)],
            [[f"task {i + 1}"] + list(row) for i, row in enumerate(R)],
        )
    )
    forgetting = metrics["forgetting_per_task"]
    rows = [
        ["average accuracy", metrics["average_accuracy"]],
        ["average forgetting", metrics["average_forgetting"]],
        ["maximum forgetting", metrics["max_forgetting"]],
        ["backward transfer", metrics["backward_transfer"]],
        ["forward transfer", metrics["forward_transfer"]],
        ["forgetting per task", " ".join(f"{f:.3f}" for f in forgetting) or "-"],
    ]
    if "learning_curve_area" in metrics:
        beta = len(metrics["learning_curve"]) - 1
        rows.append([f"learning curve area (LCA, beta {beta})", metrics["learning_curve_area"]])
    rows += [
        ["training seconds", metrics["train_seconds"]],
        ["parameters", (metrics.get("parameters") or {}).get("total")],
    ]
    for name, extra in metrics.get("extra_accuracy_matrices", {}).items():
        rows.append([f"average accuracy ({name})", extra["average_accuracy"]])
    online = metrics.get("online")
    if online:
        forgetting = online["anytime_forgetting"]
        rows += [
            ["anytime accuracy AUC", online["anytime_auc"]],
            [
                "forgetting from best (anytime)",
                sum(forgetting) / len(forgetting) if forgetting else None,
            ],
            ["class forgetting from best (anytime)", online.get("average_class_forgetting")],
            ["online (prequential) accuracy", online["online_accuracy"]],
            ["samples per second (training)", online["samples_per_second"]],
            ["forward passes per sample", online["forward_per_sample"]],
            ["backward passes per sample", online["backward_per_sample"]],
        ]
    print()
    print(format_table(["metric", "value"], rows))


def observers_for(args: argparse.Namespace, out: str | None) -> list:  # type: ignore[type-arg]
    from lifelong.report.logs import ProgressBar

    observers: list = [ProgressBar(enabled=False if args.quiet else None)]
    if getattr(args, "tensorboard", False) and out:
        from lifelong.report.tensorboard import TensorBoardLog

        observers.append(TensorBoardLog(out))
    return observers


# Flags that may accompany --resume: they change how fast or where a run goes, not its results.
RESUME_COMPATIBLE = {"threads", "device", "data_root"}


def check_resume_flags(args: argparse.Namespace) -> None:
    """--resume continues a run as it was configured: flags that would change it are refused."""
    from lifelong.core.config import flat_names
    from lifelong.errors import ConfigError

    given = set(vars(args)) & (flat_names() | {"config", "set"})
    given.discard("plugins")  # importing more modules changes nothing in the run
    changing = sorted(given - RESUME_COMPATIBLE)
    if changing:
        flags = ", ".join("--" + name.replace("_", "-") for name in changing)
        raise ConfigError(
            f"--resume continues the run in {args.resume} with its own configuration; remove "
            f"{flags} (or start a new run with --out)"
        )
    if args.overwrite:
        raise ConfigError("--resume and --overwrite contradict each other; give one")


def main(args: argparse.Namespace) -> int:
    from lifelong.core.registry import load_plugins
    from lifelong.core.runner import resolve, resume_run, run

    if args.resume:
        check_resume_flags(args)
        load_plugins(getattr(args, "plugins", ()))  # extra; the run's own come from its config
        result = resume_run(
            args.resume,
            observers=observers_for(args, args.resume),
            overrides={k: getattr(args, k) for k in RESUME_COMPATIBLE if k in vars(args)},
        )
    else:
        config = resolve(config_from_args(args))
        result = run(config, observers=observers_for(args, config.out), overwrite=args.overwrite)
    print_summary(result.metrics)
    if result.out is not None:
        matrix = "loss_matrix" if result.metrics.get("objective") == "lm" else "accuracy_matrix"
        print(f"\nresults: {result.out}/metrics.json, {matrix}.csv, curves.png")
    return 0
