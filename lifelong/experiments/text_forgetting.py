"""Forgetting in fine-tuning a pretrained transformer (the seed notebook's fourth lesson).

On a text stream (default Split WordNet with MiniLM-L6), compares fine-tuning configurations, each
over several seeds:

* ``full``: full fine-tuning, every parameter trained task after task (the naive lower bound);
* ``lora``: LoRA fine-tuning (Hu et al. 2021, arXiv:2106.09685; ``--lora-rank``, the base frozen);
* ``lora-ewc``: LoRA + EWC (Kirkpatrick et al. 2017), Fisher and penalty over the adapter and head;
* ``lora-replay``: LoRA + experience replay (Chaudhry et al. 2019, "On Tiny Episodic Memories");
* ``joint``: full fine-tuning on every task's data at once (the upper bound; only its final row of
  the accuracy matrix is meaningful, so read its final accuracy, not its forgetting).

Each configuration x seed is one run of :func:`lifelong.core.runner.run` in its own folder
``OUT/runs/<configuration>-s<seed>``, run through the comparison executor: a finished run of the same
configuration is reused, an interrupted one resumes from its checkpoint, and a folder holding a run
of another configuration is refused before anything runs. Used by ``lifelong text-forgetting`` and
``bench/text_forgetting.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifelong.core.config import RunConfig
from lifelong.core.io import atomic_write_json, atomic_write_text
from lifelong.core.results import Stat, run_name
from lifelong.errors import ConfigError

RESULTS_FILE = "text_forgetting.json"


@dataclass(frozen=True)
class Configuration:
    """One fine-tuning configuration: a strategy, and whether the base trains (``full``)."""

    name: str
    label: str
    strategy: str
    full: bool
    params: Mapping[str, Any]


CONFIGURATIONS = {
    c.name: c
    for c in (
        Configuration("full", "full fine-tuning (naive)", "naive", True, {}),
        Configuration("lora", "LoRA", "naive", False, {}),
        Configuration(
            "lora-ewc",
            "LoRA + EWC",
            "ewc",
            False,
            {"strength": 1e4, "fisher_mode": "sampled", "fisher_samples": 20},
        ),
        Configuration(
            "lora-replay",
            "LoRA + replay",
            "er",
            False,
            {"buffer_size": 100, "replay_batch_size": 8},
        ),
        Configuration("joint", "joint training (upper bound)", "joint", True, {}),
    )
}

COLUMNS = [
    "configuration",
    "label",
    "seeds",
    "average_accuracy",
    "average_accuracy_sem",
    "average_forgetting",
    "average_forgetting_sem",
    "learning_accuracy",
    "learning_accuracy_sem",
    "trainable_parameters",
    "train_seconds",
]


def parse_configurations(text: str) -> list[str]:
    """``"full,lora"`` to a list of known configuration names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGURATIONS]
    if unknown or not names:
        raise ConfigError(
            f"--configurations: unknown '{unknown[0] if unknown else ''}'; "
            f"choose from {', '.join(CONFIGURATIONS)}"
        )
    if len(set(names)) != len(names):
        raise ConfigError("--configurations: a name is repeated")
    return names


