"""The leaderboard: per strategy, mean, standard deviation and standard error over seeds.

Language-modelling runs (``"objective": "lm"`` in metrics.json) get their own columns: average
loss, perplexity, loss forgetting and loss backward transfer, ranked by the lowest average loss.

``std`` is the sample standard deviation (n - 1 in the denominator) and ``sem = std / sqrt(n)``;
both are empty with a single seed. Failed runs are not averaged: a strategy lists how many of its
runs finished and the first error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifelong.core.results import Stat

MB = 2**20
LM_NOTE = (
    "Language modelling: losses are mean next-token cross-entropies (nats per token) on each "
    "domain's test texts, lower is better; loss forgetting is the rise of a domain's loss from its "
    "best to its final value (lower is better); loss BWT is positive when later domains lowered "
    "earlier domains' losses. "
)


def _parameters(m: dict[str, Any]) -> float | None:
    params = m.get("parameters") or {}
    return params.get("total")


def _mb(key: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda m: m[key] / MB if m.get(key) is not None else None


# (key, heading, getter, higher_is_better); the order is the column order.
COLUMNS: list[tuple[str, str, Callable[[dict[str, Any]], Any], bool | None]] = [
    ("average_accuracy", "avg accuracy", lambda m: m.get("average_accuracy"), True),
    ("average_forgetting", "avg forgetting", lambda m: m.get("average_forgetting"), False),
    ("max_forgetting", "max forgetting", lambda m: m.get("max_forgetting"), False),
    ("backward_transfer", "BWT", lambda m: m.get("backward_transfer"), True),
    ("forward_transfer", "FWT", lambda m: m.get("forward_transfer"), True),
    ("train_seconds", "train s", lambda m: m.get("train_seconds"), False),
    ("parameters", "parameters", _parameters, None),
    ("strategy_memory_mb", "extra memory MB", _mb("strategy_memory_bytes"), False),
    ("peak_memory_mb", "peak RSS MB", _mb("peak_memory_bytes"), None),
    # online runs (issue 14); empty for offline runs
    ("anytime_auc", "anytime AUC", lambda m: (m.get("online") or {}).get("anytime_auc"), True),
    (
        "class_forgetting",
        "class forgetting",
        lambda m: (m.get("online") or {}).get("average_class_forgetting"),
        False,
    ),
    (
        "online_accuracy",
        "online accuracy",
        lambda m: (m.get("online") or {}).get("online_accuracy"),
        True,
    ),
    (
        "passes_per_sample",
        "passes/sample",
        lambda m: (
            m["online"]["forward_per_sample"] + m["online"]["backward_per_sample"]
            if m.get("online")
            else None
        ),
        False,
    ),
]
# Language-modelling runs: losses in nats per token, lower is better (but BWT: positive is good).
LM_COLUMNS: list[tuple[str, str, Callable[[dict[str, Any]], Any], bool | None]] = [
    ("average_loss", "avg loss", lambda m: m.get("average_loss"), False),
    ("average_perplexity", "avg perplexity", lambda m: m.get("average_perplexity"), False),
    (
        "average_loss_forgetting",
        "loss forgetting",
        lambda m: m.get("average_loss_forgetting"),
        False,
    ),
    ("loss_backward_transfer", "loss BWT", lambda m: m.get("loss_backward_transfer"), True),
    *[c for c in COLUMNS if c[0] in ("train_seconds", "parameters", "strategy_memory_mb")],
    *[c for c in COLUMNS if c[0] == "peak_memory_mb"],
]
LM_SHOWN = [key for key, *_ in LM_COLUMNS if key != "peak_memory_mb"]
# Shown in the terminal and in markdown; the CSV has every column.
SHOWN = [
    "average_accuracy",
    "average_forgetting",
    "max_forgetting",
    "backward_transfer",
    "forward_transfer",
    "train_seconds",
    "parameters",
    "strategy_memory_mb",
]


@dataclass
class Entry:
    """One strategy's row."""

    strategy: str
    runs: int
    finished: int
    stats: dict[str, Stat]
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.finished == 0

    @property
    def language_model(self) -> bool:
        """A row of language-modelling runs (loss columns)."""
        return "average_loss" in self.stats


def is_language_model(entries: Sequence[Entry]) -> bool:
    """Whether ``entries`` rank language-modelling runs (loss, lower is better)."""
    return bool(entries) and entries[0].language_model


def columns(language_model: bool) -> list[tuple[str, str, Callable[[dict[str, Any]], Any], Any]]:
    return LM_COLUMNS if language_model else COLUMNS


def shown(language_model: bool) -> list[str]:
    return LM_SHOWN if language_model else SHOWN


