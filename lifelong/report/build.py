"""Rebuild tables, plots and the HTML report from saved results only (no training).

Inputs are run folders (``metrics.json`` + ``config.yaml``, written by
:func:`lifelong.core.runner.run`) and comparison folders (``compare.yaml`` + ``runs/``, written
by ``lifelong compare``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lifelong.core.io import atomic_write_text
from lifelong.core.results import (
    COMPARE_FILE,
    OUTCOMES_FILE,
    check_same_objective,
    check_same_stream,
    load_metrics,
    objective,
    result_matrix,
    run_name,
)
from lifelong.errors import LifelongError
from lifelong.report import html as H
from lifelong.report import leaderboard as L


@dataclass
class Collection:
    """What ``lifelong report`` was given: one run, or the runs of a comparison."""

    records: list[dict[str, Any]]
    config_text: str
    single_run: Path | None = None


def _comparison_records(folder: Path) -> tuple[list[dict[str, Any]], str]:
    path = folder / COMPARE_FILE
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise LifelongError(
            f"{path}: corrupt comparison file ({str(err).splitlines()[0]})"
        ) from None
    if not isinstance(config, dict) or not config.get("strategies") or not config.get("seeds"):
        raise LifelongError(f"{path}: corrupt comparison file (no strategies or seeds)")
    errors = {}
    outcomes_path = folder / OUTCOMES_FILE
    if outcomes_path.is_file():
        try:
            saved = json.loads(outcomes_path.read_text())
            errors = {r["run"]: r.get("error") for r in saved.get("runs", [])}
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise LifelongError(f"{outcomes_path}: corrupt outcomes file") from None
    records = []
    for strategy in config["strategies"]:
        for seed in config["seeds"]:
            name = run_name(strategy, seed)
            run_folder = folder / "runs" / name
            metrics = load_metrics(run_folder) if (run_folder / "metrics.json").exists() else None
            error = errors.get(name) if metrics is None else None
            records.append(
                {
                    "strategy": strategy,
                    "seed": seed,
                    "metrics": metrics,
                    "error": error or (None if metrics else "not finished"),
                    "folder": str(run_folder),
                }
            )
    return records, path.read_text()


def collect(paths: Sequence[str | Path]) -> Collection:
    """Read run and comparison folders; runs of several folders must share one scenario."""
    if not paths:
        raise LifelongError("give at least one run or comparison folder")
    records: list[dict[str, Any]] = []
    texts = []
    for raw in paths:
        folder = Path(raw)
        if not folder.exists():
            raise LifelongError(f"{folder}: no such folder")
        if not folder.is_dir():
            raise LifelongError(f"{folder}: not a folder")
        if (folder / COMPARE_FILE).is_file():
            found, text = _comparison_records(folder)
            records += found
            texts.append(f"# {folder}\n{text}")
        elif (folder / "metrics.json").exists():
            metrics = load_metrics(folder)
            config = metrics["config"]
            records.append(
                {
                    "strategy": str(config.get("strategy")),
                    "seed": config.get("seed"),
                    "metrics": metrics,
                    "error": None,
                    "folder": str(folder),
                }
            )
        else:
            raise LifelongError(
                f"{folder}: not a run or comparison folder (no metrics.json or {COMPARE_FILE})"
            )
    finished = {
        f"{r['strategy']} seed {r['seed']}": r["metrics"]
        for r in records
        if r["metrics"] is not None
    }
    check_same_objective(finished)
    check_same_stream({name: m["config"] for name, m in finished.items()})
    _disambiguate(records)
    if len(paths) == 1 and not texts:
        config = dict(records[0]["metrics"]["config"])
        return Collection(records, yaml.safe_dump(config, sort_keys=False), Path(paths[0]))
    if not texts:
        config = dict(records[0]["metrics"]["config"])
        for key in ("strategy", "strategy_params", "seed", "out"):
            config.pop(key, None)
        texts.append(
            "# shared settings of the first run\n"
            + yaml.safe_dump(config, sort_keys=False)
            + "# runs\n"
            + "\n".join(f"- {r['folder']}" for r in records)
            + "\n"
        )
    return Collection(records, "\n".join(texts))


def _disambiguate(records: list[dict[str, Any]]) -> None:
    """Label runs of one strategy with different hyperparameters by their hyperparameters."""
    params: dict[str, set[str]] = {}
    for r in records:
        if r["metrics"] is not None:
            p = r["metrics"]["config"].get("strategy_params") or {}
            params.setdefault(r["strategy"], set()).add(json.dumps(p, sort_keys=True))
    for r in records:
        if r["metrics"] is not None and len(params.get(r["strategy"], ())) > 1:
            p = r["metrics"]["config"].get("strategy_params") or {}
            r["strategy"] += "[" + ",".join(f"{k}={v}" for k, v in sorted(p.items())) + "]"


# ---------------------------------------------------------------------------------- comparison
def write_comparison_report(
    collection: Collection,
    out: Path,
    *,
    title: str = "",
    sections: Sequence[tuple[str, str]] = (),
) -> list[L.Entry]:
    """Write leaderboard.csv/.md, curves/heatmaps/bars/cost.png and report.html to ``out``
    (language-modelling runs: loss curves, loss-matrix heatmaps, loss bars; no cost figure).

    Args:
        sections: (heading, inner HTML) shown before the leaderboard (an experiment's own table).
    """
    from lifelong.report.plots import (
        plot_bars,
        plot_cost,
        plot_curves_grid,
        plot_heatmaps,
        plot_loss_bars,
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = collection.records
    entries = L.build_leaderboard(records)
    finished = [r for r in records if r["metrics"] is not None]
    stream = _stream_name(finished[0]["metrics"]) if finished else "(no finished run)"
    atomic_write_text(out / "leaderboard.csv", L.to_csv(entries))
    atomic_write_text(
        out / "leaderboard.md", L.to_markdown(entries, caption=f"Leaderboard: {stream}")
    )
    ok = [e for e in entries if not e.failed]
    figures: list[tuple[Path, str]] = []
    lm = L.is_language_model(entries)
    if ok and lm:
        figures = _loss_figures(ok, finished, out, plot_curves_grid, plot_heatmaps, plot_loss_bars)
        (out / "cost.png").unlink(missing_ok=True)
    elif ok:
        first = {e.strategy: next(r for r in finished if r["strategy"] == e.strategy) for e in ok}
        plot_curves_grid(
            [(f"{name} (seed {r['seed']})", r["metrics"]) for name, r in first.items()],
            out / "curves.png",
        )
        figures.append(
            (
                out / "curves.png",
                "Accuracy of every task during training (one seed per "
                "strategy); dashed lines mark task boundaries.",
            )
        )
        matrices = [
            (
                e.strategy,
                mean_matrix([r["metrics"] for r in finished if r["strategy"] == e.strategy]),
            )
            for e in ok
        ]
        plot_heatmaps(matrices, out / "heatmaps.png")
        figures.append(
            (
                out / "heatmaps.png",
                "Accuracy matrix per strategy (mean over seeds): row i "
                "after training task i, column j evaluated on task j.",
            )
        )
        acc = "average_accuracy"
        fgt = "average_forgetting"
        plot_bars(
            [
                (
                    e.strategy,
                    e.stats[acc].mean,
                    e.stats[acc].std,
                    e.stats[fgt].mean,
                    e.stats[fgt].std,
                )
                for e in ok
            ],
            out / "bars.png",
        )
        figures.append(
            (
                out / "bars.png",
                "Average final accuracy and average forgetting per "
                "strategy; error bars: one standard deviation over seeds.",
            )
        )
        plot_cost(
            [
                (
                    e.strategy,
                    e.stats[acc].mean,
                    e.stats[acc].std,
                    e.stats["train_seconds"].mean,
                    e.stats["strategy_memory_mb"].mean,
                )
                for e in ok
            ],
            out / "cost.png",
        )
        figures.append(
            (
                out / "cost.png",
                "Average accuracy against training time and against the "
                "memory a strategy keeps besides the model.",
            )
        )
        figures += _online_figures(finished, [e.strategy for e in ok], out)
    else:
        for name in ("curves.png", "heatmaps.png", "bars.png", "cost.png"):
            (out / name).unlink(missing_ok=True)
    summary = _summary(entries)
    rows = L.table_rows(entries)
    classes = ["failed" if e.failed else ("best" if i == 0 else "") for i, e in enumerate(entries)]
    board = H.table(
        L.headings(entries),
        rows,
        text_columns=(1, len(rows[0]) - 1) if rows else (1,),
        row_classes=classes,
    )
    note = (
        html.escape(L.LM_NOTE)
        if lm
        else "Forgetting: drop from a task's best to its final accuracy (Chaudhry et al. 2018); "
        "BWT/FWT: Lopez-Paz &amp; Ranzato 2017."
    )
    board += (
        '<p class="note">mean ± sample standard deviation over seeds (standard errors in '
        f"leaderboard.csv). {note}</p>"
    )
    parts = [*sections, ("Leaderboard", f"<p>{summary}</p>{board}")]
    failures = [r for r in records if r["metrics"] is None]
    if failures:
        parts.append(
            (
                "Failed or unfinished runs",
                H.table(
                    ["strategy", "seed", "error", "folder"],
                    [[r["strategy"], r["seed"], r["error"], r["folder"]] for r in failures],
                    text_columns=(0, 2, 3),
                ),
            )
        )
    parts.append(
        (
            "Figures",
            "".join(H.figure(path, caption) for path, caption in figures)
            or "<p>No finished run to plot.</p>",
        )
    )
    parts.append(("Configuration", H.pre(collection.config_text)))
    parts.append(("Environment", _environment_html(finished)))
    document = H.page(
        title or f"lifelong comparison: {stream}",
        f"{len(finished)} of {len(records)} runs finished; {len(entries)} strategies.",
        parts,
    )
    atomic_write_text(out / "report.html", document)
    return entries


def _online_figures(
    finished: Sequence[dict[str, Any]], strategies: Sequence[str], out: Path
) -> list[tuple[Path, str]]:
    """anytime.png and online_cost.png for the strategies whose runs are online (issue 14)."""
    from lifelong.report.plots import plot_anytime, plot_online_cost

    series, points = [], []
    for name in strategies:
        online = [
            r["metrics"]["online"]
            for r in finished
            if r["strategy"] == name and r["metrics"].get("online")
        ]
        curves = [o["anytime"]["average"] for o in online if o["anytime"]["average"]]
        if not curves or len({len(c) for c in curves}) != 1:
            continue
        values = np.asarray(curves, dtype=float)
        std = values.std(0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
        series.append(
            (name, online[0]["anytime"]["samples"], values.mean(0).tolist(), std.tolist())
        )
        passes = [o["forward_per_sample"] + o["backward_per_sample"] for o in online]
        auc = [o["anytime_auc"] for o in online if o["anytime_auc"] is not None]
        points.append((name, float(np.mean(auc)), float(np.mean(passes))))
    for name in ("anytime.png", "online_cost.png"):
        (out / name).unlink(missing_ok=True)
    if not series:
        return []
    plot_anytime(series, out / "anytime.png")
    plot_online_cost(points, out / "online_cost.png")
    return [
        (
            out / "anytime.png",
            "Online runs: anytime accuracy (mean over the tasks that have appeared) along the "
            "stream; band: one standard deviation over seeds.",
        ),
        (
            out / "online_cost.png",
            "Online runs: area under the anytime-accuracy curve against forward + backward "
            "passes per incoming sample (replay, MIR's search, GDumb's retraining cost more).",
        ),
    ]


def _loss_figures(
    ok: Sequence[L.Entry],
    finished: Sequence[dict[str, Any]],
    out: Path,
    plot_curves_grid: Callable[..., None],
    plot_heatmaps: Callable[..., None],
    plot_loss_bars: Callable[..., None],
) -> list[tuple[Path, str]]:
    """The figures of a comparison of language-modelling runs (losses: lower is better)."""
    first = {e.strategy: next(r for r in finished if r["strategy"] == e.strategy) for e in ok}
    plot_curves_grid(
        [(f"{name} (seed {r['seed']})", r["metrics"]) for name, r in first.items()],
        out / "curves.png",
    )
    matrices = [
        (e.strategy, mean_matrix([r["metrics"] for r in finished if r["strategy"] == e.strategy]))
        for e in ok
    ]
    plot_heatmaps(matrices, out / "heatmaps.png", losses=True)
    loss, forgetting = "average_loss", "average_loss_forgetting"
    plot_loss_bars(
        [
            (
                e.strategy,
                e.stats[loss].mean,
                e.stats[loss].std,
                e.stats[forgetting].mean,
                e.stats[forgetting].std,
            )
            for e in ok
        ],
        out / "bars.png",
    )
    return [
        (
            out / "curves.png",
            "Test loss of every text domain during training (one seed per strategy; lower is "
            "better, a rising line is forgetting); dashed lines mark domain boundaries.",
        ),
        (
            out / "heatmaps.png",
            "Loss matrix per strategy (mean over seeds; nats per token, lower is better): row i "
            "after training domain i, column j evaluated on domain j.",
        ),
        (
            out / "bars.png",
            "Average final loss and average loss forgetting per strategy (lower is better); "
            "error bars: one standard deviation over seeds.",
        ),
    ]


def mean_matrix(metrics: Sequence[dict[str, Any]]) -> list[list[float]]:
    """The mean over runs of their accuracy (or, language modelling, loss) matrices."""
    return np.mean([np.asarray(result_matrix(m), dtype=float) for m in metrics], axis=0).tolist()


def _stream_name(metrics: dict[str, Any]) -> str:
    c = metrics["config"]
    if objective(metrics) == "lm":
        return f"{c.get('benchmark')} (language modelling, {len(result_matrix(metrics))} domains)"
    return f"{c.get('benchmark')} ({c.get('setting')}-incremental, {c.get('tasks')} tasks)"


def _summary(entries: Sequence[L.Entry]) -> str:
    ok = [e for e in entries if not e.failed]
    if not ok:
        return "No strategy finished a run."
    best = ok[0]
    if best.language_model:
        least = min(ok, key=lambda e: e.stats["average_loss_forgetting"].mean or 0.0)
        return (
            f"Lowest average loss: <b>{html.escape(best.strategy)}</b> "
            f"({L.cell(best.stats['average_loss'], 'average_loss')} nats/token). Least loss "
            f"forgetting: <b>{html.escape(least.strategy)}</b> "
            f"({L.cell(least.stats['average_loss_forgetting'], 'average_loss_forgetting')}). "
            "Lower is better for both."
        )
    least = min(ok, key=lambda e: e.stats["average_forgetting"].mean or 0.0)
    acc = best.stats["average_accuracy"]
    fgt = least.stats["average_forgetting"]
    return (
        f"Highest average accuracy: <b>{html.escape(best.strategy)}</b> "
        f"({L.cell(acc, 'average_accuracy')}). Least forgetting: "
        f"<b>{html.escape(least.strategy)}</b> ({L.cell(fgt, 'average_forgetting')})."
    )


def _environment_html(finished: Sequence[dict[str, Any]]) -> str:
    runs: dict[str, set[str]] = {}
    for r in finished:
        for key, value in (r["metrics"].get("environment") or {}).items():
            runs.setdefault(key, set()).add(str(value))
    parts = []
    if runs:
        parts.append("<p>Runs were trained with:</p>")
        parts.append(
            H.table(
                ["", "value"],
                [[k, ", ".join(sorted(v))] for k, v in runs.items()],
                text_columns=(0, 1),
            )
        )
    parts.append("<p>This report was built with:</p>")
    parts.append(H.table(["", "value"], list(H.environment().items()), text_columns=(0, 1)))
    return "".join(parts)


# ---------------------------------------------------------------------------------- single run
def write_run_report(folder: Path, metrics: dict[str, Any]) -> None:
    """curves.png, heatmap.png and report.html of one run folder."""
    from lifelong.report.plots import plot_curves, plot_heatmaps

    folder = Path(folder)
    config = metrics["config"]
    if objective(metrics) == "lm":
        _write_lm_run_report(folder, metrics)
        return
    plot_curves(metrics, folder / "curves.png")
    plot_heatmaps(
        [(f"{config.get('strategy')} (seed {config.get('seed')})", metrics["accuracy_matrix"])],
        folder / "heatmap.png",
    )
    R = metrics["accuracy_matrix"]
    T = len(R)
    matrix = H.table(
        ["after training"] + [f"task {j + 1}" for j in range(T)],
        [[f"task {i + 1}"] + list(row) for i, row in enumerate(R)],
    )
    params = metrics.get("parameters") or {}
    rows: list[list[Any]] = [
        ["average accuracy", metrics.get("average_accuracy")],
        ["average forgetting", metrics.get("average_forgetting")],
        ["maximum forgetting", metrics.get("max_forgetting")],
        ["backward transfer (BWT)", metrics.get("backward_transfer")],
        ["forward transfer (FWT)", metrics.get("forward_transfer")],
        [
            "forgetting per task",
            " ".join(f"{f:.3f}" for f in metrics.get("forgetting_per_task", [])) or "-",
        ],
    ]
    if "learning_curve_area" in metrics:
        beta = len(metrics["learning_curve"]) - 1
        rows.append([f"learning curve area (LCA, beta {beta})", metrics["learning_curve_area"]])
    rows += [
        ["training seconds", metrics.get("train_seconds")],
        ["parameters", params.get("total")],
        ["extra memory (MB)", (metrics.get("strategy_memory_bytes") or 0) / L.MB],
    ]
    for name, extra in (metrics.get("extra_accuracy_matrices") or {}).items():
        rows.append([f"average accuracy ({name})", extra.get("average_accuracy")])
    sections = [
        ("Metrics", H.table(["metric", "value"], rows)),
        ("Accuracy matrix", "<p>Row i: after training task i; column j: task j.</p>" + matrix),
        (
            "Figures",
            H.figure(
                folder / "curves.png",
                "Accuracy of every task during training; dashed lines mark task boundaries.",
            )
            + H.figure(folder / "heatmap.png", "The accuracy matrix."),
        ),
        ("Configuration", H.pre(yaml.safe_dump(config, sort_keys=False))),
        ("Environment", _environment_html([{"metrics": metrics}])),
    ]
    title = (
        f"lifelong run: {config.get('strategy')} on {_stream_name(metrics)}, "
        f"seed {config.get('seed')}"
    )
    atomic_write_text(folder / "report.html", H.page(title, str(folder), sections))


def _write_lm_run_report(folder: Path, metrics: dict[str, Any]) -> None:
    """curves.png (loss of every domain over training), heatmap.png (the loss matrix) and
    report.html of a language-modelling run."""
    from lifelong.report.plots import plot_curves, plot_heatmaps

    config = metrics["config"]
    plot_curves(metrics, folder / "curves.png")
    name = f"{config.get('strategy')} (seed {config.get('seed')})"
    plot_heatmaps([(name, metrics["loss_matrix"])], folder / "heatmap.png", losses=True)
    loss_matrix = metrics["loss_matrix"]
    matrix = H.table(
        ["after training"] + [f"domain {j + 1}" for j in range(len(loss_matrix))],
        [[f"domain {i + 1}"] + list(row) for i, row in enumerate(loss_matrix)],
    )
    forgetting = metrics.get("loss_forgetting_per_task", [])
    rows: list[list[Any]] = [
        ["average loss (nats/token, lower is better)", metrics.get("average_loss")],
        ["average perplexity (lower is better)", metrics.get("average_perplexity")],
        ["average loss forgetting (lower is better)", metrics.get("average_loss_forgetting")],
        [
            "loss backward transfer (positive: later domains helped)",
            metrics.get("loss_backward_transfer"),
        ],
        ["loss forgetting per domain", " ".join(f"{f:.3f}" for f in forgetting) or "-"],
        ["training seconds", metrics.get("train_seconds")],
        ["parameters", (metrics.get("parameters") or {}).get("total")],
    ]
    sections = [
        (
            "Metrics",
            H.table(["metric", "value"], rows)
            + f"<p>{html.escape(metrics.get('direction', ''))}</p>",
        ),
        ("Loss matrix", "<p>Row i: after training domain i; column j: domain j.</p>" + matrix),
        (
            "Figures",
            H.figure(
                folder / "curves.png",
                "Test loss of every domain during training (lower is better; a rising line is "
                "forgetting); dashed lines mark domain boundaries.",
            )
            + H.figure(folder / "heatmap.png", "The loss matrix (nats per token)."),
        ),
        ("Configuration", H.pre(yaml.safe_dump(config, sort_keys=False))),
        ("Environment", _environment_html([{"metrics": metrics}])),
    ]
    title = f"lifelong run: {config.get('strategy')} on {_stream_name(metrics)}, seed {config.get('seed')}"
    atomic_write_text(folder / "report.html", H.page(title, str(folder), sections))