def strategy_params(
    name: str, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Configuration ``name``'s hyperparameters with ``overrides`` (per strategy), converted to
    their types and validated (a wrong name or value fails before any run)."""
    from lifelong.core.fields import build_config
    from lifelong.core.registry import get_strategy

    c = CONFIGURATIONS[name]
    values = {**c.params, **(overrides or {}).get(c.strategy, {})}
    built = build_config(get_strategy(c.strategy).config_class, values, where=c.strategy)
    return {key.replace("-", "_"): getattr(built, key.replace("-", "_")) for key in values}


def run_configs(
    base: RunConfig,
    names: Sequence[str],
    seeds: Sequence[int],
    out: Path,
    *,
    full_lr: float,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[tuple[str, RunConfig]]:
    """(run name, configuration) of every configuration x seed, seeds outermost.

    Args:
        base: shared settings; LoRA configurations use its ``lora_rank`` and ``lr``.
        full_lr: learning rate of the configurations that train every parameter.
        overrides: per-strategy changes of the configurations' hyperparameters.
    """
    if base.model.lora_rank < 1:
        raise ConfigError("--lora-rank must be >= 1 (the LoRA configurations' rank)")
    used = {CONFIGURATIONS[n].strategy for n in names}
    for strategy in overrides or {}:
        if strategy not in used:
            raise ConfigError(
                f"--set {strategy}.NAME: no configuration runs '{strategy}' "
                f"(the strategies run: {', '.join(sorted(used))})"
            )
    trials = []
    for seed in seeds:
        for name in names:
            c = CONFIGURATIONS[name]
            config = base.replace(
                strategy=c.strategy,
                strategy_params=strategy_params(name, overrides),
                seed=seed,
                out=str(out / "runs" / run_name(name, seed)),
                **({"lora_rank": 0, "lr": full_lr} if c.full else {}),
            )
            trials.append((run_name(name, seed), config))
    return trials


def run_all(
    trials: Sequence[tuple[str, RunConfig]],
    *,
    jobs: int | None,
    overwrite: bool = False,
    only_finished: bool = False,
    on_result: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Run (or reuse, or resume) every trial; refuse folders of other configurations up front.

    Args:
        only_finished: train nothing: the finished runs of the same configuration, the others
            reported as not finished (a table while runs are still to come).
    """
    from lifelong.core.rundir import clear_run_files
    from lifelong.core.runner import build_run_scenario, resolve
    from lifelong.experiments.compare import check_run_folders, plan_threads
    from lifelong.experiments.executor import TrialOutcome, finished_metrics, run_local

    jobs, threads = plan_threads(jobs, trials[0][1].threads)
    resolved = [(key, resolve(config.replace(threads=threads))) for key, config in trials]
    if only_finished:
        outcomes = []
        for key, config in resolved:
            metrics = finished_metrics(config)
            outcomes.append(
                TrialOutcome(key, "cached", config.to_dict(), metrics)
                if metrics is not None
                else TrialOutcome(key, "failed", config.to_dict(), error="not finished")
            )
            if on_result:
                on_result(outcomes[-1])
        return outcomes
    build_run_scenario(resolved[0][1])  # data present, tasks splittable: before any worker starts
    for _, config in resolved:
        if overwrite:
            clear_run_files(Path(str(config.out)))
    check_run_folders(resolved)
    return run_local(resolved, jobs=jobs, threads=threads, on_result=on_result)


def summarize(names: Sequence[str], outcomes: Sequence[Any]) -> list[dict[str, Any]]:
    """One row per configuration: means and standard errors over its finished seeds."""
    rows = []
    for name in names:
        runs = [o.metrics for o in outcomes if o.ok and o.key.rsplit("-s", 1)[0] == name]
        if not runs:
            continue
        acc = Stat.of([m["average_accuracy"] for m in runs])
        fgt = Stat.of([m["average_forgetting"] for m in runs])
        learn = Stat.of([sum(m["learning_accuracy"]) / len(m["learning_accuracy"]) for m in runs])
        rows.append(
            {
                "configuration": name,
                "label": CONFIGURATIONS[name].label,
                "seeds": len(runs),
                "average_accuracy": acc.mean,
                "average_accuracy_sem": acc.sem,
                "average_forgetting": fgt.mean,
                "average_forgetting_sem": fgt.sem,
                "learning_accuracy": learn.mean,
                "learning_accuracy_sem": learn.sem,
                "trainable_parameters": runs[0]["parameters"]["trainable"],
                "train_seconds": Stat.of([m["train_seconds"] for m in runs]).mean,
            }
        )
    return rows


def write_rows(out: Path, settings: Mapping[str, Any], rows: list[dict[str, Any]]) -> None:
    """``text_forgetting.json`` (settings and rows) and ``text_forgetting.csv`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / RESULTS_FILE, {"settings": dict(settings), "rows": rows})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "text_forgetting.csv", text.getvalue())


def percent(value: float | None, sem: float | None) -> str:
    """``12.3 ± 0.4`` in %, the ± part only with a standard error."""
    if value is None:
        return "-"
    return f"{100 * value:.1f}" + (f" ± {100 * sem:.1f}" if sem is not None else "")


def table_cells(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headings and formatted cells of the table (accuracies in %, mean ± sem)."""
    head = [
        "configuration",
        "seeds",
        "final accuracy (%)",
        "forgetting (%)",
        "learning accuracy (%)",
        "trainable parameters",
        "train seconds",
    ]
    cells = [
        [
            r["label"],
            str(r["seeds"]),
            percent(r["average_accuracy"], r["average_accuracy_sem"]),
            percent(r["average_forgetting"], r["average_forgetting_sem"]),
            percent(r["learning_accuracy"], r["learning_accuracy_sem"]),
            f"{r['trainable_parameters']:,}",
            f"{r['train_seconds']:.0f}",
        ]
        for r in rows
    ]
    return head, cells
