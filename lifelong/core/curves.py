"""The figure of one run: accuracy of every task over training (``curves.png``); for a
language-modelling run, the loss of every text domain.

Drawn with matplotlib's object-oriented API (no pyplot, no global backend state); matplotlib is an
optional dependency, imported only when a figure is drawn.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lifelong.core.io import atomic_write_bytes


def plot_curves(
    metrics: dict[str, Any], path: Path | None, *, title: str | None = None, ax: Any = None
) -> None:
    """Accuracy of every task over training, one line per task, task boundaries marked.

    This is the seed notebook's figure: the lines of earlier tasks fall when a new task starts.
    A task's line starts at its task's start; points of tasks not yet trained are ``None``.
    A language-modelling run's lines are its domains' losses (they rise when forgotten).
    """
    curve = metrics["curve"]
    iterations = curve["iterations"]
    lm = metrics.get("objective") == "lm"
    points_key = "loss" if lm else "accuracy"
    accuracy = list(zip(*curve[points_key], strict=True)) if curve[points_key] else []
    own = ax is None
    if own:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 4.5))
        ax = fig.subplots()
    for j, values in enumerate(accuracy):
        start = curve["task_starts"][j] if j < len(curve["task_starts"]) else 0
        points = [
            (it, v)
            for it, v in zip(iterations, values, strict=True)
            if it >= start and v is not None
        ]
        xs, ys = [it for it, _ in points], [v for _, v in points]
        label = f"{'domain' if lm else 'task'} {j + 1}"
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.4, label=label)
    for start in curve["task_starts"][1:]:
        ax.axvline(start, color="grey", linestyle="--", linewidth=0.8)
    config = metrics.get("config", {})
    ax.set_title(
        title
        or f"{config.get('strategy', '')} on {config.get('benchmark', '')} "
        f"({config.get('setting', '')}-incremental)"
    )
    ax.set_xlabel("training iteration")
    if lm:
        ax.set_ylabel("test loss, nats/token (lower is better)")
    else:
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right" if lm else "lower left", fontsize=8, ncol=2)
    if own:
        assert path is not None
        fig.tight_layout()
        write_figure(fig, path)


def write_figure(fig: Any, path: Path, *, dpi: int = 110) -> None:
    """Render ``fig`` to memory and write the PNG atomically (a complete file or none)."""
    image = io.BytesIO()
    fig.savefig(image, dpi=dpi, format="png")
    atomic_write_bytes(path, image.getvalue())
