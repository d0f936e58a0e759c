"""The ``lifelong demo`` page: the seed notebook's parts as one self-contained HTML file, built
from saved results only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifelong.core.io import atomic_write_text
from lifelong.report import html as H
from lifelong.report import leaderboard as L
from lifelong.report.plots import plot_curves, plot_curves_grid


def write_demo_page(
    out: Path,
    config: Any,
    collection: Any,
    entries: Any,
    by_name: dict[str, list[dict[str, Any]]],
    lora_headings: list[str],
    lora_rows: list[list[Any]],
) -> Path:
    """``OUT/report.html``: the notebook's figures and tables, self-contained.

    Args:
        config: the resolved comparison of the demo (its ``out`` holds the comparison's figures).
        collection, entries: the collected comparison and its leaderboard entries.
        by_name: each strategy's metrics per seed.
        lora_headings, lora_rows: the LoRA vs full fine-tuning table (empty rows: no section).
    """
    comparison = Path(str(config.out))
    naive = by_name["naive"][0]
    plot_curves(
        naive, out / "naive_forgetting.png", title="Sequential training: catastrophic forgetting"
    )
    sections = [
        (
            "Part 2: catastrophic forgetting",
            "<p>A network trained on the tasks one after the other: each new task overwrites "
            "what the earlier ones needed.</p>"
            + H.figure(
                out / "naive_forgetting.png",
                "Accuracy of every task during sequential "
                "training (naive fine-tuning); dashed lines mark task boundaries.",
            ),
        )
    ]
    R = naive["accuracy_matrix"]
    metric_rows = [
        ["average forgetting", naive["average_forgetting"]],
        ["maximum forgetting", naive["max_forgetting"]],
        ["backward transfer", naive["backward_transfer"]],
        ["final average accuracy", naive["average_accuracy"]],
    ]
    metric_rows += [
        [f"forgetting of task {j + 1}", f] for j, f in enumerate(naive["forgetting_per_task"])
    ]
    sections.append(
        (
            "Part 3: measuring forgetting",
            H.table(
                ["after training"] + [f"task {j + 1}" for j in range(len(R))],
                [[f"task {i + 1}"] + row for i, row in enumerate(R)],
            )
            + H.table(["metric", "value"], metric_rows),
        )
    )
    if "ewc" in by_name:
        plot_curves_grid(
            [
                ("Without EWC (catastrophic forgetting)", naive),
                ("With EWC (reduced forgetting)", by_name["ewc"][0]),
            ],
            out / "naive_vs_ewc.png",
        )
        sections.append(
            (
                "Part 4: EWC",
                H.figure(
                    out / "naive_vs_ewc.png",
                    f"The same stream without and with EWC (seed {config.seeds[0]}).",
                ),
            )
        )
    if lora_rows:
        sections.append(
            (
                "Part 5: LoRA vs full fine-tuning",
                "<p>Both train the whole network on task 1; on task 2 full fine-tuning "
                "updates every weight, LoRA only a low-rank update of each layer.</p>"
                + H.table(lora_headings, lora_rows)
                + H.figure(
                    out / "lora_vs_full.png",
                    "Forgetting of task 1 against the "
                    "LoRA rank; the dashed line is full fine-tuning.",
                ),
            )
        )
    board = H.table(L.headings(), L.table_rows(entries), text_columns=(1, len(L.headings()) - 1))
    figures = "".join(
        H.figure(comparison / name, caption)
        for name, caption in [
            ("curves.png", "Accuracy during training, per strategy."),
            ("heatmaps.png", "Accuracy matrices (mean over seeds)."),
            ("bars.png", "Average accuracy and forgetting, error bars one standard deviation."),
            ("cost.png", "Accuracy against training time and extra memory."),
        ]
        if (comparison / name).is_file()
    )
    sections.append(("Parts 6-7: comparing methods", board + figures))
    sections.append(("Configuration", H.pre(collection.config_text)))
    sections.append(
        ("Environment", H.table(["", "value"], list(H.environment().items()), text_columns=(0, 1)))
    )
    page = out / "report.html"
    atomic_write_text(
        page,
        H.page(
            "Catastrophic forgetting and continual learning: the demo",
            "lifelong reproduces the seed notebook end to end.",
            sections,
        ),
    )
    return page
