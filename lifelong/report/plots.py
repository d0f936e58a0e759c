"""Plots from saved metrics (matplotlib, Agg backend; no display needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lifelong.core.curves import plot_curves, write_figure  # noqa: E402

__all__ = ["plot_curves"]


def save(fig: Any, path: Path, *, dpi: int = 110) -> None:
    """Write ``fig`` atomically (a complete PNG or nothing) and close it."""
    fig.tight_layout()
    _write_png(fig, path, dpi)


def _write_png(fig: Any, path: Path, dpi: int) -> None:
    """Write the PNG atomically (:func:`lifelong.core.curves.write_figure`) and close ``fig``."""
    try:
        write_figure(fig, path, dpi=dpi)
    finally:
        plt.close(fig)


def _grid(n: int, width: float, height: float, cols: int = 3) -> tuple[Any, list[Any]]:
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def plot_curves_grid(runs: Sequence[tuple[str, dict[str, Any]]], path: Path) -> None:
    """The accuracy-over-training curves of several runs side by side (one panel per run)."""
    fig, axes = _grid(len(runs), 5.2, 3.8)
    for ax, (title, metrics) in zip(axes, runs, strict=True):
        plot_curves(metrics, None, title=title, ax=ax)
    save(fig, path)


def draw_heatmap(
    ax: Any,
    matrix: Sequence[Sequence[float]],
    title: str,
    *,
    scale: tuple[float, float] | None = None,
) -> Any:
    """The accuracy matrix as a heatmap: row i after training task i, column j on task j; with a
    ``scale`` (low, high), a loss matrix (reversed colours: a low loss is bright, as a high
    accuracy is)."""
    T = len(matrix)
    low, high = scale or (0.0, 1.0)
    cmap = "viridis" if scale is None else "viridis_r"
    image = ax.imshow(matrix, vmin=low, vmax=high, cmap=cmap)
    if T <= 10:
        for i in range(T):
            for j in range(T):
                value = matrix[i][j]
                fraction = (value - low) / max(high - low, 1e-12)
                bright = fraction > 0.6 if scale is None else fraction < 0.4
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if bright else "white",
                )
    ticks = list(range(T))
    ax.set_xticks(ticks, [str(t + 1) for t in ticks])
    ax.set_yticks(ticks, [str(t + 1) for t in ticks])
    ax.set_xlabel("evaluated on task")
    ax.set_ylabel("after training task")
    ax.set_title(title)
    return image


def plot_heatmaps(
    matrices: Sequence[tuple[str, Sequence[Sequence[float]]]],
    path: Path,
    *,
    losses: bool = False,
) -> None:
    """One accuracy-matrix heatmap per strategy (or run), sharing one colour scale; ``losses``:
    loss matrices of language-modelling runs (scale from their smallest to largest loss)."""
    fig, axes = _grid(len(matrices), 4.2, 3.8)
    scale = None
    if losses:
        values = [v for _, matrix in matrices for row in matrix for v in row]
        scale = (min(values), max(values))
    image = None
    for ax, (title, matrix) in zip(axes, matrices, strict=True):
        image = draw_heatmap(ax, matrix, title, scale=scale)
        if losses:
            ax.set_xlabel("evaluated on domain")
            ax.set_ylabel("after training domain")
    fig.tight_layout()
    if image is not None:
        label = "test loss, nats/token (lower is better)" if losses else "test accuracy"
        fig.colorbar(image, ax=axes, shrink=0.8, label=label)
    _write_png(fig, path, 110)


def plot_loss_bars(
    rows: Sequence[tuple[str, float | None, float | None, float | None, float | None]], path: Path
) -> None:
    """Language-modelling runs: average final loss and average loss forgetting per strategy (two
    panels, each lower is better), error bars one standard deviation.

    Args:
        rows: (strategy, loss mean, loss std, loss forgetting mean, loss forgetting std).
    """
    names = [r[0] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 2.0 * len(rows) + 3), 4.2))
    panels = (
        (axes[0], 1, "average loss, nats/token", "#3b75af"),
        (axes[1], 3, "average loss forgetting (rise)", "#ef8636"),
    )
    for ax, column, title, color in panels:
        ax.bar(
            names,
            [r[column] or 0.0 for r in rows],
            yerr=[r[column + 1] or 0.0 for r in rows],
            capsize=4,
            color=color,
        )
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_title(f"{title} (lower is better)")
        ax.tick_params(axis="x", rotation=20 if len(rows) > 4 else 0)
        ax.grid(axis="y", alpha=0.3)
    save(fig, path)


def plot_bars(
    rows: Sequence[tuple[str, float | None, float | None, float | None, float | None]], path: Path
) -> None:
    """Average accuracy and average forgetting per strategy, error bars one standard deviation.

    Args:
        rows: (strategy, accuracy mean, accuracy std, forgetting mean, forgetting std).
    """
    names = [r[0] for r in rows]
    xs = list(range(len(rows)))
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(rows) + 2), 4.2))
    ax.bar(
        [x - width / 2 for x in xs],
        [r[1] or 0.0 for r in rows],
        width,
        yerr=[r[2] or 0.0 for r in rows],
        capsize=4,
        label="average accuracy",
        color="#3b75af",
    )
    ax.bar(
        [x + width / 2 for x in xs],
        [r[3] or 0.0 for r in rows],
        width,
        yerr=[r[4] or 0.0 for r in rows],
        capsize=4,
        label="average forgetting",
        color="#ef8636",
    )
    ax.set_xticks(xs, names, rotation=20 if len(rows) > 6 else 0)
    lowest = min([0.0] + [(r[3] or 0.0) - (r[4] or 0.0) for r in rows])
    ax.set_ylim(lowest - 0.05 if lowest < 0 else 0.0, 1.05)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("fraction")
    ax.set_title("Average accuracy and forgetting (mean ± std over seeds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    save(fig, path)


def plot_cost(
    points: Sequence[tuple[str, float | None, float | None, float | None, float | None]],
    path: Path,
) -> None:
    """Average accuracy against cost: training seconds (left) and extra memory in MB (right).

    Args:
        points: (strategy, accuracy mean, accuracy std, train seconds mean, extra memory MB mean).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, index) in enumerate([("training seconds", 3), ("extra memory (MB)", 4)]):
        ax = axes[k]
        for i, point in enumerate(points):
            if point[index] is None or point[1] is None:
                continue
            color = colors[i % len(colors)]
            ax.errorbar(
                point[index],
                point[1],
                yerr=point[2] or 0.0,
                fmt="o",
                color=color,
                capsize=3,
                markersize=7,
                label=point[0],
            )
            ax.annotate(
                point[0],
                (point[index], point[1]),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("average accuracy")
    axes[0].set_ylim(0, 1.02)
    fig.suptitle("Accuracy against cost (mean over seeds)")
    save(fig, path)


def plot_forgetting_vs_rank(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Task-0 forgetting against LoRA rank, with full fine-tuning as a horizontal line."""
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
    save(fig, path)


def plot_anytime(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float]]], path: Path
) -> None:
    """Anytime accuracy over the stream, one line per strategy with a band of ± one standard
    deviation over seeds.

    Args:
        series: (strategy, stream samples, mean anytime accuracy, std) per strategy.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for label, samples, mean, std in series:
        (line,) = ax.plot(samples, mean, label=label, linewidth=1.5)
        low = [m - s for m, s in zip(mean, std, strict=True)]
        high = [m + s for m, s in zip(mean, std, strict=True)]
        ax.fill_between(samples, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("stream samples seen")
    ax.set_ylabel("anytime accuracy (tasks seen)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Anytime accuracy over the stream (mean ± std over seeds)")
    save(fig, path)


def plot_online_cost(points: Sequence[tuple[str, float, float]], path: Path) -> None:
    """Anytime AUC against compute: forward + backward passes per incoming sample (log scale).

    Args:
        points: (strategy, mean anytime AUC, mean passes per incoming sample).
    """
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for label, auc, passes in points:
        ax.plot(passes, auc, "o", markersize=7)
        ax.annotate(label, (passes, auc), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("forward + backward passes per incoming sample")
    ax.set_ylabel("anytime accuracy AUC")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Online: accuracy against compute (mean over seeds)")
    save(fig, path)


def plot_fine_tuning(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Final accuracy, forgetting and learning accuracy per fine-tuning configuration (bars with
    standard errors), and each configuration's trainable parameters (log scale).

    Args:
        rows: :func:`lifelong.experiments.text_forgetting.summarize` rows.
    """
    fig, (bars, cost) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=(3, 2))
    metrics = [
        ("average_accuracy", "final accuracy"),
        ("average_forgetting", "forgetting"),
        ("learning_accuracy", "learning accuracy"),
    ]
    width = 0.8 / len(metrics)
    for k, (key, name) in enumerate(metrics):
        xs = [i + (k - 1) * width for i in range(len(rows))]
        errors = [r[f"{key}_sem"] or 0.0 for r in rows]
        bars.bar(xs, [r[key] for r in rows], width, yerr=errors, capsize=3, label=name)
    bars.set_xticks(range(len(rows)))
    bars.set_xticklabels([r["label"] for r in rows], rotation=15, ha="right", fontsize=8)
    bars.set_ylim(0, 1.05)
    bars.set_ylabel("accuracy / forgetting")
    bars.set_title(title, fontsize=10)
    bars.grid(axis="y", alpha=0.3)
    bars.legend(fontsize=8)
    labels = [r["label"] for r in rows]
    counts = [r["trainable_parameters"] for r in rows]
    cost.barh(range(len(rows)), counts, color=[f"C{i}" for i in range(len(rows))])
    for i, n in enumerate(counts):
        cost.annotate(f"{n:,}", (n, i), xytext=(3, 0), textcoords="offset points", va="center")
    cost.set_yticks(range(len(rows)))
    cost.set_yticklabels(labels, fontsize=8)
    cost.invert_yaxis()
    cost.set_xscale("log")
    cost.set_xlim(right=max(counts) * 30)
    cost.set_xlabel("trainable parameters (log scale)")
    cost.grid(axis="x", alpha=0.3)
    save(fig, path)
