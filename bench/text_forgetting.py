"""The seed notebook's fourth lesson on a real pretrained transformer, into docs/results.md.

Runs ``lifelong text-forgetting`` with the flags given (same flags, same output folder: finished
runs are reused) and writes its table to docs/results.md (section ``text-forgetting-wordnet``, with
``-task`` or ``-domain`` appended in those settings)::

    OMP_NUM_THREADS=1 nice python bench/text_forgetting.py --data-root ../shared/data --jobs 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _docs import update_section  # noqa: E402

from lifelong.cli import text_forgetting as command  # noqa: E402
from lifelong.experiments.text_forgetting import table_cells  # noqa: E402

SECTION = "text-forgetting-wordnet"


def pairs(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items()
    )


def markdown(
    rows: list[dict[str, Any]], settings: dict[str, Any], argv: list[str], missing: list[str]
) -> str:
    run = settings["run"]
    head, cells = table_cells(rows)
    shown = " ".join(a if a != run.get("data_root") else "DATA" for a in argv)
    params = settings["configurations"]
    ewc = params.get("lora-ewc", {}).get("params", {})
    er = params.get("lora-replay", {}).get("params", {})
    return "\n".join(
        [
            f"### Forgetting in fine-tuning a pretrained transformer ({run['benchmark']}, "
            f"{run['setting']}-incremental)",
            "",
            f"Model: {settings['model']} (22.7M parameters for MiniLM-L6, token states "
            "mean-pooled) + lifelong's head; "
            f"{run['samples_per_class']} training and 20 test texts per class, "
            f"{run['max_length'] or 32} tokens, {run['epochs']} epochs per task, batch "
            f"{run['batch_size']}, Adam (full fine-tuning and joint lr {settings['full_lr']:g}; "
            f"LoRA lr {run['lr']:g}, rank {run['lora_rank']}, alpha {run['lora_alpha']:g}, "
            f"peft's default layers, head trained); LoRA + EWC: {pairs(ewc)}; LoRA + replay: "
            f"{pairs(er)}. "
            "Joint training (the upper bound) trains on every task's data at the last task: read "
            "its final accuracy only. Mean ± sem over seeds, in %; learning accuracy: accuracy on "
            "each task right after training it. CPU, 1 thread per run, on a shared machine "
            "(seconds are indicative only).",
            "",
            f"Command: `lifelong text-forgetting {shown}` (through `python "
            f"bench/text_forgetting.py {shown}`, which writes this section); per-run folders, "
            "report.html and fine_tuning.png in its `--out`.",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
            *("| " + " | ".join(row) + " |" for row in cells),
            *(
                [
                    "",
                    "Runs not finished when this table was written (the command without "
                    f"`--only-finished` trains them): {', '.join(missing)}.",
                ]
                if missing
                else []
            ),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    command.add_arguments(parser)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/results.md")
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    out, rows, outcomes = command.run_experiment(args)
    import json

    settings = json.loads((out / "text_forgetting.json").read_text())["settings"]
    missing = [o.key for o in outcomes if not o.ok]
    text = markdown(rows, settings, [a for a in argv if a != "--no-docs"], missing)
    print(text)
    if rows and not args.no_docs:
        setting = settings["run"]["setting"]
        update_section(
            "docs/results.md", SECTION if setting == "class" else f"{SECTION}-{setting}", text
        )
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