def build_leaderboard(records: Sequence[dict[str, Any]]) -> list[Entry]:
    """Aggregate run records ``{strategy, seed, status, error, metrics}`` into sorted rows.

    Rows are sorted by mean average accuracy (best first), or for language-modelling runs by mean
    average loss (lowest first); strategies without a finished run last.
    """
    lm = any((r.get("metrics") or {}).get("objective") == "lm" for r in records)
    order: list[str] = []
    by_strategy: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["strategy"] not in by_strategy:
            order.append(record["strategy"])
        by_strategy.setdefault(record["strategy"], []).append(record)
    entries = []
    for strategy in order:
        runs = by_strategy[strategy]
        ok = [r["metrics"] for r in runs if r.get("metrics") is not None]
        stats = {key: Stat.of([get(m) for m in ok]) for key, _, get, _ in columns(lm)}
        errors = [
            f"seed {r['seed']}: {r.get('error') or 'failed'}"
            for r in runs
            if r.get("metrics") is None
        ]
        entries.append(Entry(strategy, len(runs), len(ok), stats, errors))
    if lm:
        entries.sort(key=lambda e: (e.failed, e.stats["average_loss"].mean or 0.0))
    else:
        entries.sort(key=lambda e: (e.failed, -(e.stats["average_accuracy"].mean or 0.0)))
    return entries


def _num(value: float | None, key: str) -> str:
    if value is None:
        return ""
    if key == "parameters":
        return f"{value:.0f}"
    if key == "train_seconds":
        return f"{value:.2f}"
    if key.endswith("_mb"):
        return f"{value:.3f}"
    return f"{value:.4f}"


def cell(stat: Stat, key: str) -> str:
    """``mean ± std`` (just the mean for one seed; '-' when nothing finished)."""
    if stat.mean is None:
        return "-"
    if stat.std is None or key == "parameters" and stat.std == 0:
        return _num(stat.mean, key)
    return f"{_num(stat.mean, key)} ± {_num(stat.std, key)}"


def status(entry: Entry) -> str:
    if entry.finished == entry.runs:
        return "ok"
    if entry.failed:
        return f"failed: {entry.errors[0]}"
    return f"{entry.runs - entry.finished} of {entry.runs} failed: {entry.errors[0]}"


def headings(entries: Sequence[Entry] = ()) -> list[str]:
    """Column headings of :func:`table_rows` (loss columns for language-modelling ``entries``)."""
    lm = is_language_model(entries)
    names = {key: heading for key, heading, _, _ in columns(lm)}
    return ["rank", "strategy", "seeds"] + [names[k] for k in shown(lm)] + ["status"]


def table_rows(entries: Sequence[Entry]) -> list[list[str]]:
    """Rows for the terminal and markdown tables (mean ± std)."""
    rows = []
    for rank, entry in enumerate(entries, 1):
        rows.append(
            [
                str(rank) if not entry.failed else "-",
                entry.strategy,
                f"{entry.finished}/{entry.runs}",
            ]
            + [cell(entry.stats[k], k) for k in shown(entry.language_model)]
            + [status(entry)]
        )
    return rows


def to_csv(entries: Sequence[Entry]) -> str:
    """Every column as ``<metric>_mean``, ``_std``, ``_sem``; failures in ``status``, ``error``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["rank", "strategy", "runs", "finished"]
    chosen = columns(is_language_model(entries))
    for key, *_ in chosen:
        header += [f"{key}_mean", f"{key}_std", f"{key}_sem"]
    writer.writerow(header + ["status", "error"])
    for rank, entry in enumerate(entries, 1):
        row: list[Any] = ["" if entry.failed else rank, entry.strategy, entry.runs, entry.finished]
        for key, *_ in chosen:
            s = entry.stats[key]
            row += [_csv_num(s.mean), _csv_num(s.std), _csv_num(s.sem)]
        state = "ok" if entry.finished == entry.runs else "failed" if entry.failed else "partial"
        writer.writerow(row + [state, "; ".join(entry.errors)])
    return buffer.getvalue()


def _csv_num(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(entries: Sequence[Entry], *, caption: str = "") -> str:
    """A markdown table (mean ± std over seeds), with a caption line when given."""
    head = headings(entries)
    lines = [f"{caption}\n" if caption else ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append(
        "|" + "|".join("---" if i in (1, len(head) - 1) else "---:" for i in range(len(head))) + "|"
    )
    for row in table_rows(entries):
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    note = (
        LM_NOTE
        if is_language_model(entries)
        else "Forgetting: Chaudhry et al. 2018; BWT/FWT: Lopez-Paz & Ranzato 2017. "
    )
    lines.append(
        "\nmean ± sample standard deviation over seeds; standard errors are in "
        f"leaderboard.csv. {note}Extra memory: strategy state besides the model."
    )
    return "\n".join(line for line in lines if line is not None).lstrip("\n") + "\n"
