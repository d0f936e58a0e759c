"""Plots from saved metrics (matplotlib, Agg backend; no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(metrics: dict[str, Any], path: Path, *, title: str | None = None,
                ax: Any = None) -> None:
    """Accuracy of every task over training, one line per task, task boundaries marked.

    This is the seed notebook's figure: the lines of earlier tasks fall when a new task starts.
    """
    curve = metrics["curve"]
    iterations = curve["iterations"]
    accuracy = list(zip(*curve["accuracy"])) if curve["accuracy"] else []
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(9, 4.5))
    for j, values in enumerate(accuracy):
        start = curve["task_starts"][j] if j < len(curve["task_starts"]) else 0
        xs = [it for it in iterations if it >= start]
        ys = [v for it, v in zip(iterations, values) if it >= start]
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.4, label=f"task {j + 1}")
    for start in curve["task_starts"][1:]:
        ax.axvline(start, color="grey", linestyle="--", linewidth=0.8)
    config = metrics.get("config", {})
    ax.set_title(title or f"{config.get('strategy', '')} on {config.get('benchmark', '')} "
                          f"({config.get('scenario', '')}-incremental)")
    ax.set_xlabel("training iteration")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, ncol=2)
    if own:
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(tmp, dpi=110)
        plt.close(fig)
        tmp.replace(path)
